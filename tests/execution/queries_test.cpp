// SPDX-License-Identifier: BSL-1.0
// [exec.queries]: get_env, get_stop_token, get_scheduler, get_completion_scheduler, get_allocator,
// forwarding_query, and the env_of_t / stop_token_of_t aliases.
#include <senet/execution.hpp>

#include <support/completion_scheduler.hpp>
#include <support/expect_receiver.hpp>
#include <support/inline_scheduler.hpp>
#include <support/manual_scheduler.hpp>
#include <support/pending_sender.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <type_traits>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

TEST(get_stop_token, answers_from_the_environment) {
  ex::inplace_stop_source source;
  auto env = t::stop_token_env(source.get_token());
  EXPECT_TRUE(ex::get_stop_token(env) == source.get_token());
  static_assert(std::is_same_v<ex::stop_token_of_t<decltype(env)>, ex::inplace_stop_token>);
}

TEST(get_stop_token, defaults_to_never_stop_token) {
  static_assert(std::is_same_v<decltype(ex::get_stop_token(t::empty_env{})), ex::never_stop_token>);
  static_assert(std::is_same_v<ex::stop_token_of_t<t::empty_env>, ex::never_stop_token>);
  EXPECT_FALSE(ex::get_stop_token(t::empty_env{}).stop_possible());
}

TEST(get_scheduler, answers_from_the_environment) {
  t::manual_context ctx;
  auto env = t::scheduler_env(ctx.get_scheduler());
  EXPECT_TRUE(ex::get_scheduler(env) == ctx.get_scheduler());
  static_assert(!std::is_invocable_v<ex::get_scheduler_t, t::empty_env const&>);
}

TEST(get_allocator, answers_from_the_environment) {
  auto env = t::make_env(t::allocator_entry(std::allocator<char>{}));
  static_assert(std::is_same_v<decltype(ex::get_allocator(env)), std::allocator<char>>);
  static_assert(!std::is_invocable_v<ex::get_allocator_t, t::empty_env const&>);
}

TEST(get_allocator, through_read_env) {
  auto env = t::make_env(t::allocator_entry(std::allocator<char>{}));
  t::start_inline(ex::read_env(ex::get_allocator), t::expect_value_in(env, std::allocator<char>{}));
}

TEST(get_completion_scheduler, of_the_schedule_sender_is_the_scheduler) {
  t::manual_context ctx;
  auto const sch = ctx.get_scheduler();
  EXPECT_TRUE(ex::get_completion_scheduler<ex::set_value_t>(ex::get_env(ex::schedule(sch))) == sch);
  ex::run_loop loop;
  EXPECT_TRUE(t::completion_scheduler_of(ex::get_env(ex::schedule(loop.get_scheduler()))) ==
              loop.get_scheduler());
  EXPECT_TRUE(t::completion_scheduler_of(ex::get_env(ex::schedule(t::inline_scheduler{}))) ==
              t::inline_scheduler{});
}

TEST(get_env, of_a_receiver_is_the_environment_it_carries) {
  ex::inplace_stop_source source;
  auto rcvr = t::expect_stopped_in(t::stop_token_env(source.get_token()));
  EXPECT_TRUE(ex::get_stop_token(ex::get_env(rcvr)) == source.get_token());
  ex::set_stopped(std::move(rcvr));
}

TEST(get_env, of_a_sender_without_attributes_is_an_empty_environment) {
  t::pending_control control;
  auto sndr = control.sender();
  using attrs = ex::env_of_t<decltype(sndr)>;
  static_assert(!std::is_invocable_v<ex::get_completion_scheduler_t<ex::set_value_t>, attrs const&>);
  static_assert(std::is_same_v<ex::stop_token_of_t<attrs>, ex::never_stop_token>);
}

TEST(forwarding_query, the_standard_queries_forward) {
  static_assert(ex::forwarding_query(ex::get_stop_token));
  static_assert(ex::forwarding_query(ex::get_scheduler));
  static_assert(ex::forwarding_query(ex::get_allocator));
  static_assert(ex::forwarding_query(ex::get_completion_scheduler<ex::set_value_t>));
}

TEST(queries, forwarding_queries_reach_a_leaf_through_adaptors) {
  ex::inplace_stop_source source;
  t::manual_context ctx;
  auto env = t::make_env(t::stop_token_entry(source.get_token()), t::scheduler_entry(ctx.get_scheduler()));
  auto read =
      ex::read_env(ex::get_stop_token) | ex::then([&](auto token) { return token == source.get_token(); });
  auto sndr =
      ex::just() | ex::let_value([&] { return std::move(read); }) | ex::then([](bool b) { return b; });
  t::start_inline(std::move(sndr), t::expect_value_in(env, true));
}

}  // namespace
