// SPDX-License-Identifier: BSL-1.0
// [exec.schedule]: schedule, and the scheduler concept, with the test schedulers.
#include <senet/execution.hpp>

#include <support/completion_scheduler.hpp>
#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>
#include <support/inline_scheduler.hpp>
#include <support/manual_scheduler.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

TEST(schedule, test_schedulers_model_the_scheduler_concept) {
  t::manual_context ctx;
  static_assert(ex::scheduler<t::manual_scheduler>);
  static_assert(ex::scheduler<t::inline_scheduler>);
  static_assert(ex::scheduler<decltype(ex::run_loop{}.get_scheduler())>);
  static_assert(ex::sender<decltype(ex::schedule(ctx.get_scheduler()))>);
  static_assert(!ex::scheduler<int>);
}

TEST(schedule, sends_the_schedulers_completions) {
  t::manual_context ctx;
  static_assert(t::sends_exactly_v<decltype(ex::schedule(ctx.get_scheduler())), t::empty_env,
                                   ex::set_value_t(), ex::set_stopped_t()>);
  static_assert(
      t::sends_exactly_v<decltype(ex::schedule(t::inline_scheduler{})), t::empty_env, ex::set_value_t()>);
}

TEST(schedule, value_channel) {
  t::manual_context ctx;
  auto op = ex::connect(ex::schedule(ctx.get_scheduler()), t::expect_void_receiver{});
  ex::start(op);
  EXPECT_EQ(1u, ctx.pending());
  EXPECT_TRUE(ctx.run_one());
  EXPECT_EQ(0u, ctx.pending());
}

TEST(schedule, stopped_channel) {
  t::manual_context ctx;
  ex::inplace_stop_source source;
  auto op = ex::connect(ex::schedule(ctx.get_scheduler()),
                        t::expect_stopped_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  source.request_stop();
  ctx.run();
}

TEST(schedule, completion_scheduler_of_the_schedule_sender) {
  t::manual_context ctx;
  auto sch = ctx.get_scheduler();
  EXPECT_TRUE(ex::get_completion_scheduler<ex::set_value_t>(ex::get_env(ex::schedule(sch))) == sch);
  EXPECT_TRUE(t::completion_scheduler_of(ex::get_env(ex::schedule(t::inline_scheduler{}))) ==
              t::inline_scheduler{});
  ex::run_loop loop;
  EXPECT_TRUE(ex::get_completion_scheduler<ex::set_value_t>(
                  ex::get_env(ex::schedule(loop.get_scheduler()))) == loop.get_scheduler());
}

TEST(schedule, inline_scheduler_completes_inside_start) {
  t::start_inline(ex::schedule(t::inline_scheduler{}) | ex::then([] { return 1; }),
                  t::expect_value_receiver{1});
}

}  // namespace
