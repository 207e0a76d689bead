// SPDX-License-Identifier: BSL-1.0
// [exec.stopped.opt]: stopped_as_optional.
#include <senet/execution.hpp>

#include <support/channel_sender.hpp>
#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <system_error>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

using int_sender = t::channel_sender<int>;
auto const reset = std::make_error_code(std::errc::connection_reset);

TEST(stopped_as_optional, value_becomes_an_engaged_optional) {
  t::start_inline(ex::stopped_as_optional(int_sender::value(4)),
                  t::expect_value_receiver{std::optional<int>{4}});
}

TEST(stopped_as_optional, stopped_becomes_an_empty_optional) {
  t::start_inline(ex::stopped_as_optional(int_sender::stopped()),
                  t::expect_value_receiver{std::optional<int>{}});
}

TEST(stopped_as_optional, passes_an_error_through) {
  t::start_inline(ex::stopped_as_optional(int_sender::error(reset)), t::expect_error_receiver{reset});
}

TEST(stopped_as_optional, completion_signatures_remove_stopped) {
  using sndr = decltype(ex::stopped_as_optional(int_sender::value(0)));
  static_assert(t::sends_v<sndr, ex::set_value_t(std::optional<int>)>);
  static_assert(t::sends_v<sndr, ex::set_error_t(std::error_code)>);
  static_assert(!t::sends_v<sndr, ex::set_stopped_t()>);
  static_assert(!t::sends_v<sndr, ex::set_value_t(int)>);
  using simple = decltype(ex::stopped_as_optional(ex::just(std::string{})));
  static_assert(t::sends_exactly_v<simple, t::empty_env, ex::set_value_t(std::optional<std::string>)>);
}

TEST(stopped_as_optional, pipes) {
  auto result = ex::sync_wait(int_sender::stopped() | ex::stopped_as_optional());
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(std::get<0>(*result).has_value());
}

int referenced = 1;

TEST(stopped_as_optional, decays_a_reference_value) {
  using sndr = decltype(ex::just() | ex::then([]() noexcept -> int& { return referenced; }) |
                        ex::stopped_as_optional());
  static_assert(t::sends_v<sndr, ex::set_value_t(std::optional<int>)>);
}

}  // namespace
