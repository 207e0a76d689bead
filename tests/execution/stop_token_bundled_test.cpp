// SPDX-License-Identifier: BSL-1.0
// [stopsource.inplace] of the bundled core under concurrency (run it under ThreadSanitizer too):
// callbacks registered, run and deregistered from several threads at once; reentrancy.
#include <senet/execution/stop_token.hpp>

#include <support/deadline.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

namespace {

namespace ex = senet::execution;

struct callback_fn {
  void operator()() noexcept { fn_(); }
  std::function<void()> fn_;
};
using callback = ex::inplace_stop_callback<callback_fn>;

TEST(inplace_stop_callback, concurrent_registration_and_deregistration_race_a_request) {
  for (int round = 0; round < 20; ++round) {
    ex::inplace_stop_source source;
    std::atomic<int> ran{0};
    std::atomic<int> registered{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        while (!go.load()) {
        }
        // Keep registering until some time after the stop request.
        int after_stop = 0;
        while (after_stop < 20) {
          after_stop += source.stop_requested() ? 1 : 0;
          std::atomic<bool> mine{false};
          {
            callback cb(source.get_token(), callback_fn{[&] {
                          // Runs at most once, and never after its callback object is gone.
                          EXPECT_FALSE(mine.exchange(true));
                          ran.fetch_add(1);
                        }});
            registered.fetch_add(1);
          }
        }
      });
    }
    go.store(true);
    senet::test::spin_until([&] { return registered.load() >= 50; }, "50 registrations");
    EXPECT_TRUE(source.request_stop());
    for (auto& t : threads) {
      t.join();
    }
    // At least every callback registered after the request ran (at once, in its constructor).
    EXPECT_GE(ran.load(), 4 * 19);
    EXPECT_FALSE(source.request_stop());
  }
}

TEST(inplace_stop_callback, deregistration_on_another_thread_waits_for_the_running_callback_every_time) {
  for (int round = 0; round < 20; ++round) {
    ex::inplace_stop_source source;
    std::atomic<bool> entered{false};
    std::atomic<bool> finished{false};
    std::optional<callback> cb;
    cb.emplace(source.get_token(), callback_fn{[&] {
                 entered.store(true);
                 for (int i = 0; i < 20; ++i) {
                   std::this_thread::yield();
                 }
                 finished.store(true);
               }});
    std::thread requester{[&] { source.request_stop(); }};
    senet::test::spin_until([&] { return entered.load(); }, "the callback starting");
    cb.reset();  // must wait until the callback has returned
    EXPECT_TRUE(finished.load());
    requester.join();
  }
}

TEST(inplace_stop_callback, a_callback_may_deregister_a_later_callback) {
  ex::inplace_stop_source source;
  bool second_ran = false;
  std::optional<callback> second;
  // Callbacks run in the reverse order of registration: the first registered runs last.
  second.emplace(source.get_token(), callback_fn{[&] { second_ran = true; }});
  callback first(source.get_token(), callback_fn{[&] { second.reset(); }});
  source.request_stop();
  EXPECT_FALSE(second_ran);
  EXPECT_FALSE(second.has_value());
}

TEST(inplace_stop_callback, a_callback_may_request_stop_again_and_register_another) {
  ex::inplace_stop_source source;
  bool nested_ran = false;
  bool again = true;
  std::optional<callback> nested;
  callback cb(source.get_token(), callback_fn{[&] {
                again = source.request_stop();
                // Registration after the request runs the callback at once, without deadlocking.
                nested.emplace(source.get_token(), callback_fn{[&] { nested_ran = true; }});
              }});
  EXPECT_TRUE(source.request_stop());
  EXPECT_FALSE(again);
  EXPECT_TRUE(nested_ran);
}

TEST(inplace_stop_callback, many_callbacks_deregister_in_any_order) {
  ex::inplace_stop_source source;
  int ran = 0;
  std::vector<std::optional<callback>> cbs(16);
  for (auto& cb : cbs) {
    cb.emplace(source.get_token(), callback_fn{[&] { ++ran; }});
  }
  for (std::size_t i = 0; i < cbs.size(); i += 2) {
    cbs[i].reset();
  }
  cbs[15].reset();
  source.request_stop();
  EXPECT_EQ(7, ran);
}

TEST(inplace_stop_callback, a_default_token_registers_nothing) {
  bool ran = false;
  {
    callback cb(ex::inplace_stop_token{}, callback_fn{[&] { ran = true; }});
  }
  EXPECT_FALSE(ran);
}

}  // namespace
