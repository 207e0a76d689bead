// SPDX-License-Identifier: BSL-1.0
// when_any (stdexec's exec::when_any): the first completion wins, the others are stopped.
#include <senet/execution.hpp>

#include <support/channel_sender.hpp>
#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>
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

TEST(when_any, first_value_wins_and_the_losers_are_stopped) {
  t::pending_control loser;
  auto op = ex::connect(ex::when_any(loser.sender() | ex::then([] { return 1; }), int_sender::value(2)),
                        t::expect_value_receiver{2});
  ex::start(op);
  EXPECT_TRUE(loser.stop_requested());
  EXPECT_TRUE(loser.stopped());
}

TEST(when_any, later_winner_stops_the_pending_losers) {
  t::pending_control a;
  t::pending_control b;
  t::pending_control c;
  auto sndr = ex::when_any(a.sender() | ex::then([] { return 1; }), b.sender() | ex::then([] { return 2; }),
                           c.sender() | ex::then([] { return 3; }));
  auto op = ex::connect(std::move(sndr), t::expect_value_receiver{2});
  ex::start(op);
  ASSERT_TRUE(a.started() && b.started() && c.started());
  EXPECT_FALSE(a.stop_requested());
  EXPECT_TRUE(b.complete());
  EXPECT_TRUE(a.stopped());
  EXPECT_TRUE(c.stopped());
  EXPECT_FALSE(b.stop_requested());
}

TEST(when_any, first_error_wins_and_the_losers_are_stopped) {
  t::pending_control loser;
  auto op = ex::connect(ex::when_any(loser.sender() | ex::then([] { return 1; }), int_sender::error(reset)),
                        t::expect_error_receiver{reset});
  ex::start(op);
  EXPECT_TRUE(loser.stopped());
}

TEST(when_any, stopped_child_ends_it_stopped) {
  t::pending_control loser;
  auto op = ex::connect(ex::when_any(loser.sender() | ex::then([] { return 1; }), int_sender::stopped()),
                        t::expect_stopped_receiver{});
  ex::start(op);
  EXPECT_TRUE(loser.stopped());
}

TEST(when_any, outer_stop_request_stops_every_child) {
  ex::inplace_stop_source source;
  t::pending_control a;
  t::pending_control b;
  auto op = ex::connect(ex::when_any(a.sender(), b.sender()),
                        t::expect_stopped_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  EXPECT_FALSE(a.stop_requested());
  source.request_stop();
  EXPECT_TRUE(a.stopped());
  EXPECT_TRUE(b.stopped());
}

TEST(when_any, completion_signatures_unite_the_children) {
  using sndr = decltype(ex::when_any(ex::just(1), ex::just(2.5), ex::just_error(reset)));
  static_assert(t::sends_v<sndr, ex::set_value_t(int)>);
  static_assert(t::sends_v<sndr, ex::set_value_t(double)>);
  static_assert(t::sends_v<sndr, ex::set_error_t(std::error_code)>);
  static_assert(t::sends_v<sndr, ex::set_stopped_t()>);
}

TEST(when_any, single_child_on_each_channel) {
  t::start_inline(ex::when_any(int_sender::value(3)), t::expect_value_receiver{3});
  t::start_inline(ex::when_any(int_sender::error(reset)), t::expect_error_receiver{reset});
  t::start_inline(ex::when_any(int_sender::stopped()), t::expect_stopped_receiver{});
}

TEST(when_any, under_sync_wait) {
  t::pending_control never;
  auto result = ex::sync_wait(ex::when_any(never.sender() | ex::then([] { return 0; }), ex::just(7)));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(7, std::get<0>(*result));
  EXPECT_TRUE(never.stopped());
}

TEST(when_any, children_racing_on_different_threads) {
  ex::run_loop first;
  ex::run_loop second;
  std::thread first_driver{[&] { first.run(); }};
  std::thread second_driver{[&] { second.run(); }};
  for (int round = 0; round < 20; ++round) {
    auto result = ex::sync_wait(ex::when_any(ex::starts_on(first.get_scheduler(), ex::just(1)),
                                             ex::starts_on(second.get_scheduler(), ex::just(2))));
    ASSERT_TRUE(result.has_value());
    int const winner = std::get<0>(*result);
    EXPECT_TRUE(winner == 1 || winner == 2) << winner;
  }
  first.finish();
  second.finish();
  first_driver.join();
  second_driver.join();
}

TEST(when_any, winner_on_another_thread_stops_a_pending_loser) {
  ex::run_loop loop;
  std::thread driver{[&] { loop.run(); }};
  for (int round = 0; round < 20; ++round) {
    t::pending_control loser;
    auto result = ex::sync_wait(ex::when_any(loser.sender() | ex::then([] { return 0; }),
                                             ex::starts_on(loop.get_scheduler(), ex::just(round))));
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(round, std::get<0>(*result));
    EXPECT_TRUE(loser.stopped());
  }
  loop.finish();
  driver.join();
}

TEST(when_any, stop_requested_before_start_ends_stopped) {
  ex::inplace_stop_source source;
  source.request_stop();
  t::pending_control a;
  t::pending_control b;
  auto op = ex::connect(ex::when_any(a.sender(), b.sender()),
                        t::expect_stopped_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  EXPECT_TRUE(!a.started() || a.stopped());
  EXPECT_TRUE(!b.started() || b.stopped());
}

}  // namespace
