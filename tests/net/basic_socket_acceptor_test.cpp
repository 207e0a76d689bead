// SPDX-License-Identifier: BSL-1.0
#include <senet/net/basic_socket_acceptor.hpp>

#include <senet/ip/tcp.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <system_error>

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

}  // namespace
