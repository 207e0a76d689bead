// SPDX-License-Identifier: BSL-1.0
#include <senet/net/sockets.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <type_traits>

namespace {

using senet::local::stream_protocol;

static_assert(std::is_same_v<senet::net::tcp_socket, senet::ip::tcp::socket>);
static_assert(std::is_same_v<senet::net::tcp_acceptor, senet::ip::tcp::acceptor>);
static_assert(std::is_same_v<senet::net::udp_socket, senet::ip::udp::socket>);
static_assert(std::is_same_v<senet::net::local_stream_socket, stream_protocol::socket>);
static_assert(std::is_same_v<senet::net::local_stream_acceptor, stream_protocol::acceptor>);
static_assert(std::is_same_v<senet::net::local_datagram_socket, senet::local::datagram_protocol::socket>);
static_assert(std::is_same_v<senet::net::stream_socket, senet::net::tcp_socket>);
static_assert(std::is_same_v<senet::net::acceptor, senet::net::tcp_acceptor>);
static_assert(std::is_same_v<senet::net::datagram_socket, senet::net::udp_socket>);
static_assert(
    std::is_same_v<senet::net::local_stream_acceptor::socket_type, senet::net::local_stream_socket>);

// A socket path in the temporary directory, removed again by the destructor.
struct temp_path {
  std::string path;
  temp_path() {
    char tmpl[] = "/tmp/senet-sockets-test-XXXXXX";
    int fd = ::mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    ::close(fd);
    ::unlink(tmpl);
    path = tmpl;
  }
  ~temp_path() { ::unlink(path.c_str()); }
};

TEST(sockets, local_stream_acceptor_and_socket) {
  temp_path p;
  senet::net::local_stream_acceptor acceptor{stream_protocol::endpoint(p.path)};
  ASSERT_TRUE(acceptor.is_open());
  EXPECT_TRUE((::fcntl(acceptor.native_handle(), F_GETFL) & O_NONBLOCK) != 0);
  EXPECT_TRUE((::fcntl(acceptor.native_handle(), F_GETFD) & FD_CLOEXEC) != 0);
  EXPECT_EQ(acceptor.local_endpoint().path(), p.path);

  senet::net::local_stream_socket client(stream_protocol{});
  auto ep = acceptor.local_endpoint();
  int rc = ::connect(client.native_handle(), reinterpret_cast<const sockaddr*>(ep.data()), ep.size());
  ASSERT_TRUE(rc == 0 || errno == EINPROGRESS || errno == EAGAIN);
  pollfd pfd{acceptor.native_handle(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 5000), 1);
  int fd = ::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  ASSERT_GE(fd, 0);
  senet::net::local_stream_socket server(stream_protocol{}, fd);
  EXPECT_EQ(client.remote_endpoint().path(), p.path);
  EXPECT_TRUE(server.remote_endpoint().is_unnamed());
}

TEST(sockets, local_bind_existing_path_fails) {
  temp_path p;
  senet::net::local_stream_acceptor first{stream_protocol::endpoint(p.path)};
  senet::net::local_stream_acceptor second(stream_protocol{});
  std::error_code ec;
  second.bind(stream_protocol::endpoint(p.path), ec);
  EXPECT_EQ(ec, std::errc::address_in_use);
}

TEST(sockets, local_datagram_socket_binds) {
  temp_path p;
  senet::net::local_datagram_socket s{senet::local::datagram_protocol::endpoint(p.path)};
  EXPECT_EQ(s.local_endpoint().path(), p.path);
}

}  // namespace
