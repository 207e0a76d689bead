// SPDX-License-Identifier: BSL-1.0
// No heap allocation per operation on the epoll backend's steady paths (DESIGN.md, "Performance
// budget"): send/receive round trips, waits for readiness, timers and cancellation.
#include <senet/io/io_context.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/async_poll.hpp>
#include <senet/io/forget_descriptor.hpp>
#include <senet/io/poll_events.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/sockets.hpp>

#include <support/allocation_counter.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <list>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

class epoll_allocation : public ::testing::Test {
 protected:
  void SetUp() override {
    acceptor_ = senet::test::listen_tcp(ip::tcp::v4());
    pair_ = senet::test::connect_pair(ctx_, acceptor_);
  }

  // One round trip: the receives start first and wait (EAGAIN, readiness), the sends complete
  // inline, the receives complete on the next epoll_wait.
  bool round_trip() {
    auto r = ctx_.run_until(ex::when_all(net::async_receive(pair_.server, buffer(in_)),
                                         net::async_send(pair_.client, buffer(out_))));
    auto r2 = ctx_.run_until(ex::when_all(net::async_receive(pair_.client, buffer(in_)),
                                          net::async_send(pair_.server, buffer(out_))));
    return r.has_value() && r2.has_value() && std::get<0>(*r) == out_.size() &&
           std::get<0>(*r2) == out_.size();
  }

  io::io_context ctx_{io::epoll};
  ip::tcp::acceptor acceptor_;
  senet::test::stream_pair<ip::tcp> pair_;
  std::array<char, 64> out_{};
  std::array<char, 64> in_{};
};

TEST_F(epoll_allocation, async_read_and_async_write_allocate_nothing) {
  // One record per transfer, restarted after partial transfers: nothing allocated per step either.
  std::array<char, 3 * 64> big_out{};
  std::array<char, 3 * 64> big_in{};
  auto exchange = [&] {
    auto r = ctx_.run_until(ex::when_all(net::async_read(pair_.server, buffer(big_in)),
                                         net::async_write(pair_.client, buffer(big_out))));
    return r.has_value() && std::get<0>(*r) == big_in.size() && std::get<1>(*r) == big_out.size();
  };
  ASSERT_TRUE(exchange());
  senet::test::allocation_scope scope;
  bool ok = true;
  for (int i = 0; i < 200; ++i) {
    ok = exchange() && ok;
  }
  std::size_t allocations = scope.count();
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0U);
}

TEST_F(epoll_allocation, send_receive_round_trips_allocate_nothing) {
  // Warm up: the first wait registers each descriptor (one state per socket, reused afterwards).
  ASSERT_TRUE(round_trip());
  ASSERT_TRUE(round_trip());
  senet::test::allocation_scope scope;
  bool ok = true;
  for (int i = 0; i < 200; ++i) {
    ok = round_trip() && ok;
  }
  std::size_t allocations = scope.count();
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0U);
}

TEST_F(epoll_allocation, timers_and_cancellation_allocate_nothing) {
  ASSERT_TRUE(round_trip());
  auto cancelled_receive = [&] {
    return ex::when_any(net::async_receive(pair_.server, buffer(in_)) | ex::then([](std::size_t) {}),
                        net::async_wait_for(0ms));
  };
  ASSERT_TRUE(ctx_.run_until(cancelled_receive()).has_value());
  senet::test::allocation_scope scope;
  bool ok = true;
  for (int i = 0; i < 100; ++i) {
    ok = ctx_.run_until(cancelled_receive()).has_value() && ok;
    ok = ctx_.run_until(net::async_wait_for(0ms)).has_value() && ok;
    ok = ctx_.run_until(ex::schedule(ctx_.get_scheduler())).has_value() && ok;
  }
  std::size_t allocations = scope.count();
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0U);
}

TEST_F(epoll_allocation, a_new_socket_reuses_a_released_descriptor_state) {
  ASSERT_TRUE(round_trip());
  // Close one connection (its states go to the free list) and make another.
  pair_ = senet::test::stream_pair<ip::tcp>{};
  pair_ = senet::test::connect_pair(ctx_, acceptor_);
  ASSERT_TRUE(round_trip());
  pair_ = senet::test::stream_pair<ip::tcp>{};
  pair_ = senet::test::connect_pair(ctx_, acceptor_);
  senet::test::allocation_scope scope;
  bool ok = round_trip();
  std::size_t allocations = scope.count();
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0U);
}

TEST_F(epoll_allocation, buffer_sequences_are_referred_to_or_moved_not_copied) {
  ASSERT_TRUE(round_trip());
  std::vector<senet::const_buffer> gather{buffer(out_.data(), 10), buffer(out_.data() + 10, 54)};
  std::list<senet::mutable_buffer> scatter{buffer(in_.data(), 32), buffer(in_.data() + 32, 32)};
  std::vector<senet::const_buffer> moved{buffer(out_)};
  senet::test::allocation_scope scope;
  // An lvalue vector is kept as a span, an lvalue list by reference, an rvalue vector is moved.
  auto r = ctx_.run_until(
      ex::when_all(net::async_receive(pair_.server, scatter), net::async_send(pair_.client, gather)));
  auto r2 = ctx_.run_until(ex::when_all(net::async_receive(pair_.client, buffer(in_)),
                                        net::async_send(pair_.server, std::move(moved))));
  std::size_t allocations = scope.count();
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(std::get<1>(*r), 64U);
  EXPECT_EQ(allocations, 0U);
}

TEST_F(epoll_allocation, readiness_waits_allocate_nothing) {
  // Socket waits (one direction, both, stopped), and polls of a foreign pipe once the context's
  // registry knows it.
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  char byte = 'w';
  ASSERT_EQ(::write(fds[1], &byte, 1), 1);
  auto waits = [&] {
    auto r = ctx_.run_until(ex::when_all(
        net::async_wait(pair_.server, net::socket_base::wait_read),
        net::async_wait(pair_.client, net::socket_base::wait_read | net::socket_base::wait_write),
        io::async_poll(ctx_.get_scheduler(), fds[0], io::poll_events::readable),
        net::async_send(pair_.client, buffer(out_))));
    auto stopped = ctx_.run_until(ex::when_any(
        net::async_wait(pair_.client, net::socket_base::wait_read) | ex::then([](io::poll_events) {}),
        net::async_wait_for(0ms)));
    bool ok = r.has_value() && stopped.has_value() && std::get<0>(*r) == io::poll_events::readable &&
              std::get<2>(*r) == io::poll_events::readable;
    auto drained = ctx_.run_until(net::async_receive(pair_.server, buffer(in_)));
    return ok && drained.has_value() && std::get<0>(*drained) == out_.size();
  };
  ASSERT_TRUE(waits());
  senet::test::allocation_scope scope;
  bool ok = true;
  for (int i = 0; i < 100; ++i) {
    ok = waits() && ok;
  }
  std::size_t allocations = scope.count();
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0U);
  io::forget_descriptor(ctx_, fds[0]);
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
