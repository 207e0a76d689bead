// SPDX-License-Identifier: BSL-1.0
#include <senet/net/without_stop_token.hpp>

#include <senet/execution.hpp>
#include <support/expect_receiver.hpp>
#include <support/pending_sender.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <system_error>
#include <type_traits>

namespace {

namespace ex = senet::ex;
namespace net = senet::net;
namespace test = senet::test;

TEST(without_stop_token, passes_values_through) {
  auto [a, b] = ex::sync_wait(net::without_stop_token(ex::just(42, std::string("x")))).value();
  EXPECT_EQ(a, 42);
  EXPECT_EQ(b, "x");
  auto [c] =
      ex::sync_wait(ex::just(1) | net::without_stop_token | ex::then([](int v) { return v + 1; })).value();
  EXPECT_EQ(c, 2);
}

TEST(without_stop_token, passes_errors_through) {
  auto ec = std::make_error_code(std::errc::io_error);
  test::start_inline(net::without_stop_token(ex::just_error(ec)),
                     test::expect_error_in(test::empty_env{}, ec));
}

TEST(without_stop_token, passes_stopped_through) {
  test::start_inline(net::without_stop_token(ex::just_stopped()), test::expect_stopped_in(test::empty_env{}));
}

TEST(without_stop_token, child_sees_a_never_stop_token) {
  ex::inplace_stop_source source;
  auto env = test::make_env(test::stop_token_entry(source.get_token()));
  bool seen = false;
  auto sndr =
      ex::read_env(ex::get_stop_token) | net::without_stop_token | ex::then([&seen](auto token) noexcept {
        seen = true;
        static_assert(std::is_same_v<decltype(token), ex::never_stop_token>);
        EXPECT_FALSE(token.stop_possible());
      });
  test::start_inline(std::move(sndr), test::expect_void_in(env));
  EXPECT_TRUE(seen);
}

TEST(without_stop_token, stop_request_does_not_reach_the_child) {
  ex::inplace_stop_source source;
  auto env = test::make_env(test::stop_token_entry(source.get_token()));
  test::pending_control control;
  auto op = ex::connect(net::without_stop_token(control.sender()), test::expect_void_in(env));
  ex::start(op);
  ASSERT_TRUE(control.started());
  source.request_stop();
  EXPECT_FALSE(control.stop_requested());
  EXPECT_FALSE(control.completed());
  EXPECT_TRUE(control.complete());
}

TEST(without_stop_token, without_it_the_stop_request_does_reach_the_child) {
  // The control experiment for the test above.
  ex::inplace_stop_source source;
  auto env = test::make_env(test::stop_token_entry(source.get_token()));
  test::pending_control control;
  auto op = ex::connect(control.sender(), test::expect_stopped_in(env));
  ex::start(op);
  source.request_stop();
  EXPECT_TRUE(control.stop_requested());
  EXPECT_TRUE(control.stopped());
}

struct marker_query_t {};
struct marker_env {
  int query(marker_query_t) const noexcept { return 7; }
  ex::inplace_stop_token query(ex::get_stop_token_t) const noexcept { return token_; }
  ex::inplace_stop_token token_;
};

TEST(without_stop_token, other_queries_are_forwarded) {
  ex::inplace_stop_source source;
  using child_env = senet::net::detail::without_stop_token_env<marker_env>;
  child_env env{marker_env{source.get_token()}, ex::never_stop_token{}};
  EXPECT_EQ(env.query(marker_query_t{}), 7);
  static_assert(std::is_same_v<ex::stop_token_of_t<child_env>, ex::never_stop_token>);

  // And through a real connection: the scheduler of sync_wait's run_loop reaches the child.
  auto [sch] = ex::sync_wait(ex::read_env(ex::get_scheduler) | net::without_stop_token).value();
  auto [direct] = ex::sync_wait(ex::read_env(ex::get_scheduler)).value();
  static_assert(std::is_same_v<decltype(sch), decltype(direct)>);
}

TEST(without_stop_token, completion_signatures_are_the_childs) {
  using sndr_t = decltype(net::without_stop_token(ex::just(1)));
  static_assert(ex::sender<sndr_t>);
  static_assert(ex::sender_in<sndr_t, test::empty_env>);
}

}  // namespace
