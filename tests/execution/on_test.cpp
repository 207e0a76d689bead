// SPDX-License-Identifier: BSL-1.0
// [exec.on]: on(sch, sndr) and sndr | on(sch, closure).
#include <senet/execution.hpp>

#include <support/channel_sender.hpp>
#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>
#include <support/manual_scheduler.hpp>
#include <support/pending_sender.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <system_error>
#include <thread>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

using int_sender = t::channel_sender<int>;
auto const reset = std::make_error_code(std::errc::connection_reset);

// The query that names the scheduler an operation is started on, which `on` returns to: C++26's
// get_scheduler in the bundled core; stdexec calls it get_start_scheduler.
#if SENET_USE_STDEXEC
using start_scheduler_query = ex::get_start_scheduler_t;
#else
using start_scheduler_query = ex::get_scheduler_t;
#endif

template <class Sch>
t::env_entry<start_scheduler_query, Sch> home_entry(Sch sch) {
  return {sch};
}

template <class Sch>
auto home_env(Sch sch) {
  return t::make_env(home_entry(sch));
}

TEST(on, runs_the_child_on_the_scheduler_and_comes_back_to_the_receivers) {
  t::manual_context home;
  t::manual_context away;
  bool ran = false;
  auto sndr = ex::on(away.get_scheduler(), ex::just(5) | ex::then([&](int x) {
                                             ran = true;
                                             return x + 1;
                                           }));
  auto op = ex::connect(std::move(sndr), t::expect_value_in(home_env(home.get_scheduler()), 6));
  ex::start(op);
  EXPECT_FALSE(ran);
  EXPECT_EQ(away.pending(), 1U);
  EXPECT_EQ(home.pending(), 0U);
  EXPECT_TRUE(away.run_one());
  EXPECT_TRUE(ran);
  // The result waits for the receiver's scheduler.
  EXPECT_EQ(home.pending(), 1U);
  EXPECT_TRUE(home.run_one());
  EXPECT_EQ(away.pending(), 0U);
}

TEST(on, passes_errors_and_stopped_back_on_the_receivers_scheduler) {
  t::manual_context home;
  t::manual_context away;
  {
    auto op = ex::connect(ex::on(away.get_scheduler(), int_sender::error(reset)),
                          t::expect_error_in(home_env(home.get_scheduler()), reset));
    ex::start(op);
    away.run();
    EXPECT_EQ(home.pending(), 1U);
    home.run();
  }
  {
    auto op = ex::connect(ex::on(away.get_scheduler(), int_sender::stopped()),
                          t::expect_stopped_in(home_env(home.get_scheduler())));
    ex::start(op);
    away.run();
    home.run();
  }
}

TEST(on, stop_request_reaches_the_child) {
  t::manual_context home;
  t::manual_context away;
  ex::inplace_stop_source source;
  t::pending_control leaf;
  auto env = t::make_env(home_entry(home.get_scheduler()), t::stop_token_entry(source.get_token()));
  auto op = ex::connect(ex::on(away.get_scheduler(), leaf.sender()), t::expect_stopped_in(env));
  ex::start(op);
  away.run();
  ASSERT_TRUE(leaf.started());
  source.request_stop();
  EXPECT_TRUE(leaf.stop_requested());
  home.run();
  EXPECT_TRUE(leaf.stopped());
}

TEST(on, child_environment_names_the_scheduler) {
#if SENET_USE_STDEXEC
  GTEST_SKIP() << "stdexec announces the scheduler a child starts on as get_start_scheduler, not "
                  "get_scheduler";
#else
  t::manual_context home;
  t::manual_context away;
  auto sndr = ex::on(away.get_scheduler(), ex::read_env(ex::get_scheduler) | ex::then([&](auto sch) {
                                             return sch == away.get_scheduler();
                                           }));
  auto op = ex::connect(std::move(sndr), t::expect_value_in(home_env(home.get_scheduler()), true));
  ex::start(op);
  away.run();
  home.run();
#endif
}

TEST(on, closure_form_runs_the_closure_on_the_scheduler_and_comes_back) {
  t::manual_context home;
  t::manual_context away;
  std::thread::id ran_on{};
  int seen = 0;
  auto sndr = ex::just(20) | ex::on(away.get_scheduler(), ex::then([&](int x) {
                                      seen = x;
                                      return x + 22;
                                    }));
  auto op = ex::connect(std::move(sndr), t::expect_value_in(home_env(home.get_scheduler()), 42));
  ex::start(op);
  EXPECT_EQ(seen, 0) << "the closure waits for the scheduler";
  EXPECT_EQ(away.pending(), 1U);
  away.run();
  EXPECT_EQ(seen, 20);
  EXPECT_EQ(home.pending(), 1U) << "back to the receiver's scheduler (just has no completion scheduler)";
  home.run();
}

TEST(on, closure_form_comes_back_to_the_upstream_completion_scheduler) {
  t::manual_context home;
  t::manual_context away;
  t::manual_context upstream;
  auto sndr = ex::schedule(upstream.get_scheduler()) | ex::then([] { return 1; }) |
              ex::on(away.get_scheduler(), ex::then([](int x) { return x * 3; }));
  auto op = ex::connect(std::move(sndr), t::expect_value_in(home_env(home.get_scheduler()), 3));
  ex::start(op);
  EXPECT_EQ(upstream.run(), 1U);
  EXPECT_EQ(away.run(), 1U);
  EXPECT_EQ(upstream.run(), 1U) << "the result comes back where the upstream sender completed";
  EXPECT_EQ(home.started(), 0U);
}

TEST(on, three_argument_form_is_the_closure_form) {
  t::manual_context home;
  t::manual_context away;
  auto sndr = ex::on(ex::just(2), away.get_scheduler(), ex::then([](int x) { return x * 5; }));
  auto op = ex::connect(std::move(sndr), t::expect_value_in(home_env(home.get_scheduler()), 10));
  ex::start(op);
  away.run();
  home.run();
}

TEST(on, completion_signatures_add_those_of_the_schedulers) {
  t::manual_context home;
  t::manual_context away;
  using env_t = decltype(home_env(home.get_scheduler()));
  using sndr = decltype(ex::on(away.get_scheduler(), ex::just(1)));
  static_assert(t::sends_v<sndr, ex::set_value_t(int), env_t>);
  static_assert(t::sends_v<sndr, ex::set_stopped_t(), env_t>);
  static_assert(!t::sends_v<sndr, ex::set_value_t(), env_t>);
  SUCCEED();
}

TEST(on, runs_on_a_run_loop_thread_and_comes_back_to_sync_wait) {
  ex::run_loop loop;
  std::thread driver{[&] { loop.run(); }};
  auto const driver_id = driver.get_id();
  std::thread::id completed_on{};
  auto result = ex::sync_wait(
      ex::on(loop.get_scheduler(), ex::just() | ex::then([] { return std::this_thread::get_id(); })) |
      ex::then([&](std::thread::id id) {
        completed_on = std::this_thread::get_id();
        return id;
      }));
  loop.finish();
  driver.join();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(driver_id, std::get<0>(*result));
  EXPECT_EQ(completed_on, std::this_thread::get_id()) << "back on sync_wait's thread";
}

}  // namespace
