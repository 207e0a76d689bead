// SPDX-License-Identifier: BSL-1.0
// run_loop's thread promise (include/senet/execution/run_loop.hpp): "get_scheduler(), finish() and
// starting schedule operations may be called from any thread; run() from one thread at a time",
// and `schedule(sch)` "completes on the thread running run()". Several threads at once, repeated.
#include <senet/execution/run_loop.hpp>

#include <senet/execution.hpp>

#include <support/thread_harness.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
using senet::test::join_within;
using senet::test::race_budget;

struct record {
  std::atomic<int> count{0};
  std::thread::id thread{};
  bool stopped = false;
};

struct loop_receiver {
  using receiver_concept = ex::receiver_t;
  record* rec;
  void set_value() && noexcept { finish(false); }
  void set_stopped() && noexcept { finish(true); }

 private:
  void finish(bool s) noexcept {
    rec->thread = std::this_thread::get_id();
    rec->stopped = s;
    rec->count.fetch_add(1, std::memory_order_acq_rel);
  }
};

using loop_op =
    ex::connect_result_t<decltype(std::declval<ex::run_loop&>().get_scheduler().schedule()), loop_receiver>;

// Three threads schedule onto a run_loop (getting its scheduler each time) while a fourth runs it;
// a fifth calls finish() once they are done: every schedule completes once, with set_value, on the
// running thread, and run() returns.
TEST(run_loop_threads, schedule_from_several_threads_and_finish_from_another) {
  constexpr int threads = 3;
  constexpr int per_thread = 300;
  race_budget budget(100, 600ms, senet::test::minimum_iterations);
  while (budget.next()) {
    ex::run_loop loop;
    std::vector<record> recs(threads * per_thread);
    std::vector<std::unique_ptr<loop_op>> ops(recs.size());
    std::thread::id runner_id;
    std::thread runner([&] {
      runner_id = std::this_thread::get_id();
      loop.run();
    });
    std::vector<std::thread> starters;
    for (int t = 0; t < threads; ++t) {
      starters.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          auto k = static_cast<std::size_t>(t * per_thread + i);
          ops[k].reset(new loop_op(ex::connect(loop.get_scheduler().schedule(), loop_receiver{&recs[k]})));
          ex::start(*ops[k]);
        }
      });
    }
    for (auto& s : starters) {
      join_within(s, 30s, "a scheduling thread");
    }
    std::thread finisher([&] { loop.finish(); });
    join_within(finisher, 30s, "the finishing thread");
    join_within(runner, 30s, "run() after finish()");
    for (auto& r : recs) {
      ASSERT_EQ(r.count.load(), 1);
      ASSERT_FALSE(r.stopped);
      ASSERT_EQ(r.thread, runner_id);
    }
  }
  SENET_EXPECT_RACED(budget, "run_loop rounds");
}

// finish() from another thread ends a run() that waits on an empty queue, every time.
TEST(run_loop_threads, finish_from_another_thread_ends_a_waiting_run) {
  race_budget budget(500, 400ms, senet::test::minimum_iterations);
  while (budget.next()) {
    ex::run_loop loop;
    std::atomic<bool> running{false};
    std::thread runner([&] {
      running.store(true);
      loop.run();
    });
    while (!running.load()) {
      std::this_thread::yield();
    }
    if (budget.done() % 2 == 0) {
      std::this_thread::yield();
    }
    std::thread finisher([&] { loop.finish(); });
    join_within(finisher, 30s, "the finishing thread");
    join_within(runner, 30s, "run() after finish()");
  }
  SENET_EXPECT_RACED(budget, "finish from another thread");
}

}  // namespace
