// SPDX-License-Identifier: BSL-1.0
// [exec.starts.on]: starts_on.
#include <senet/execution.hpp>

#include <support/channel_sender.hpp>
#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>
#include <support/manual_scheduler.hpp>
#include <support/pending_sender.hpp>
#include <support/stop_probe_sender.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <system_error>
#include <thread>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

using int_sender = t::channel_sender<int>;
auto const reset = std::make_error_code(std::errc::connection_reset);

TEST(starts_on, starts_the_child_only_once_the_scheduler_runs_it) {
  t::manual_context ctx;
  bool ran = false;
  auto sndr = ex::starts_on(ctx.get_scheduler(), ex::just(5) | ex::then([&](int x) {
                                                   ran = true;
                                                   return x;
                                                 }));
  auto op = ex::connect(std::move(sndr), t::expect_value_receiver{5});
  ex::start(op);
  EXPECT_FALSE(ran);
  EXPECT_EQ(1u, ctx.pending());
  EXPECT_TRUE(ctx.run_one());
  EXPECT_TRUE(ran);
}

TEST(starts_on, passes_the_child_error_through) {
  t::manual_context ctx;
  auto op = ex::connect(ex::starts_on(ctx.get_scheduler(), int_sender::error(reset)),
                        t::expect_error_receiver{reset});
  ex::start(op);
  ctx.run();
}

TEST(starts_on, passes_the_child_stopped_through) {
  t::manual_context ctx;
  auto op =
      ex::connect(ex::starts_on(ctx.get_scheduler(), int_sender::stopped()), t::expect_stopped_receiver{});
  ex::start(op);
  ctx.run();
}

TEST(starts_on, stopped_schedule_does_not_start_the_child) {
  t::manual_context ctx;
  ex::inplace_stop_source source;
  t::stop_probe probe;
  auto op = ex::connect(ex::starts_on(ctx.get_scheduler(), t::stop_probe_sender{&probe}),
                        t::expect_stopped_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  source.request_stop();
  ctx.run();
  EXPECT_FALSE(probe.started);
}

TEST(starts_on, stop_request_reaches_the_child) {
  t::manual_context ctx;
  ex::inplace_stop_source source;
  t::pending_control leaf;
  auto op = ex::connect(ex::starts_on(ctx.get_scheduler(), leaf.sender()),
                        t::expect_stopped_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  EXPECT_FALSE(leaf.started());
  ctx.run();
  ASSERT_TRUE(leaf.started());
  EXPECT_FALSE(leaf.stop_requested());
  source.request_stop();
  EXPECT_TRUE(leaf.stop_requested());
  EXPECT_TRUE(leaf.stopped());
}

TEST(starts_on, child_sees_the_receivers_stop_token) {
  t::manual_context ctx;
  ex::inplace_stop_source source;
  t::stop_probe probe;
  auto op = ex::connect(ex::starts_on(ctx.get_scheduler(), t::stop_probe_sender{&probe}),
                        t::expect_void_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  ctx.run();
  EXPECT_TRUE(probe.started);
  EXPECT_TRUE(probe.stop_possible);
  EXPECT_FALSE(probe.stop_requested);
}

TEST(starts_on, child_environment_names_the_scheduler) {
  t::manual_context ctx;
  auto sndr = ex::starts_on(ctx.get_scheduler(), ex::read_env(ex::get_scheduler) | ex::then([&](auto sch) {
                                                   return sch == ctx.get_scheduler();
                                                 }));
  auto op = ex::connect(std::move(sndr), t::expect_value_receiver{true});
  ex::start(op);
  ctx.run();
}

TEST(starts_on, completion_signatures_add_those_of_the_schedule_sender) {
  t::manual_context ctx;
  using sndr = decltype(ex::starts_on(ctx.get_scheduler(), ex::just(1)));
  static_assert(t::sends_v<sndr, ex::set_value_t(int)>);
  static_assert(t::sends_v<sndr, ex::set_stopped_t()>);  // manual_scheduler's schedule may be stopped
  static_assert(!t::sends_v<sndr, ex::set_value_t()>);
}

TEST(starts_on, runs_the_child_on_a_run_loop_thread) {
  ex::run_loop loop;
  std::thread driver{[&] { loop.run(); }};
  auto const driver_id = driver.get_id();
  auto result = ex::sync_wait(
      ex::starts_on(loop.get_scheduler(), ex::just() | ex::then([] { return std::this_thread::get_id(); })));
  loop.finish();
  driver.join();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(driver_id, std::get<0>(*result));
  EXPECT_NE(std::this_thread::get_id(), std::get<0>(*result));
}

}  // namespace
