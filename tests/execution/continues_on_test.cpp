// SPDX-License-Identifier: BSL-1.0
// [exec.continues.on]: continues_on.
#include <senet/execution.hpp>

#include <support/channel_sender.hpp>
#include <support/completion_scheduler.hpp>
#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>
#include <support/manual_scheduler.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <string>
#include <system_error>
#include <thread>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

using int_sender = t::channel_sender<int>;
auto const reset = std::make_error_code(std::errc::connection_reset);

TEST(continues_on, value_is_delivered_from_the_scheduler) {
  t::manual_context ctx;
  bool delivered = false;
  auto sndr =
      ex::continues_on(ex::just(std::string{"v"}), ctx.get_scheduler()) | ex::then([&](std::string s) {
        delivered = true;
        return s;
      });
  auto op = ex::connect(std::move(sndr), t::expect_value_receiver{std::string{"v"}});
  ex::start(op);
  EXPECT_FALSE(delivered);
  EXPECT_EQ(1u, ctx.pending());
  ctx.run();
  EXPECT_TRUE(delivered);
}

TEST(continues_on, error_is_delivered_from_the_scheduler) {
  t::manual_context ctx;
  bool delivered = false;
  auto sndr = ex::continues_on(int_sender::error(reset), ctx.get_scheduler()) |
              ex::let_error([&](std::error_code ec) {
                delivered = true;
                return ex::just_error(ec);
              });
  auto op = ex::connect(std::move(sndr), t::expect_error_receiver{reset});
  ex::start(op);
  EXPECT_FALSE(delivered);
  ctx.run();
  EXPECT_TRUE(delivered);
}

TEST(continues_on, stopped_is_delivered_from_the_scheduler) {
  t::manual_context ctx;
  auto op =
      ex::connect(ex::continues_on(int_sender::stopped(), ctx.get_scheduler()), t::expect_stopped_receiver{});
  ex::start(op);
  EXPECT_EQ(1u, ctx.pending());
  ctx.run();
}

TEST(continues_on, stop_request_while_waiting_for_the_scheduler_ends_stopped) {
  t::manual_context ctx;
  ex::inplace_stop_source source;
  auto op = ex::connect(ex::continues_on(ex::just(1), ctx.get_scheduler()),
                        t::expect_stopped_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  source.request_stop();
  ctx.run();
}

TEST(continues_on, completion_scheduler_is_the_target_scheduler) {
  t::manual_context ctx;
  auto sndr = ex::continues_on(ex::just(), ctx.get_scheduler());
  EXPECT_TRUE(t::completion_scheduler_of(ex::get_env(sndr)) == ctx.get_scheduler());
}

TEST(continues_on, completion_signatures_add_those_of_the_schedule_sender) {
  t::manual_context ctx;
  using sndr = decltype(ex::continues_on(ex::just(1), ctx.get_scheduler()));
  static_assert(t::sends_v<sndr, ex::set_value_t(int)>);
  static_assert(t::sends_v<sndr, ex::set_stopped_t()>);
  static_assert(!t::sends_v<sndr, ex::set_value_t()>);
  using passing = decltype(ex::continues_on(int_sender::value(0), ctx.get_scheduler()));
  static_assert(t::sends_v<passing, ex::set_error_t(std::error_code)>);
}

TEST(continues_on, moves_to_a_run_loop_thread) {
  ex::run_loop loop;
  std::thread driver{[&] { loop.run(); }};
  auto const driver_id = driver.get_id();
  auto result = ex::sync_wait(ex::continues_on(ex::just(), loop.get_scheduler()) |
                              ex::then([] { return std::this_thread::get_id(); }));
  loop.finish();
  driver.join();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(driver_id, std::get<0>(*result));
}

TEST(continues_on, pipes) {
  t::manual_context ctx;
  auto op =
      ex::connect(ex::just(2) | ex::continues_on(ctx.get_scheduler()) | ex::then([](int x) { return x * 2; }),
                  t::expect_value_receiver{4});
  ex::start(op);
  ctx.run();
}

}  // namespace
