// SPDX-License-Identifier: BSL-1.0
#include <senet/local/stream_protocol.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

namespace {

using senet::local::stream_protocol;

static_assert(stream_protocol().family() == AF_UNIX);
static_assert(stream_protocol().type() == SOCK_STREAM);
static_assert(stream_protocol().protocol() == 0);
static_assert(std::is_same_v<stream_protocol::endpoint, senet::local::basic_endpoint<stream_protocol>>);
static_assert(std::is_same_v<stream_protocol::socket, senet::net::basic_stream_socket<stream_protocol>>);
static_assert(std::is_same_v<stream_protocol::acceptor, senet::net::basic_socket_acceptor<stream_protocol>>);

TEST(local_stream_protocol, opens_sockets_of_its_kind) {
  stream_protocol p;
  int fd = ::socket(p.family(), p.type(), p.protocol());
  ASSERT_GE(fd, 0);
  int type = 0;
  socklen_t len = sizeof type;
  ASSERT_EQ(0, ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len));
  EXPECT_EQ(p.type(), type);
  ::close(fd);
  EXPECT_EQ(p, stream_protocol::endpoint("/x").protocol());
}

}  // namespace
