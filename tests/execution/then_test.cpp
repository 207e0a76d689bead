// SPDX-License-Identifier: BSL-1.0
// [exec.then]: then.
#include <senet/execution.hpp>

#include <support/channel_sender.hpp>
#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>

#include <gtest/gtest.h>

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <variant>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

using int_sender = t::channel_sender<int>;
auto const reset = std::make_error_code(std::errc::connection_reset);

TEST(then, transforms_the_value) {
  t::start_inline(int_sender::value(20) | ex::then([](int x) { return x + 1; }),
                  t::expect_value_receiver{21});
}

TEST(then, receives_all_values) {
  t::start_inline(
      ex::just(2, std::string{"ab"}) | ex::then([](int n, std::string s) { return s.size() * n; }),
      t::expect_value_receiver{std::size_t{4}});
}

TEST(then, void_function_sends_no_value) {
  int seen = 0;
  t::start_inline(ex::just(3) | ex::then([&](int x) { seen = x; }), t::expect_void_receiver{});
  EXPECT_EQ(3, seen);
}

TEST(then, passes_an_error_through_without_calling_the_function) {
  bool called = false;
  t::start_inline(int_sender::error(reset) | ex::then([&](int x) {
                    called = true;
                    return x;
                  }),
                  t::expect_error_receiver{reset});
  EXPECT_FALSE(called);
}

TEST(then, passes_stopped_through_without_calling_the_function) {
  bool called = false;
  t::start_inline(int_sender::stopped() | ex::then([&](int x) {
                    called = true;
                    return x;
                  }),
                  t::expect_stopped_receiver{});
  EXPECT_FALSE(called);
}

TEST(then, exception_from_the_function_becomes_an_error) {
  t::start_inline(ex::just(1) | ex::then([](int) -> int { throw std::runtime_error{"then threw"}; }),
                  t::expect_exception_receiver<std::runtime_error>{"then threw"});
}

TEST(then, completion_signatures_replace_the_value_types) {
  auto noexcept_fn = [](int) noexcept { return 1.5; };
  using sndr = decltype(int_sender::value(0) | ex::then(noexcept_fn));
  static_assert(t::sends_exactly_v<sndr, t::empty_env, ex::set_value_t(double),
                                   ex::set_error_t(std::error_code), ex::set_stopped_t()>);

  using void_sndr = decltype(ex::just(1) | ex::then([](int) noexcept {}));
  static_assert(t::sends_exactly_v<void_sndr, t::empty_env, ex::set_value_t()>);
}

TEST(then, potentially_throwing_function_adds_exception_ptr) {
  using throwing = decltype(ex::just(1) | ex::then([](int x) { return x; }));
  static_assert(t::sends_v<throwing, ex::set_error_t(std::exception_ptr)>);
  static_assert(t::sends_v<throwing, ex::set_value_t(int)>);
  using nothrow = decltype(ex::just(1) | ex::then([](int x) noexcept { return x; }));
  static_assert(!t::sends_v<nothrow, ex::set_error_t(std::exception_ptr)>);
}

int global_value = 0;

TEST(then, reference_result_is_sent_as_a_reference) {
  using sndr = decltype(ex::just() | ex::then([]() noexcept -> int& { return global_value; }));
  static_assert(t::sends_exactly_v<sndr, t::empty_env, ex::set_value_t(int&)>);
  auto result = ex::sync_wait(ex::just() | ex::then([]() noexcept -> int* { return &global_value; }));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(&global_value, std::get<0>(*result));
}

TEST(then, lvalue_sender_copies_its_function_for_each_connect) {
  int calls = 0;
  auto sndr = ex::just(1) | ex::then([&calls](int x) { return x + ++calls; });
  t::start_inline(sndr, t::expect_value_receiver{2});
  t::start_inline(sndr, t::expect_value_receiver{3});
  EXPECT_EQ(2, calls);
}

TEST(then, chains) {
  auto sndr = ex::just(1) | ex::then([](int x) { return x * 10; }) |
              ex::then([](int x) { return std::to_string(x); });
  t::start_inline(std::move(sndr), t::expect_value_receiver{std::string{"10"}});
}

TEST(then, transforms_each_value_signature) {
  // when_any(just(1), just(2.5)) may complete with an int or a double.
  auto sndr =
      ex::when_any(ex::just(1), ex::just(2.5)) | ex::then([](auto x) noexcept { return double(x) * 2; });
  static_assert(t::sends_v<decltype(sndr), ex::set_value_t(double)>);
  static_assert(!t::sends_v<decltype(sndr), ex::set_value_t(int)>);
  using values = ex::value_types_of_t<decltype(sndr), t::empty_env, std::tuple, std::variant>;
  static_assert(std::is_same_v<values, std::variant<std::tuple<double>>>,
                "the two set_value_t(double) are one");
  auto result = ex::sync_wait(std::move(sndr));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(2.0, std::get<0>(*result));
}

TEST(then, move_only_values_and_results) {
  auto sndr = ex::just(std::make_unique<int>(4)) |
              ex::then([](std::unique_ptr<int> p) { return std::make_unique<int>(*p + 1); });
  auto result = ex::sync_wait(std::move(sndr));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(5, *std::get<0>(*result));
}

}  // namespace
