// SPDX-License-Identifier: BSL-1.0
// [exec.when.all]: when_all.
#include <senet/execution.hpp>

#include <support/channel_sender.hpp>
#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>
#include <support/pending_sender.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <exception>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <type_traits>
#include <variant>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

using int_sender = t::channel_sender<int>;
auto const reset = std::make_error_code(std::errc::connection_reset);
auto const refused = std::make_error_code(std::errc::connection_refused);

TEST(when_all, sends_the_concatenation_of_the_values) {
  t::start_inline(ex::when_all(ex::just(1), ex::just(), ex::just(2.5, 'c')),
                  t::expect_value_receiver{1, 2.5, 'c'});
}

TEST(when_all, completion_signatures_concatenate_the_values) {
  using sndr = decltype(ex::when_all(ex::just(1), ex::just(), ex::just(2.5, std::string{})));
  using values = ex::value_types_of_t<sndr, t::empty_env, std::tuple, std::variant>;
  static_assert(std::is_same_v<values, std::variant<std::tuple<int, double, std::string>>>);
  static_assert(t::sends_v<sndr, ex::set_value_t(int, double, std::string)>);
}

TEST(when_all, completion_signatures_unite_the_errors) {
  using sndr = decltype(ex::when_all(int_sender::value(0), ex::just_error(1.5)));
  static_assert(t::sends_v<sndr, ex::set_error_t(std::error_code)>);
  static_assert(t::sends_v<sndr, ex::set_error_t(double)>);
  static_assert(t::sends_v<sndr, ex::set_stopped_t()>);
  using values = ex::value_types_of_t<sndr, t::empty_env, std::tuple, std::variant>;
  static_assert(std::is_same_v<values, std::variant<>>);
}

TEST(when_all, values_come_in_argument_order_whatever_the_completion_order) {
  t::pending_control first;
  t::pending_control second;
  auto sndr =
      ex::when_all(first.sender() | ex::then([] { return 1; }), second.sender() | ex::then([] { return 2; }));
  auto op = ex::connect(std::move(sndr), t::expect_value_receiver{1, 2});
  ex::start(op);
  ASSERT_TRUE(first.started());
  ASSERT_TRUE(second.started());
  EXPECT_TRUE(second.complete());
  EXPECT_FALSE(first.stop_requested());
  EXPECT_TRUE(first.complete());
}

TEST(when_all, error_stops_the_siblings_and_is_sent) {
  t::pending_control sibling;
  auto op =
      ex::connect(ex::when_all(sibling.sender(), int_sender::error(reset)), t::expect_error_receiver{reset});
  ex::start(op);
  EXPECT_TRUE(sibling.stop_requested());
  EXPECT_TRUE(sibling.stopped());
}

TEST(when_all, error_of_the_first_child_stops_children_started_after_it) {
  t::pending_control sibling;
  auto op =
      ex::connect(ex::when_all(int_sender::error(reset), sibling.sender()), t::expect_error_receiver{reset});
  ex::start(op);
  EXPECT_TRUE(sibling.stop_requested());
  EXPECT_TRUE(sibling.stopped());
}

TEST(when_all, error_that_comes_later_stops_the_siblings) {
  t::pending_control sibling;
  t::pending_control failing;
  auto sndr =
      ex::when_all(sibling.sender(), failing.sender() | ex::let_value([] { return ex::just_error(reset); }));
  auto op = ex::connect(std::move(sndr), t::expect_error_receiver{reset});
  ex::start(op);
  EXPECT_FALSE(sibling.stop_requested());
  EXPECT_TRUE(failing.complete());
  EXPECT_TRUE(sibling.stopped());
}

TEST(when_all, stopped_stops_the_siblings_and_is_sent) {
  t::pending_control sibling;
  auto op = ex::connect(ex::when_all(sibling.sender(), int_sender::stopped()), t::expect_stopped_receiver{});
  ex::start(op);
  EXPECT_TRUE(sibling.stop_requested());
  EXPECT_TRUE(sibling.stopped());
}

TEST(when_all, first_error_wins) {
  t::start_inline(ex::when_all(int_sender::error(reset), int_sender::error(refused)),
                  t::expect_error_receiver{reset});
}

TEST(when_all, error_wins_over_stopped) {
  t::start_inline(ex::when_all(int_sender::stopped(), int_sender::error(refused)),
                  t::expect_error_receiver{refused});
  t::start_inline(ex::when_all(int_sender::error(reset), int_sender::stopped()),
                  t::expect_error_receiver{reset});
}

TEST(when_all, outer_stop_request_reaches_every_child) {
  ex::inplace_stop_source source;
  t::pending_control a;
  t::pending_control b;
  auto op = ex::connect(ex::when_all(a.sender(), b.sender()),
                        t::expect_stopped_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  EXPECT_FALSE(a.stop_requested());
  source.request_stop();
  EXPECT_TRUE(a.stopped());
  EXPECT_TRUE(b.stopped());
}

TEST(when_all, children_see_a_stoppable_token_when_a_sibling_may_fail) {
  // when_all must be able to stop the siblings of a child that may fail, so it gives them its own
  // stop token even when the receiver's cannot be stopped.
  auto probe = ex::read_env(ex::get_stop_token) | ex::then([](auto token) { return token.stop_possible(); });
  t::start_inline(ex::when_all(std::move(probe), int_sender::value(0)), t::expect_value_receiver{true, 0});
}

TEST(when_all, single_child) {
  t::start_inline(ex::when_all(int_sender::value(3)), t::expect_value_receiver{3});
  t::start_inline(ex::when_all(int_sender::error(reset)), t::expect_error_receiver{reset});
  t::start_inline(ex::when_all(int_sender::stopped()), t::expect_stopped_receiver{});
}

TEST(when_all, under_sync_wait) {
  auto result = ex::sync_wait(ex::when_all(ex::just(1), ex::just(std::string{"two"})));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(std::make_tuple(1, std::string{"two"}), *result);
}

TEST(when_all, move_only_values) {
  auto result = ex::sync_wait(ex::when_all(ex::just(std::make_unique<int>(1)), ex::just(2)));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(1, *std::get<0>(*result));
  EXPECT_EQ(2, std::get<1>(*result));
}

TEST(when_all, lvalue_sender_can_be_connected_twice) {
  auto sndr = ex::when_all(ex::just(1), int_sender::value(2));
  t::start_inline(sndr, t::expect_value_receiver{1, 2});
  t::start_inline(sndr, t::expect_value_receiver{1, 2});
}

TEST(when_all, children_see_the_other_queries_of_the_receiver) {
  // when_all replaces the stop token in its children's environment, and forwards the rest.
  ex::inplace_stop_source source;
  int const marker = 5;
  auto env = t::make_env(t::stop_token_entry(source.get_token()),
                         t::env_entry<ex::get_allocator_t, std::allocator<int>>{});
  auto reads_allocator =
      ex::read_env(ex::get_allocator) | ex::then([](std::allocator<int>) { return marker; });
  auto reads_token =
      ex::read_env(ex::get_stop_token) | ex::then([](auto token) { return token.stop_possible(); });
  t::start_inline(ex::when_all(std::move(reads_allocator), std::move(reads_token), int_sender::value(0)),
                  t::expect_value_in(env, marker, true, 0));
}

// Two run_loops, each driven by its own thread for the lifetime of this object.
class two_loops {
 public:
  two_loops() : first_driver_([this] { first_.run(); }), second_driver_([this] { second_.run(); }) {}
  two_loops(two_loops const&) = delete;
  two_loops& operator=(two_loops const&) = delete;
  ~two_loops() {
    first_.finish();
    second_.finish();
    first_driver_.join();
    second_driver_.join();
  }

  auto first() { return first_.get_scheduler(); }
  auto second() { return second_.get_scheduler(); }

 private:
  ex::run_loop first_;
  ex::run_loop second_;
  std::thread first_driver_;
  std::thread second_driver_;
};

TEST(when_all, children_completing_on_different_threads) {
  two_loops loops;
  for (int round = 0; round < 20; ++round) {
    auto result = ex::sync_wait(ex::when_all(ex::starts_on(loops.first(), ex::just(round)),
                                             ex::starts_on(loops.second(), ex::just(std::string{"b"}))));
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(std::make_tuple(round, std::string{"b"}), *result);
  }
}

TEST(when_all, error_on_one_thread_stops_a_child_on_another) {
  two_loops loops;
  for (int round = 0; round < 20; ++round) {
    t::pending_control sibling;
    auto sndr = ex::when_all(ex::starts_on(loops.first(), sibling.sender()),
                             ex::starts_on(loops.second(), int_sender::error(reset)));
    try {
      ex::sync_wait(std::move(sndr));
      ADD_FAILURE() << "when_all did not fail";
    } catch (std::system_error const& e) {
      EXPECT_EQ(reset, e.code());
    }
    // The sibling was stopped, before or after it started on its thread.
    EXPECT_TRUE(!sibling.started() || sibling.stopped());
  }
}

TEST(when_all, outer_stop_request_from_another_thread) {
  ex::inplace_stop_source source;
  t::pending_control a;
  t::pending_control b;
  {
    auto op = ex::connect(ex::when_all(a.sender(), b.sender()),
                          t::expect_stopped_in(t::stop_token_env(source.get_token())));
    ex::start(op);
    std::thread requester{[&] { source.request_stop(); }};
    requester.join();
  }
  EXPECT_TRUE(a.stopped());
  EXPECT_TRUE(b.stopped());
}

TEST(when_all, stop_requested_before_start_stops_every_child) {
  ex::inplace_stop_source source;
  source.request_stop();
  t::pending_control a;
  t::pending_control b;
  auto op = ex::connect(ex::when_all(a.sender(), b.sender()),
                        t::expect_stopped_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  EXPECT_TRUE(!a.started() || a.stopped());
  EXPECT_TRUE(!b.started() || b.stopped());
}

}  // namespace
