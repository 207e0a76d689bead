// SPDX-License-Identifier: BSL-1.0
// [exec.let]: let_stopped.
#include <senet/execution.hpp>

#include <support/channel_sender.hpp>
#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>

#include <gtest/gtest.h>

#include <exception>
#include <stdexcept>
#include <system_error>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

using int_sender = t::channel_sender<int>;
auto const reset = std::make_error_code(std::errc::connection_reset);

TEST(let_stopped, completes_with_the_value_of_the_returned_sender) {
  t::start_inline(int_sender::stopped() | ex::let_stopped([] { return ex::just(9); }),
                  t::expect_value_receiver{9});
}

TEST(let_stopped, completes_with_the_error_of_the_returned_sender) {
  t::start_inline(ex::just_stopped() | ex::let_stopped([] { return ex::just_error(reset); }),
                  t::expect_error_receiver{reset});
}

TEST(let_stopped, completes_with_stopped_of_the_returned_sender) {
  t::start_inline(ex::just_stopped() | ex::let_stopped([] { return ex::just_stopped(); }),
                  t::expect_stopped_receiver{});
}

TEST(let_stopped, passes_a_value_through_without_calling_the_function) {
  bool called = false;
  t::start_inline(int_sender::value(6) | ex::let_stopped([&] {
                    called = true;
                    return ex::just(0);
                  }),
                  t::expect_value_receiver{6});
  EXPECT_FALSE(called);
}

TEST(let_stopped, passes_an_error_through_without_calling_the_function) {
  bool called = false;
  t::start_inline(int_sender::error(reset) | ex::let_stopped([&] {
                    called = true;
                    return ex::just(0);
                  }),
                  t::expect_error_receiver{reset});
  EXPECT_FALSE(called);
}

TEST(let_stopped, exception_from_the_function_becomes_an_error) {
  auto fn = []() -> decltype(ex::just(0)) { throw std::runtime_error{"let_stopped threw"}; };
  t::start_inline(int_sender::stopped() | ex::let_stopped(fn),
                  t::expect_exception_receiver<std::runtime_error>{"let_stopped threw"});
}

TEST(let_stopped, completion_signatures_replace_stopped) {
  using sndr = decltype(int_sender::value(0) | ex::let_stopped([]() noexcept { return ex::just(2); }));
  static_assert(
      t::sends_exactly_v<sndr, t::empty_env, ex::set_value_t(int), ex::set_error_t(std::error_code)>);
  using to_error =
      decltype(ex::just_stopped() | ex::let_stopped([]() noexcept { return ex::just_error(1.5); }));
  static_assert(t::sends_exactly_v<to_error, t::empty_env, ex::set_error_t(double)>);
}

}  // namespace
