// SPDX-License-Identifier: BSL-1.0
#include <senet/net/basic_stream_socket.hpp>

#include <senet/ip/tcp.hpp>
#include <senet/net/basic_socket_acceptor.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace {

using senet::ip::tcp;
using senet::net::socket_base;

// Connects `client` to `acceptor` with the plain system calls (the sockets are non-blocking) and
// returns the accepted socket, adopted through the (protocol, fd) constructor.
tcp::socket connect_pair(tcp::acceptor& acceptor, tcp::socket& client) {
  tcp::endpoint ep = acceptor.local_endpoint();
  int rc = ::connect(client.native_handle(), reinterpret_cast<const sockaddr*>(ep.data()), ep.size());
  EXPECT_TRUE(rc == 0 || errno == EINPROGRESS);
  pollfd pfd{acceptor.native_handle(), POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 5000), 1);
  int fd = ::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  EXPECT_GE(fd, 0);
  pollfd cfd{client.native_handle(), POLLOUT, 0};
  EXPECT_EQ(::poll(&cfd, 1, 5000), 1);
  return tcp::socket(acceptor.protocol(), fd);
}

TEST(basic_stream_socket, adopts_accepted_descriptor) {
  for (auto address : {senet::ip::address(senet::ip::address_v4::loopback()),
                       senet::ip::address(senet::ip::address_v6::loopback())}) {
    tcp::acceptor acceptor(tcp::endpoint(address, 0));
    tcp::socket client(acceptor.protocol());
    tcp::socket server = connect_pair(acceptor, client);
    ASSERT_TRUE(server.is_open());
    EXPECT_EQ(server.protocol(), acceptor.protocol());
    EXPECT_EQ(server.remote_endpoint(), client.local_endpoint());
    EXPECT_EQ(client.remote_endpoint(), server.local_endpoint());
    EXPECT_EQ(server.local_endpoint().port(), acceptor.local_endpoint().port());
  }
}

TEST(basic_stream_socket, shutdown_send_gives_peer_eof) {
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  tcp::socket client(tcp::v4());
  tcp::socket server = connect_pair(acceptor, client);
  client.shutdown(socket_base::shutdown_send);
  pollfd pfd{server.native_handle(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 5000), 1);
  char c = 0;
  EXPECT_EQ(::recv(server.native_handle(), &c, 1, 0), 0);
  // The other direction still works.
  ASSERT_EQ(::send(server.native_handle(), "x", 1, MSG_NOSIGNAL), 1);
  pollfd cfd{client.native_handle(), POLLIN, 0};
  ASSERT_EQ(::poll(&cfd, 1, 5000), 1);
  EXPECT_EQ(::recv(client.native_handle(), &c, 1, 0), 1);
  EXPECT_EQ(c, 'x');
}

TEST(basic_stream_socket, no_delay_on_connected_socket) {
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  tcp::socket client(tcp::v4());
  tcp::socket server = connect_pair(acceptor, client);
  server.set_option(socket_base::no_delay{true});
  EXPECT_TRUE(server.get_option<socket_base::no_delay>().value());
}

TEST(basic_stream_socket, move_keeps_connection) {
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  tcp::socket client(tcp::v4());
  tcp::socket server = connect_pair(acceptor, client);
  tcp::endpoint peer = server.remote_endpoint();
  tcp::socket moved;
  moved = std::move(server);
  EXPECT_FALSE(server.is_open());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(moved.remote_endpoint(), peer);
}

TEST(basic_stream_socket, constructor_throws_for_bad_descriptor) {
  EXPECT_THROW(tcp::socket(tcp::v4(), -1), std::system_error);
}

}  // namespace
