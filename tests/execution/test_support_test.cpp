// SPDX-License-Identifier: BSL-1.0
// The test support itself: expect receivers must fail on what they do not expect, or the tests
// that use them could not fail.
#include <senet/execution.hpp>

#include <support/channel_sender.hpp>
#include <support/expect_receiver.hpp>
#include <support/manual_scheduler.hpp>
#include <support/pending_sender.hpp>
#include <support/stop_probe_sender.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <exception>
#include <stdexcept>
#include <system_error>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

using int_sender = t::channel_sender<int>;
auto const reset = std::make_error_code(std::errc::connection_reset);
auto const refused = std::make_error_code(std::errc::connection_refused);

TEST(expect_value_receiver, fails_on_a_different_value) {
  EXPECT_NONFATAL_FAILURE(t::start_inline(ex::just(1), t::expect_value_receiver{2}), "value #0");
}

TEST(expect_value_receiver, fails_on_different_value_types) {
  EXPECT_NONFATAL_FAILURE(t::start_inline(ex::just(1L), t::expect_value_receiver{1}),
                          "unexpected set_value(long)");
}

TEST(expect_value_receiver, fails_on_an_error) {
  EXPECT_NONFATAL_FAILURE(t::start_inline(int_sender::error(reset), t::expect_value_receiver{1}),
                          "set_error");
}

TEST(expect_value_receiver, fails_on_stopped) {
  EXPECT_NONFATAL_FAILURE(t::start_inline(int_sender::stopped(), t::expect_value_receiver{1}), "set_stopped");
}

TEST(expect_value_receiver, fails_when_never_completed) {
  t::pending_control never;
  EXPECT_NONFATAL_FAILURE(
      {
        auto op = ex::connect(never.sender(), t::expect_void_receiver{});
        ex::start(op);
      },
      "completed 0 times");
}

TEST(expect_value_receiver, fails_when_completed_twice) {
  EXPECT_NONFATAL_FAILURE(
      {
        auto rcvr = t::expect_value_receiver{3};
        ex::set_value(std::move(rcvr), 3);
        ex::set_value(std::move(rcvr), 3);
      },
      "completed more than once");
}

TEST(expect_void_receiver, fails_on_a_value) {
  EXPECT_NONFATAL_FAILURE(t::start_inline(ex::just(1), t::expect_void_receiver{}), "set_value(int)");
}

TEST(expect_error_receiver, fails_on_a_different_error) {
  EXPECT_NONFATAL_FAILURE(t::start_inline(int_sender::error(refused), t::expect_error_receiver{reset}),
                          "different std::error_code");
}

TEST(expect_error_receiver, fails_on_a_different_error_type) {
  EXPECT_NONFATAL_FAILURE(t::start_inline(ex::just_error(1), t::expect_error_receiver{reset}),
                          "set_error(int)");
}

TEST(expect_error_receiver, fails_on_a_value_or_stopped) {
  EXPECT_NONFATAL_FAILURE(t::start_inline(int_sender::value(1), t::expect_error_receiver{reset}),
                          "set_value(int)");
  EXPECT_NONFATAL_FAILURE(t::start_inline(int_sender::stopped(), t::expect_error_receiver{reset}),
                          "set_stopped");
}

TEST(expect_exception_receiver, fails_on_another_exception_or_message) {
  auto const logic = std::make_exception_ptr(std::logic_error{"logic"});
  EXPECT_NONFATAL_FAILURE(
      t::start_inline(ex::just_error(logic), t::expect_exception_receiver<std::runtime_error>{}),
      "std::logic_error");
  auto const runtime = std::make_exception_ptr(std::runtime_error{"one"});
  EXPECT_NONFATAL_FAILURE(
      t::start_inline(ex::just_error(runtime), t::expect_exception_receiver<std::runtime_error>{"two"}),
      "two");
}

TEST(expect_stopped_receiver, fails_on_a_value_or_error) {
  EXPECT_NONFATAL_FAILURE(t::start_inline(int_sender::value(1), t::expect_stopped_receiver{}),
                          "set_value(int)");
  EXPECT_NONFATAL_FAILURE(t::start_inline(int_sender::error(reset), t::expect_stopped_receiver{}),
                          "set_error");
}

TEST(expect_receivers, carry_their_environment) {
  ex::inplace_stop_source source;
  auto rcvr = t::expect_void_in(t::stop_token_env(source.get_token()));
  EXPECT_TRUE(ex::get_stop_token(ex::get_env(rcvr)) == source.get_token());
  ex::set_value(std::move(rcvr));
}

TEST(pending_sender, completes_with_a_value_when_told) {
  t::pending_control control;
  auto op = ex::connect(control.sender(), t::expect_void_receiver{});
  EXPECT_FALSE(control.started());
  EXPECT_FALSE(control.complete());
  ex::start(op);
  EXPECT_TRUE(control.started());
  EXPECT_FALSE(control.completed());
  EXPECT_TRUE(control.complete());
  EXPECT_TRUE(control.completed());
  EXPECT_FALSE(control.stopped());
  EXPECT_FALSE(control.complete());
}

TEST(pending_sender, completes_stopped_on_a_stop_request) {
  ex::inplace_stop_source source;
  t::pending_control control;
  auto op = ex::connect(control.sender(), t::expect_stopped_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  source.request_stop();
  EXPECT_TRUE(control.stop_requested());
  EXPECT_TRUE(control.stopped());
  EXPECT_FALSE(control.complete());
}

TEST(pending_sender, completes_stopped_when_started_after_a_stop_request) {
  ex::inplace_stop_source source;
  source.request_stop();
  t::pending_control control;
  auto op = ex::connect(control.sender(), t::expect_stopped_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  EXPECT_TRUE(control.stopped());
}

TEST(manual_scheduler, runs_in_fifo_order) {
  t::manual_context ctx;
  int order = 0;
  int first = 0;
  int second = 0;
  auto op1 = ex::connect(ex::schedule(ctx.get_scheduler()) | ex::then([&] { first = ++order; }),
                         t::expect_void_receiver{});
  auto op2 = ex::connect(ex::schedule(ctx.get_scheduler()) | ex::then([&] { second = ++order; }),
                         t::expect_void_receiver{});
  ex::start(op1);
  ex::start(op2);
  EXPECT_EQ(2u, ctx.pending());
  EXPECT_EQ(2u, ctx.run());
  EXPECT_EQ(1, first);
  EXPECT_EQ(2, second);
  EXPECT_FALSE(ctx.run_one());
}

TEST(stop_probe_sender, records_the_stop_token) {
  ex::inplace_stop_source source;
  t::stop_probe probe;
  t::start_inline(t::stop_probe_sender{&probe}, t::expect_void_in(t::stop_token_env(source.get_token())));
  EXPECT_TRUE(probe.started);
  EXPECT_TRUE(probe.stop_possible);
  EXPECT_FALSE(probe.stop_requested);
  source.request_stop();
  t::start_inline(t::stop_probe_sender{&probe}, t::expect_stopped_in(t::stop_token_env(source.get_token())));
  EXPECT_TRUE(probe.stop_requested);
}

TEST(test_support, models_the_concepts) {
  using env = decltype(t::stop_token_env(ex::inplace_stop_token{}));
  static_assert(ex::receiver<t::expect_void_receiver<>>);
  static_assert(ex::receiver<t::expect_value_receiver<int>>);
  static_assert(ex::receiver<t::expect_error_receiver<std::error_code, env>>);
  static_assert(ex::receiver<t::expect_stopped_receiver<>>);
  static_assert(
      ex::receiver_of<t::expect_value_receiver<int>,
                      ex::completion_signatures<ex::set_value_t(int), ex::set_error_t(std::error_code),
                                                ex::set_stopped_t()>>);
  static_assert(ex::sender<int_sender>);
  static_assert(ex::sender_in<int_sender, t::empty_env>);
  static_assert(ex::sender_in<t::pending_sender, env>);
  static_assert(ex::sender_in<t::stop_probe_sender, env>);
  static_assert(ex::operation_state<ex::connect_result_t<int_sender, t::expect_value_receiver<int>>>);
  static_assert(ex::operation_state<ex::connect_result_t<t::pending_sender, t::expect_void_receiver<env>>>);
  static_assert(ex::scheduler<t::manual_scheduler>);
}

}  // namespace
