// SPDX-License-Identifier: BSL-1.0
// execution_detail::stop_slot (include/senet/execution/detail/stop_slot.hpp): one stop callback
// for operations that wait one after another (a senet::task's socket awaits).
#include <senet/execution/detail/stop_slot.hpp>

#include <senet/execution.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>
#include <utility>

namespace {

namespace ex = senet::ex;
using senet::execution_detail::stop_slot;
using senet::execution_detail::stop_target;
using armed = stop_slot::armed;

#if !SENET_USE_STDEXEC
// Two words and a callback of five pointers.
static_assert(sizeof(stop_slot) == 8 * sizeof(void*));
static_assert(sizeof(ex::inplace_stop_callback<void (*)() noexcept>) == 6 * sizeof(void*));
#endif

struct counting_target : stop_target {
  counting_target() noexcept { run = &count; }
  static void count(stop_target& self) noexcept {
    static_cast<counting_target&>(self).runs.fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<int> runs{0};
};

TEST(stop_slot, a_stop_runs_the_armed_target_once_and_refuses_later_ones) {
  ex::inplace_stop_source source;
  stop_slot slot;
  slot.bind(source.get_token());
  counting_target a;
  counting_target b;
  ASSERT_EQ(slot.arm(a), armed::yes);
  source.request_stop();
  EXPECT_EQ(a.runs.load(), 1);
  EXPECT_FALSE(slot.disarm(a));  // the stop took it
  EXPECT_EQ(slot.arm(b), armed::stopped);
  EXPECT_EQ(b.runs.load(), 0);
  EXPECT_EQ(a.runs.load(), 1);
}

TEST(stop_slot, a_disarmed_target_is_not_run) {
  ex::inplace_stop_source source;
  stop_slot slot;
  slot.bind(source.get_token());
  counting_target a;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(slot.arm(a), armed::yes);
    ASSERT_TRUE(slot.disarm(a));
  }
  source.request_stop();
  EXPECT_EQ(a.runs.load(), 0);
}

TEST(stop_slot, a_stop_requested_before_the_first_arm_is_seen_there) {
  ex::inplace_stop_source source;
  source.request_stop();
  stop_slot slot;
  slot.bind(source.get_token());
  counting_target a;
  EXPECT_EQ(slot.arm(a), armed::stopped);
  EXPECT_EQ(a.runs.load(), 0);  // the caller cancels its operation itself
}

TEST(stop_slot, a_second_target_while_one_is_armed_is_busy) {
  ex::inplace_stop_source source;
  stop_slot slot;
  slot.bind(source.get_token());
  counting_target a;
  counting_target b;
  ASSERT_EQ(slot.arm(a), armed::yes);
  EXPECT_EQ(slot.arm(b), armed::busy);  // b registers a callback of its own
  ASSERT_TRUE(slot.disarm(a));
  ASSERT_EQ(slot.arm(b), armed::yes);
  source.request_stop();
  EXPECT_EQ(a.runs.load(), 0);
  EXPECT_EQ(b.runs.load(), 1);
  EXPECT_FALSE(slot.disarm(b));
}

// reset() deregisters, so that the source may go before the slot (as a loop's receiver may
// destroy it as soon as the loop completed); ASan reports a use after free if it did not.
TEST(stop_slot, reset_lets_the_source_go_first) {
  auto source = std::make_unique<ex::inplace_stop_source>();
  stop_slot slot;
  slot.bind(source->get_token());
  counting_target a;
  ASSERT_EQ(slot.arm(a), armed::yes);
  ASSERT_TRUE(slot.disarm(a));
  slot.reset();
  source.reset();
}

// A stop on another thread racing the target's completion: the target runs at most once, and
// exactly when disarm says that the stop took it (disarm returns only after it ran).
TEST(stop_slot, a_stop_racing_disarm_runs_the_target_exactly_when_disarm_says_so) {
  int taken = 0;
  constexpr int rounds = 2000;
  for (int i = 0; i < rounds; ++i) {
    ex::inplace_stop_source source;
    stop_slot slot;
    slot.bind(source.get_token());
    counting_target a;
    ASSERT_EQ(slot.arm(a), armed::yes);
    std::thread stopper([&] { source.request_stop(); });
    if (i % 2 == 0) {
      std::this_thread::yield();
    }
    const bool untouched = slot.disarm(a);
    EXPECT_EQ(a.runs.load(), untouched ? 0 : 1);
    stopper.join();
    EXPECT_EQ(a.runs.load(), untouched ? 0 : 1);
    taken += untouched ? 0 : 1;
  }
  std::printf("%d of %d stops took the armed target\n", taken, rounds);
}

}  // namespace
