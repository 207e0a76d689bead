// SPDX-License-Identifier: BSL-1.0
#include <senet/net/async_receive_from.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/net/async_send_to.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/sockets.hpp>

#include <support/backend_fixture.hpp>
#include <support/io_probe.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

template <class Backend>
class async_receive_from_test : public senet::test::backend_fixture<Backend> {
 protected:
  void exchange(ip::udp protocol) {
    auto a = senet::test::bind_udp(protocol);
    auto b = senet::test::bind_udp(protocol);
    std::string data = "datagram";
    std::array<char, 64> in{};
    auto r = this->run(ex::when_all(net::async_receive_from(b, buffer(in)),
                                    net::async_send_to(a, buffer(data), b.local_endpoint())));
    ASSERT_TRUE(r.has_value());
    auto [n, from, sent] = *r;
    EXPECT_EQ(n, data.size());
    EXPECT_EQ(sent, data.size());
    EXPECT_EQ(std::string(in.data(), n), data);
    EXPECT_EQ(from, a.local_endpoint());
  }
};

TYPED_TEST_SUITE(async_receive_from_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(async_receive_from_test, completion_signatures) {
  ip::udp::socket s;
  std::array<char, 4> in{};
  ip::udp::endpoint ep;
  using with_value = decltype(net::async_receive_from(s, buffer(in)));
  static_assert(
      std::is_same_v<typename with_value::completion_signatures,
                     ex::completion_signatures<ex::set_value_t(std::size_t, ip::udp::endpoint),
                                               ex::set_error_t(std::error_code), ex::set_stopped_t()>>);
  using with_ref = decltype(net::async_receive_from(s, buffer(in), ep));
  static_assert(
      std::is_same_v<typename with_ref::completion_signatures,
                     ex::completion_signatures<ex::set_value_t(std::size_t), ex::set_error_t(std::error_code),
                                               ex::set_stopped_t()>>);
  SUCCEED();
}

TYPED_TEST(async_receive_from_test, udp_v4_peer_endpoint) {
  this->exchange(ip::udp::v4());
}

TYPED_TEST(async_receive_from_test, udp_v6_peer_endpoint) {
  SENET_TEST_REQUIRE_IPV6();
  this->exchange(ip::udp::v6());
}

TYPED_TEST(async_receive_from_test, endpoint_reference_form) {
  auto a = senet::test::bind_udp(ip::udp::v4());
  auto b = senet::test::bind_udp(ip::udp::v4());
  std::string data = "ref";
  std::array<char, 16> in{};
  ip::udp::endpoint from;
  auto r =
      this->run(ex::when_all(net::async_receive_from(b, net::message_flags{}, buffer(in), from),
                             net::async_send_to(a, net::message_flags{}, buffer(data), b.local_endpoint())));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 3U);
  EXPECT_EQ(from, a.local_endpoint());
}

TYPED_TEST(async_receive_from_test, datagrams_keep_their_boundaries) {
  auto a = senet::test::bind_udp(ip::udp::v4());
  auto b = senet::test::bind_udp(ip::udp::v4());
  std::string one = "one";
  std::string three = "three";
  ASSERT_EQ(this->value_of(net::async_send_to(a, buffer(one), b.local_endpoint())), 3U);
  ASSERT_EQ(this->value_of(net::async_send_to(a, buffer(three), b.local_endpoint())), 5U);
  std::array<char, 64> in{};
  auto [n1, from1] = this->value_of(net::async_receive_from(b, buffer(in)));
  EXPECT_EQ(std::string(in.data(), n1), "one");
  auto [n2, from2] = this->value_of(net::async_receive_from(b, buffer(in)));
  EXPECT_EQ(std::string(in.data(), n2), "three");
  EXPECT_EQ(from1, from2);
}

TYPED_TEST(async_receive_from_test, explicit_scheduler_forms) {
  auto a = senet::test::bind_udp(ip::udp::v4());
  auto b = senet::test::bind_udp(ip::udp::v4());
  std::string data = "sch";
  std::array<char, 16> in{};
  ip::udp::endpoint from;
  auto sch = this->scheduler();
  auto r = this->run(ex::when_all(net::async_receive_from(sch, b, buffer(in), from),
                                  net::async_send_to(sch, a, buffer(data), b.local_endpoint())));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(from, a.local_endpoint());
  auto r2 = this->run(
      ex::when_all(net::async_receive_from(sch, b, net::message_flags{}, buffer(in)),
                   net::async_send_to(sch, a, net::message_flags{}, buffer(data), b.local_endpoint())));
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(std::get<1>(*r2), a.local_endpoint());
}

TYPED_TEST(async_receive_from_test, cancel_with_when_any_then_socket_still_usable) {
  auto a = senet::test::bind_udp(ip::udp::v4());
  auto b = senet::test::bind_udp(ip::udp::v4());
  std::array<char, 16> in{};
  bool stopped = false;
  auto r = this->run(ex::when_any(net::async_receive_from(b, buffer(in)) |
                                      ex::then([](std::size_t, ip::udp::endpoint) {}) |
                                      ex::upon_stopped([&] { stopped = true; }),
                                  net::async_wait_for(5ms)));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(stopped);
  this->exchange(ip::udp::v4());
  std::string data = "again";
  auto r2 = this->run(ex::when_all(net::async_receive_from(b, buffer(in)),
                                   net::async_send_to(a, buffer(data), b.local_endpoint())));
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(std::get<0>(*r2), 5U);
}

TYPED_TEST(async_receive_from_test, cancel_with_stop_source) {
  auto b = senet::test::bind_udp(ip::udp::v4());
  std::array<char, 16> in{};
  senet::test::io_outcome<std::size_t, ip::udp::endpoint> outcome;
  auto op = ex::connect(net::async_receive_from(b, buffer(in)),
                        senet::test::io_probe<std::size_t, ip::udp::endpoint>{&this->ctx(), &outcome});
  std::thread loop([&] { senet::test::run_until_done(this->ctx(), outcome); });
  ex::start(op);
  outcome.stop.request_stop();
  loop.join();
  EXPECT_TRUE(outcome.stopped_once());
}

// A datagram longer than the buffers is reported (std::errc::message_size, as Asio's
// error::message_size), not silently cut; the buffers hold its start and the next datagram is
// intact. Both the waiting path (receive started first) and the immediate one (datagram queued
// first) are checked, on every backend.
TYPED_TEST(async_receive_from_test, datagram_longer_than_buffer_is_message_size) {
  auto a = senet::test::bind_udp(ip::udp::v4());
  auto b = senet::test::bind_udp(ip::udp::v4());
  std::string big = "0123456789";
  std::string next = "next";
  std::array<char, 4> small{};
  // Waiting path.
  auto r = this->run(ex::when_all(net::async_receive_from(b, buffer(small)) | ex::then([](auto&&...) {
                                    return std::error_code();
                                  }) | ex::upon_error([](auto e) {
                                    if constexpr (std::is_same_v<decltype(e), std::error_code>) {
                                      return e;
                                    } else {
                                      return std::make_error_code(std::errc::io_error);
                                    }
                                  }),
                                  net::async_send_to(a, buffer(big), b.local_endpoint())));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), std::errc::message_size);
  EXPECT_EQ(std::string(small.data(), 4), "0123");
  // Immediate path, with the endpoint-reference form and a buffer sequence (recvmsg).
  ASSERT_EQ(this->value_of(net::async_send_to(a, buffer(big), b.local_endpoint())), 10U);
  ASSERT_EQ(this->value_of(net::async_send_to(a, buffer(next), b.local_endpoint())), 4U);
  std::array<char, 2> x{};
  std::array<char, 3> y{};
  std::array<senet::mutable_buffer, 2> seq{buffer(x), buffer(y)};
  ip::udp::endpoint from;
  EXPECT_EQ(this->error_of(net::async_receive_from(b, net::message_flags{}, seq, from)),
            std::errc::message_size);
  EXPECT_EQ(std::string(x.data(), 2) + std::string(y.data(), 3), "01234");
  std::array<char, 16> in{};
  auto [n, src] = this->value_of(net::async_receive_from(b, buffer(in)));
  EXPECT_EQ(std::string(in.data(), n), "next");
  EXPECT_EQ(src, a.local_endpoint());
}

TYPED_TEST(async_receive_from_test, truncate_flag_reports_the_real_length) {
  auto a = senet::test::bind_udp(ip::udp::v4());
  auto b = senet::test::bind_udp(ip::udp::v4());
  std::string big = "0123456789";
  std::array<char, 4> small{};
  auto r = this->run(ex::when_all(net::async_receive_from(b, net::message_flags::truncate, buffer(small)),
                                  net::async_send_to(a, buffer(big), b.local_endpoint())));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 10U);
  EXPECT_EQ(std::get<1>(*r), a.local_endpoint());
  EXPECT_EQ(std::string(small.data(), 4), "0123");
}

}  // namespace
