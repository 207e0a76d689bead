// SPDX-License-Identifier: BSL-1.0
// [exec.read.env]: read_env.
#include <senet/execution.hpp>

#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>
#include <support/manual_scheduler.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <type_traits>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

TEST(read_env, sends_the_stop_token_of_the_receiver) {
  ex::inplace_stop_source source;
  auto const token = source.get_token();
  t::start_inline(ex::read_env(ex::get_stop_token), t::expect_value_in(t::stop_token_env(token), token));
}

TEST(read_env, sends_never_stop_token_when_the_receiver_has_none) {
  static_assert(t::sends_exactly_v<decltype(ex::read_env(ex::get_stop_token)), t::empty_env,
                                   ex::set_value_t(ex::never_stop_token)>);
  t::start_inline(
      ex::read_env(ex::get_stop_token) | ex::then([](auto token) { return token.stop_possible(); }),
      t::expect_value_receiver{false});
}

TEST(read_env, sends_the_scheduler_of_the_receiver) {
  t::manual_context ctx;
  t::start_inline(
      ex::read_env(ex::get_scheduler) | ex::then([&](auto sch) { return sch == ctx.get_scheduler(); }),
      t::expect_value_in(t::scheduler_env(ctx.get_scheduler()), true));
}

template <class T>
struct tagged_allocator : std::allocator<T> {
  using value_type = T;
  int tag_ = 0;

  tagged_allocator() = default;
  explicit tagged_allocator(int tag) noexcept : tag_(tag) {}
  template <class U>
  tagged_allocator(tagged_allocator<U> const& other) noexcept : tag_(other.tag_) {}

  template <class U>
  struct rebind {
    using other = tagged_allocator<U>;
  };
};

TEST(read_env, sends_the_allocator_of_the_receiver) {
  auto env = t::make_env(t::allocator_entry(tagged_allocator<int>{7}));
  using sndr = decltype(ex::read_env(ex::get_allocator));
  static_assert(t::sends_exactly_v<sndr, decltype(env), ex::set_value_t(tagged_allocator<int>)>);
  t::start_inline(ex::read_env(ex::get_allocator) | ex::then([](auto alloc) { return alloc.tag_; }),
                  t::expect_value_in(env, 7));
}

TEST(read_env, completion_signatures_have_only_the_value) {
  using env = decltype(t::stop_token_env(ex::inplace_stop_token{}));
  static_assert(t::sends_exactly_v<decltype(ex::read_env(ex::get_stop_token)), env,
                                   ex::set_value_t(ex::inplace_stop_token)>);
}

TEST(read_env, reads_the_environment_that_sync_wait_provides) {
  // sync_wait's receiver names its run_loop's scheduler: work scheduled on it runs on this thread.
  auto result = ex::sync_wait(ex::read_env(ex::get_scheduler) |
                              ex::let_value([](auto sch) { return ex::starts_on(sch, ex::just(11)); }));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(11, std::get<0>(*result));
}

}  // namespace
