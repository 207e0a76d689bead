// SPDX-License-Identifier: BSL-1.0
// repeat_effect(sndr) and sndr | repeat_effect().
#include <senet/execution/repeat_effect.hpp>

#include <senet/execution.hpp>

#include <support/allocation_counter.hpp>
#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>
#include <support/manual_scheduler.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

auto const reset = std::make_error_code(std::errc::connection_reset);

TEST(repeat_effect, repeats_until_a_step_fails) {
  int steps = 0;
  auto child = ex::just() | ex::then([&] {
                 if (++steps == 4) {
                   throw std::runtime_error("fourth");
                 }
               });
  auto op = ex::connect(ex::repeat_effect(std::move(child)),
                        t::expect_exception_receiver<std::runtime_error>{std::string("fourth")});
  ex::start(op);
  EXPECT_EQ(steps, 4);
}

TEST(repeat_effect, an_error_code_ends_the_loop) {
  auto op = ex::connect(ex::just_error(reset) | ex::repeat_effect(), t::expect_error_receiver{reset});
  ex::start(op);
}

TEST(repeat_effect, a_stop_request_ends_the_loop) {
  ex::inplace_stop_source source;
  int steps = 0;
  auto child = ex::just(1) | ex::then([&](int) {
                 if (++steps == 7) {
                   source.request_stop();
                 }
               });
  auto op = ex::connect(ex::repeat_effect(std::move(child)),
                        t::expect_stopped_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  EXPECT_EQ(steps, 7);
}

TEST(repeat_effect, steps_that_complete_later_continue_until_stopped) {
  t::manual_context ctx;
  ex::inplace_stop_source source;
  int steps = 0;
  auto child = ex::schedule(ctx.get_scheduler()) | ex::then([&] { ++steps; });
  auto op = ex::connect(ex::repeat_effect(std::move(child)),
                        t::expect_stopped_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(ctx.run_one());
  }
  EXPECT_EQ(steps, 5);
  source.request_stop();
  EXPECT_TRUE(ctx.run_one());  // the pending schedule completes with set_stopped
  EXPECT_EQ(steps, 5);
  EXPECT_EQ(ctx.pending(), 0U);
}

TEST(repeat_effect, inline_steps_do_not_grow_the_stack_and_allocate_nothing) {
  ex::inplace_stop_source source;
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
                 if (++steps == 100'000) {
                   source.request_stop();
                 }
               });
  t::allocation_scope scope;
  {
    auto op = ex::connect(ex::repeat_effect(std::move(child)),
                          t::expect_stopped_in(t::stop_token_env(source.get_token())));
    ex::start(op);
  }
  auto const n = scope.count();
  EXPECT_EQ(n, 0U);
  EXPECT_EQ(steps, 100'000);
  EXPECT_EQ(first, last);
}

TEST(repeat_effect, completion_signatures_have_no_value) {
  using sndr = decltype(ex::repeat_effect(ex::just()));
  static_assert(!t::sends_v<sndr, ex::set_value_t()>);
  static_assert(t::sends_v<sndr, ex::set_stopped_t()>);
  using with_error = decltype(ex::repeat_effect(ex::just_error(reset)));
  static_assert(t::sends_v<with_error, ex::set_error_t(std::error_code)>);
  SUCCEED();
}

}  // namespace
