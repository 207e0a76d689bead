// SPDX-License-Identifier: BSL-1.0
// repeat_effect_until(sndr), repeat_effect_until(sndr, pred) and their pipe forms.
#include <senet/execution/repeat_effect_until.hpp>

#include <senet/execution.hpp>

#include <support/allocation_counter.hpp>
#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>
#include <support/manual_scheduler.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

auto const reset = std::make_error_code(std::errc::connection_reset);

TEST(repeat_effect_until, repeats_until_the_child_completes_with_true) {
  int steps = 0;
  auto r = ex::sync_wait(ex::repeat_effect_until(ex::just() | ex::then([&] { return ++steps == 5; })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(steps, 5);
}

TEST(repeat_effect_until, a_child_of_true_runs_once) {
  int steps = 0;
  auto op = ex::connect(ex::repeat_effect_until(ex::just() | ex::then([&] {
                                                  ++steps;
                                                  return true;
                                                })),
                        t::expect_void_receiver{});
  ex::start(op);
  EXPECT_EQ(steps, 1);
}

TEST(repeat_effect_until, predicate_form_ignores_the_values_and_asks_the_predicate) {
  int steps = 0;
  int asked = 0;
  auto r = ex::sync_wait(ex::repeat_effect_until(ex::just(std::size_t{7}) | ex::then([&](std::size_t n) {
                                                   ++steps;
                                                   return n;
                                                 }),
                                                 [&asked] { return ++asked == 3; }));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(steps, 3);
  EXPECT_EQ(asked, 3);
}

TEST(repeat_effect_until, the_predicate_keeps_its_state_across_steps) {
  int steps = 0;
  auto r = ex::sync_wait(ex::repeat_effect_until(ex::just() | ex::then([&] { ++steps; }),
                                                 [left = 4]() mutable { return --left == 0; }));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(steps, 4);
}

TEST(repeat_effect_until, pipe_forms) {
  int a = 0;
  int b = 0;
  auto r1 = ex::sync_wait(ex::just() | ex::then([&] { return ++a == 2; }) | ex::repeat_effect_until());
  auto r2 =
      ex::sync_wait(ex::just() | ex::then([&] { ++b; }) | ex::repeat_effect_until([&] { return b == 3; }));
  ASSERT_TRUE(r1.has_value());
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(a, 2);
  EXPECT_EQ(b, 3);
}

TEST(repeat_effect_until, an_error_ends_the_loop_with_that_error) {
  int steps = 0;
  auto child = ex::just() | ex::let_value([&] {
                 ++steps;
                 return ex::just_error(reset);
               });
  auto op = ex::connect(ex::repeat_effect_until(std::move(child), [] { return false; }),
                        t::expect_error_receiver{reset});
  ex::start(op);
  EXPECT_EQ(steps, 1);
}

TEST(repeat_effect_until, an_error_after_some_steps) {
  int steps = 0;
  auto child = ex::just() | ex::then([&] {
                 if (++steps == 3) {
                   throw std::runtime_error("third");
                 }
                 return false;
               });
  auto op = ex::connect(ex::repeat_effect_until(std::move(child)),
                        t::expect_exception_receiver<std::runtime_error>{std::string("third")});
  ex::start(op);
  EXPECT_EQ(steps, 3);
}

TEST(repeat_effect_until, a_throwing_predicate_is_an_exception_ptr_error) {
  auto op =
      ex::connect(ex::repeat_effect_until(ex::just(), []() -> bool { throw std::runtime_error("pred"); }),
                  t::expect_exception_receiver<std::runtime_error>{std::string("pred")});
  ex::start(op);
}

TEST(repeat_effect_until, a_stopped_step_ends_the_loop_with_set_stopped) {
  int steps = 0;
  auto child = ex::just() | ex::let_value([&] {
                 ++steps;
                 return ex::just_stopped();
               });
  auto op = ex::connect(ex::repeat_effect_until(std::move(child), [] { return false; }),
                        t::expect_stopped_receiver{});
  ex::start(op);
  EXPECT_EQ(steps, 1);
}

TEST(repeat_effect_until, a_stop_request_between_inline_steps_ends_the_loop) {
  ex::inplace_stop_source source;
  int steps = 0;
  auto child = ex::just() | ex::then([&] {
                 if (++steps == 10) {
                   source.request_stop();
                 }
                 return false;
               });
  auto op = ex::connect(ex::repeat_effect_until(std::move(child)),
                        t::expect_stopped_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  EXPECT_EQ(steps, 10);
}

// Steps that complete inside their own start() must not nest: the stack depth at the millionth
// step is the depth at the first.
TEST(repeat_effect_until, a_million_inline_steps_do_not_grow_the_stack) {
  int steps = 0;
  std::uintptr_t first = 0;
  std::uintptr_t last = 0;
  auto child = ex::just() | ex::then([&] {
                 int marker = 0;
                 auto here = reinterpret_cast<std::uintptr_t>(&marker);
                 if (steps == 0) {
                   first = here;
                 }
                 last = here;
                 return ++steps == 1'000'000;
               });
  auto op = ex::connect(ex::repeat_effect_until(std::move(child)), t::expect_void_receiver{});
  ex::start(op);
  EXPECT_EQ(steps, 1'000'000);
  EXPECT_EQ(first, last);
}

TEST(repeat_effect_until, steps_that_complete_later_continue_from_their_completion) {
  t::manual_context ctx;
  int steps = 0;
  auto child = ex::schedule(ctx.get_scheduler()) | ex::then([&] { return ++steps == 3; });
  auto op = ex::connect(ex::repeat_effect_until(std::move(child)), t::expect_void_receiver{});
  ex::start(op);
  EXPECT_EQ(steps, 0);
  EXPECT_EQ(ctx.pending(), 1U);
  EXPECT_TRUE(ctx.run_one());
  EXPECT_EQ(steps, 1);
  EXPECT_EQ(ctx.pending(), 1U) << "the completion started the next step";
  EXPECT_EQ(ctx.run(), 2U);
  EXPECT_EQ(steps, 3);
}

TEST(repeat_effect_until, steps_on_another_thread) {
  ex::run_loop loop;
  std::thread driver{[&] { loop.run(); }};
  int steps = 0;
  std::thread::id ran_on{};
  auto r = ex::sync_wait(ex::repeat_effect_until(ex::schedule(loop.get_scheduler()) | ex::then([&] {
                                                   ran_on = std::this_thread::get_id();
                                                   return ++steps == 1000;
                                                 })));
  loop.finish();
  driver.join();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(steps, 1000);
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST(repeat_effect_until, allocates_nothing) {
  int steps = 0;
  auto child = ex::just() | ex::then([&] { return ++steps == 100; });
  t::allocation_scope scope;
  {
    auto op = ex::connect(ex::repeat_effect_until(std::move(child)), t::expect_void_receiver{});
    ex::start(op);
  }
  auto const n = scope.count();
  EXPECT_EQ(n, 0U);
  EXPECT_EQ(steps, 100);
}

TEST(repeat_effect_until, completion_signatures) {
  using sndr = decltype(ex::repeat_effect_until(ex::just(true)));
  static_assert(t::sends_v<sndr, ex::set_value_t()>);
  static_assert(t::sends_v<sndr, ex::set_stopped_t()>);
  static_assert(!t::sends_v<sndr, ex::set_value_t(bool)>);
  using with_error = decltype(ex::repeat_effect_until(ex::just_error(reset), [] { return true; }));
  static_assert(t::sends_v<with_error, ex::set_error_t(std::error_code)>);
  static_assert(t::sends_v<with_error, ex::set_value_t()>);
  SUCCEED();
}

}  // namespace
