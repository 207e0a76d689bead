// SPDX-License-Identifier: BSL-1.0
#include <senet/net/basic_datagram_socket.hpp>

#include <senet/ip/udp.hpp>

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <system_error>

namespace {

using senet::ip::udp;

TEST(basic_datagram_socket, endpoint_constructor_binds) {
  for (auto address : {senet::ip::address(senet::ip::address_v4::loopback()),
                       senet::ip::address(senet::ip::address_v6::loopback())}) {
    udp::socket s(udp::endpoint(address, 0));
    ASSERT_TRUE(s.is_open());
    udp::endpoint local = s.local_endpoint();
    EXPECT_EQ(local.address(), address);
    EXPECT_NE(local.port(), 0);
  }
}

TEST(basic_datagram_socket, exchanges_a_datagram) {
  udp::socket a(udp::endpoint(senet::ip::address_v4::loopback(), 0));
  udp::socket b(udp::endpoint(senet::ip::address_v4::loopback(), 0));
  udp::endpoint to = b.local_endpoint();
  ASSERT_EQ(
      ::sendto(a.native_handle(), "hello", 5, 0, reinterpret_cast<const sockaddr*>(to.data()), to.size()), 5);
  pollfd pfd{b.native_handle(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 5000), 1);
  char buf[16] = {};
  udp::endpoint from;
  socklen_t len = from.capacity();
  ASSERT_EQ(
      ::recvfrom(b.native_handle(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(from.data()), &len), 5);
  from.resize(len);
  EXPECT_EQ(std::memcmp(buf, "hello", 5), 0);
  EXPECT_EQ(from, a.local_endpoint());
}

TEST(basic_datagram_socket, bind_in_use_throws) {
  udp::socket a(udp::endpoint(senet::ip::address_v4::loopback(), 0));
  EXPECT_THROW(udp::socket b(a.local_endpoint()), std::system_error);
}

TEST(basic_datagram_socket, remote_endpoint_unconnected_fails) {
  udp::socket s(udp::v6());
  std::error_code ec;
  (void)s.remote_endpoint(ec);
  EXPECT_EQ(ec, std::errc::not_connected);
}

}  // namespace
