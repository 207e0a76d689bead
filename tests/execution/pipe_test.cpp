// SPDX-License-Identifier: BSL-1.0
// [exec.adapt.obj]: pipe syntax and sender adaptor closures.
#include <senet/execution.hpp>

#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>
#include <support/manual_scheduler.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <system_error>
#include <type_traits>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

auto const reset = std::make_error_code(std::errc::connection_reset);

TEST(pipe, is_the_same_as_calling_the_adaptor) {
  auto add_one = [](int x) noexcept { return x + 1; };
  auto piped = ex::just(1) | ex::then(add_one);
  auto called = ex::then(ex::just(1), add_one);
  static_assert(std::is_same_v<decltype(piped), decltype(called)>);
  t::start_inline(std::move(piped), t::expect_value_receiver{2});
}

TEST(pipe, chains_left_to_right) {
  auto sndr = ex::just(2) | ex::then([](int x) { return x * 10; }) |
              ex::let_value([](int x) { return ex::just(std::to_string(x)); }) |
              ex::then([](std::string s) { return s + "!"; });
  t::start_inline(std::move(sndr), t::expect_value_receiver{std::string{"20!"}});
}

TEST(pipe, closures_compose_into_a_closure) {
  auto closure = ex::then([](int x) { return x + 1; }) | ex::then([](int x) { return x * 2; });
  t::start_inline(ex::just(3) | closure, t::expect_value_receiver{8});
  t::start_inline(ex::just(0) | closure, t::expect_value_receiver{2});
}

TEST(pipe, composition_is_associative) {
  auto a = ex::then([](int x) { return x + 1; });
  auto b = ex::then([](int x) { return x * 3; });
  auto c = ex::then([](int x) { return x - 2; });
  t::start_inline(ex::just(1) | (a | b) | c, t::expect_value_receiver{4});
  t::start_inline(ex::just(1) | a | (b | c), t::expect_value_receiver{4});
  t::start_inline((a | b | c)(ex::just(1)), t::expect_value_receiver{4});
}

TEST(pipe, closure_applied_by_call) {
  auto closure = ex::then([](int x) { return x * 5; });
  t::start_inline(closure(ex::just(2)), t::expect_value_receiver{10});
}

TEST(pipe, error_and_stopped_adaptors) {
  auto recover =
      ex::upon_error([](std::error_code ec) { return ec.value(); }) | ex::upon_stopped([] { return -1; });
  t::start_inline(ex::just_error(reset) | ex::let_value([] { return ex::just(0); }) | recover,
                  t::expect_value_receiver{reset.value()});
  t::start_inline(ex::just_stopped() | ex::let_value([] { return ex::just(0); }) | recover,
                  t::expect_value_receiver{-1});
  auto retry = ex::let_error([](std::error_code) { return ex::just(7); }) |
               ex::let_stopped([] { return ex::just(8); });
  t::start_inline(ex::just_error(reset) | ex::let_value([] { return ex::just(0); }) | retry,
                  t::expect_value_receiver{7});
}

TEST(pipe, nullary_adaptors) {
  t::start_inline(
      ex::just(1) | ex::stopped_as_optional() | ex::then([](std::optional<int> o) { return o.value(); }),
      t::expect_value_receiver{1});
  auto sndr = ex::just(1) | ex::into_variant();
  static_assert(t::sends_v<decltype(sndr), ex::set_value_t(std::variant<std::tuple<int>>)>);
}

TEST(pipe, scheduler_adaptor_in_a_closure) {
  t::manual_context ctx;
  auto hop_and_double = ex::continues_on(ctx.get_scheduler()) | ex::then([](int x) { return x * 2; });
  auto op = ex::connect(ex::just(21) | hop_and_double, t::expect_value_receiver{42});
  ex::start(op);
  EXPECT_EQ(1u, ctx.pending());
  ctx.run();
}

}  // namespace
