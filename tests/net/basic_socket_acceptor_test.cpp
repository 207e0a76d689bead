// SPDX-License-Identifier: BSL-1.0
#include <senet/net/basic_socket_acceptor.hpp>

#include <senet/ip/tcp.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <system_error>
#include <thread>

#include <poll.h>

#include <senet/error.hpp>
#include <senet/net/basic_stream_socket.hpp>

namespace {

using senet::ip::tcp;
using senet::net::socket_base;

bool is_listening(int fd) {
  int v = 0;
  socklen_t len = sizeof(v);
  EXPECT_EQ(::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len), 0);
  return v != 0;
}

TEST(basic_socket_acceptor, endpoint_constructor_opens_binds_and_listens) {
  tcp::acceptor a(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  ASSERT_TRUE(a.is_open());
  EXPECT_TRUE(is_listening(a.native_handle()));
  EXPECT_NE(a.local_endpoint().port(), 0);
  EXPECT_TRUE(a.get_option<socket_base::reuse_address>().value());
  EXPECT_TRUE((::fcntl(a.native_handle(), F_GETFL) & O_NONBLOCK) != 0);
  EXPECT_TRUE((::fcntl(a.native_handle(), F_GETFD) & FD_CLOEXEC) != 0);
}

TEST(basic_socket_acceptor, endpoint_constructor_without_reuse_address) {
  SENET_TEST_REQUIRE_IPV6();
  tcp::acceptor a(tcp::endpoint(senet::ip::address_v6::loopback(), 0), false);
  EXPECT_FALSE(a.get_option<socket_base::reuse_address>().value());
  EXPECT_EQ(a.protocol(), tcp::v6());
}

TEST(basic_socket_acceptor, open_bind_listen_step_by_step) {
  tcp::acceptor a;
  std::error_code ec;
  a.open(tcp::v4(), ec);
  ASSERT_FALSE(ec);
  a.set_option(socket_base::reuse_address{true}, ec);
  ASSERT_FALSE(ec);
  a.bind(tcp::endpoint(senet::ip::address_v4::loopback(), 0), ec);
  ASSERT_FALSE(ec);
  EXPECT_FALSE(is_listening(a.native_handle()));
  a.listen(8, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(is_listening(a.native_handle()));
}

TEST(basic_socket_acceptor, second_acceptor_on_same_port_fails) {
  tcp::acceptor a(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  tcp::endpoint taken = a.local_endpoint();
  try {
    tcp::acceptor b(taken);
    ADD_FAILURE() << "binding a listening port twice succeeded";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::address_in_use);
  }
}

TEST(basic_socket_acceptor, reuse_port_lets_two_acceptors_share_a_port) {
  tcp::acceptor a(tcp::v4());
  a.set_option(socket_base::reuse_port{true});
  a.bind(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  a.listen();
  tcp::acceptor b(tcp::v4());
  b.set_option(socket_base::reuse_port{true});
  std::error_code ec;
  b.bind(a.local_endpoint(), ec);
  EXPECT_FALSE(ec) << ec.message();
  b.listen(ec);
  EXPECT_FALSE(ec) << ec.message();
}

TEST(basic_socket_acceptor, listen_on_closed_acceptor_fails) {
  tcp::acceptor a;
  std::error_code ec;
  a.listen(ec);
  EXPECT_EQ(ec, std::errc::bad_file_descriptor);
  EXPECT_THROW(a.listen(), std::system_error);
}

TEST(basic_socket_acceptor, move_leaves_source_closed) {
  tcp::acceptor a(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  auto port = a.local_endpoint().port();
  tcp::acceptor b(std::move(a));
  EXPECT_FALSE(a.is_open());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.local_endpoint().port(), port);
}

TEST(basic_socket_acceptor, reuse_port_constructor_argument_lets_two_acceptors_share_a_port) {
  tcp::acceptor a(tcp::endpoint(senet::ip::address_v4::loopback(), 0), true, true);
  EXPECT_TRUE(a.get_option<socket_base::reuse_port>().value());
  tcp::acceptor b(a.local_endpoint(), true, true);
  EXPECT_TRUE(is_listening(b.native_handle()));
  EXPECT_EQ(a.local_endpoint(), b.local_endpoint());
  // Without the argument, the port is taken.
  EXPECT_THROW(tcp::acceptor(a.local_endpoint(), true, false), std::system_error);
  // (ep, bool, int) still means a backlog, not reuse_port.
  tcp::acceptor c(tcp::endpoint(senet::ip::address_v4::loopback(), 0), true, 16);
  EXPECT_FALSE(c.get_option<socket_base::reuse_port>().value());
}

// ---- synchronous accept ----

TEST(basic_socket_acceptor, sync_accept_with_none_pending_would_block) {
  tcp::acceptor a(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  std::error_code ec;
  tcp::socket s = a.accept(ec);
  EXPECT_EQ(ec, std::errc::operation_would_block);
  EXPECT_FALSE(s.is_open());
  tcp::socket into;
  a.accept(into, ec);
  EXPECT_EQ(ec, std::errc::resource_unavailable_try_again);
  EXPECT_FALSE(into.is_open());
  EXPECT_THROW((void)a.accept(), std::system_error);
}

TEST(basic_socket_acceptor, sync_accept_returns_the_connection) {
  tcp::acceptor a(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  a.non_blocking(false);  // wait for the connection the kernel completes
  tcp::socket client(tcp::v4());
  client.non_blocking(false);
  client.connect(a.local_endpoint());
  tcp::endpoint peer;
  tcp::socket s = a.accept(peer);
  ASSERT_TRUE(s.is_open());
  EXPECT_EQ(peer, client.local_endpoint());
  EXPECT_EQ(s.remote_endpoint(), client.local_endpoint());
  EXPECT_TRUE(s.non_blocking());
  EXPECT_NE(::fcntl(s.native_handle(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(s.native_handle(), F_GETFD) & FD_CLOEXEC, 0);

  // Into a closed socket, with and without the endpoint.
  tcp::socket c2(tcp::v4());
  c2.non_blocking(false);
  c2.connect(a.local_endpoint());
  tcp::socket into;
  tcp::endpoint peer2;
  a.accept(into, peer2);
  EXPECT_EQ(peer2, c2.local_endpoint());
  tcp::socket c3(tcp::v4());
  c3.non_blocking(false);
  c3.connect(a.local_endpoint());
  tcp::socket into3;
  a.accept(into3);
  EXPECT_EQ(into3.remote_endpoint(), c3.local_endpoint());
}

TEST(basic_socket_acceptor, sync_accept_into_open_socket_fails_already_open) {
  tcp::acceptor a(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  tcp::socket open(tcp::v4());
  int fd = open.native_handle();
  std::error_code ec;
  a.accept(open, ec);
  EXPECT_EQ(ec, senet::error::already_open);
  EXPECT_EQ(open.native_handle(), fd);
  EXPECT_THROW(a.accept(open), std::system_error);
}

TEST(basic_socket_acceptor, sync_accept_errors) {
  tcp::acceptor closed;
  std::error_code ec;
  (void)closed.accept(ec);
  EXPECT_EQ(ec, senet::error::not_open);
  tcp::acceptor not_listening(tcp::v4());
  (void)not_listening.accept(ec);
  EXPECT_EQ(ec, std::errc::invalid_argument);
}

TEST(basic_socket_acceptor, sync_accept_blocks_when_not_non_blocking) {
  tcp::acceptor a(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  a.non_blocking(false);
  tcp::endpoint ep = a.local_endpoint();
  tcp::socket client(tcp::v4());
  std::thread connector([&] {
    client.non_blocking(false);
    client.connect(ep);
  });
  std::error_code ec;
  tcp::socket s = a.accept(ec);
  connector.join();
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(s.is_open());
}

}  // namespace
