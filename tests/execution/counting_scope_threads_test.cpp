// SPDX-License-Identifier: BSL-1.0
// counting_scope's thread promise (include/senet/execution/counting_scope.hpp): "every member may be
// called concurrently". Threads spawn onto one scope (get_token, spawn) while another requests a
// stop and another runs the loop the work runs on; join then waits for every spawned operation.
#include <senet/execution/counting_scope.hpp>

#include <senet/execution.hpp>

#include <support/thread_harness.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
using senet::test::join_within;
using senet::test::race_budget;

TEST(counting_scope_threads, spawn_and_request_stop_from_several_threads_then_join) {
  constexpr int threads = 3;
  constexpr int per_thread = 200;
  race_budget budget(100, 600ms, senet::test::minimum_iterations);
  while (budget.next()) {
    ex::run_loop loop;
    std::thread driver([&] { loop.run(); });
    ex::counting_scope scope;
    std::atomic<int> ran{0};
    std::atomic<int> stopped{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> spawners;
    for (int t = 0; t < threads; ++t) {
      spawners.emplace_back([&] {
        while (!go.load()) {
          std::this_thread::yield();
        }
        for (int i = 0; i < per_thread; ++i) {
          auto token = scope.get_token();
          ex::spawn(token.wrap(ex::starts_on(loop.get_scheduler(), ex::just())) | ex::then([&]() noexcept {
                      ran.fetch_add(1);
                    }) | ex::upon_stopped([&]() noexcept { stopped.fetch_add(1); }),
                    token);
        }
      });
    }
    std::thread stopper([&] {
      while (!go.load()) {
        std::this_thread::yield();
      }
      std::this_thread::yield();
      scope.request_stop();
    });
    go.store(true);
    for (auto& s : spawners) {
      join_within(s, 30s, "a spawning thread");
    }
    join_within(stopper, 30s, "the stopping thread");
    // join waits for every spawned operation (the scope was open for all of them).
    ASSERT_TRUE(ex::sync_wait(scope.join()).has_value());
    EXPECT_EQ(ran.load() + stopped.load(), threads * per_thread);
    loop.finish();
    join_within(driver, 30s, "the loop's thread");
  }
  SENET_EXPECT_RACED(budget, "counting_scope rounds");
}

}  // namespace
