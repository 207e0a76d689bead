// SPDX-License-Identifier: BSL-1.0
// [exec.then]: upon_stopped.
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

TEST(upon_stopped, transforms_stopped_into_a_value) {
  t::start_inline(int_sender::stopped() | ex::upon_stopped([] { return -1; }), t::expect_value_receiver{-1});
}

TEST(upon_stopped, void_function_sends_no_value) {
  bool called = false;
  t::start_inline(ex::just_stopped() | ex::upon_stopped([&] { called = true; }), t::expect_void_receiver{});
  EXPECT_TRUE(called);
}

TEST(upon_stopped, passes_a_value_through_without_calling_the_function) {
  bool called = false;
  t::start_inline(int_sender::value(4) | ex::upon_stopped([&] {
                    called = true;
                    return 0;
                  }),
                  t::expect_value_receiver{4});
  EXPECT_FALSE(called);
}

TEST(upon_stopped, passes_an_error_through_without_calling_the_function) {
  bool called = false;
  t::start_inline(int_sender::error(reset) | ex::upon_stopped([&] {
                    called = true;
                    return 0;
                  }),
                  t::expect_error_receiver{reset});
  EXPECT_FALSE(called);
}

TEST(upon_stopped, exception_from_the_function_becomes_an_error) {
  t::start_inline(
      ex::just_stopped() | ex::upon_stopped([]() -> int { throw std::runtime_error{"upon_stopped"}; }),
      t::expect_exception_receiver<std::runtime_error>{"upon_stopped"});
}

TEST(upon_stopped, completion_signatures_replace_stopped_with_a_value) {
  using sndr = decltype(int_sender::value(0) | ex::upon_stopped([]() noexcept { return 'c'; }));
  static_assert(t::sends_exactly_v<sndr, t::empty_env, ex::set_value_t(int), ex::set_value_t(char),
                                   ex::set_error_t(std::error_code)>);
  using throwing = decltype(ex::just_stopped() | ex::upon_stopped([] { return 1; }));
  static_assert(t::sends_v<throwing, ex::set_error_t(std::exception_ptr)>);
  static_assert(!t::sends_v<throwing, ex::set_stopped_t()>);
}

}  // namespace
