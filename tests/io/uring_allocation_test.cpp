// SPDX-License-Identifier: BSL-1.0
// The io_uring backend allocates nothing per operation: after the first operation of a socket
// (which takes a descriptor state from the backend's free list, or allocates one), receive/send
// round trips through the core and the ring make no heap allocation.
#include <senet/io/io_context.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/async_poll.hpp>
#include <senet/io/detail/descriptor.hpp>
#include <senet/io/detail/operation.hpp>
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
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <system_error>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace iod = senet::io::detail;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

struct transfer : iod::io_operation {
  std::array<char, 64> data{};
  ::iovec iov{};
  int completions = 0;

  transfer() noexcept {
    complete_ = [](iod::io_operation* op) noexcept { ++static_cast<transfer*>(op)->completions; };
  }

  void prepare(iod::op_code code, iod::descriptor& d) noexcept {
    iov = {data.data(), data.size()};
    msg_ = {};
    msg_.msg_iov = &iov;
    msg_.msg_iovlen = 1;
    code_ = code;
    descriptor_ = &d;
  }
};

struct socket_pair {
  iod::descriptor a;
  iod::descriptor b;
  socket_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
      throw std::system_error(errno, std::system_category(), "socketpair");
    }
    a.fd = fds[0];
    b.fd = fds[1];
  }
  socket_pair(const socket_pair&) = delete;
  socket_pair& operator=(const socket_pair&) = delete;
  ~socket_pair() {
    for (iod::descriptor* d : {&a, &b}) {
      iod::release_descriptor(*d);
      ::close(d->fd);
    }
  }
};

// One 64-byte round trip: a sends, b receives, b sends back, a receives. Returns false on a
// wrong completion.
bool round_trip(io::io_context& ctx, socket_pair& p, transfer (&ops)[4]) {
  ops[0].prepare(iod::op_code::send, p.a);
  ops[1].prepare(iod::op_code::receive, p.b);
  ops[2].prepare(iod::op_code::send, p.b);
  ops[3].prepare(iod::op_code::receive, p.a);
  for (int leg = 0; leg < 2; ++leg) {
    transfer& tx = ops[2 * leg];
    transfer& rx = ops[2 * leg + 1];
    int before = tx.completions + rx.completions;
    {
      iod::context_scope scope(ctx);
      if (iod::start_operation(ctx, rx)) {
        return false;  // nothing to receive yet: the receive goes to the ring
      }
      if (iod::start_operation(ctx, tx)) {
        tx.complete_(&tx);  // an eager send completes at once, delivered inline
      }
    }
    while (tx.completions + rx.completions != before + 2) {
      if (ctx.run_one() == 0) {
        return false;
      }
    }
    if (tx.result_ != 64 || rx.result_ != 64) {
      return false;
    }
  }
  return true;
}

TEST(uring_allocation, no_allocation_per_receive_send_round_trip) {
  if (!io::io_context::is_available(io::uring)) {
    GTEST_SKIP() << "io_uring is not available here; the io_context falls back to epoll";
  }
  io::io_context ctx{io::uring};
  socket_pair p;
  transfer ops[4];
  // Warm up: registers both descriptors with the context.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(round_trip(ctx, p, ops));
  }
  bool ok = true;
  senet::test::allocation_scope scope;
  for (int i = 0; i < 1000 && ok; ++i) {
    ok = round_trip(ctx, p, ops);
  }
  // Eager sends (tried first, completed inline) allocate nothing either.
  p.a.eager |= iod::eager_send;
  p.b.eager |= iod::eager_send;
  for (int i = 0; i < 1000 && ok; ++i) {
    ok = round_trip(ctx, p, ops);
  }
  std::size_t allocations = scope.count();
  ASSERT_TRUE(ok);
  EXPECT_EQ(allocations, 0U);
}

TEST(uring_allocation, descriptor_states_are_reused_across_sockets) {
  if (!io::io_context::is_available(io::uring)) {
    GTEST_SKIP() << "io_uring is not available here; the io_context falls back to epoll";
  }
  io::io_context ctx{io::uring};
  transfer ops[4];
  {
    socket_pair warm;
    ASSERT_TRUE(round_trip(ctx, warm, ops));
  }
  // A new connection takes the states the closed one returned: still no allocation (the sockets
  // themselves are made before counting starts).
  socket_pair p;
  senet::test::allocation_scope scope;
  bool ok = round_trip(ctx, p, ops);
  std::size_t allocations = scope.count();
  ASSERT_TRUE(ok);
  EXPECT_EQ(allocations, 0U);
}

// ---- the same through the senders (net::async_receive / async_send) -----------------------------

class uring_sender_allocation : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!io::io_context::is_available(io::uring)) {
      GTEST_SKIP() << "io_uring is not available here; the io_context falls back to epoll";
    }
    ctx_.emplace(io::uring);
    acceptor_ = senet::test::listen_tcp(ip::tcp::v4());
    pair_ = senet::test::connect_pair(*ctx_, acceptor_);
  }

  // One round trip; on io_uring both the receive and the send of each leg go through the ring.
  bool round_trip() {
    auto r = ctx_->run_until(ex::when_all(net::async_receive(pair_.server, buffer(in_)),
                                          net::async_send(pair_.client, buffer(out_))));
    auto r2 = ctx_->run_until(ex::when_all(net::async_receive(pair_.client, buffer(in_)),
                                           net::async_send(pair_.server, buffer(out_))));
    return r.has_value() && r2.has_value() && std::get<0>(*r) == out_.size() &&
           std::get<0>(*r2) == out_.size();
  }

  std::optional<io::io_context> ctx_;
  ip::tcp::acceptor acceptor_;
  senet::test::stream_pair<ip::tcp> pair_;
  std::array<char, 64> out_{};
  std::array<char, 64> in_{};
};

TEST_F(uring_sender_allocation, async_read_and_async_write_allocate_nothing) {
  // One record per transfer, restarted after partial transfers: nothing allocated per step either.
  std::array<char, 3 * 64> big_out{};
  std::array<char, 3 * 64> big_in{};
  auto exchange = [&] {
    auto r = ctx_->run_until(ex::when_all(net::async_read(pair_.server, buffer(big_in)),
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

TEST_F(uring_sender_allocation, send_receive_round_trips_allocate_nothing) {
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

TEST_F(uring_sender_allocation, timers_and_cancellation_allocate_nothing) {
  ASSERT_TRUE(round_trip());
  // The receive is cancelled with IORING_OP_ASYNC_CANCEL when the timer wins.
  auto cancelled_receive = [&] {
    return ex::when_any(net::async_receive(pair_.server, buffer(in_)) | ex::then([](std::size_t) {}),
                        net::async_wait_for(0ms));
  };
  ASSERT_TRUE(ctx_->run_until(cancelled_receive()).has_value());
  senet::test::allocation_scope scope;
  bool ok = true;
  for (int i = 0; i < 100; ++i) {
    ok = ctx_->run_until(cancelled_receive()).has_value() && ok;
    ok = ctx_->run_until(net::async_wait_for(0ms)).has_value() && ok;
    ok = ctx_->run_until(ex::schedule(ctx_->get_scheduler())).has_value() && ok;
  }
  std::size_t allocations = scope.count();
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0U);
}

TEST_F(uring_sender_allocation, readiness_waits_allocate_nothing) {
  // Socket waits (one direction, both, stopped), and polls of a foreign pipe once the context's
  // registry knows it.
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  char byte = 'w';
  ASSERT_EQ(::write(fds[1], &byte, 1), 1);
  auto waits = [&] {
    auto r = ctx_->run_until(ex::when_all(
        net::async_wait(pair_.server, net::socket_base::wait_read),
        net::async_wait(pair_.client, net::socket_base::wait_read | net::socket_base::wait_write),
        io::async_poll(ctx_->get_scheduler(), fds[0], io::poll_events::readable),
        net::async_send(pair_.client, buffer(out_))));
    auto stopped = ctx_->run_until(ex::when_any(
        net::async_wait(pair_.client, net::socket_base::wait_read) | ex::then([](io::poll_events) {}),
        net::async_wait_for(0ms)));
    bool ok = r.has_value() && stopped.has_value() && std::get<0>(*r) == io::poll_events::readable &&
              std::get<2>(*r) == io::poll_events::readable;
    auto drained = ctx_->run_until(net::async_receive(pair_.server, buffer(in_)));
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
  io::forget_descriptor(*ctx_, fds[0]);
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
