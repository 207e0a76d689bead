// SPDX-License-Identifier: BSL-1.0
#include <senet/net/async_wait_for.hpp>

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/async_wait_until.hpp>

#include <support/backend_fixture.hpp>
#include <support/io_probe.hpp>
#include <support/run.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
using clock_type = std::chrono::steady_clock;

// Constructs a non-movable operation state in place (std::optional::emplace) from a function.
template <class F>
struct emplacer {
  F f;
  operator std::invoke_result_t<F&>() { return f(); }
};

template <class Backend>
class async_wait_for_test : public senet::test::backend_fixture<Backend> {
 protected:
  clock_type::time_point now() { return io::detail::now(this->ctx()); }
};

TYPED_TEST_SUITE(async_wait_for_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(async_wait_for_test, completion_signatures) {
  using sndr = decltype(net::async_wait_for(1ms));
  static_assert(std::is_same_v<typename sndr::completion_signatures,
                               ex::completion_signatures<ex::set_value_t(), ex::set_stopped_t()>>);
  static_assert(ex::sender<decltype(net::async_wait_until(clock_type::now()))>);
  SUCCEED();
}

TYPED_TEST(async_wait_for_test, wait_for_completes_no_earlier_than_its_deadline) {
  auto start = this->now();
  ASSERT_TRUE(this->run(net::async_wait_for(5ms)).has_value());
  EXPECT_GE(this->now() - start, 5ms);
}

TYPED_TEST(async_wait_for_test, wait_until_in_the_past_completes) {
  ASSERT_TRUE(this->run(net::async_wait_until(this->now() - 1s)).has_value());
  ASSERT_TRUE(this->run(net::async_wait_for(-5s)).has_value());
  ASSERT_TRUE(this->run(net::async_wait_for(0ns)).has_value());
}

TYPED_TEST(async_wait_for_test, timers_complete_in_deadline_order) {
  std::vector<int> order;
  auto at = [&](auto d, int id) {
    return net::async_wait_for(d) | ex::then([&order, id] { order.push_back(id); });
  };
  ASSERT_TRUE(this->run(ex::when_all(at(30ms, 30), at(10ms, 10), at(20ms, 20), at(0ms, 0))).has_value());
  EXPECT_EQ(order, (std::vector<int>{0, 10, 20, 30}));
}

TYPED_TEST(async_wait_for_test, equal_deadlines_complete_in_start_order) {
  std::vector<int> order;
  auto tp = this->now() + 2ms;
  auto at = [&](int id) {
    return net::async_wait_until(tp) | ex::then([&order, id] { order.push_back(id); });
  };
  ASSERT_TRUE(this->run(ex::when_all(at(1), at(2), at(3), at(4), at(5))).has_value());
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4, 5}));
}

TYPED_TEST(async_wait_for_test, many_timers) {
  constexpr int count = 2000;
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> dist(0, 20000);
  std::vector<std::chrono::microseconds> delays(count);
  for (auto& d : delays) {
    d = std::chrono::microseconds(dist(rng));
  }
  struct record {
    clock_type::time_point deadline;
    clock_type::time_point fired;
  };
  std::vector<record> fired;
  fired.reserve(count);
  std::vector<senet::test::io_outcome<>> outcomes(count);
  using op_type =
      ex::connect_result_t<decltype(net::async_wait_until(clock_type::now())), senet::test::io_probe<>>;
  std::vector<std::optional<op_type>> ops(count);
  auto base = this->now();
  for (int i = 0; i < count; ++i) {
    auto connect = [&, i] {
      return ex::connect(net::async_wait_until(base + delays[i]),
                         senet::test::io_probe<>{&this->ctx(), &outcomes[i]});
    };
    ops[i].emplace(emplacer<decltype(connect)>{connect});
    ex::start(*ops[i]);
  }
  std::size_t done = 0;
  senet::test::deadline_guard deadline("the timers", &this->ctx());
  while (done < count) {
    ASSERT_NE(this->ctx().run_one(), 0U);
    done = static_cast<std::size_t>(
        std::count_if(outcomes.begin(), outcomes.end(), [](auto& o) { return o.done.load(); }));
  }
  for (auto& o : outcomes) {
    EXPECT_TRUE(o.value_once());
  }
  EXPECT_GE(this->now(), base + *std::max_element(delays.begin(), delays.end()));
}

TYPED_TEST(async_wait_for_test, many_timers_fire_in_order) {
  constexpr int count = 1000;
  std::mt19937 rng(777);
  std::uniform_int_distribution<int> dist(0, 10000);
  std::vector<clock_type::time_point> deadlines;
  std::vector<clock_type::time_point> seen;
  auto base = this->now();
  auto one = [&](clock_type::time_point tp) {
    return net::async_wait_until(tp) | ex::then([&seen, tp] { seen.push_back(tp); });
  };
  // when_all of 1000 senders is heavy to compile: chain groups of ten.
  for (int g = 0; g < count / 10; ++g) {
    std::array<clock_type::time_point, 10> tps;
    for (auto& tp : tps) {
      tp = base + std::chrono::microseconds(dist(rng));
      deadlines.push_back(tp);
    }
    auto sndr = ex::when_all(one(tps[0]), one(tps[1]), one(tps[2]), one(tps[3]), one(tps[4]), one(tps[5]),
                             one(tps[6]), one(tps[7]), one(tps[8]), one(tps[9]));
    ASSERT_TRUE(this->run(std::move(sndr)).has_value());
  }
  ASSERT_EQ(seen.size(), deadlines.size());
  // Within each group of ten, completions follow the deadlines.
  for (std::size_t g = 0; g < seen.size(); g += 10) {
    EXPECT_TRUE(std::is_sorted(seen.begin() + static_cast<std::ptrdiff_t>(g),
                               seen.begin() + static_cast<std::ptrdiff_t>(g + 10)));
  }
}

TYPED_TEST(async_wait_for_test, cancelling_random_timers_keeps_the_others_in_order) {
  constexpr int count = 600;
  std::mt19937 rng(4242);
  std::uniform_int_distribution<int> dist(0, 15000);
  std::vector<senet::test::io_outcome<>> outcomes(count);
  using op_type =
      ex::connect_result_t<decltype(net::async_wait_until(clock_type::now())), senet::test::io_probe<>>;
  std::vector<std::optional<op_type>> ops(count);
  std::vector<clock_type::time_point> deadlines(count);
  std::vector<int> fired;
  auto base = this->now();
  for (int i = 0; i < count; ++i) {
    deadlines[i] = base + std::chrono::microseconds(dist(rng));
    auto connect = [&, i] {
      return ex::connect(net::async_wait_until(deadlines[i]),
                         senet::test::io_probe<>{&this->ctx(), &outcomes[i]});
    };
    ops[i].emplace(emplacer<decltype(connect)>{connect});
  }
  // Start them all on the context's thread, cancel every third one from the middle of the heap,
  // then record completion order.
  ASSERT_TRUE(this->run(ex::schedule(this->scheduler()) | ex::then([&] {
                          for (auto& op : ops) {
                            ex::start(*op);
                          }
                          for (int i = 0; i < count; i += 3) {
                            outcomes[i].stop.request_stop();
                          }
                        }))
                  .has_value());
  senet::test::deadline_guard deadline("the timers", &this->ctx());
  while (true) {
    std::size_t done = 0;
    for (int i = 0; i < count; ++i) {
      if (outcomes[i].done.load()) {
        ++done;
      }
    }
    if (done == static_cast<std::size_t>(count)) {
      break;
    }
    std::vector<bool> before(count);
    for (int i = 0; i < count; ++i) {
      before[i] = outcomes[i].done.load();
    }
    ASSERT_NE(this->ctx().run_one(), 0U);
    for (int i = 0; i < count; ++i) {
      if (!before[i] && outcomes[i].done.load() && outcomes[i].value.has_value()) {
        fired.push_back(i);
      }
    }
  }
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(outcomes[i].stopped, i % 3 == 0) << i;
  }
  ASSERT_EQ(fired.size(), static_cast<std::size_t>(count - (count + 2) / 3));
  for (std::size_t k = 1; k < fired.size(); ++k) {
    EXPECT_LE(deadlines[fired[k - 1]], deadlines[fired[k]]);
  }
}

TYPED_TEST(async_wait_for_test, cancel_with_when_any) {
  bool stopped = false;
  auto r = this->run(ex::when_any(net::async_wait_for(1h) | ex::upon_stopped([&] { stopped = true; }),
                                  ex::schedule(this->scheduler())));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(stopped);
}

TYPED_TEST(async_wait_for_test, shorter_timer_wins_when_any) {
  int winner = 0;
  auto r = this->run(ex::when_any(net::async_wait_for(1h) | ex::then([&] { winner = 1; }),
                                  net::async_wait_for(1ms) | ex::then([&] { winner = 2; })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(winner, 2);
}

TYPED_TEST(async_wait_for_test, cancel_with_stop_source_on_the_context_thread) {
  senet::test::io_outcome<> outcome;
  auto op = ex::connect(net::async_wait_for(1h), senet::test::io_probe<>{&this->ctx(), &outcome});
  ex::start(op);
  this->ctx().poll();
  ASSERT_FALSE(outcome.done.load());
  ASSERT_TRUE(this->run(ex::schedule(this->scheduler()) | ex::then([&] { outcome.stop.request_stop(); }))
                  .has_value());
  senet::test::run_until_done(this->ctx(), outcome);
  EXPECT_TRUE(outcome.stopped_once());
}

TYPED_TEST(async_wait_for_test, cancel_with_stop_source_from_another_thread) {
  for (int i = 0; i < 100; ++i) {
    senet::test::io_outcome<> outcome;
    auto op = ex::connect(net::async_wait_for(i % 2 == 0 ? 1h : 0s),
                          senet::test::io_probe<>{&this->ctx(), &outcome});
    std::thread loop([&] { senet::test::run_until_done(this->ctx(), outcome); });
    ex::start(op);
    outcome.stop.request_stop();
    loop.join();
    // A zero wait may win the race; an hour never does.
    if (i % 2 == 0) {
      EXPECT_TRUE(outcome.stopped_once());
    } else {
      EXPECT_TRUE(outcome.stopped_once() || outcome.value_once()) << outcome.describe();
    }
  }
}

TYPED_TEST(async_wait_for_test, huge_durations_do_not_overflow) {
  bool stopped = false;
  auto r = this->run(
      ex::when_any(net::async_wait_for(std::chrono::hours::max()) | ex::upon_stopped([&] { stopped = true; }),
                   net::async_wait_for(1ms)));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(stopped);
}

TYPED_TEST(async_wait_for_test, explicit_scheduler_forms_work_from_sync_wait) {
  std::thread loop;
  {
    io::io_context::work_guard guard(this->ctx());
    loop = std::thread([&] { senet::test::bounded_run(this->ctx()); });
    auto sch = this->scheduler();
    EXPECT_TRUE(ex::sync_wait(net::async_wait_for(sch, 1ms)).has_value());
    EXPECT_TRUE(ex::sync_wait(net::async_wait_until(sch, clock_type::now())).has_value());
  }
  loop.join();
}

TYPED_TEST(async_wait_for_test, destroying_the_context_stops_pending_timers) {
  senet::test::io_outcome<> outcome;
  std::optional<io::io_context> ctx(std::in_place, this->kind);
  // The operation state outlives the context: the context's destructor completes it.
  auto op = ex::connect(net::async_wait_for(1h), senet::test::io_probe<>{&*ctx, &outcome});
  ex::start(op);
  ctx->poll();
  EXPECT_FALSE(outcome.done.load());
  ctx.reset();
  EXPECT_TRUE(outcome.stopped_once());
}

}  // namespace
