// SPDX-License-Identifier: BSL-1.0
// The io_uring backend across threads: wake-ups through the eventfd the ring polls, cancellation
// and starts from other threads, and the wait descriptor a foreign run loop polls. Meant to run
// under ThreadSanitizer too.
#include <senet/io/io_context.hpp>

#include <senet/execution.hpp>
#include <senet/io/detail/descriptor.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/net/async_wait.hpp>

#include <support/deadline.hpp>
#include <support/descriptor_pair.hpp>
#include <support/thread_state.hpp>

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace iod = senet::io::detail;
namespace net = senet::net;

class uring_wakeup : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!io::io_context::is_available(io::uring)) {
      GTEST_SKIP() << "io_uring is not available here; the io_context falls back to epoll";
    }
  }
};

/** A receiver that counts set_value on an atomic and stops the context at `stop_at`. */
struct counting_receiver {
  using receiver_concept = ex::receiver_t;
  std::atomic<int>* count;
  int stop_at;
  io::io_context* ctx;
  void set_value() && noexcept {
    if (count->fetch_add(1) + 1 == stop_at) {
      ctx->stop();
    }
  }
  void set_stopped() && noexcept { ADD_FAILURE() << "unexpected set_stopped"; }
  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }
};

using schedule_op = ex::connect_result_t<io::detail::schedule_sender, counting_receiver>;

struct schedule_holder {
  schedule_op op;
  schedule_holder(io::io_context& ctx, counting_receiver r)
      : op(ex::connect(ctx.get_scheduler().schedule(), r)) {}
};

TEST_F(uring_wakeup, schedule_from_another_thread_wakes_a_sleeping_loop) {
  constexpr int count = 2000;
  io::io_context ctx{io::uring};
  std::atomic<int> done{0};
  std::vector<std::unique_ptr<schedule_holder>> ops;
  for (int i = 0; i < count; ++i) {
    ops.push_back(std::make_unique<schedule_holder>(ctx, counting_receiver{&done, count, &ctx}));
  }
  io::io_context::work_guard guard(ctx);
  auto const loop_thread = senet::test::this_thread_id();
  std::thread producer([&] {
    for (int i = 0; i < count; ++i) {
      ex::start(ops[i]->op);
      // Now and then, wait until the loop has fallen asleep in the ring, so that both paths are
      // taken: a wake-up through the eventfd, and a push that finds the loop awake.
      if (i % 50 == 0) {
        senet::test::wait_until_blocked(loop_thread, "the loop falling asleep");
      }
    }
  });
  {
    senet::test::deadline_guard deadline("ctx.run", &ctx);
    ctx.run();
  }
  producer.join();
  EXPECT_EQ(done.load(), count);
}

/** A receive record that can be started from any thread, as stoppable_operation does: off the
    context's thread it is posted to the loop, which starts it there. */
struct remote_receive : iod::io_operation {
  io::io_context* ctx = nullptr;
  std::array<char, 8> data{};
  ::iovec iov{};
  std::atomic<bool> started{false};
  std::atomic<int> completions{0};
  std::int64_t result = 0;

  void start_from_any_thread(io::io_context& c, iod::descriptor& d) {
    ctx = &c;
    iov = {data.data(), data.size()};
    msg_ = {};
    msg_.msg_iov = &iov;
    msg_.msg_iovlen = 1;
    code_ = iod::op_code::receive;
    descriptor_ = &d;
    complete_ = &remote_receive::start_here;
    iod::post_remote(c, *this);
  }

  static void start_here(iod::io_operation* op) noexcept {
    auto& self = static_cast<remote_receive&>(*op);
    self.complete_ = &remote_receive::done;
    bool at_once = iod::start_operation(*self.ctx, self);
    self.started.store(true);
    if (at_once) {
      done(op);
    }
  }

  static void done(iod::io_operation* op) noexcept {
    auto& self = static_cast<remote_receive&>(*op);
    // A cancel request still queued must be taken before the record is reused.
    iod::take_queued_cancel(*self.ctx, self);
    self.result = self.result_;
    self.completions.fetch_add(1);
    self.ctx->stop();
  }
};

using senet::test::socket_pair;

TEST_F(uring_wakeup, operation_started_and_cancelled_from_another_thread) {
  io::io_context ctx{io::uring};
  socket_pair p;
  remote_receive rx;
  io::io_context::work_guard guard(ctx);
  auto const loop_thread = senet::test::this_thread_id();
  std::thread other([&] {
    rx.start_from_any_thread(ctx, p.b.d);
    senet::test::spin_until([&] { return rx.started.load(); }, "the loop starting the receive");
    // Once the loop is asleep in the ring, the request is queued and the loop woken.
    senet::test::wait_until_blocked(loop_thread, "the loop falling asleep");
    iod::request_cancel(ctx, rx);
  });
  {
    senet::test::deadline_guard deadline("ctx.run", &ctx);
    ctx.run();
  }
  other.join();
  ASSERT_EQ(rx.completions.load(), 1);
  EXPECT_EQ(rx.result, -ECANCELED);
}

TEST_F(uring_wakeup, operation_started_from_another_thread_completes_on_data) {
  io::io_context ctx{io::uring};
  socket_pair p;
  remote_receive rx;
  io::io_context::work_guard guard(ctx);
  auto const loop_thread = senet::test::this_thread_id();
  std::thread other([&] {
    rx.start_from_any_thread(ctx, p.b.d);
    // The data comes once the receive waits in the ring and the loop sleeps.
    senet::test::spin_until([&] { return rx.started.load(); }, "the loop starting the receive");
    senet::test::wait_until_blocked(loop_thread, "the loop falling asleep");
    ASSERT_EQ(::send(p.a.d.fd, "w", 1, MSG_NOSIGNAL), 1);
  });
  {
    senet::test::deadline_guard deadline("ctx.run", &ctx);
    ctx.run();
  }
  other.join();
  ASSERT_EQ(rx.completions.load(), 1);
  EXPECT_EQ(rx.result, 1);
}

TEST_F(uring_wakeup, stop_from_another_thread_ends_a_blocked_run) {
  io::io_context ctx{io::uring};
  io::io_context::work_guard guard(ctx);
  auto const loop_thread = senet::test::this_thread_id();
  std::thread other([&] {
    senet::test::wait_until_blocked(loop_thread, "the loop blocking in run()");
    ctx.stop();
  });
  {
    senet::test::deadline_guard deadline("ctx.run",
                                         nullptr);  // not stopped by the watchdog: this tests stop()
    EXPECT_EQ(ctx.run(), 0U);
  }
  other.join();
  EXPECT_TRUE(ctx.stopped());
}

// ---- a foreign run loop polling wait_descriptor() ----------------------------------------------

bool readable(int fd, int timeout_ms) {
  ::pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

TEST_F(uring_wakeup, wait_descriptor_becomes_readable_for_work_from_another_thread) {
  io::io_context ctx{io::uring};
  EXPECT_EQ(ctx.poll(), 0U);
  std::atomic<int> done{0};
  schedule_holder op(ctx, counting_receiver{&done, -1, &ctx});
  std::thread other([&] { ex::start(op.op); });
  other.join();
  ASSERT_TRUE(readable(ctx.wait_descriptor(), 5000));
  EXPECT_EQ(ctx.poll(), 1U);
  EXPECT_EQ(done.load(), 1);
}

TEST_F(uring_wakeup, wait_descriptor_becomes_readable_before_the_first_poll) {
  io::io_context ctx{io::uring};
  std::atomic<int> done{0};
  schedule_holder op(ctx, counting_receiver{&done, -1, &ctx});
  std::thread other([&] { ex::start(op.op); });
  other.join();
  ASSERT_TRUE(readable(ctx.wait_descriptor(), 5000));
  EXPECT_EQ(ctx.poll(), 1U);
}

struct timer_receiver {
  using receiver_concept = ex::receiver_t;
  int* fired;
  void set_value() && noexcept { ++*fired; }
  void set_stopped() && noexcept { ADD_FAILURE() << "unexpected set_stopped"; }
  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }
};

TEST_F(uring_wakeup, wait_descriptor_becomes_readable_for_a_timer_after_poll) {
  io::io_context ctx{io::uring};
  int fired = 0;
  auto op = ex::connect(net::async_wait_for(ctx.get_scheduler(), 30ms), timer_receiver{&fired});
  ex::start(op);
  ctx.poll();  // starts the timer, arms the deadline
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (fired == 0 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(readable(ctx.wait_descriptor(), 10'000));
    ctx.poll();
  }
  EXPECT_EQ(fired, 1);
}

}  // namespace
