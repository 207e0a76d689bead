// SPDX-License-Identifier: BSL-1.0
// [exec.run.loop]: run_loop.
#include <senet/execution.hpp>

#include <support/completion_scheduler.hpp>
#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

TEST(run_loop, scheduled_work_runs_inside_run) {
  ex::run_loop loop;
  bool ran = false;
  auto op = ex::connect(ex::schedule(loop.get_scheduler()) | ex::then([&] { ran = true; }),
                        t::expect_void_receiver{});
  ex::start(op);
  EXPECT_FALSE(ran);
  loop.finish();
  loop.run();
  EXPECT_TRUE(ran);
}

TEST(run_loop, runs_work_in_fifo_order) {
  ex::run_loop loop;
  std::vector<int> order;
  auto sch = loop.get_scheduler();
  auto op1 =
      ex::connect(ex::schedule(sch) | ex::then([&] { order.push_back(1); }), t::expect_void_receiver{});
  auto op2 =
      ex::connect(ex::schedule(sch) | ex::then([&] { order.push_back(2); }), t::expect_void_receiver{});
  auto op3 =
      ex::connect(ex::schedule(sch) | ex::then([&] { order.push_back(3); }), t::expect_void_receiver{});
  ex::start(op1);
  ex::start(op2);
  ex::start(op3);
  loop.finish();
  loop.run();
  EXPECT_EQ((std::vector<int>{1, 2, 3}), order);
}

TEST(run_loop, work_scheduled_while_running_runs_before_run_returns) {
  ex::run_loop loop;
  auto sch = loop.get_scheduler();
  bool inner = false;
  auto sndr =
      ex::schedule(sch) | ex::let_value([&] { return ex::schedule(sch) | ex::then([&] { inner = true; }); });
  auto op = ex::connect(std::move(sndr), t::expect_void_receiver{});
  ex::start(op);
  loop.finish();
  loop.run();
  EXPECT_TRUE(inner);
}

TEST(run_loop, schedule_with_a_stop_request_completes_stopped) {
  ex::run_loop loop;
  ex::inplace_stop_source source;
  auto op = ex::connect(ex::schedule(loop.get_scheduler()),
                        t::expect_stopped_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  source.request_stop();
  loop.finish();
  loop.run();
}

TEST(run_loop, schedule_sender_names_its_completion_scheduler) {
  ex::run_loop loop;
  auto sch = loop.get_scheduler();
  EXPECT_TRUE(t::completion_scheduler_of(ex::get_env(ex::schedule(sch))) == sch);
  static_assert(ex::scheduler<decltype(sch)>);
  static_assert(t::sends_v<decltype(ex::schedule(sch)), ex::set_value_t()>);
  using stop_env = decltype(t::stop_token_env(ex::inplace_stop_token{}));
  static_assert(t::sends_v<decltype(ex::schedule(sch)), ex::set_stopped_t(), stop_env>);
}

TEST(run_loop, schedulers_of_one_loop_compare_equal) {
  ex::run_loop a;
  ex::run_loop b;
  EXPECT_TRUE(a.get_scheduler() == a.get_scheduler());
  EXPECT_FALSE(a.get_scheduler() == b.get_scheduler());
}

TEST(run_loop, driven_by_another_thread_runs_work_from_this_one) {
  ex::run_loop loop;
  std::thread driver{[&] { loop.run(); }};
  auto const driver_id = driver.get_id();
  for (int i = 0; i < 3; ++i) {
    auto result = ex::sync_wait(ex::schedule(loop.get_scheduler()) |
                                ex::then([i] { return std::make_pair(i, std::this_thread::get_id()); }));
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(i, std::get<0>(*result).first);
    EXPECT_EQ(driver_id, std::get<0>(*result).second);
  }
  loop.finish();
  driver.join();
}

TEST(run_loop, run_returns_once_finished_and_empty) {
  ex::run_loop loop;
  std::thread driver{[&] { loop.run(); }};
  loop.finish();
  driver.join();  // Would hang if run did not return.
  SUCCEED();
}

}  // namespace
