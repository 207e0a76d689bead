// SPDX-License-Identifier: BSL-1.0
// [exec.counting.scopes] of the bundled core: spawn allocates exactly its operation state, and
// nothing else of the scope allocates.
#include <senet/execution/counting_scope.hpp>

#include <senet/execution.hpp>

#include <support/allocation_counter.hpp>

#include <gtest/gtest.h>

namespace {

namespace ex = senet::execution;
namespace t = senet::test;

TEST(counting_scope, spawn_allocates_once_and_join_allocates_nothing) {
  ex::counting_scope scope;
  int runs = 0;
  auto work = [&] { return ex::just() | ex::then([&]() noexcept { ++runs; }); };
  ex::spawn(work(), scope.get_token());  // warm up whatever the first call initialises
  t::allocation_scope counter;
  for (int i = 0; i < 3; ++i) {
    ex::spawn(work(), scope.get_token());
  }
  auto const spawned = counter.count();
  auto const freed = counter.deallocations();
  ex::sync_wait(scope.join());
  auto const after_join = counter.count();
  EXPECT_EQ(3u, spawned);
  EXPECT_EQ(3u, freed);
  EXPECT_EQ(3u, after_join);
  EXPECT_EQ(4, runs);
}

struct flag_receiver {
  using receiver_concept = ex::receiver_tag;
  void set_value() && noexcept { *flag_ = true; }
  bool* flag_;
};

TEST(counting_scope, join_stays_pending_while_work_is_associated_and_allocates_nothing) {
  ex::counting_scope scope;
  ex::run_loop loop;
  ex::spawn(ex::schedule(loop.get_scheduler()), scope.get_token());
  t::allocation_scope counter;
  bool joined = false;
  {
    auto op = ex::connect(scope.join(), flag_receiver{&joined});
    ex::start(op);
    EXPECT_FALSE(joined);
    loop.finish();
    loop.run();
    EXPECT_TRUE(joined);
  }
  auto const n = counter.count();
  EXPECT_EQ(0u, n);
}

// A sender that completes with an int or with a double.
struct int_or_double_sender {
  using sender_concept = ex::sender_tag;
  using completion_signatures = ex::completion_signatures<ex::set_value_t(int), ex::set_value_t(double)>;

  template <class Rcvr>
  struct operation {
    void start() & noexcept { ex::set_value(std::move(rcvr_), 2.5); }
    Rcvr rcvr_;
  };
  template <class Rcvr>
  operation<Rcvr> connect(Rcvr rcvr) const noexcept {
    return {std::move(rcvr)};
  }
};

TEST(sync_wait_with_variant, returns_the_completion_that_happened_and_allocates_nothing) {
  (void)ex::sync_wait_with_variant(int_or_double_sender{});
  t::allocation_scope counter;
  auto result = ex::sync_wait_with_variant(int_or_double_sender{});
  auto const n = counter.count();
  EXPECT_EQ(0u, n);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(2.5, std::get<0>(std::get<std::tuple<double>>(*result)));
}

}  // namespace
