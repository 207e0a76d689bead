// SPDX-License-Identifier: BSL-1.0
#include <senet/ip/tcp.hpp>

#include <gtest/gtest.h>

#ifdef _WIN32
#include <winsock2.h>
#else
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace {

using senet::ip::tcp;

static_assert(tcp::v4().family() == AF_INET);
static_assert(tcp::v6().family() == AF_INET6);
static_assert(tcp::v4().type() == SOCK_STREAM && tcp::v6().type() == SOCK_STREAM);
static_assert(tcp::v4().protocol() == IPPROTO_TCP && tcp::v6().protocol() == IPPROTO_TCP);
static_assert(tcp::v4() != tcp::v6());
static_assert(tcp() == tcp::v4());
static_assert(std::is_same_v<tcp::endpoint, senet::ip::basic_endpoint<tcp>>);
// The socket aliases name the templates of senet::net without needing their definitions here.
static_assert(std::is_same_v<tcp::socket, senet::net::basic_stream_socket<tcp>>);
static_assert(std::is_same_v<tcp::acceptor, senet::net::basic_socket_acceptor<tcp>>);

// Linux-only: it reads the protocol back with SO_PROTOCOL, which Winsock does not have; left out on
// Windows (the endpoint round trip of basic_endpoint_test opens TCP sockets there).
#ifndef _WIN32
TEST(tcp, opens_sockets_of_its_kind) {
  for (tcp p : {tcp::v4(), tcp::v6()}) {
    int fd = ::socket(p.family(), p.type(), p.protocol());
    if (fd < 0 && p == tcp::v6()) {
      GTEST_SKIP() << "no IPv6 on this machine";
    }
    ASSERT_GE(fd, 0);
    int type = 0;
    socklen_t len = sizeof type;
    ASSERT_EQ(0, ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len));
    EXPECT_EQ(p.type(), type);
    int protocol = 0;
    len = sizeof protocol;
    ASSERT_EQ(0, ::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len));
    EXPECT_EQ(p.protocol(), protocol);
    ::close(fd);
  }
}
#endif  // !_WIN32

TEST(tcp, endpoint_protocol_follows_the_family) {
  EXPECT_EQ(tcp::v4(), tcp::endpoint(tcp::v4(), 1).protocol());
  EXPECT_EQ(tcp::v6(), tcp::endpoint(tcp::v6(), 1).protocol());
}

}  // namespace
