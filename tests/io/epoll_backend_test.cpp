// SPDX-License-Identifier: BSL-1.0
// The epoll backend's readiness bookkeeping: a receive on a stream socket whose last read came back
// short (or found nothing) waits for the next edge instead of calling recvmsg (see epoll_state in
// src/senet/backend/epoll/epoll_backend.cpp). These tests pin the cases where that shortcut would
// lose a wake-up: end of stream arriving with the data, datagrams, MSG_PEEK, and data arriving
// while no receive waits. Each receive has a time limit, so that a lost wake-up fails the test
// (timed_out) instead of hanging it.
#include <senet/io/io_context.hpp>

#include "support/loopback.hpp"

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/ip/udp.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_receive_from.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_send_to.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/message_flags.hpp>
#include <senet/net/timeout.hpp>

#include <support/run.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <string_view>
#include <system_error>
#include <tuple>

#include <sys/socket.h>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

constexpr auto limit = 5s;

class epoll_backend : public ::testing::Test {
 protected:
  void SetUp() override {
    acceptor_ = senet::test::listen_tcp(ip::tcp::v4());
    pair_ = senet::test::connect_pair(ctx_, acceptor_);
  }

  // Sends `text` from the client with a plain system call (not through the context).
  void send_now(std::string_view text) {
    ASSERT_EQ(::send(pair_.client.native_handle(), text.data(), text.size(), MSG_NOSIGNAL),
              static_cast<::ssize_t>(text.size()));
  }

  // A receive on the server with a time limit: the byte count, or the error.
  std::size_t receive(std::error_code& ec, net::message_flags flags = {}) {
    auto r =
        senet::test::run(ctx_, net::timeout(net::async_receive(pair_.server, flags, buffer(in_)), limit) |
                                   ex::upon_error([&](std::error_code e) {
                                     ec = e;
                                     return std::size_t{0};
                                   }));
    EXPECT_TRUE(r.has_value());
    return r ? std::get<0>(*r) : 0;
  }

  // A receive that waits (nothing queued) while `then` runs: `then` makes data arrive.
  template <class Fn>
  std::size_t receive_while(Fn then) {
    auto r = senet::test::run(
        ctx_, ex::when_all(net::async_receive(pair_.server, buffer(in_)), ex::just() | ex::then(then)));
    EXPECT_TRUE(r.has_value());
    return r ? std::get<0>(*r) : 0;
  }

  io::io_context ctx_{io::epoll};
  ip::tcp::acceptor acceptor_;
  senet::test::stream_pair<ip::tcp> pair_;
  std::array<char, 64> in_{};
};

TEST_F(epoll_backend, end_of_stream_arriving_with_the_data_is_delivered_after_a_short_read) {
  // The receive waits; then data and FIN arrive before the loop looks: one edge for both.
  EXPECT_EQ(receive_while([&] {
              send_now("hello");
              pair_.client.shutdown(ip::tcp::socket::shutdown_send);
            }),
            5u);
  std::error_code ec;
  EXPECT_EQ(receive(ec), 0u);
  EXPECT_FALSE(ec) << ec.message();
}

TEST_F(epoll_backend, data_arriving_after_a_short_read_is_received) {
  EXPECT_EQ(receive_while([&] { send_now("one"); }), 3u);
  // Arrives while no receive waits: the edge is remembered for the next one.
  send_now("two!");
  std::error_code ec;
  EXPECT_EQ(receive(ec), 4u);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(std::string_view(in_.data(), 4), "two!");
  // And after a receive that waited for it.
  EXPECT_EQ(receive_while([&] { send_now("three"); }), 5u);
}

TEST_F(epoll_backend, a_peek_does_not_hide_the_data_it_saw) {
  EXPECT_EQ(receive_while([&] { send_now("abc"); }), 3u);
  send_now("peeked");
  std::error_code ec;
  EXPECT_EQ(receive(ec, net::message_flags::peek), 6u);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(receive(ec), 6u);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(std::string_view(in_.data(), 6), "peeked");
}

TEST_F(epoll_backend, a_full_read_leaves_the_rest_to_be_received_at_once) {
  std::array<char, 100> big{};
  big.fill('x');
  EXPECT_EQ(receive_while([&] { send_now(std::string_view(big.data(), big.size())); }), in_.size());
  std::error_code ec;
  EXPECT_EQ(receive(ec), big.size() - in_.size());
  EXPECT_FALSE(ec) << ec.message();
}

TEST_F(epoll_backend, async_read_and_async_write_take_partial_transfers_in_steps) {
  std::array<char, 3 * 64> out{};
  out.fill('y');
  std::array<char, 3 * 64> in{};
  std::size_t read_count = 0;
  auto r = senet::test::run(ctx_, ex::when_all(net::async_read(pair_.server, buffer(in), read_count),
                                               net::async_write(pair_.client, buffer(out))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), in.size());
  EXPECT_EQ(std::get<1>(*r), out.size());
  EXPECT_EQ(read_count, in.size());
  EXPECT_EQ(in, out);
}

TEST(epoll_backend_datagram, a_short_datagram_does_not_hide_the_next_one) {
  io::io_context ctx{io::epoll};
  ip::udp::socket a = senet::test::bind_udp(ip::udp::v4());
  ip::udp::socket b = senet::test::bind_udp(ip::udp::v4());
  std::array<char, 64> in{};
  // The first receive waits (registers the socket); then two datagrams arrive in one edge.
  auto send_datagram = [&](std::string_view text) {
    ip::udp::endpoint to = b.local_endpoint();
    ASSERT_EQ(::sendto(a.native_handle(), text.data(), text.size(), 0,
                       static_cast<const ::sockaddr*>(to.data()), static_cast<::socklen_t>(to.size())),
              static_cast<::ssize_t>(text.size()));
  };
  auto first =
      senet::test::run(ctx, ex::when_all(net::async_receive(b, buffer(in)), ex::just() | ex::then([&] {
                                                                              send_datagram("one");
                                                                              send_datagram("four");
                                                                            })));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(std::get<0>(*first), 3u);
  auto second = senet::test::run(ctx, net::timeout(net::async_receive(b, buffer(in)), limit));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(std::get<0>(*second), 4u);
}

}  // namespace
