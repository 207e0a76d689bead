// SPDX-License-Identifier: BSL-1.0
#include <senet/net/basic_socket.hpp>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/ip/udp.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/basic_datagram_socket.hpp>
#include <senet/net/basic_socket_acceptor.hpp>
#include <senet/net/basic_stream_socket.hpp>

#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

namespace {

namespace ex = senet::ex;
using senet::ip::tcp;
using senet::ip::udp;
using senet::net::socket_base;

bool is_nonblocking(int fd) {
  return (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
}
bool is_cloexec(int fd) {
  return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
}
bool fd_is_valid(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

tcp::endpoint loopback_v4() {
  return {senet::ip::address_v4::loopback(), 0};
}

static_assert(!std::is_copy_constructible_v<tcp::socket>);
static_assert(!std::is_copy_assignable_v<tcp::socket>);
static_assert(std::is_nothrow_move_constructible_v<tcp::socket>);
static_assert(std::is_nothrow_move_assignable_v<tcp::socket>);
static_assert(std::is_nothrow_default_constructible_v<tcp::socket>);
static_assert(std::is_same_v<tcp::acceptor::socket_type, tcp::socket>);
static_assert(std::is_same_v<tcp::socket::endpoint_type, tcp::endpoint>);
static_assert(std::is_same_v<udp::socket::protocol_type, udp>);
static_assert(std::is_base_of_v<senet::net::basic_socket<tcp>, tcp::socket>);
static_assert(std::is_base_of_v<senet::net::basic_socket<tcp>, tcp::acceptor>);
static_assert(std::is_base_of_v<senet::net::basic_socket<udp>, udp::socket>);

TEST(basic_socket, default_constructed_is_closed) {
  tcp::socket s;
  EXPECT_FALSE(s.is_open());
  EXPECT_EQ(s.native_handle(), -1);
  EXPECT_EQ(s.io_descriptor().fd, -1);
  EXPECT_EQ(s.io_descriptor().context_state, nullptr);
}

TEST(basic_socket, open_is_nonblocking_and_cloexec) {
  for (auto p : {tcp::v4(), tcp::v6()}) {
    tcp::socket s(p);
    ASSERT_TRUE(s.is_open());
    EXPECT_TRUE(is_nonblocking(s.native_handle()));
    EXPECT_TRUE(is_cloexec(s.native_handle()));
    EXPECT_EQ(s.io_descriptor().fd, s.native_handle());
    EXPECT_EQ(s.protocol(), p);
  }
  for (auto p : {udp::v4(), udp::v6()}) {
    udp::socket s(p);
    ASSERT_TRUE(s.is_open());
    EXPECT_TRUE(is_nonblocking(s.native_handle()));
    EXPECT_TRUE(is_cloexec(s.native_handle()));
  }
  tcp::acceptor a(tcp::v4());
  EXPECT_TRUE(is_nonblocking(a.native_handle()));
  EXPECT_TRUE(is_cloexec(a.native_handle()));
}

TEST(basic_socket, open_twice_fails) {
  tcp::socket s(tcp::v4());
  int fd = s.native_handle();
  std::error_code ec;
  s.open(tcp::v4(), ec);
  EXPECT_EQ(ec, std::errc::already_connected);
  EXPECT_EQ(s.native_handle(), fd);
  EXPECT_THROW(s.open(tcp::v4()), std::system_error);
}

TEST(basic_socket, open_and_bind_reads_back_port) {
  tcp::socket s;
  std::error_code ec;
  s.open(tcp::v4(), ec);
  ASSERT_FALSE(ec) << ec.message();
  s.bind(loopback_v4(), ec);
  ASSERT_FALSE(ec) << ec.message();
  tcp::endpoint local = s.local_endpoint(ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_NE(local.port(), 0);
  EXPECT_EQ(local.address(), senet::ip::address(senet::ip::address_v4::loopback()));
}

TEST(basic_socket, close_releases_descriptor) {
  tcp::socket s(tcp::v4());
  int fd = s.native_handle();
  ASSERT_TRUE(fd_is_valid(fd));
  std::error_code ec = std::make_error_code(std::errc::io_error);
  s.close(ec);
  EXPECT_FALSE(ec);
  EXPECT_FALSE(s.is_open());
  EXPECT_EQ(s.native_handle(), -1);
  EXPECT_FALSE(fd_is_valid(fd));
  // Closing a closed socket is not an error.
  s.close(ec);
  EXPECT_FALSE(ec);
  EXPECT_NO_THROW(s.close());
}

TEST(basic_socket, destructor_closes) {
  int fd = -1;
  {
    udp::socket s(udp::v4());
    fd = s.native_handle();
    ASSERT_TRUE(fd_is_valid(fd));
  }
  EXPECT_FALSE(fd_is_valid(fd));
}

TEST(basic_socket, move_construct_leaves_source_closed) {
  tcp::socket a(tcp::v6());
  int fd = a.native_handle();
  tcp::socket b(std::move(a));
  EXPECT_FALSE(a.is_open());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(a.native_handle(), -1);
  EXPECT_EQ(a.io_descriptor().fd, -1);
  EXPECT_EQ(a.io_descriptor().context_state, nullptr);
  EXPECT_TRUE(b.is_open());
  EXPECT_EQ(b.native_handle(), fd);
  EXPECT_EQ(b.protocol(), tcp::v6());
}

TEST(basic_socket, move_assign_closes_target_and_leaves_source_closed) {
  tcp::socket a(tcp::v4());
  tcp::socket b(tcp::v4());
  int fd_a = a.native_handle();
  int fd_b = b.native_handle();
  b = std::move(a);
  EXPECT_FALSE(a.is_open());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.native_handle(), fd_a);
  EXPECT_FALSE(fd_is_valid(fd_b));
  EXPECT_TRUE(fd_is_valid(fd_a));
}

TEST(basic_socket, release_gives_up_ownership) {
  int fd = -1;
  {
    tcp::socket s(tcp::v4());
    int expected = s.native_handle();
    fd = s.release();
    EXPECT_EQ(fd, expected);
    EXPECT_FALSE(s.is_open());
    EXPECT_EQ(s.native_handle(), -1);
  }
  EXPECT_TRUE(fd_is_valid(fd));
  EXPECT_EQ(::close(fd), 0);
  tcp::socket closed;
  EXPECT_EQ(closed.release(), -1);
}

TEST(basic_socket, assign_takes_ownership) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  {
    tcp::socket s;
    s.assign(tcp::v4(), fd);
    EXPECT_EQ(s.native_handle(), fd);
    std::error_code ec;
    s.assign(tcp::v4(), fd, ec);
    EXPECT_EQ(ec, std::errc::already_connected);
  }
  EXPECT_FALSE(fd_is_valid(fd));
  tcp::socket s;
  std::error_code ec;
  s.assign(tcp::v4(), -1, ec);
  EXPECT_EQ(ec, std::errc::bad_file_descriptor);
  EXPECT_FALSE(s.is_open());
}

TEST(basic_socket, operations_on_closed_socket_report_not_open) {
  tcp::socket s;
  std::error_code ec;
  s.bind(loopback_v4(), ec);
  EXPECT_EQ(ec, senet::error::not_open);
  EXPECT_EQ(ec, std::errc::bad_file_descriptor);
  ec.clear();
  s.set_option(socket_base::reuse_address{true}, ec);
  EXPECT_EQ(ec, senet::error::not_open);
  socket_base::reuse_address opt;
  ec.clear();
  s.get_option(opt, ec);
  EXPECT_EQ(ec, senet::error::not_open);
  ec.clear();
  (void)s.local_endpoint(ec);
  EXPECT_EQ(ec, senet::error::not_open);
  ec.clear();
  (void)s.remote_endpoint(ec);
  EXPECT_EQ(ec, senet::error::not_open);
  ec.clear();
  s.shutdown(socket_base::shutdown_both, ec);
  EXPECT_EQ(ec, senet::error::not_open);

  EXPECT_THROW(s.bind(loopback_v4()), std::system_error);
  EXPECT_THROW(s.set_option(socket_base::no_delay{true}), std::system_error);
  EXPECT_THROW((void)s.get_option<socket_base::no_delay>(), std::system_error);
  EXPECT_THROW((void)s.local_endpoint(), std::system_error);
  EXPECT_THROW((void)s.remote_endpoint(), std::system_error);
  EXPECT_THROW(s.shutdown(socket_base::shutdown_send), std::system_error);
  try {
    s.bind(loopback_v4());
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), senet::error::not_open);
  }
}

TEST(basic_socket, bind_to_address_in_use_fails) {
  tcp::acceptor a(loopback_v4(), /*reuse_address=*/false);
  tcp::endpoint taken = a.local_endpoint();
  tcp::socket s(tcp::v4());
  std::error_code ec;
  s.bind(taken, ec);
  EXPECT_EQ(ec, std::errc::address_in_use);
  EXPECT_THROW(s.bind(taken), std::system_error);
}

TEST(basic_socket, bind_wrong_family_fails) {
  tcp::socket s(tcp::v4());
  std::error_code ec;
  s.bind(tcp::endpoint(senet::ip::address_v6::loopback(), 0), ec);
  EXPECT_TRUE(ec);
}

TEST(basic_socket, remote_endpoint_of_unconnected_socket_fails) {
  tcp::socket s(tcp::v4());
  std::error_code ec;
  (void)s.remote_endpoint(ec);
  EXPECT_EQ(ec, std::errc::not_connected);
}

TEST(basic_socket, shutdown_unconnected_fails) {
  tcp::socket s(tcp::v4());
  std::error_code ec;
  s.shutdown(socket_base::shutdown_both, ec);
  EXPECT_EQ(ec, std::errc::not_connected);
}

// ---- shutdown and remote_endpoint on every backend ------------------------------------------------

// The same connected pair on every backend. On the test backend the connection is simulated and the
// kernel sees two unconnected sockets: shutdown() and remote_endpoint() must still behave as on a
// kernel connection.
template <class Backend>
class basic_socket_backends : public senet::test::backend_fixture<Backend> {
 protected:
  // What one receive of at most 16 bytes on `sock` gives.
  std::string receive(tcp::socket& sock) {
    std::array<char, 16> buf{};
    std::size_t n = this->value_of(senet::net::async_receive(sock, senet::buffer(buf)));
    return {buf.data(), n};
  }
};

TYPED_TEST_SUITE(basic_socket_backends, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(basic_socket_backends, remote_endpoint_is_the_peer) {
  auto p = this->tcp_pair();
  ASSERT_TRUE(p.server.is_open());
  EXPECT_EQ(p.server.remote_endpoint(), p.client.local_endpoint());
  EXPECT_EQ(p.server.remote_endpoint(), p.peer);
  EXPECT_EQ(p.client.remote_endpoint(), p.acceptor.local_endpoint());
  std::error_code ec = std::make_error_code(std::errc::io_error);
  tcp::endpoint ep = p.client.remote_endpoint(ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(ep, p.acceptor.local_endpoint());
}

TYPED_TEST(basic_socket_backends, remote_endpoint_stays_after_the_peer_closes) {
  auto p = this->tcp_pair();
  tcp::endpoint peer = p.client.local_endpoint();
  p.client.close();
  EXPECT_EQ(this->receive(p.server), "");  // the close has arrived
  EXPECT_EQ(p.server.remote_endpoint(), peer);
}

// assign() takes a descriptor as it is; the caller makes it non-blocking if it wants (see
// assign). One left blocking must still never block the loop: the backend's receive finds nothing
// and waits for data instead of sleeping in recvmsg, so the work queued behind it (here the send
// that the receive waits for) runs. A thread sends other bytes after 2 s if the loop did block,
// so that the test then fails instead of hanging.
TYPED_TEST(basic_socket_backends, a_receive_on_an_assigned_blocking_descriptor_does_not_block_the_loop) {
  if (this->kind == senet::io::backend_kind::test) {
    GTEST_SKIP() << "the test backend's connections are simulated: there is no descriptor to block on";
  }
  auto p = this->tcp_pair();
  int fd = p.client.release();
  ASSERT_EQ(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK), 0);
  tcp::socket blocking;
  blocking.assign(tcp::v4(), fd);
  std::atomic<bool> received{false};
  int server_fd = p.server.native_handle();
  std::thread watchdog([&] {
    for (int i = 0; i < 200 && !received.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!received.load()) {
      EXPECT_EQ(::send(server_fd, "wd", 2, MSG_NOSIGNAL), 2);
    }
  });
  std::array<char, 16> buf{};
  auto r = this->run(ex::when_all(
      senet::net::async_receive(blocking, senet::buffer(buf)) | ex::then([&](std::size_t n) noexcept {
        received.store(true);
        return n;
      }),
      senet::net::async_send(p.server, senet::buffer(std::string_view("hi")))));
  received.store(true);
  watchdog.join();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::string_view(buf.data(), 2), "hi") << "the loop slept in the receive's system call";
}

TYPED_TEST(basic_socket_backends, shutdown_send_gives_the_peer_end_of_stream) {
  auto p = this->tcp_pair();
  ASSERT_EQ(this->value_of(senet::net::async_send(p.client, senet::buffer(std::string_view("ab")))), 2U);
  p.client.shutdown(socket_base::shutdown_send);
  EXPECT_EQ(this->receive(p.server), "ab");
  EXPECT_EQ(this->receive(p.server), "");
  EXPECT_EQ(this->receive(p.server), "");
  // The other direction still works.
  ASSERT_EQ(this->value_of(senet::net::async_send(p.server, senet::buffer(std::string_view("x")))), 1U);
  EXPECT_EQ(this->receive(p.client), "x");
}

TYPED_TEST(basic_socket_backends, send_after_shutdown_send_fails_with_broken_pipe) {
  auto p = this->tcp_pair();
  std::error_code ec = std::make_error_code(std::errc::io_error);
  p.client.shutdown(socket_base::shutdown_send, ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(this->error_of(senet::net::async_send(p.client, senet::buffer(std::string_view("x")))),
            std::errc::broken_pipe);
}

TYPED_TEST(basic_socket_backends, shutdown_receive_gives_end_of_stream) {
  auto p = this->tcp_pair();
  p.server.shutdown(socket_base::shutdown_receive);
  EXPECT_EQ(this->receive(p.server), "");
  // This end may still send.
  ASSERT_EQ(this->value_of(senet::net::async_send(p.server, senet::buffer(std::string_view("y")))), 1U);
  EXPECT_EQ(this->receive(p.client), "y");
}

TYPED_TEST(basic_socket_backends, shutdown_both_ends_both_directions) {
  auto p = this->tcp_pair();
  p.client.shutdown(socket_base::shutdown_both);
  EXPECT_EQ(this->receive(p.server), "");
  EXPECT_EQ(this->receive(p.client), "");
  EXPECT_EQ(this->error_of(senet::net::async_send(p.client, senet::buffer(std::string_view("x")))),
            std::errc::broken_pipe);
}

TYPED_TEST(basic_socket_backends, unconnected_socket_is_not_connected) {
  auto p = this->tcp_pair();  // a connection exists, but not for this socket
  tcp::socket lone(tcp::v4());
  std::error_code ec;
  (void)lone.remote_endpoint(ec);
  EXPECT_EQ(ec, std::errc::not_connected);
  ec.clear();
  lone.shutdown(socket_base::shutdown_send, ec);
  EXPECT_EQ(ec, std::errc::not_connected);
  EXPECT_THROW(lone.shutdown(socket_base::shutdown_both), std::system_error);
  EXPECT_THROW((void)lone.remote_endpoint(), std::system_error);
}

// ---- synchronous connect, available, non_blocking ----

TEST(basic_socket, non_blocking_is_the_default_and_can_be_changed) {
  tcp::socket s(tcp::v4());
  EXPECT_TRUE(s.non_blocking());
  s.non_blocking(false);
  EXPECT_FALSE(s.non_blocking());
  EXPECT_TRUE(is_nonblocking(s.native_handle())) << "the descriptor itself stays O_NONBLOCK";
  tcp::socket moved(std::move(s));
  EXPECT_FALSE(moved.non_blocking()) << "the mode moves with the socket";
  moved.non_blocking(true);
  EXPECT_TRUE(moved.non_blocking());
  moved.non_blocking(false);
  moved.close();
  moved.open(tcp::v4());
  EXPECT_TRUE(moved.non_blocking()) << "a newly opened socket is non-blocking";
}

TEST(basic_socket, non_blocking_and_available_on_closed_socket_fail_not_open) {
  tcp::socket s;
  std::error_code ec;
  s.non_blocking(false, ec);
  EXPECT_EQ(ec, senet::error::not_open);
  EXPECT_THROW(s.non_blocking(false), std::system_error);
  ec.clear();
  EXPECT_EQ(s.available(ec), 0u);
  EXPECT_EQ(ec, senet::error::not_open);
  EXPECT_THROW((void)s.available(), std::system_error);
}

TEST(basic_socket, available_counts_queued_bytes) {
  tcp::acceptor acceptor(loopback_v4());
  tcp::socket client;
  client.open(tcp::v4());
  client.non_blocking(false);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  EXPECT_EQ(server.available(), 0u);
  ASSERT_EQ(client.send(senet::buffer("12345", 5)), 5u);
  pollfd pfd{server.native_handle(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 5000), 1);
  EXPECT_EQ(server.available(), 5u);
  std::error_code ec;
  (void)acceptor.available(ec);
  EXPECT_EQ(ec, std::errc::invalid_argument) << "FIONREAD on a listening socket: " << ec.message();
}

TEST(basic_socket, non_blocking_connect_reports_in_progress) {
  tcp::acceptor acceptor(loopback_v4());
  tcp::socket client;  // closed: connect opens it for the endpoint's protocol
  std::error_code ec;
  client.connect(acceptor.local_endpoint(), ec);
  ASSERT_TRUE(client.is_open());
  // Loopback TCP answers EINPROGRESS; a kernel that connected at once would give success.
  ASSERT_TRUE(!ec || ec == std::errc::operation_in_progress) << ec.message();
  pollfd pfd{client.native_handle(), POLLOUT, 0};
  ASSERT_EQ(::poll(&pfd, 1, 5000), 1);
  int error = -1;
  socklen_t len = sizeof error;
  ASSERT_EQ(::getsockopt(client.native_handle(), SOL_SOCKET, SO_ERROR, &error, &len), 0);
  EXPECT_EQ(error, 0);
  tcp::socket server = acceptor.accept();
  EXPECT_EQ(server.remote_endpoint(), client.local_endpoint());
}

TEST(basic_socket, blocking_connect_waits_for_the_outcome) {
  tcp::acceptor acceptor(loopback_v4());
  tcp::socket client(tcp::v4());
  client.non_blocking(false);
  std::error_code ec;
  client.connect(acceptor.local_endpoint(), ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(client.remote_endpoint(), acceptor.local_endpoint());

  // A port nobody listens on: the refusal is the result, not "in progress". The port stays bound
  // (not listening) for the whole test, so that no other process can take it meanwhile.
  tcp::socket bound_only(tcp::v4());
  bound_only.bind(loopback_v4());
  tcp::endpoint refused = bound_only.local_endpoint();
  tcp::socket other(tcp::v4());
  other.non_blocking(false);
  other.connect(refused, ec);
  EXPECT_EQ(ec, std::errc::connection_refused);
  tcp::socket thrower(tcp::v4());
  thrower.non_blocking(false);
  EXPECT_THROW(thrower.connect(refused), std::system_error);
}

// non_blocking(false) changes only the synchronous members: asynchronous operations still work on
// every backend, and a receive that waits does not block the context's thread.
TYPED_TEST(basic_socket_backends, asynchronous_operations_work_when_not_non_blocking) {
  auto p = this->tcp_pair();
  p.server.non_blocking(false);
  p.client.non_blocking(false);
  std::array<char, 8> buf{};
  auto r = this->run(senet::ex::when_all(senet::net::async_receive(p.server, senet::buffer(buf)),
                                         senet::net::async_send(p.client, senet::buffer("abc", 3))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 3u);
  EXPECT_EQ(std::get<1>(*r), 3u);
  EXPECT_EQ(std::string(buf.data(), 3), "abc");
}

TEST(basic_socket, eager_settings_are_off_by_default_and_move_with_the_socket) {
  tcp::socket s;
  EXPECT_FALSE(s.eager_receive());
  s.eager_receive(true);
  EXPECT_TRUE(s.eager_receive());
  s.open(tcp::v4());
  s.close();
  EXPECT_TRUE(s.eager_receive()) << "a setting of the socket object, kept across close and open";
  tcp::socket moved(std::move(s));
  EXPECT_TRUE(moved.eager_receive());
  EXPECT_FALSE(s.eager_receive());  // NOLINT(bugprone-use-after-move): a moved-from socket is reset
  moved.eager_receive(false);
  EXPECT_FALSE(moved.eager_receive());
  EXPECT_FALSE(moved.eager_send());
  moved.eager_send(true);
  EXPECT_TRUE(moved.eager_send());
  EXPECT_FALSE(moved.eager_receive()) << "the two settings are independent";
  moved.eager_send(false);
  EXPECT_FALSE(moved.eager_send());
}

}  // namespace
