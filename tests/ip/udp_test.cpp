// SPDX-License-Identifier: BSL-1.0
#include <senet/ip/udp.hpp>

#include <gtest/gtest.h>

#ifdef _WIN32
#include <winsock2.h>
#else
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace {

using senet::ip::udp;

static_assert(udp::v4().family() == AF_INET);
static_assert(udp::v6().family() == AF_INET6);
static_assert(udp::v4().type() == SOCK_DGRAM && udp::v6().type() == SOCK_DGRAM);
static_assert(udp::v4().protocol() == IPPROTO_UDP && udp::v6().protocol() == IPPROTO_UDP);
static_assert(udp::v4() != udp::v6());
static_assert(udp() == udp::v4());
static_assert(std::is_same_v<udp::endpoint, senet::ip::basic_endpoint<udp>>);
// The socket aliases name the templates of senet::net without needing their definitions here.
static_assert(std::is_same_v<udp::socket, senet::net::basic_datagram_socket<udp>>);

// Linux-only: it reads the protocol back with SO_PROTOCOL, which Winsock does not have; left out on
// Windows (the static_asserts above check the constants against Winsock's).
#ifndef _WIN32
TEST(udp, opens_sockets_of_its_kind) {
  for (udp p : {udp::v4(), udp::v6()}) {
    int fd = ::socket(p.family(), p.type(), p.protocol());
    if (fd < 0 && p == udp::v6()) {
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

TEST(udp, endpoint_protocol_follows_the_family) {
  EXPECT_EQ(udp::v4(), udp::endpoint(udp::v4(), 1).protocol());
  EXPECT_EQ(udp::v6(), udp::endpoint(udp::v6(), 1).protocol());
}

}  // namespace
