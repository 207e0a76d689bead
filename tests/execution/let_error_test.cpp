// SPDX-License-Identifier: BSL-1.0
// [exec.let]: let_error.
#include <senet/execution.hpp>

#include <support/channel_sender.hpp>
#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>
#include <support/pending_sender.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <exception>
#include <stdexcept>
#include <system_error>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

using int_sender = t::channel_sender<int>;
auto const reset = std::make_error_code(std::errc::connection_reset);
auto const refused = std::make_error_code(std::errc::connection_refused);

TEST(let_error, completes_with_the_value_of_the_returned_sender) {
  t::start_inline(
      int_sender::error(reset) | ex::let_error([](std::error_code ec) { return ex::just(ec.value()); }),
      t::expect_value_receiver{reset.value()});
}

TEST(let_error, completes_with_the_error_of_the_returned_sender) {
  t::start_inline(
      ex::just_error(reset) | ex::let_error([](std::error_code) { return ex::just_error(refused); }),
      t::expect_error_receiver{refused});
}

TEST(let_error, completes_with_stopped_of_the_returned_sender) {
  t::start_inline(ex::just_error(reset) | ex::let_error([](std::error_code) { return ex::just_stopped(); }),
                  t::expect_stopped_receiver{});
}

TEST(let_error, passes_a_value_through_without_calling_the_function) {
  bool called = false;
  t::start_inline(int_sender::value(8) | ex::let_error([&](std::error_code) {
                    called = true;
                    return ex::just(0);
                  }),
                  t::expect_value_receiver{8});
  EXPECT_FALSE(called);
}

TEST(let_error, passes_stopped_through_without_calling_the_function) {
  bool called = false;
  t::start_inline(int_sender::stopped() | ex::let_error([&](std::error_code) {
                    called = true;
                    return ex::just(0);
                  }),
                  t::expect_stopped_receiver{});
  EXPECT_FALSE(called);
}

TEST(let_error, exception_from_the_function_becomes_an_error) {
  auto fn = [](std::error_code) -> decltype(ex::just(0)) { throw std::runtime_error{"let_error threw"}; };
  t::start_inline(int_sender::error(reset) | ex::let_error(fn),
                  t::expect_exception_receiver<std::runtime_error>{"let_error threw"});
}

TEST(let_error, completion_signatures_replace_the_error) {
  using sndr =
      decltype(int_sender::value(0) | ex::let_error([](std::error_code) noexcept { return ex::just(1.5); }));
  static_assert(t::sends_exactly_v<sndr, t::empty_env, ex::set_value_t(int), ex::set_value_t(double),
                                   ex::set_stopped_t()>);
}

TEST(let_error, stop_request_reaches_the_returned_sender) {
  ex::inplace_stop_source source;
  t::pending_control leaf;
  auto sndr = ex::just_error(reset) | ex::let_error([&](std::error_code) { return leaf.sender(); });
  auto op = ex::connect(std::move(sndr), t::expect_stopped_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  ASSERT_TRUE(leaf.started());
  source.request_stop();
  EXPECT_TRUE(leaf.stopped());
}

}  // namespace
