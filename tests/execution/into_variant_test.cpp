// SPDX-License-Identifier: BSL-1.0
// [exec.into.variant]: into_variant.
#include <senet/execution.hpp>

#include <support/channel_sender.hpp>
#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>

#include <gtest/gtest.h>

#include <string>
#include <system_error>
#include <tuple>
#include <variant>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

using pair_sender = t::channel_sender<int, std::string>;
using pair_variant = std::variant<std::tuple<int, std::string>>;
auto const reset = std::make_error_code(std::errc::connection_reset);

TEST(into_variant, values_become_a_variant_of_tuples) {
  t::start_inline(ex::into_variant(pair_sender::value(1, "a")),
                  t::expect_value_receiver{pair_variant{std::make_tuple(1, std::string{"a"})}});
}

TEST(into_variant, passes_an_error_through) {
  t::start_inline(ex::into_variant(pair_sender::error(reset)), t::expect_error_receiver{reset});
}

TEST(into_variant, passes_stopped_through) {
  t::start_inline(ex::into_variant(pair_sender::stopped()), t::expect_stopped_receiver{});
}

TEST(into_variant, completion_signatures_send_one_variant) {
  using sndr = decltype(ex::into_variant(pair_sender::value(0, "")));
  static_assert(t::sends_v<sndr, ex::set_value_t(pair_variant)>);
  static_assert(!t::sends_v<sndr, ex::set_value_t(int, std::string)>);
  static_assert(t::sends_v<sndr, ex::set_error_t(std::error_code)>);
  static_assert(t::sends_v<sndr, ex::set_stopped_t()>);
  using values = ex::value_types_of_t<sndr, t::empty_env, std::tuple, std::variant>;
  static_assert(std::is_same_v<values, std::variant<std::tuple<pair_variant>>>);
}

TEST(into_variant, several_value_signatures_become_alternatives) {
  // when_any of children with different value types has one value signature per child.
  auto sndr = ex::into_variant(ex::when_any(ex::just(5), ex::just(2.5)));
  using values = ex::value_types_of_t<decltype(sndr), t::empty_env, std::tuple, std::variant>;
  static_assert(std::variant_size_v<values> == 1);
  using variant = std::tuple_element_t<0, std::variant_alternative_t<0, values>>;
  static_assert(std::variant_size_v<variant> == 2);
  auto result = ex::sync_wait(std::move(sndr));
  ASSERT_TRUE(result.has_value());
  auto const& v = std::get<0>(*result);
  ASSERT_TRUE(std::holds_alternative<std::tuple<int>>(v));
  EXPECT_EQ(5, std::get<0>(std::get<std::tuple<int>>(v)));
}

TEST(into_variant, pipes) {
  auto result = ex::sync_wait(ex::just(3) | ex::into_variant());
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(std::variant<std::tuple<int>>{std::make_tuple(3)}, std::get<0>(*result));
}

TEST(into_variant, no_values_become_an_empty_tuple) {
  using sndr = decltype(ex::into_variant(ex::just()));
  static_assert(t::sends_v<sndr, ex::set_value_t(std::variant<std::tuple<>>)>);
  t::start_inline(ex::into_variant(ex::just()), t::expect_value_receiver{std::variant<std::tuple<>>{}});
}

int referenced = 1;

TEST(into_variant, decays_reference_values) {
  using sndr =
      decltype(ex::just() | ex::then([]() noexcept -> int& { return referenced; }) | ex::into_variant());
  static_assert(t::sends_v<sndr, ex::set_value_t(std::variant<std::tuple<int>>)>);
}

}  // namespace
