// SPDX-License-Identifier: BSL-1.0
#include <senet/local/datagram_protocol.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

namespace {

using senet::local::datagram_protocol;

static_assert(datagram_protocol().family() == AF_UNIX);
static_assert(datagram_protocol().type() == SOCK_DGRAM);
static_assert(datagram_protocol().protocol() == 0);
static_assert(std::is_same_v<datagram_protocol::endpoint, senet::local::basic_endpoint<datagram_protocol>>);
static_assert(
    std::is_same_v<datagram_protocol::socket, senet::net::basic_datagram_socket<datagram_protocol>>);

TEST(local_datagram_protocol, opens_sockets_of_its_kind) {
  datagram_protocol p;
  int fd = ::socket(p.family(), p.type(), p.protocol());
  ASSERT_GE(fd, 0);
  int type = 0;
  socklen_t len = sizeof type;
  ASSERT_EQ(0, ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len));
  EXPECT_EQ(p.type(), type);
  ::close(fd);
  EXPECT_EQ(p, datagram_protocol::endpoint("/x").protocol());
}

}  // namespace
