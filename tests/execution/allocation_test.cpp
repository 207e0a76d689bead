// SPDX-License-Identifier: BSL-1.0
// The execution algorithms allocate nothing: pipelines run under sync_wait without a single heap
// allocation (counted by the replaced operator new of the test support library).
#include <senet/execution.hpp>

#include <support/allocation_counter.hpp>
#include <support/channel_sender.hpp>
#include <support/expect_receiver.hpp>
#include <support/inline_scheduler.hpp>
#include <support/pending_sender.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <new>
#include <system_error>
#include <thread>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

auto const reset = std::make_error_code(std::errc::connection_reset);

// Makes `p` escape, so that the compiler cannot remove a new-expression together with its delete
// (which [expr.new] allows, and GCC and Clang do when optimising).
template <class T>
T* escape(T* p) {
  asm volatile("" : : "g"(p) : "memory");
  return p;
}

// The counter itself must see every form of allocation, or a zero below would prove nothing.
TEST(allocation_counter, counts_every_form_of_new) {
  struct alignas(64) overaligned {
    char bytes[64];
  };
  t::allocation_scope scope;
  delete escape(new int{1});
  delete[] escape(new int[3]);
  delete escape(new (std::nothrow) int{2});
  delete escape(new overaligned{});
  delete[] escape(new overaligned[2]);
  ::operator delete (escape(::operator new (16, std::align_val_t{32})), std::align_val_t{32});
  ::operator delete(escape(::operator new(8, std::nothrow)), std::nothrow);
  auto shared = std::make_shared<int>(3);
  shared.reset();
  auto const n = scope.count();
  auto const freed = scope.deallocations();
  EXPECT_EQ(8u, n);
  EXPECT_EQ(8u, freed);
  EXPECT_GE(scope.bytes(), 64u * 3);
}

TEST(allocation_counter, counts_nothing_without_allocations) {
  t::allocation_scope scope;
  int x = 0;
  for (int i = 0; i < 10; ++i) {
    x += i;
  }
  auto const n = scope.count();
  EXPECT_EQ(0u, n);
  EXPECT_EQ(45, x);
}

TEST(allocation_counter, counts_only_this_threads_allocations) {
  t::allocation_scope scope;
  std::unique_ptr<int> p;
  std::thread other{[&] { p = std::make_unique<int>(4); }};  // Creating the thread allocates here.
  auto const before_join = scope.count();
  other.join();
  EXPECT_EQ(before_join, scope.count());
}

TEST(allocation_counter, nested_scopes_both_count) {
  t::allocation_scope outer;
  delete escape(new int{1});
  {
    t::allocation_scope inner;
    delete escape(new int{2});
    auto const inner_count = inner.count();
    EXPECT_EQ(1u, inner_count);
  }
  auto const outer_count = outer.count();
  EXPECT_GE(outer_count, 2u);
}

// Runs `make()`'s sender under sync_wait once to warm up one-time lazy initialisation, then again
// inside an allocation scope, and returns how many allocations the second run made.
template <class MakeSender>
std::size_t allocations_of_sync_wait(MakeSender make) {
  (void)ex::sync_wait(make());
  t::allocation_scope scope;
  auto result = ex::sync_wait(make());
  auto const n = scope.count();
  EXPECT_TRUE(result.has_value());
  return n;
}

TEST(allocation, just_then_let_value_when_all_under_sync_wait_allocates_nothing) {
  auto make = [] {
    auto left = ex::just(20) | ex::then([](int x) noexcept { return x + 1; }) |
                ex::let_value([](int x) noexcept { return ex::just(x * 2); });
    auto right = ex::just(0.5) | ex::then([](double d) { return d * 4; });
    return ex::when_all(std::move(left), std::move(right));
  };
  EXPECT_EQ(0u, allocations_of_sync_wait(make));
  auto result = ex::sync_wait(make());
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(42, std::get<0>(*result));
  EXPECT_EQ(2.0, std::get<1>(*result));
}

TEST(allocation, error_and_stopped_adaptors_allocate_nothing) {
  auto make = [] {
    return t::channel_sender<int>::error(reset) | ex::let_error([](std::error_code ec) noexcept {
             return t::channel_sender<int>::value(ec.value());
           }) |
           ex::upon_error([](auto) noexcept { return 0; }) |
           ex::let_stopped([]() noexcept { return ex::just(-1); }) |
           ex::upon_stopped([]() noexcept { return -2; }) | ex::stopped_as_optional();
  };
  EXPECT_EQ(0u, allocations_of_sync_wait(make));
}

TEST(allocation, into_variant_when_any_and_scheduler_hops_allocate_nothing) {
  auto make = [] {
    return ex::read_env(ex::get_scheduler) | ex::let_value([](auto sch) noexcept {
             return ex::when_any(ex::starts_on(sch, ex::just(1)), ex::just(2) | ex::continues_on(sch)) |
                    ex::into_variant();
           });
  };
  EXPECT_EQ(0u, allocations_of_sync_wait(make));
}

TEST(allocation, stop_propagation_allocates_nothing) {
  // when_all stopping a sibling registers and runs stop callbacks; none of that may allocate.
  t::pending_control sibling;
  auto make = [&] {
    return ex::when_all(sibling.sender(), t::channel_sender<int>::error(reset)) |
           ex::let_error([](std::error_code) noexcept { return ex::just(0); });
  };
  EXPECT_EQ(0u, allocations_of_sync_wait(make));
  EXPECT_TRUE(sibling.stopped());
}

TEST(allocation, stop_callbacks_allocate_nothing) {
  t::allocation_scope scope;
  ex::inplace_stop_source source;
  int calls = 0;
  auto count = [&calls]() noexcept { ++calls; };
  ex::inplace_stop_callback<decltype(count)> a{source.get_token(), count};
  ex::inplace_stop_callback<decltype(count)> b{source.get_token(), count};
  source.request_stop();
  auto const n = scope.count();
  EXPECT_EQ(0u, n);
  EXPECT_EQ(2, calls);
}

TEST(allocation, connect_and_start_allocate_nothing) {
  t::allocation_scope scope;
  {
    auto op = ex::connect(ex::schedule(t::inline_scheduler{}) | ex::then([]() noexcept { return 1; }) |
                              ex::let_value([](int x) noexcept { return ex::just(x, 2); }),
                          t::expect_value_receiver{1, 2});
    ex::start(op);
  }
  auto const n = scope.count();
  EXPECT_EQ(0u, n);
}

}  // namespace
