// SPDX-License-Identifier: BSL-1.0
// net::timeout's thread promise (include/senet/net/timeout.hpp): "the child and the timer may
// complete on different threads", and "the operation completes only after both the child and the
// timer have completed". The child runs on a second context's thread, the timer on the first
// context's (the receiver's I/O scheduler), with deadlines close enough that either wins; a third
// thread sometimes requests a stop. Every backend.
#include <senet/net/timeout.hpp>

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>

#include <support/backend_fixture.hpp>
#include <support/thread_harness.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
using senet::test::completion_record;
using senet::test::context_runner;
using senet::test::eventually;
using senet::test::join_within;
using senet::test::race_budget;
using senet::test::record_receiver;

// What one timed operation saw.
struct timed_run {
  completion_record rec;
  int value = 0;
  // The child's progress: 0 running, 1 completed with its value, 2 stopped.
  std::atomic<int> child{0};
  // What the child's state was when the timeout operation completed (must be non-zero).
  int child_at_completion = -1;
  std::thread::id child_thread{};
};

// A record_receiver that also notes the value and the child's state at completion.
struct timed_receiver {
  using receiver_concept = ex::receiver_t;
  record_receiver inner;
  timed_run* run;
  [[nodiscard]] auto get_env() const noexcept { return inner.get_env(); }
  void note() noexcept { run->child_at_completion = run->child.load(); }
  void set_value(int v) && noexcept {
    run->value = v;
    note();
    std::move(inner).set_value();
  }
  void set_error(std::error_code ec) && noexcept {
    note();
    std::move(inner).set_error(ec);
  }
  void set_error(std::exception_ptr e) && noexcept {
    note();
    std::move(inner).set_error(e);
  }
  void set_stopped() && noexcept {
    note();
    std::move(inner).set_stopped();
  }
};

// timeout(child on `other`, timer on `ctx`, the receiver's I/O scheduler) for `child_delay` /
// `limit`, connected to a timed_receiver for `r`.
auto timed(io::io_context& ctx, io::io_context& other, timed_run& r, std::chrono::microseconds child_delay,
           std::chrono::microseconds limit) {
  auto child = other.get_scheduler().schedule_after(child_delay) | ex::then([&r] {
                 r.child_thread = std::this_thread::get_id();
                 r.child.store(1);
                 return 7;
               }) |
               ex::upon_stopped([&r] {
                 r.child_thread = std::this_thread::get_id();
                 r.child.store(2);
                 return -1;
               });
  return ex::connect(net::timeout(std::move(child), limit),
                     timed_receiver{record_receiver{&ctx, &r.rec}, &r});
}
using timed_op = decltype(timed(std::declval<io::io_context&>(), std::declval<io::io_context&>(),
                                std::declval<timed_run&>(), 0us, 0us));

template <class Backend>
class timeout_threads : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(timeout_threads, senet::test::all_backends, senet::test::backend_names);

// Child and timer on two contexts run by two threads, with deadlines that race: each timeout
// completes once, after its child, with the child's value or timed_out, on one of the two threads
// (or inside start(): see timeout.hpp).
// Every fourth run, a third thread requests a stop meanwhile (then the stopping thread may complete
// it too).
TYPED_TEST(timeout_threads, child_and_timer_complete_on_different_threads) {
  io::io_context other(TypeParam::kind);
  context_runner timer_runner(this->ctx());
  context_runner child_runner(other);
  std::deque<timed_run> runs;
  std::vector<std::unique_ptr<timed_op>> ops;
  int values = 0;
  int timed_out = 0;
  int stopped = 0;
  int on_child_thread = 0;
  int in_start = 0;
  race_budget budget(2000, 600ms, senet::test::minimum_iterations);
  while (budget.next()) {
    int i = budget.done();
    auto& r = runs.emplace_back();
    auto child_delay = std::chrono::microseconds(i % 7 * 15);
    auto limit = std::chrono::microseconds(i % 5 * 20);
    ops.emplace_back(new timed_op(timed(this->ctx(), other, r, child_delay, limit)));
    ex::start(*ops.back());
    std::thread::id stopper_id;
    if (i % 4 == 0) {
      std::thread stopper([&] {
        stopper_id = std::this_thread::get_id();
        r.rec.stop.request_stop();
      });
      join_within(stopper, 30s, "the stopping thread");
    }
    ASSERT_TRUE(eventually([&] { return r.rec.done(); })) << "a timeout did not complete within 20 s";
    ASSERT_NE(r.child_at_completion, 0) << "the timeout completed before its child";
    // On the thread that completed second; or in start() (this thread, which runs nothing else),
    // when the child had completed and stopped the timer before start() started the timer.
    ASSERT_TRUE(r.rec.thread == timer_runner.id() || r.rec.thread == child_runner.id() ||
                r.rec.thread == std::this_thread::get_id() || (i % 4 == 0 && r.rec.thread == stopper_id))
        << "completed on a thread that neither runs the child or the timer nor started or stopped it";
    in_start += r.rec.thread == std::this_thread::get_id() ? 1 : 0;
    on_child_thread += r.rec.thread == child_runner.id() ? 1 : 0;
    if (r.rec.is_value()) {
      ++values;
      ASSERT_TRUE(r.value == 7 || r.value == -1) << r.value;
    } else if (r.rec.is_error()) {
      ++timed_out;
      ASSERT_EQ(r.rec.ec, std::errc::timed_out) << r.rec.ec.message();
    } else {
      ++stopped;
      ASSERT_EQ(i % 4, 0) << "stopped without a stop request";
    }
  }
  timer_runner.finish();
  child_runner.finish();
  for (auto& r : runs) {
    ASSERT_EQ(r.rec.count.load(), 1);
  }
  SENET_EXPECT_RACED(budget, "timeouts across two threads");
  std::printf("%d values, %d timed out, %d stopped; %d completed on the child's thread, %d in start()\n",
              values, timed_out, stopped, on_child_thread, in_start);
  // Both threads finished operations: the race went both ways at least once.
  EXPECT_GT(on_child_thread, 0) << "never completed on the child's thread";
  EXPECT_LT(on_child_thread + in_start, budget.done()) << "never completed on the timer's thread";
}

}  // namespace
