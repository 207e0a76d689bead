// SPDX-License-Identifier: BSL-1.0
// [exec.let]: let_value.
#include <senet/execution.hpp>

#include <support/channel_sender.hpp>
#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>
#include <support/pending_sender.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

using int_sender = t::channel_sender<int>;
auto const reset = std::make_error_code(std::errc::connection_reset);

TEST(let_value, completes_with_the_value_of_the_returned_sender) {
  t::start_inline(int_sender::value(21) | ex::let_value([](int x) { return ex::just(x * 2); }),
                  t::expect_value_receiver{42});
}

TEST(let_value, completes_with_the_error_of_the_returned_sender) {
  t::start_inline(ex::just(1) | ex::let_value([](int) { return ex::just_error(reset); }),
                  t::expect_error_receiver{reset});
}

TEST(let_value, completes_with_stopped_of_the_returned_sender) {
  t::start_inline(ex::just(1) | ex::let_value([](int) { return ex::just_stopped(); }),
                  t::expect_stopped_receiver{});
}

TEST(let_value, passes_an_error_through_without_calling_the_function) {
  bool called = false;
  t::start_inline(int_sender::error(reset) | ex::let_value([&](int x) {
                    called = true;
                    return ex::just(x);
                  }),
                  t::expect_error_receiver{reset});
  EXPECT_FALSE(called);
}

TEST(let_value, passes_stopped_through_without_calling_the_function) {
  bool called = false;
  t::start_inline(int_sender::stopped() | ex::let_value([&](int x) {
                    called = true;
                    return ex::just(x);
                  }),
                  t::expect_stopped_receiver{});
  EXPECT_FALSE(called);
}

TEST(let_value, exception_from_the_function_becomes_an_error) {
  auto fn = [](int) -> decltype(ex::just(0)) { throw std::runtime_error{"let_value threw"}; };
  t::start_inline(ex::just(1) | ex::let_value(fn),
                  t::expect_exception_receiver<std::runtime_error>{"let_value threw"});
}

TEST(let_value, values_live_in_the_operation_until_the_returned_sender_completes) {
  // The function gets lvalues that stay valid while the sender it returns runs.
  auto sndr = ex::just(std::string{"kept"}) |
              ex::let_value([](std::string& s) { return ex::just() | ex::then([&s] { return s + "!"; }); });
  t::start_inline(std::move(sndr), t::expect_value_receiver{std::string{"kept!"}});
}

TEST(let_value, function_may_modify_the_stored_values) {
  auto sndr = ex::just(1) | ex::let_value([](int& x) {
                ++x;
                return ex::just(&x);
              }) |
              ex::then([](int* p) { return *p; });
  // The pointer is only read while the let_value operation still exists (inside then).
  t::start_inline(std::move(sndr), t::expect_value_receiver{2});
}

TEST(let_value, completion_signatures_are_those_of_the_returned_sender) {
  using sndr =
      decltype(int_sender::value(0) | ex::let_value([](int) noexcept { return ex::just(1.5, 'c'); }));
  static_assert(t::sends_exactly_v<sndr, t::empty_env, ex::set_value_t(double, char),
                                   ex::set_error_t(std::error_code), ex::set_stopped_t()>);
  using simple = decltype(ex::just(1) | ex::let_value([](int) noexcept { return ex::just(1.0); }));
  static_assert(t::sends_exactly_v<simple, t::empty_env, ex::set_value_t(double)>);
  using throwing = decltype(ex::just(1) | ex::let_value([](int) { return ex::just(1.0); }));
  static_assert(t::sends_v<throwing, ex::set_error_t(std::exception_ptr)>);
  static_assert(t::sends_v<throwing, ex::set_value_t(double)>);
  static_assert(!t::sends_v<throwing, ex::set_value_t(int)>);
}

TEST(let_value, stop_request_reaches_the_returned_sender) {
  ex::inplace_stop_source source;
  t::pending_control leaf;
  auto sndr = ex::just() | ex::let_value([&] { return leaf.sender(); });
  auto op = ex::connect(std::move(sndr), t::expect_stopped_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  ASSERT_TRUE(leaf.started());
  EXPECT_FALSE(leaf.completed());
  source.request_stop();
  EXPECT_TRUE(leaf.stop_requested());
  EXPECT_TRUE(leaf.stopped());
}

TEST(let_value, returned_sender_completing_later_completes_the_operation) {
  t::pending_control leaf;
  auto op =
      ex::connect(ex::just(3) | ex::let_value([&](int) { return leaf.sender(); }), t::expect_void_receiver{});
  ex::start(op);
  ASSERT_TRUE(leaf.started());
  EXPECT_TRUE(leaf.complete());
}

TEST(let_value, move_only_values) {
  auto sndr = ex::just(std::make_unique<int>(6)) |
              ex::let_value([](std::unique_ptr<int>& p) { return ex::just(std::move(p)); });
  auto result = ex::sync_wait(std::move(sndr));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(6, *std::get<0>(*result));
}

// An environment with internal linkage (this anonymous namespace), and a sender whose connect
// deduces its return type and reads its receiver's environment. Computing let_value's completions
// asks whether connecting the returned sender may throw, which instantiates that connect for an
// archetype receiver with this environment: its members must be defined, or clang rejects the
// archetype's internal-linkage get_env as used but undefined (-Wundefined-internal, an error
// with -Werror).
struct internal_env {};

struct internal_env_receiver {
  using receiver_concept = ex::receiver_t;
  int* value;
  void set_value(int v) && noexcept { *value = v; }
  void set_error(std::exception_ptr) && noexcept { ADD_FAILURE() << "unexpected set_error"; }
  void set_stopped() && noexcept { ADD_FAILURE() << "unexpected set_stopped"; }
  [[nodiscard]] internal_env get_env() const noexcept { return {}; }
};

template <class Rcvr>
struct value_operation {
  Rcvr rcvr;
  int value;
  void start() & noexcept { ex::set_value(std::move(rcvr), value); }
};

// Completes with `value`; its connect looks at the receiver's environment.
struct env_reading_sender {
  using sender_concept = ex::sender_t;
  using completion_signatures = ex::completion_signatures<ex::set_value_t(int)>;
  int value;
  template <class Rcvr>
  auto connect(Rcvr rcvr) const noexcept {
    (void)ex::get_env(rcvr);
    return value_operation<Rcvr>{std::move(rcvr), value};
  }
};

TEST(let_value, returned_sender_connects_to_an_environment_of_internal_linkage) {
  int value = 0;
  t::start_inline(ex::just(2) | ex::let_value([](int x) noexcept { return env_reading_sender{x + 3}; }),
                  internal_env_receiver{&value});
  EXPECT_EQ(value, 5);
}

}  // namespace
