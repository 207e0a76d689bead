// SPDX-License-Identifier: BSL-1.0
// [stoptoken]: inplace_stop_source, inplace_stop_token, inplace_stop_callback, never_stop_token,
// stop_callback_for_t.
#include <senet/execution.hpp>

#include <support/deadline.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

namespace ex = senet::ex;

struct counter_callback {
  int* calls;
  void operator()() noexcept { ++*calls; }
};

TEST(inplace_stop_source, request_stop_succeeds_once) {
  ex::inplace_stop_source source;
  EXPECT_FALSE(source.stop_requested());
  EXPECT_TRUE(source.request_stop());
  EXPECT_TRUE(source.stop_requested());
  EXPECT_FALSE(source.request_stop());
}

TEST(inplace_stop_source, is_neither_copyable_nor_movable) {
  static_assert(!std::is_copy_constructible_v<ex::inplace_stop_source>);
  static_assert(!std::is_move_constructible_v<ex::inplace_stop_source>);
}

TEST(inplace_stop_token, reflects_its_source) {
  ex::inplace_stop_source source;
  ex::inplace_stop_token token = source.get_token();
  EXPECT_TRUE(token.stop_possible());
  EXPECT_FALSE(token.stop_requested());
  source.request_stop();
  EXPECT_TRUE(token.stop_requested());
  EXPECT_TRUE(token.stop_possible());
}

TEST(inplace_stop_token, default_constructed_cannot_be_stopped) {
  ex::inplace_stop_token token;
  EXPECT_FALSE(token.stop_possible());
  EXPECT_FALSE(token.stop_requested());
}

TEST(inplace_stop_token, tokens_compare_equal_when_they_share_a_source) {
  ex::inplace_stop_source a;
  ex::inplace_stop_source b;
  EXPECT_TRUE(a.get_token() == a.get_token());
  EXPECT_FALSE(a.get_token() == b.get_token());
  EXPECT_TRUE(ex::inplace_stop_token{} == ex::inplace_stop_token{});
}

TEST(inplace_stop_token, models_stoppable_token) {
  static_assert(ex::stoppable_token<ex::inplace_stop_token>);
  static_assert(!ex::unstoppable_token<ex::inplace_stop_token>);
  static_assert(std::is_same_v<ex::stop_callback_for_t<ex::inplace_stop_token, counter_callback>,
                               ex::inplace_stop_callback<counter_callback>>);
}

TEST(inplace_stop_callback, runs_on_request_stop) {
  ex::inplace_stop_source source;
  int calls = 0;
  ex::inplace_stop_callback<counter_callback> callback{source.get_token(), counter_callback{&calls}};
  EXPECT_EQ(0, calls);
  source.request_stop();
  EXPECT_EQ(1, calls);
  source.request_stop();
  EXPECT_EQ(1, calls);
}

TEST(inplace_stop_callback, every_registered_callback_runs) {
  ex::inplace_stop_source source;
  int calls = 0;
  ex::inplace_stop_callback<counter_callback> a{source.get_token(), counter_callback{&calls}};
  ex::inplace_stop_callback<counter_callback> b{source.get_token(), counter_callback{&calls}};
  ex::inplace_stop_callback<counter_callback> c{source.get_token(), counter_callback{&calls}};
  source.request_stop();
  EXPECT_EQ(3, calls);
}

TEST(inplace_stop_callback, registered_after_the_request_runs_at_once) {
  ex::inplace_stop_source source;
  source.request_stop();
  int calls = 0;
  ex::inplace_stop_callback<counter_callback> callback{source.get_token(), counter_callback{&calls}};
  EXPECT_EQ(1, calls);
}

TEST(inplace_stop_callback, destroyed_before_the_request_never_runs) {
  ex::inplace_stop_source source;
  int calls = 0;
  { ex::inplace_stop_callback<counter_callback> callback{source.get_token(), counter_callback{&calls}}; }
  ex::inplace_stop_callback<counter_callback> other{source.get_token(), counter_callback{&calls}};
  source.request_stop();
  EXPECT_EQ(1, calls);
}

TEST(inplace_stop_callback, with_a_token_that_cannot_stop_never_runs) {
  int calls = 0;
  {
    ex::inplace_stop_callback<counter_callback> callback{ex::inplace_stop_token{}, counter_callback{&calls}};
  }
  EXPECT_EQ(0, calls);
}

struct self_destroying_callback;
using self_destroying_slot = std::optional<ex::inplace_stop_callback<self_destroying_callback>>;

struct self_destroying_callback {
  bool* ran;
  self_destroying_slot* self;

  void operator()() noexcept {
    *ran = true;
    self->reset();  // Must not wait for itself; nothing of *this is used after this line.
  }
};

TEST(inplace_stop_callback, may_destroy_itself_while_running) {
  ex::inplace_stop_source source;
  bool ran = false;
  self_destroying_slot callback;
  callback.emplace(source.get_token(), self_destroying_callback{&ran, &callback});
  source.request_stop();
  EXPECT_TRUE(ran);
  EXPECT_FALSE(callback.has_value());
}

TEST(inplace_stop_callback, runs_on_the_thread_that_requests_stop) {
  ex::inplace_stop_source source;
  std::thread::id ran_on;
  auto record = [&ran_on]() noexcept { ran_on = std::this_thread::get_id(); };
  ex::inplace_stop_callback<decltype(record)> callback{source.get_token(), record};
  std::thread requester{[&] { source.request_stop(); }};
  auto const requester_id = requester.get_id();
  requester.join();
  EXPECT_EQ(requester_id, ran_on);
}

TEST(inplace_stop_callback, deregistration_during_the_callback_on_another_thread_waits_for_it) {
  ex::inplace_stop_source source;
  std::atomic<bool> entered{false};
  int finished = 0;  // Not atomic: the destructor's wait must order the write before the read.
  auto slow = [&]() noexcept {
    entered.store(true);
    // Give a destructor that would not wait the time to return first.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    finished = 1;
  };
  std::optional<ex::inplace_stop_callback<decltype(slow)>> callback;
  callback.emplace(source.get_token(), slow);
  std::thread requester{[&] { source.request_stop(); }};
  senet::test::spin_until([&] { return entered.load(); }, "the callback starting");
  callback.reset();  // Must block until the callback returned on the other thread.
  EXPECT_EQ(1, finished);
  requester.join();
}

TEST(inplace_stop_source, concurrent_requests_succeed_exactly_once) {
  ex::inplace_stop_source source;
  std::atomic<int> calls{0};
  auto count = [&calls]() noexcept { calls.fetch_add(1); };
  ex::inplace_stop_callback<decltype(count)> callback{source.get_token(), count};
  std::atomic<int> successes{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (source.request_stop()) {
        successes.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(1, successes.load());
  EXPECT_EQ(1, calls.load());
}

TEST(inplace_stop_callback, registration_racing_a_request_runs_exactly_once) {
  for (int round = 0; round < 50; ++round) {
    ex::inplace_stop_source source;
    std::atomic<int> calls{0};
    auto count = [&calls]() noexcept { calls.fetch_add(1); };
    std::thread requester{[&] { source.request_stop(); }};
    {
      ex::inplace_stop_callback<decltype(count)> callback{source.get_token(), count};
      requester.join();
    }
    EXPECT_EQ(1, calls.load());
  }
}

TEST(never_stop_token, is_unstoppable) {
  ex::never_stop_token token;
  EXPECT_FALSE(token.stop_possible());
  EXPECT_FALSE(token.stop_requested());
  static_assert(ex::unstoppable_token<ex::never_stop_token>);
  static_assert(ex::stoppable_token<ex::never_stop_token>);
  static_assert(!token.stop_possible());
}

TEST(never_stop_token, callbacks_never_run) {
  int calls = 0;
  {
    ex::stop_callback_for_t<ex::never_stop_token, counter_callback> callback{ex::never_stop_token{},
                                                                             counter_callback{&calls}};
    (void)callback;
  }
  EXPECT_EQ(0, calls);
  static_assert(std::is_empty_v<ex::stop_callback_for_t<ex::never_stop_token, counter_callback>>);
}

}  // namespace
