// SPDX-License-Identifier: BSL-1.0
#include <senet/net/async_send_to.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/net/async_receive_from.hpp>
#include <senet/net/sockets.hpp>

#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace {

namespace ex = senet::ex;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

template <class Backend>
class async_send_to_test : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(async_send_to_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(async_send_to_test, completion_signatures_are_those_of_p2762) {
  ip::udp::socket s;
  std::string data = "x";
  using sndr = decltype(net::async_send_to(s, buffer(data), ip::udp::endpoint()));
  static_assert(
      std::is_same_v<typename sndr::completion_signatures,
                     ex::completion_signatures<ex::set_value_t(std::size_t), ex::set_error_t(std::error_code),
                                               ex::set_stopped_t()>>);
  SUCCEED();
}

TYPED_TEST(async_send_to_test, gathers_one_datagram_from_several_buffers) {
  auto a = senet::test::bind_udp(ip::udp::v4());
  auto b = senet::test::bind_udp(ip::udp::v4());
  std::string x = "gath";
  std::string y = "ered";
  std::vector<senet::const_buffer> seq{buffer(x), buffer(y)};
  EXPECT_EQ(this->value_of(net::async_send_to(a, seq, b.local_endpoint())), 8U);
  std::array<char, 32> in{};
  auto [n, from] = this->value_of(net::async_receive_from(b, buffer(in)));
  EXPECT_EQ(std::string(in.data(), n), "gathered");
  EXPECT_EQ(from, a.local_endpoint());
}

TYPED_TEST(async_send_to_test, ipv6) {
  SENET_TEST_REQUIRE_IPV6();
  auto a = senet::test::bind_udp(ip::udp::v6());
  auto b = senet::test::bind_udp(ip::udp::v6());
  std::string data = "six";
  std::array<char, 8> in{};
  auto r =
      this->run(ex::when_all(net::async_send_to(a, net::message_flags{}, buffer(data), b.local_endpoint()),
                             net::async_receive_from(b, buffer(in))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 3U);
  EXPECT_EQ(std::get<2>(*r), a.local_endpoint());
}

TYPED_TEST(async_send_to_test, closed_socket_is_an_error) {
  ip::udp::socket s;
  std::string data = "x";
  EXPECT_EQ(
      this->error_of(net::async_send_to(s, buffer(data), ip::udp::endpoint(ip::address_v4::loopback(), 9))),
      std::errc::bad_file_descriptor);
}

}  // namespace
