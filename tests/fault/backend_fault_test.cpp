// SPDX-License-Identifier: BSL-1.0
// Faults provoked for real, on every backend: io_uring performs its operations in the kernel, where
// no interposed system call (tests/fault/syscall_fault_test.cpp) reaches them, so each error an
// operation can return is caused the way a program meets it, with loopback sockets (a peer's
// reset, our own shutdown, a port nobody listens on, a descriptor limit, a datagram too large...).
// Each case checks the exact `std::error_code` (an errno in the system category, or what the
// operation documents: 0 bytes at the end of a stream), the same on io_uring and epoll, then that
// the socket, the acceptor and the context are still usable: a round trip, an accept, a new
// connect. The test backend runs the same cases where its simulation covers them, and must agree
// with the kernel; a case it does not simulate is skipped on it, saying why.
#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/ip/udp.hpp>
#include <senet/local/stream_protocol.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_receive_from.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_send_to.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/sockets.hpp>

#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>
#include <support/sanitizers.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
namespace ip = senet::ip;
using ip::tcp;
using ip::udp;
using senet::test::backend_fixture;
using senet::test::system_error_of;

const ip::address_v4 loopback4 = ip::address_v4::loopback();

/** Counts the SIGPIPEs the process receives while it lives (the default would kill it). */
class sigpipe_counter {
 public:
  sigpipe_counter() {
    count = 0;
    struct ::sigaction sa {};
    sa.sa_handler = [](int) { count.fetch_add(1, std::memory_order_relaxed); };
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(SIGPIPE, &sa, &old_);
  }
  sigpipe_counter(const sigpipe_counter&) = delete;
  sigpipe_counter& operator=(const sigpipe_counter&) = delete;
  ~sigpipe_counter() { ::sigaction(SIGPIPE, &old_, nullptr); }

  static inline std::atomic<int> count{0};  // lock-free: safe in a signal handler

 private:
  struct ::sigaction old_ {};
};

template <class Backend>
class backend_fault : public backend_fixture<Backend> {
 protected:
  /** Skips the test on the test backend, which does not simulate what it provokes. */
  bool not_simulated(const char* why) {
    if (this->kind == io::backend_kind::test) {
      skip_reason_ = why;
      return true;
    }
    return false;
  }

  /** Two bytes each way on a connected pair. */
  void expect_round_trip(tcp::socket& a, tcp::socket& b) {
    for (auto [from, to] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
      std::string out = "ok";
      std::string in(2, '\0');
      auto r = this->run(
          ex::when_all(net::async_write(*from, senet::buffer(out)), net::async_read(*to, senet::buffer(in))));
      ASSERT_TRUE(r);
      EXPECT_EQ(in, out);
    }
  }

  /** The context still makes connections and moves bytes. */
  void expect_context_usable() {
    auto pair = this->tcp_pair();
    expect_round_trip(pair.client, pair.server);
  }

  /** `acceptor` accepts a new connection, which carries a round trip. */
  void expect_accepts(tcp::acceptor& acceptor) {
    tcp::socket client(tcp::v4());
    auto r = this->run(
        ex::when_all(net::async_accept(acceptor), net::async_connect(client, acceptor.local_endpoint())));
    ASSERT_TRUE(r);
    EXPECT_EQ(std::get<1>(*r), client.local_endpoint());
    expect_round_trip(client, std::get<0>(*r));
  }

  /** Resets the connection from `sock`'s end: closed with SO_LINGER {on, 0}, an RST. */
  static void reset_from(tcp::socket& sock) {
    sock.set_option(net::socket_base::linger(true, 0));
    sock.close();
  }

  /** Runs `sndr`: the error it completed with, empty for a value (a stop fails the test). */
  template <class Sndr>
  std::error_code outcome_of(Sndr&& sndr) {
    try {
      EXPECT_TRUE(this->run(std::forward<Sndr>(sndr))) << "stopped";
    } catch (const std::system_error& e) {
      return e.code();
    }
    return {};
  }

  std::string skip_reason_;
};

TYPED_TEST_SUITE(backend_fault, senet::test::all_backends, senet::test::backend_names);

#define SKIP_IF_NOT_SIMULATED(why)        \
  do {                                    \
    if (this->not_simulated(why)) {       \
      GTEST_SKIP() << this->skip_reason_; \
    }                                     \
  } while (false)

// ---- receive and send ----------------------------------------------------------------------------

TYPED_TEST(backend_fault, receive_after_the_peers_reset_is_econnreset_then_end_of_stream) {
  auto pair = this->tcp_pair();
  std::array<char, 8> buf{};
  this->reset_from(pair.server);
  EXPECT_EQ(this->error_of(net::async_receive(pair.client, senet::buffer(buf))), system_error_of(ECONNRESET));
  // The error is reported once; the connection is then over.
  EXPECT_EQ(this->value_of(net::async_receive(pair.client, senet::buffer(buf))), 0U);
  this->expect_accepts(pair.acceptor);
  this->expect_context_usable();
}

TYPED_TEST(backend_fault, a_waiting_receive_fails_with_econnreset_when_the_peer_resets) {
  auto pair = this->tcp_pair();
  std::array<char, 8> buf{};
  auto reset = ex::then(ex::schedule(this->scheduler()), [&] { this->reset_from(pair.server); });
  EXPECT_EQ(this->error_of(ex::when_all(net::async_receive(pair.client, senet::buffer(buf)), reset)),
            system_error_of(ECONNRESET));
  this->expect_context_usable();
}

TYPED_TEST(backend_fault, send_after_the_peers_reset_is_econnreset_then_epipe_without_sigpipe) {
  sigpipe_counter sigpipes;
  auto pair = this->tcp_pair();
  this->reset_from(pair.server);
  std::string data = "data";
  EXPECT_EQ(this->error_of(net::async_send(pair.client, senet::buffer(data))), system_error_of(ECONNRESET));
  EXPECT_EQ(this->error_of(net::async_send(pair.client, senet::buffer(data))), system_error_of(EPIPE));
  EXPECT_EQ(sigpipes.count, 0);
  this->expect_accepts(pair.acceptor);
}

TYPED_TEST(backend_fault, send_after_our_shutdown_send_is_epipe_without_sigpipe) {
  sigpipe_counter sigpipes;
  auto pair = this->tcp_pair();
  pair.client.shutdown(net::socket_base::shutdown_send);
  std::string data = "data";
  EXPECT_EQ(this->error_of(net::async_send(pair.client, senet::buffer(data))), system_error_of(EPIPE));
  EXPECT_EQ(this->error_of(net::async_write(pair.client, senet::buffer(data))), system_error_of(EPIPE));
  EXPECT_EQ(sigpipes.count, 0);
  // The peer sees the end of the stream, and the other direction still works.
  std::array<char, 8> buf{};
  EXPECT_EQ(this->value_of(net::async_receive(pair.server, senet::buffer(buf))), 0U);
  std::string in(4, '\0');
  ASSERT_TRUE(this->run(ex::when_all(net::async_write(pair.server, senet::buffer(data)),
                                     net::async_read(pair.client, senet::buffer(in)))));
  EXPECT_EQ(in, data);
}

TYPED_TEST(backend_fault, receive_after_our_shutdown_receive_is_end_of_stream) {
  auto pair = this->tcp_pair();
  pair.client.shutdown(net::socket_base::shutdown_receive);
  std::array<char, 8> buf{};
  EXPECT_EQ(this->value_of(net::async_receive(pair.client, senet::buffer(buf))), 0U);
  std::size_t transferred = 99;
  EXPECT_EQ(this->error_of(net::async_read(pair.client, senet::buffer(buf), transferred)), senet::error::eof);
  EXPECT_EQ(transferred, 0U);
  // The other direction still works.
  std::string data = "data";
  std::string in(4, '\0');
  ASSERT_TRUE(this->run(ex::when_all(net::async_write(pair.client, senet::buffer(data)),
                                     net::async_read(pair.server, senet::buffer(in)))));
  EXPECT_EQ(in, data);
}

TYPED_TEST(backend_fault, receive_and_send_on_a_socket_never_connected) {
  tcp::socket s(tcp::v4());
  std::array<char, 8> buf{};
  EXPECT_EQ(this->error_of(net::async_receive(s, senet::buffer(buf))), system_error_of(ENOTCONN));
  sigpipe_counter sigpipes;
  EXPECT_EQ(this->error_of(net::async_send(s, senet::buffer(buf))), system_error_of(EPIPE));
  EXPECT_EQ(sigpipes.count, 0);
  // The socket then connects.
  auto acceptor = senet::test::listen_tcp(tcp::v4());
  auto r =
      this->run(ex::when_all(net::async_accept(acceptor), net::async_connect(s, acceptor.local_endpoint())));
  ASSERT_TRUE(r);
  this->expect_round_trip(s, std::get<0>(*r));
}

// ---- connect -----------------------------------------------------------------------------------

TYPED_TEST(backend_fault, connect_to_a_port_nobody_listens_on_is_refused_then_the_socket_connects) {
  // A port bound, not listening: nobody else can take it while the test runs.
  tcp::acceptor bound(tcp::v4());
  bound.bind(tcp::endpoint(loopback4, 0));
  tcp::socket client(tcp::v4());
  EXPECT_EQ(this->error_of(net::async_connect(client, bound.local_endpoint())),
            system_error_of(ECONNREFUSED));
  // The same socket connects once somebody listens.
  bound.listen();
  auto r =
      this->run(ex::when_all(net::async_accept(bound), net::async_connect(client, bound.local_endpoint())));
  ASSERT_TRUE(r);
  this->expect_round_trip(client, std::get<0>(*r));
}

TYPED_TEST(backend_fault, connect_of_a_connected_socket_is_eisconn_and_the_connection_stays) {
  auto pair = this->tcp_pair();
  std::error_code ec = this->outcome_of(net::async_connect(pair.client, pair.acceptor.local_endpoint()));
  EXPECT_EQ(ec, system_error_of(EISCONN));
  this->expect_round_trip(pair.client, pair.server);
}

TYPED_TEST(backend_fault, connect_to_a_multicast_address_is_enetunreach) {
  SKIP_IF_NOT_SIMULATED("the simulation has no routes: a connect to an address nobody listens on is refused");
  tcp::socket client(tcp::v4());
  EXPECT_EQ(this->error_of(net::async_connect(client, tcp::endpoint(ip::make_address_v4("224.0.0.1"), 9))),
            system_error_of(ENETUNREACH));
  auto acceptor = senet::test::listen_tcp(tcp::v4());
  auto r = this->run(
      ex::when_all(net::async_accept(acceptor), net::async_connect(client, acceptor.local_endpoint())));
  ASSERT_TRUE(r);
}

TYPED_TEST(backend_fault, connect_of_a_v6_only_socket_to_a_v4_mapped_address_is_enetunreach) {
  SENET_TEST_REQUIRE_IPV6();
  SKIP_IF_NOT_SIMULATED("the simulation does not model IPV6_V6ONLY");
  tcp::socket client(tcp::v6());
  client.set_option(net::socket_base::v6_only(true));
  auto target = tcp::endpoint(ip::make_address_v6(ip::v4_mapped, loopback4), 9);
  EXPECT_EQ(this->error_of(net::async_connect(client, target)), system_error_of(ENETUNREACH));
  auto acceptor = senet::test::listen_tcp(tcp::v6());
  auto r = this->run(
      ex::when_all(net::async_accept(acceptor), net::async_connect(client, acceptor.local_endpoint())));
  ASSERT_TRUE(r);
}

TYPED_TEST(backend_fault, connect_to_an_address_of_the_other_family) {
  SENET_TEST_REQUIRE_IPV6();
  tcp::socket client(tcp::v4());
  auto acceptor6 = senet::test::listen_tcp(tcp::v6());
  EXPECT_EQ(this->error_of(net::async_connect(client, acceptor6.local_endpoint())),
            system_error_of(EAFNOSUPPORT));
  this->expect_context_usable();
}

TYPED_TEST(backend_fault, connect_of_a_listening_socket_is_eisconn) {
  auto acceptor = senet::test::listen_tcp(tcp::v4());
  tcp::socket s(tcp::v4());
  s.bind(tcp::endpoint(loopback4, 0));
  ASSERT_EQ(::listen(s.native_handle(), 4), 0);
  EXPECT_EQ(this->error_of(net::async_connect(s, acceptor.local_endpoint())), system_error_of(EISCONN));
  this->expect_accepts(acceptor);
}

TYPED_TEST(backend_fault, local_connect_to_a_path_that_does_not_exist_is_enoent) {
  senet::local::stream_protocol::socket s(senet::local::stream_protocol{});
  std::string path = "/tmp/senet-test-" + std::to_string(::getpid()) + "-nobody.sock";
  ::unlink(path.c_str());
  EXPECT_EQ(this->error_of(net::async_connect(s, senet::local::stream_protocol::endpoint(path))),
            system_error_of(ENOENT));
  senet::test::local_listener listener;
  auto r = this->run(
      ex::when_all(net::async_accept(listener.acceptor()),
                   net::async_connect(s, senet::local::stream_protocol::endpoint(listener.path()))));
  ASSERT_TRUE(r);
}

TYPED_TEST(backend_fault, local_connect_to_a_socket_not_listening_is_econnrefused) {
  std::string path = "/tmp/senet-test-" + std::to_string(::getpid()) + "-bound.sock";
  ::unlink(path.c_str());
  senet::local::stream_protocol::socket bound(senet::local::stream_protocol{});
  bound.bind(senet::local::stream_protocol::endpoint(path));
  senet::local::stream_protocol::socket s(senet::local::stream_protocol{});
  EXPECT_EQ(this->error_of(net::async_connect(s, senet::local::stream_protocol::endpoint(path))),
            system_error_of(ECONNREFUSED));
  ::unlink(path.c_str());
  this->expect_context_usable();
}

TYPED_TEST(backend_fault, local_connect_to_a_full_backlog_is_eagain) {
  SKIP_IF_NOT_SIMULATED("the simulation has no backlog limit");
  senet::test::local_listener listener;
  ASSERT_EQ(::listen(listener.acceptor().native_handle(), 0), 0);  // room for one connection
  senet::local::stream_protocol::endpoint ep(listener.path());
  senet::local::stream_protocol::socket first(senet::local::stream_protocol{});
  ASSERT_TRUE(this->run(net::async_connect(first, ep)));
  // A Unix connect does not wait for room in the backlog: non-blocking, it fails with EAGAIN.
  senet::local::stream_protocol::socket second(senet::local::stream_protocol{});
  std::error_code ec = this->outcome_of(net::async_connect(second, ep));
  EXPECT_EQ(ec, system_error_of(EAGAIN));
  // Once the first is accepted, there is room again.
  ASSERT_TRUE(this->run(net::async_accept(listener.acceptor())));
  senet::local::stream_protocol::socket third(senet::local::stream_protocol{});
  auto r = this->run(ex::when_all(net::async_accept(listener.acceptor()), net::async_connect(third, ep)));
  ASSERT_TRUE(r);
}

// ---- accept ------------------------------------------------------------------------------------

TYPED_TEST(backend_fault, accept_on_a_socket_not_listening_is_einval_then_it_listens_and_accepts) {
  tcp::acceptor acceptor(tcp::v4());
  acceptor.bind(tcp::endpoint(loopback4, 0));
  EXPECT_EQ(this->error_of(net::async_accept(acceptor)), system_error_of(EINVAL));
  acceptor.listen();
  this->expect_accepts(acceptor);
}

/** Lowers RLIMIT_NOFILE to the descriptors open now and takes the free numbers below them: no
    descriptor can be made until destruction, which gives everything back. */
class out_of_descriptors {
 public:
  out_of_descriptors() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    int high = 0;
    for (int fd = 0; fd < 65536 && fd <= high + 1024; ++fd) {
      if (::fcntl(fd, F_GETFD) != -1) {
        high = fd;
      }
    }
    ::rlimit lower = saved_;
    lower.rlim_cur = static_cast<::rlim_t>(high + 1);
    ok_ = ::setrlimit(RLIMIT_NOFILE, &lower) == 0;
    for (int fd; (fd = ::fcntl(0, F_DUPFD_CLOEXEC, 0)) >= 0;) {
      hoard_.push_back(fd);
    }
    ok_ = ok_ && errno == EMFILE;
  }
  out_of_descriptors(const out_of_descriptors&) = delete;
  out_of_descriptors& operator=(const out_of_descriptors&) = delete;
  ~out_of_descriptors() {
    for (int fd : hoard_) {
      ::close(fd);
    }
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  [[nodiscard]] bool ok() const noexcept { return ok_; }

 private:
  ::rlimit saved_{};
  std::vector<int> hoard_;
  bool ok_ = false;
};

TYPED_TEST(backend_fault, accept_out_of_descriptors_is_emfile_and_the_connection_waits_for_the_next) {
#if SENET_TEST_ADDRESS_SANITIZER
  // As in tests/stress/stress_test.cpp: UndefinedBehaviorSanitizer's vptr check needs a pipe, so an
  // asan build cannot run out of descriptors.
  GTEST_SKIP()
      << "an UndefinedBehaviorSanitizer build cannot run out of descriptors (its vptr check needs a pipe)";
#endif
  auto acceptor = senet::test::listen_tcp(tcp::v4());
  tcp::socket client(tcp::v4());
  ASSERT_TRUE(this->run(net::async_connect(client, acceptor.local_endpoint())));
  {
    // Lowered before the accept is armed: io_uring reads the limit when it prepares an accept.
    out_of_descriptors none;
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(this->error_of(net::async_accept(acceptor)), system_error_of(EMFILE));
  }
  // The connection waited in the backlog: the next accept takes it.
  auto r = this->run(net::async_accept(acceptor));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<1>(*r), client.local_endpoint());
  this->expect_round_trip(client, std::get<0>(*r));
  this->expect_accepts(acceptor);
}

// ---- datagrams ---------------------------------------------------------------------------------

TYPED_TEST(backend_fault, send_to_of_a_datagram_larger_than_udp_allows_is_emsgsize) {
  auto receiver = senet::test::bind_udp(udp::v4());
  udp::socket sender(udp::v4());
  std::vector<char> big(65508);
  EXPECT_EQ(this->error_of(net::async_send_to(sender, senet::buffer(big), receiver.local_endpoint())),
            system_error_of(EMSGSIZE));
  // The largest one passes, and arrives whole.
  big.pop_back();
  EXPECT_EQ(this->value_of(net::async_send_to(sender, senet::buffer(big), receiver.local_endpoint())),
            65507U);
  std::vector<char> in(70000);
  auto r = this->run(net::async_receive_from(receiver, senet::buffer(in)));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), 65507U);
}

TYPED_TEST(backend_fault, send_to_a_broadcast_address_without_so_broadcast_is_eacces) {
  udp::socket sender(udp::v4());
  std::string d = "d";
  udp::endpoint broadcast(ip::address_v4::broadcast(), 9);
  EXPECT_EQ(this->error_of(net::async_send_to(sender, senet::buffer(d), broadcast)), system_error_of(EACCES));
  auto receiver = senet::test::bind_udp(udp::v4());
  EXPECT_EQ(this->value_of(net::async_send_to(sender, senet::buffer(d), receiver.local_endpoint())), 1U);
}

TYPED_TEST(backend_fault, send_to_port_zero_is_einval) {
  udp::socket sender(udp::v4());
  std::string d = "d";
  EXPECT_EQ(this->error_of(net::async_send_to(sender, senet::buffer(d), udp::endpoint(loopback4, 0))),
            system_error_of(EINVAL));
  auto receiver = senet::test::bind_udp(udp::v4());
  EXPECT_EQ(this->value_of(net::async_send_to(sender, senet::buffer(d), receiver.local_endpoint())), 1U);
}

TYPED_TEST(backend_fault, send_on_an_unconnected_datagram_socket_is_edestaddrreq) {
  udp::socket sender(udp::v4());
  std::string d = "d";
  EXPECT_EQ(this->error_of(net::async_send(sender, senet::buffer(d))), system_error_of(EDESTADDRREQ));
  auto receiver = senet::test::bind_udp(udp::v4());
  EXPECT_EQ(this->value_of(net::async_send_to(sender, senet::buffer(d), receiver.local_endpoint())), 1U);
}

TYPED_TEST(backend_fault, receive_after_a_datagram_to_a_closed_port_is_econnrefused) {
  SKIP_IF_NOT_SIMULATED("the simulation sends no ICMP errors: a datagram to nobody is dropped");
  // A port nobody else can take, where nobody receives from us: its socket is connected to itself
  // (the kernel delivers a datagram to a connected UDP socket only from its peer).
  auto guard = senet::test::bind_udp(udp::v4());
  ASSERT_EQ(::connect(guard.native_handle(), guard.local_endpoint().data(),
                      static_cast<::socklen_t>(guard.local_endpoint().size())),
            0);
  udp::endpoint nobody = guard.local_endpoint();
  auto sock = senet::test::bind_udp(udp::v4());
  ASSERT_TRUE(this->run(net::async_connect(sock, nobody)));
  std::string d = "d";
  EXPECT_EQ(this->value_of(net::async_send(sock, senet::buffer(d))), 1U);
  // The ICMP port unreachable comes back as the socket's error: the next receive reports it.
  std::array<char, 8> buf{};
  EXPECT_EQ(this->error_of(net::async_receive(sock, senet::buffer(buf))), system_error_of(ECONNREFUSED));
  // Then the socket works: connected to a receiver, it sends and receives.
  auto peer = senet::test::bind_udp(udp::v4());
  ASSERT_TRUE(this->run(net::async_connect(sock, peer.local_endpoint())));
  EXPECT_EQ(this->value_of(net::async_send(sock, senet::buffer(d))), 1U);
  EXPECT_EQ(std::get<0>(this->run(net::async_receive_from(peer, senet::buffer(buf))).value()), 1U);
}

TYPED_TEST(backend_fault, connect_of_a_datagram_socket_to_a_broadcast_address_is_eacces) {
  udp::socket sock(udp::v4());
  EXPECT_EQ(this->error_of(net::async_connect(sock, udp::endpoint(ip::address_v4::broadcast(), 9))),
            system_error_of(EACCES));
  auto peer = senet::test::bind_udp(udp::v4());
  ASSERT_TRUE(this->run(net::async_connect(sock, peer.local_endpoint())));
}

}  // namespace
