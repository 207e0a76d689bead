// SPDX-License-Identifier: BSL-1.0
#include <senet/net/basic_datagram_socket.hpp>

#include <senet/ip/udp.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/net/message_flags.hpp>

namespace {

using senet::ip::udp;

void expect_endpoint_constructor_binds(senet::ip::address address) {
  udp::socket s(udp::endpoint(address, 0));
  ASSERT_TRUE(s.is_open());
  udp::endpoint local = s.local_endpoint();
  EXPECT_EQ(local.address(), address);
  EXPECT_NE(local.port(), 0);
}

TEST(basic_datagram_socket, endpoint_constructor_binds_v4) {
  expect_endpoint_constructor_binds(senet::ip::address_v4::loopback());
}

TEST(basic_datagram_socket, endpoint_constructor_binds_v6) {
  SENET_TEST_REQUIRE_IPV6();
  expect_endpoint_constructor_binds(senet::ip::address_v6::loopback());
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

// ---- synchronous send_to / receive_from / send / receive ----

using senet::net::message_flags;

udp::socket bound_v4() {
  return udp::socket(udp::endpoint(senet::ip::address_v4::loopback(), 0));
}

void wait_readable(const udp::socket& s) {
  pollfd pfd{s.native_handle(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 5000), 1);
}

TEST(basic_datagram_socket, sync_send_to_and_receive_from) {
  udp::socket a = bound_v4();
  udp::socket b = bound_v4();
  std::error_code ec;
  EXPECT_EQ(a.send_to(senet::buffer("hello", 5), b.local_endpoint(), message_flags{}, ec), 5u);
  EXPECT_FALSE(ec) << ec.message();
  wait_readable(b);
  EXPECT_EQ(b.available(), 5u);
  char buf[16] = {};
  udp::endpoint from;
  EXPECT_EQ(b.receive_from(senet::buffer(buf), from, message_flags{}, ec), 5u);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(std::string(buf, 5), "hello");
  EXPECT_EQ(from, a.local_endpoint());
}

TEST(basic_datagram_socket, sync_buffer_sequences_and_empty_datagram) {
  udp::socket a = bound_v4();
  udp::socket b = bound_v4();
  std::array<senet::const_buffer, 2> out{senet::buffer("ab", 2), senet::buffer("cde", 3)};
  EXPECT_EQ(a.send_to(out, b.local_endpoint()), 5u);
  EXPECT_EQ(a.send_to(senet::const_buffer(), b.local_endpoint()), 0u);
  wait_readable(b);
  char x[3] = {};
  char y[2] = {};
  std::array<senet::mutable_buffer, 2> in{senet::buffer(x), senet::buffer(y)};
  udp::endpoint from;
  EXPECT_EQ(b.receive_from(in, from), 5u);
  EXPECT_EQ(std::string(x, 3) + std::string(y, 2), "abcde");
  wait_readable(b);
  std::error_code ec;
  char z[4];
  EXPECT_EQ(b.receive_from(senet::buffer(z), from, message_flags{}, ec), 0u);
  EXPECT_FALSE(ec) << "an empty datagram is not an error: " << ec.message();
}

TEST(basic_datagram_socket, sync_receive_with_nothing_queued_would_block) {
  udp::socket b = bound_v4();
  char buf[4];
  udp::endpoint from;
  std::error_code ec;
  EXPECT_EQ(b.receive_from(senet::buffer(buf), from, message_flags{}, ec), 0u);
  EXPECT_EQ(ec, std::errc::operation_would_block);
  EXPECT_EQ(b.receive(senet::buffer(buf), message_flags{}, ec), 0u);
  EXPECT_EQ(ec, std::errc::resource_unavailable_try_again);
}

TEST(basic_datagram_socket, sync_datagram_longer_than_buffer_is_message_size) {
  udp::socket a = bound_v4();
  udp::socket b = bound_v4();
  a.send_to(senet::buffer("0123456789", 10), b.local_endpoint());
  a.send_to(senet::buffer("next", 4), b.local_endpoint());
  wait_readable(b);
  char buf[4] = {};
  udp::endpoint from;
  std::error_code ec;
  // The start of the datagram is stored and counted; the rest is discarded, not left queued.
  EXPECT_EQ(b.receive_from(senet::buffer(buf), from, message_flags{}, ec), 4u);
  EXPECT_EQ(ec, std::errc::message_size);
  EXPECT_EQ(ec.category(), std::system_category());
  EXPECT_EQ(std::string(buf, 4), "0123");
  wait_readable(b);
  char buf2[8] = {};
  EXPECT_EQ(b.receive_from(senet::buffer(buf2), from, message_flags{}, ec), 4u);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(std::string(buf2, 4), "next");
  // The throwing form throws it.
  a.send_to(senet::buffer("0123456789", 10), b.local_endpoint());
  wait_readable(b);
  try {
    (void)b.receive(senet::buffer(buf));
    ADD_FAILURE() << "receive did not throw";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::message_size);
  }
}

TEST(basic_datagram_socket, sync_truncate_flag_reports_the_real_length) {
  udp::socket a = bound_v4();
  udp::socket b = bound_v4();
  a.send_to(senet::buffer("0123456789", 10), b.local_endpoint());
  wait_readable(b);
  char buf[4] = {};
  std::error_code ec;
  EXPECT_EQ(b.receive(senet::buffer(buf), message_flags::truncate, ec), 10u);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(std::string(buf, 4), "0123");
}

TEST(basic_datagram_socket, sync_connected_send_and_receive) {
  udp::socket a = bound_v4();
  udp::socket b = bound_v4();
  a.connect(b.local_endpoint());
  b.connect(a.local_endpoint());
  EXPECT_EQ(a.send(senet::buffer("ping", 4)), 4u);
  wait_readable(b);
  char buf[8] = {};
  EXPECT_EQ(b.receive(senet::buffer(buf)), 4u);
  EXPECT_EQ(std::string(buf, 4), "ping");
  udp::socket unconnected = bound_v4();
  std::error_code ec;
  EXPECT_EQ(unconnected.send(senet::buffer("x", 1), message_flags{}, ec), 0u);
  EXPECT_EQ(ec, std::errc::destination_address_required);
}

TEST(basic_datagram_socket, sync_operations_on_closed_socket_fail_not_open) {
  udp::socket s;
  char buf[4] = {};
  udp::endpoint ep(senet::ip::address_v4::loopback(), 9);
  std::error_code ec;
  EXPECT_EQ(s.send_to(senet::buffer(buf), ep, message_flags{}, ec), 0u);
  EXPECT_EQ(ec, senet::error::not_open);
  ec.clear();
  EXPECT_EQ(s.receive_from(senet::buffer(buf), ep, message_flags{}, ec), 0u);
  EXPECT_EQ(ec, senet::error::not_open);
  ec.clear();
  EXPECT_EQ(s.send(senet::buffer(buf), message_flags{}, ec), 0u);
  EXPECT_EQ(ec, senet::error::not_open);
  ec.clear();
  EXPECT_EQ(s.receive(senet::buffer(buf), message_flags{}, ec), 0u);
  EXPECT_EQ(ec, senet::error::not_open);
  EXPECT_THROW((void)s.send_to(senet::buffer(buf), ep), std::system_error);
  EXPECT_THROW((void)s.receive_from(senet::buffer(buf), ep), std::system_error);
}

TEST(basic_datagram_socket, sync_receive_from_blocks_when_not_non_blocking) {
  udp::socket a = bound_v4();
  udp::socket b = bound_v4();
  b.non_blocking(false);
  udp::endpoint to = b.local_endpoint();
  std::thread sender([&] { a.send_to(senet::buffer("late", 4), to); });
  char buf[8] = {};
  udp::endpoint from;
  std::error_code ec;
  std::size_t n = b.receive_from(senet::buffer(buf), from, message_flags{}, ec);
  sender.join();
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(from, a.local_endpoint());
}

}  // namespace
