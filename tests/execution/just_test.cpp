// SPDX-License-Identifier: BSL-1.0
// [exec.just]: just, just_error, just_stopped.
#include <senet/execution.hpp>

#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>

#include <gtest/gtest.h>

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <tuple>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

TEST(just, sends_no_value) {
  t::start_inline(ex::just(), t::expect_void_receiver{});
}

TEST(just, sends_its_values) {
  t::start_inline(ex::just(42, std::string{"x"}), t::expect_value_receiver{42, std::string{"x"}});
}

TEST(just, completion_signatures_are_the_decayed_values) {
  static_assert(ex::sender<decltype(ex::just())>);
  static_assert(t::sends_exactly_v<decltype(ex::just()), t::empty_env, ex::set_value_t()>);
  static_assert(t::sends_exactly_v<decltype(ex::just(1, 2.0)), t::empty_env, ex::set_value_t(int, double)>);
  std::string const s = "lvalue";
  static_assert(t::sends_exactly_v<decltype(ex::just(s)), t::empty_env, ex::set_value_t(std::string)>);
  static_assert(t::sends_exactly_v<decltype(ex::just_error(std::error_code{})), t::empty_env,
                                   ex::set_error_t(std::error_code)>);
  static_assert(t::sends_exactly_v<decltype(ex::just_stopped()), t::empty_env, ex::set_stopped_t()>);
}

TEST(just, lvalue_sender_can_be_connected_twice) {
  auto sndr = ex::just(7);
  t::start_inline(sndr, t::expect_value_receiver{7});
  t::start_inline(sndr, t::expect_value_receiver{7});
}

TEST(just, moves_a_move_only_value_out_of_an_rvalue_sender) {
  auto p = std::make_unique<int>(5);
  int* raw = p.get();
  auto result = ex::sync_wait(ex::just(std::move(p)));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(raw, std::get<0>(*result).get());
}

TEST(just_error, sends_its_error) {
  auto const ec = std::make_error_code(std::errc::connection_reset);
  t::start_inline(ex::just_error(ec), t::expect_error_receiver{ec});
}

TEST(just_error, sends_an_exception_ptr) {
  auto const eptr = std::make_exception_ptr(std::runtime_error{"boom"});
  t::start_inline(ex::just_error(eptr), t::expect_error_receiver{eptr});
  t::start_inline(ex::just_error(eptr), t::expect_exception_receiver<std::runtime_error>{"boom"});
}

TEST(just_stopped, sends_stopped) {
  t::start_inline(ex::just_stopped(), t::expect_stopped_receiver{});
}

}  // namespace
