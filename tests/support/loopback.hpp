// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_LOOPBACK_HPP
#define SENET_TEST_SUPPORT_LOOPBACK_HPP

/* Loopback listeners and connected socket pairs for tests: TCP over IPv4 and IPv6 on port 0, and
   local (Unix domain) stream sockets on a fresh path. Connections are made with senet's own
   senders on the given context, so they work on every backend. */

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/address_v4.hpp>
#include <senet/ip/address_v6.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/ip/udp.hpp>
#include <senet/local/stream_protocol.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/sockets.hpp>
#include <support/run.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <string>
#include <system_error>
#include <utility>

#include <sys/socket.h>
#include <unistd.h>

namespace senet::test {

/** `n` bytes of letters, 'a' to 'z' and again: a payload whose bytes show their order. */
inline std::string letters(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>('a' + i % 26);
  }
  return s;
}

/** Whether this machine can bind an IPv6 loopback socket (containers may lack IPv6). Probed once
    per process. */
inline bool ipv6_available() {
  static bool const available = [] {
    int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return false;
    }
    ip::tcp::endpoint ep(ip::address_v6::loopback(), 0);
    bool ok = ::bind(fd, static_cast<const ::sockaddr*>(static_cast<const void*>(ep.data())), ep.size()) == 0;
    ::close(fd);
    return ok;
  }();
  return available;
}

/** The reason given when a test that needs ::1 is skipped. */
inline constexpr char const* no_ipv6_reason = "IPv6 loopback (::1) is not available on this machine";

/** In a test body: skips the test, with the reason, where IPv6 loopback is absent. */
#define SENET_TEST_REQUIRE_IPV6()                    \
  do {                                               \
    if (!::senet::test::ipv6_available()) {          \
      GTEST_SKIP() << ::senet::test::no_ipv6_reason; \
    }                                                \
  } while (false)

/** A TCP listener on the loopback address of `protocol` (v4 or v6), port 0. */
inline ip::tcp::acceptor listen_tcp(ip::tcp protocol) {
  ip::address address = protocol == ip::tcp::v6() ? ip::address(ip::address_v6::loopback())
                                                  : ip::address(ip::address_v4::loopback());
  return ip::tcp::acceptor(ip::tcp::endpoint(address, 0));
}

/** A UDP socket bound to the loopback address of `protocol` (v4 or v6), port 0. */
inline ip::udp::socket bind_udp(ip::udp protocol) {
  ip::address address = protocol == ip::udp::v6() ? ip::address(ip::address_v6::loopback())
                                                  : ip::address(ip::address_v4::loopback());
  ip::udp::socket s(protocol);
  s.bind(ip::udp::endpoint(address, 0));
  return s;
}

/** A local stream listener on a fresh path, removed again on destruction. */
class local_listener {
 public:
  local_listener() : path_(fresh_path()) {
    ::unlink(path_.c_str());
    acceptor_ = local::stream_protocol::acceptor(local::stream_protocol::endpoint(path_));
  }
  local_listener(const local_listener&) = delete;
  local_listener& operator=(const local_listener&) = delete;
  ~local_listener() { ::unlink(path_.c_str()); }

  [[nodiscard]] local::stream_protocol::acceptor& acceptor() noexcept { return acceptor_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  static std::string fresh_path() {
    static std::atomic<int> counter{0};
    return "/tmp/senet-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)) +
           ".sock";
  }

  std::string path_;
  local::stream_protocol::acceptor acceptor_;
};

/** Two connected stream sockets: `client` connected to `acceptor`, `server` the accepted end,
    `peer` the endpoint accept reported. */
template <class Protocol>
struct stream_pair {
  typename Protocol::socket client;
  typename Protocol::socket server;
  typename Protocol::endpoint peer;
};

/** Connects a new socket to `acceptor` with net::async_connect and net::async_accept on `ctx`
    (`senet::test::run`: exactly once, within `wait_limit`). */
template <class Acceptor>
stream_pair<typename Acceptor::protocol_type> connect_pair(io::io_context& ctx, Acceptor& acceptor) {
  using protocol = typename Acceptor::protocol_type;
  stream_pair<protocol> pair;
  auto ep = acceptor.local_endpoint();
  auto r = run(ctx, ex::when_all(net::async_accept(acceptor), net::async_connect(pair.client, ep)),
               "connect_pair");
  if (!r) {
    ADD_FAILURE() << "connect_pair: stopped";
    return pair;
  }
  pair.server = std::move(std::get<0>(*r));
  pair.peer = std::move(std::get<1>(*r));
  return pair;
}

/** A connected TCP pair on loopback with the listener that accepted it, kept open so that its port
    stays taken for the life of the pair (`pair.acceptor.local_endpoint()` stays valid). */
struct tcp_connection : stream_pair<ip::tcp> {
  ip::tcp::acceptor acceptor;
};

/** A TCP connection over the loopback address of `protocol` (v4 or v6), made on `ctx` with
    net::async_accept and net::async_connect (any backend). For ::1, guard the test with
    `SENET_TEST_REQUIRE_IPV6()`. */
inline tcp_connection tcp_pair(io::io_context& ctx, ip::tcp protocol = ip::tcp::v4()) {
  tcp_connection c;
  c.acceptor = listen_tcp(protocol);
  static_cast<stream_pair<ip::tcp>&>(c) = connect_pair(ctx, c.acceptor);
  return c;
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_LOOPBACK_HPP
