// SPDX-License-Identifier: BSL-1.0
// [exec.then]: upon_error.
#include <senet/execution.hpp>

#include <support/channel_sender.hpp>
#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>

#include <gtest/gtest.h>

#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

using int_sender = t::channel_sender<int>;
auto const reset = std::make_error_code(std::errc::connection_reset);

TEST(upon_error, transforms_the_error_into_a_value) {
  t::start_inline(int_sender::error(reset) | ex::upon_error([](std::error_code ec) { return ec.value(); }),
                  t::expect_value_receiver{reset.value()});
}

TEST(upon_error, receives_an_exception_ptr) {
  auto sndr = ex::just_error(std::make_exception_ptr(std::runtime_error{"x"})) |
              ex::upon_error([](std::exception_ptr e) {
                try {
                  std::rethrow_exception(e);
                } catch (std::runtime_error const& err) {
                  return std::string{err.what()};
                }
                return std::string{"not a runtime_error"};
              });
  t::start_inline(std::move(sndr), t::expect_value_receiver{std::string{"x"}});
}

TEST(upon_error, void_function_sends_no_value) {
  t::start_inline(ex::just_error(reset) | ex::upon_error([](std::error_code) {}), t::expect_void_receiver{});
}

TEST(upon_error, passes_a_value_through_without_calling_the_function) {
  bool called = false;
  t::start_inline(int_sender::value(5) | ex::upon_error([&](std::error_code) {
                    called = true;
                    return 0;
                  }),
                  t::expect_value_receiver{5});
  EXPECT_FALSE(called);
}

TEST(upon_error, passes_stopped_through_without_calling_the_function) {
  bool called = false;
  t::start_inline(int_sender::stopped() | ex::upon_error([&](std::error_code) {
                    called = true;
                    return 0;
                  }),
                  t::expect_stopped_receiver{});
  EXPECT_FALSE(called);
}

TEST(upon_error, exception_from_the_function_becomes_an_error) {
  t::start_inline(ex::just_error(reset) | ex::upon_error([](std::error_code) -> int {
                    throw std::runtime_error{"upon_error threw"};
                  }),
                  t::expect_exception_receiver<std::runtime_error>{"upon_error threw"});
}

TEST(upon_error, completion_signatures_replace_the_error_with_a_value) {
  using sndr = decltype(int_sender::value(0) | ex::upon_error([](std::error_code) noexcept { return 1.5; }));
  static_assert(t::sends_exactly_v<sndr, t::empty_env, ex::set_value_t(int), ex::set_value_t(double),
                                   ex::set_stopped_t()>);
  using throwing = decltype(ex::just_error(reset) | ex::upon_error([](std::error_code) { return 1; }));
  static_assert(t::sends_v<throwing, ex::set_value_t(int)>);
  static_assert(t::sends_v<throwing, ex::set_error_t(std::exception_ptr)>);
  static_assert(!t::sends_v<throwing, ex::set_error_t(std::error_code)>);
}

TEST(upon_error, without_errors_the_signatures_are_unchanged) {
  using sndr = decltype(ex::just(1) | ex::upon_error([](auto) noexcept { return 1.5; }));
  static_assert(t::sends_exactly_v<sndr, t::empty_env, ex::set_value_t(int)>);
}

}  // namespace
