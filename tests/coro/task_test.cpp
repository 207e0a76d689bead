// SPDX-License-Identifier: BSL-1.0
// coro::task, sync_wait, when_all, event, thread_pool, poll's names, and how the facade's task
// meets senet's senders and senet::task. Patterns from libcoro 0.15's own tests of these types are
// rewritten here as our own cases.
// senet-test-labels: threaded
#include <senet/coro/task.hpp>

#include <senet/coro.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/task.hpp>

#include "support/deadline.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

namespace coro = senet::coro;
namespace ex = senet::ex;
using namespace std::chrono_literals;

namespace {

// ---- task -----------------------------------------------------------------------------------------

coro::task<int> answer() {
  co_return 42;
}
coro::task<void> nothing() {
  co_return;
}
coro::task<std::string> text() {
  co_return std::string(100, 'x');
}

TEST(coro_task, is_lazy_and_resume_runs_it_to_its_end) {
  bool ran = false;
  auto t = [](bool& ran) -> coro::task<int> {
    ran = true;
    co_return 7;
  }(ran);
  EXPECT_FALSE(ran);
  EXPECT_FALSE(t.is_ready());
  EXPECT_FALSE(t.resume()) << "resume returns whether the task has not ended";
  EXPECT_TRUE(ran);
  EXPECT_TRUE(t.is_ready());
  EXPECT_EQ(t.promise().result(), 7);
  EXPECT_TRUE(t.handle().done());
  EXPECT_EQ(std::move(t).promise().result(), 7);
}

TEST(coro_task, resume_stops_at_each_suspension) {
  auto t = []() -> coro::task<int> {
    co_await std::suspend_always{};
    co_await std::suspend_always{};
    co_return 3;
  }();
  EXPECT_TRUE(t.resume());
  EXPECT_TRUE(t.resume());
  EXPECT_FALSE(t.resume());
  EXPECT_TRUE(t.is_ready());
  EXPECT_EQ(t.promise().result(), 3);
}

TEST(coro_task, destroy_and_move) {
  auto t = answer();
  EXPECT_TRUE(t.destroy());
  EXPECT_FALSE(t.destroy());
  EXPECT_TRUE(t.is_ready()) << "a task without coroutine is ready";
  auto u = answer();
  coro::task<int> v = std::move(u);
  EXPECT_TRUE(u.is_ready());
  EXPECT_FALSE(v.is_ready());
  v = answer();  // the previous frame is destroyed (asan would see a leak otherwise)
  v.resume();
  EXPECT_EQ(v.promise().result(), 42);
  coro::task<> def;
  EXPECT_TRUE(def.is_ready());
}

TEST(coro_task, result_before_the_end_throws) {
  auto t = answer();
  EXPECT_THROW((void)t.promise().result(), std::runtime_error);
}

TEST(coro_task, exceptions_reach_result_and_the_awaiter) {
  auto thrower = []() -> coro::task<int> {
    throw std::logic_error("boom");
    co_return 1;
  };
  auto t = thrower();
  t.resume();
  EXPECT_TRUE(t.is_ready());
  EXPECT_THROW((void)t.promise().result(), std::logic_error);
  auto outer = [&]() -> coro::task<bool> {
    try {
      co_await thrower();
    } catch (const std::logic_error&) {
      co_return true;
    }
    co_return false;
  };
  EXPECT_TRUE(coro::sync_wait(outer()));
  auto v = []() -> coro::task<void> {
    throw std::runtime_error("void");
    co_return;
  };
  EXPECT_THROW(coro::sync_wait(v()), std::runtime_error);
}

TEST(coro_task, awaiting_tasks_gives_values_and_references) {
  static int shared = 5;
  auto ref = []() -> coro::task<int&> { co_return shared; };
  auto outer = [&]() -> coro::task<int> {
    int a = co_await answer();
    auto lvalue = answer();
    const int& b = co_await lvalue;  // awaiting an lvalue task gives a const reference
    int& r = co_await ref();
    r = 6;
    std::string s = co_await text();
    co_await nothing();
    co_return a + b + static_cast<int>(s.size());
  };
  EXPECT_EQ(coro::sync_wait(outer()), 42 + 42 + 100);
  EXPECT_EQ(shared, 6);
  int& r = coro::sync_wait(ref());
  EXPECT_EQ(&r, &shared);
}

TEST(coro_task, move_only_results) {
  auto t = []() -> coro::task<std::unique_ptr<int>> { co_return std::make_unique<int>(9); };
  auto outer = [&]() -> coro::task<int> {
    std::unique_ptr<int> p = co_await t();
    co_return *p;
  };
  EXPECT_EQ(coro::sync_wait(outer()), 9);
  EXPECT_EQ(*coro::sync_wait(t()), 9);
}

// libcoro 0.15's test_task.cpp: `co_return {a, b};` names no type (task.hpp's second
// `return_value`, of the stored type), and a type that can be copied but not moved is copied.
struct copy_construct_only {
  explicit copy_construct_only(int v) : i(v) {}
  copy_construct_only(copy_construct_only&&) = delete;
  copy_construct_only(const copy_construct_only& x) noexcept : i(x.i) {}
  copy_construct_only& operator=(const copy_construct_only&) = delete;
  copy_construct_only& operator=(copy_construct_only&&) = delete;
  ~copy_construct_only() = default;
  int i;
};

TEST(coro_task, braced_and_copy_only_results) {
  auto pair = [](int i) -> coro::task<std::tuple<int, int>> { co_return {i, i * 2}; };
  EXPECT_EQ(coro::sync_wait(pair(3)), std::make_tuple(3, 6));
  auto copied = []() -> coro::task<copy_construct_only> { co_return copy_construct_only(42); };
  EXPECT_EQ(coro::sync_wait(copied()).i, 42);
  auto outer = [&]() -> coro::task<int> {
    copy_construct_only c = co_await copied();
    auto [a, b] = co_await pair(c.i);
    co_return a + b;
  };
  EXPECT_EQ(coro::sync_wait(outer()), 126);
}

// What sync_wait costs a movable result: at most the move into the task's promise, the one into
// sync_wait's own coroutine, and the one out of it (it was four before); never a copy.
struct counted {
  counted() = default;
  counted(const counted& o) : copies(o.copies + 1), moves(o.moves) {}
  counted(counted&& o) noexcept : copies(o.copies), moves(o.moves + 1) {}
  counted& operator=(const counted&) = delete;
  counted& operator=(counted&&) = delete;
  ~counted() = default;
  int copies = 0;
  int moves = 0;
};

TEST(coro_sync_wait, moves_a_result_at_most_three_times_and_never_copies_it) {
  auto make = []() -> coro::task<counted> {
    counted c;
    co_return c;
  };
  counted got = coro::sync_wait(make());
  EXPECT_EQ(got.copies, 0);
  EXPECT_LE(got.moves, 3);
}

TEST(coro_task, deep_chains_of_awaits) {
  struct rec {
    static coro::task<int> depth(int n) {
      if (n == 0) {
        co_return 0;
      }
      co_return 1 + co_await depth(n - 1);
    }
  };
  EXPECT_EQ(coro::sync_wait(rec::depth(1000)), 1000);
}

// ---- task and senders -----------------------------------------------------------------------------

TEST(coro_task, awaits_senders) {
  auto t = []() -> coro::task<int> {
    int a = co_await ex::just(40);
    co_await ex::just();
    auto [x, y] = co_await ex::just(1, 1);
    co_return a + x + y;
  };
  EXPECT_EQ(coro::sync_wait(t()), 42);
}

TEST(coro_task, sender_errors_and_stops_become_exceptions) {
  auto err = []() -> coro::task<void> {
    co_await ex::just_error(std::make_error_code(std::errc::timed_out));
  };
  try {
    coro::sync_wait(err());
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::timed_out);
  }
  auto eptr = []() -> coro::task<void> {
    co_await ex::just_error(std::make_exception_ptr(std::out_of_range("x")));
  };
  EXPECT_THROW(coro::sync_wait(eptr()), std::out_of_range);
  auto stopped = []() -> coro::task<void> { co_await ex::just_stopped(); };
  try {
    coro::sync_wait(stopped());
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::operation_canceled);
  }
}

senet::task<int> senet_child(int v) {
  co_await ex::just();
  co_return v * 2;
}

TEST(coro_task, awaits_a_senet_task) {
  auto t = []() -> coro::task<int> { co_return co_await senet_child(21); };
  EXPECT_EQ(coro::sync_wait(t()), 42);
}

TEST(coro_task, a_senet_task_awaits_a_coro_task_on_an_io_context) {
  senet::io::io_context ctx;
  auto inner = [](senet::io::io_context& ctx) -> coro::task<int> {
    // Started by a senet::task on ctx: a timer without an explicit scheduler runs on ctx.
    const auto start = ctx.get_scheduler().now();
    co_await ex::schedule(ctx.get_scheduler());
    co_await senet::io::io_context::scheduler_type(ctx.get_scheduler()).schedule_after(2ms);
    EXPECT_GE(ctx.get_scheduler().now() - start, 2ms);
    co_return 5;
  };
  auto outer = [&]() -> senet::task<int> {
    int v = co_await inner(ctx);
    co_return v + 1;
  };
  auto [v] = ctx.run_until(outer()).value();
  EXPECT_EQ(v, 6);
}

TEST(coro_task, is_a_sender) {
  static_assert(ex::sender<coro::task<int>>);
  static_assert(ex::sender<coro::task<void>>);
  auto [v] = ex::sync_wait(answer()).value();
  EXPECT_EQ(v, 42);
  EXPECT_TRUE(ex::sync_wait(nothing()).has_value());
  auto [a, b] = ex::sync_wait(ex::when_all(answer(), text())).value();
  EXPECT_EQ(a, 42);
  EXPECT_EQ(b.size(), 100U);
  auto thrower = []() -> coro::task<int> {
    throw std::runtime_error("as sender");
    co_return 0;
  };
  EXPECT_THROW((void)ex::sync_wait(thrower()), std::runtime_error);
  senet::io::io_context ctx;
  auto [w] = ctx.run_until(answer()).value();
  EXPECT_EQ(w, 42);
}

// ---- sync_wait ------------------------------------------------------------------------------------

TEST(coro_sync_wait, runs_tasks_awaitables_and_senders) {
  EXPECT_EQ(coro::sync_wait(answer()), 42);
  coro::sync_wait(nothing());
  EXPECT_EQ(coro::sync_wait(ex::just(3)), 3);
  coro::event set_event{true};
  coro::sync_wait(set_event);
  static_assert(std::is_same_v<decltype(coro::sync_wait(answer())), int>);
  static_assert(std::is_same_v<decltype(coro::sync_wait(nothing())), void>);
}

TEST(coro_sync_wait, waits_for_a_task_that_ends_on_another_thread) {
  auto pool = coro::thread_pool::make_shared(coro::thread_pool::options{.thread_count = 1});
  auto t = [](std::shared_ptr<coro::thread_pool> pool) -> coro::task<std::thread::id> {
    co_await pool->schedule();
    co_return std::this_thread::get_id();
  };
  EXPECT_NE(coro::sync_wait(t(pool)), std::this_thread::get_id());
}

// ---- when_all -------------------------------------------------------------------------------------

TEST(coro_when_all, tuple_of_results) {
  auto t = []() -> coro::task<int> {
    auto results = co_await coro::when_all(answer(), text(), nothing(), ex::just(1));
    static_assert(std::tuple_size_v<decltype(results)> == 4);
    int a = std::get<0>(results).return_value();
    std::string s = std::get<1>(results).return_value();
    [[maybe_unused]] coro::detail::void_value v = std::get<2>(results).return_value();
    co_return a + static_cast<int>(s.size()) + std::get<3>(results).return_value();
  };
  EXPECT_EQ(coro::sync_wait(t()), 143);
  auto [a, b] = coro::sync_wait(coro::when_all(answer(), answer()));
  EXPECT_EQ(a.return_value() + b.return_value(), 84);
  auto empty = coro::sync_wait(coro::when_all());
  static_assert(std::tuple_size_v<decltype(empty)> == 0);
}

TEST(coro_when_all, range_of_tasks) {
  auto square = [](int i) -> coro::task<int> { co_return i* i; };
  std::vector<coro::task<int>> tasks;
  for (int i = 0; i < 10; ++i) {
    tasks.push_back(square(i));
  }
  auto results = coro::sync_wait(coro::when_all(std::move(tasks)));
  ASSERT_EQ(results.size(), 10U);
  int sum = 0;
  for (auto& r : results) {
    sum += r.return_value();
  }
  EXPECT_EQ(sum, 285);
  std::vector<coro::task<void>> voids;
  voids.push_back(nothing());
  voids.push_back(nothing());
  EXPECT_EQ(coro::sync_wait(coro::when_all(std::move(voids))).size(), 2U);
  EXPECT_TRUE(coro::sync_wait(coro::when_all(std::vector<coro::task<int>>{})).empty());
}

// The results of `co_await when_all(std::move(tasks))` are the awaitable's, given by value: a
// reference (what libcoro gives) would dangle once the awaitable, a temporary, is gone at the end of
// the full expression, as in this loop (AddressSanitizer saw the freed vector read), and in
// `auto results = coro::sync_wait(coro::when_all(...))`.
TEST(coro_when_all, results_can_be_used_past_the_expression_that_awaits_them) {
  using range_awaitable = decltype(coro::when_all(std::declval<std::vector<coro::task<int>>>()));
  static_assert(!std::is_reference_v<coro::concepts::awaitable_traits<range_awaitable>::awaiter_return_type>);
  using tuple_awaitable = decltype(coro::when_all(std::declval<coro::task<int>>()));
  static_assert(!std::is_reference_v<coro::concepts::awaitable_traits<tuple_awaitable>::awaiter_return_type>);
  auto square = [](int i) -> coro::task<int> { co_return i* i; };
  auto sum_all = [&]() -> coro::task<int> {
    std::vector<coro::task<int>> tasks;
    for (int i = 0; i < 10; ++i) {
      tasks.push_back(square(i));
    }
    int sum = 0;
    for (auto& r : co_await coro::when_all(std::move(tasks))) {
      sum += r.return_value();
    }
    auto [a, b] = co_await coro::when_all(square(2), square(3));
    co_return sum + a.return_value() + b.return_value();
  };
  EXPECT_EQ(coro::sync_wait(sum_all()), 285 + 13);
}

TEST(coro_when_all, an_exception_stays_in_its_result) {
  auto thrower = []() -> coro::task<int> {
    throw std::runtime_error("one");
    co_return 0;
  };
  auto results = coro::sync_wait(coro::when_all(answer(), thrower()));
  EXPECT_EQ(std::get<0>(results).return_value(), 42);
  EXPECT_THROW((void)std::get<1>(results).return_value(), std::runtime_error);
}

TEST(coro_when_all, tasks_on_a_pool_end_on_several_threads) {
  auto pool = coro::thread_pool::make_shared(coro::thread_pool::options{.thread_count = 4});
  auto work = [](std::shared_ptr<coro::thread_pool> pool, int i) -> coro::task<int> {
    co_await pool->schedule();
    co_await pool->yield();
    co_return i;
  };
  std::vector<coro::task<int>> tasks;
  for (int i = 0; i < 100; ++i) {
    tasks.push_back(work(pool, i));
  }
  auto results = coro::sync_wait(coro::when_all(std::move(tasks)));
  int sum = 0;
  for (auto& r : results) {
    sum += r.return_value();
  }
  EXPECT_EQ(sum, 4950);
}

// ---- event ----------------------------------------------------------------------------------------

TEST(coro_event, set_resumes_waiters_in_policy_order) {
  for (auto policy : {coro::resume_order_policy::lifo, coro::resume_order_policy::fifo}) {
    coro::event e;
    std::vector<int> order;
    auto waiter = [](coro::event& e, std::vector<int>& order, int i) -> coro::task<void> {
      co_await e;
      order.push_back(i);
    };
    std::vector<coro::task<void>> tasks;
    for (int i = 0; i < 3; ++i) {
      tasks.push_back(waiter(e, order, i));
      tasks.back().resume();
    }
    EXPECT_TRUE(order.empty());
    EXPECT_FALSE(e.is_set());
    e.set(policy);
    EXPECT_TRUE(e.is_set());
    EXPECT_EQ(order, policy == coro::resume_order_policy::fifo ? (std::vector<int>{0, 1, 2})
                                                               : (std::vector<int>{2, 1, 0}));
    for (auto& t : tasks) {
      EXPECT_TRUE(t.is_ready());
    }
  }
}

TEST(coro_event, set_event_does_not_suspend_and_reset_unsets) {
  coro::event e{true};
  EXPECT_TRUE(e.is_set());
  auto t = [](coro::event& e) -> coro::task<int> {
    co_await e;
    co_return 1;
  };
  auto a = t(e);
  EXPECT_FALSE(a.resume());
  e.reset();
  EXPECT_FALSE(e.is_set());
  auto b = t(e);
  EXPECT_TRUE(b.resume());
  e.set();
  EXPECT_TRUE(b.is_ready());
  e.set();  // twice: nothing more happens
  EXPECT_TRUE(e.is_set());
}

TEST(coro_event, set_on_an_executor_resumes_there) {
  auto pool = coro::thread_pool::make_shared(coro::thread_pool::options{.thread_count = 2});
  coro::event e;
  std::mutex m;
  std::set<std::thread::id> where;
  auto waiter = [](coro::event& e, std::mutex& m, std::set<std::thread::id>& where) -> coro::task<void> {
    co_await e;
    std::lock_guard lock(m);
    where.insert(std::this_thread::get_id());
  };
  auto setter = [](std::shared_ptr<coro::thread_pool> pool, coro::event& e) -> coro::task<void> {
    co_await pool->schedule();
    e.set(pool);
  };
  coro::sync_wait(coro::when_all(waiter(e, m, where), waiter(e, m, where), setter(pool, e)));
  EXPECT_FALSE(where.empty());
  EXPECT_EQ(where.count(std::this_thread::get_id()), 0U);
}

TEST(coro_event, set_from_another_thread_races_the_waiters) {
  for (int round = 0; round < 50; ++round) {
    coro::event e;
    std::atomic<int> woken{0};
    auto waiter = [](coro::event& e, std::atomic<int>& woken) -> coro::task<void> {
      co_await e;
      ++woken;
    };
    std::vector<coro::task<void>> tasks;
    for (int i = 0; i < 4; ++i) {
      tasks.push_back(waiter(e, woken));
    }
    std::thread setter([&] { e.set(); });
    for (auto& t : tasks) {
      t.resume();
    }
    setter.join();
    EXPECT_EQ(woken, 4);
  }
}

// ---- thread_pool ----------------------------------------------------------------------------------

TEST(coro_thread_pool, options_and_functors) {
  std::atomic<int> started{0}, stopped{0};
  {
    auto pool = coro::thread_pool::make_shared(
        coro::thread_pool::options{.thread_count = 3,
                                   .on_thread_start_functor = [&](std::size_t) { ++started; },
                                   .on_thread_stop_functor = [&](std::size_t) { ++stopped; }});
    EXPECT_EQ(pool->thread_count(), 3U);
    ASSERT_TRUE(senet::test::spin_until([&] { return started == 3; }, "pool threads start"));
  }
  EXPECT_EQ(stopped, 3);
}

TEST(coro_thread_pool, schedule_yield_and_schedule_task) {
  auto pool = coro::thread_pool::make_shared(coro::thread_pool::options{.thread_count = 2});
  auto t = [](std::shared_ptr<coro::thread_pool> pool) -> coro::task<int> {
    co_await pool->schedule();
    co_await pool->yield();
    co_return 1;
  };
  EXPECT_EQ(coro::sync_wait(t(pool)), 1);
  std::thread::id where;
  auto u = [](std::thread::id& where) -> coro::task<int> {
    where = std::this_thread::get_id();
    co_return 2;
  };
  EXPECT_EQ(coro::sync_wait(pool->schedule(u(where))), 2);
  EXPECT_NE(where, std::this_thread::get_id());
}

TEST(coro_thread_pool, spawn_resume_size_and_shutdown) {
  auto pool = coro::thread_pool::make_shared(coro::thread_pool::options{.thread_count = 2});
  std::atomic<int> ran{0};
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(pool->spawn([](std::atomic<int>& ran) -> coro::task<void> {
      ++ran;
      co_return;
    }(ran)));
  }
  EXPECT_FALSE(pool->spawn(coro::task<void>{}));
  auto t = [](std::atomic<int>& ran) -> coro::task<void> {
    ++ran;
    co_return;
  }(ran);
  EXPECT_TRUE(pool->resume(t.handle()));
  // The pool's count drops (release) after the resumption returns: then the frame may be read.
  ASSERT_TRUE(senet::test::spin_until([&] { return pool->empty(); }, "resumed handle ends"));
  EXPECT_TRUE(t.is_ready());
  EXPECT_FALSE(pool->resume(t.handle())) << "finished";
  EXPECT_FALSE(pool->resume(std::coroutine_handle<>{})) << "null";
  std::vector<coro::task<void>> batch;
  std::vector<std::coroutine_handle<>> handles;
  for (int i = 0; i < 5; ++i) {
    batch.push_back([](std::atomic<int>& ran) -> coro::task<void> {
      ++ran;
      co_return;
    }(ran));
    handles.push_back(batch.back().handle());
  }
  EXPECT_EQ(pool->resume(handles), 5U);
  pool->shutdown();
  EXPECT_EQ(ran, 1006);
  EXPECT_TRUE(pool->empty());
  EXPECT_TRUE(pool->queue_empty());
  EXPECT_EQ(pool->queue_size(), 0U);
  // After shutdown: nothing is accepted, and schedule() throws in the awaiting coroutine.
  EXPECT_FALSE(pool->spawn([]() -> coro::task<void> { co_return; }()));
  auto late = [](std::shared_ptr<coro::thread_pool> pool) -> coro::task<void> { co_await pool->schedule(); };
  EXPECT_THROW(coro::sync_wait(late(pool)), std::runtime_error);
  pool->shutdown();
}

TEST(coro_thread_pool, shutdown_waits_for_spawned_tasks_that_are_suspended) {
  auto pool = coro::thread_pool::make_shared(coro::thread_pool::options{.thread_count = 1});
  coro::event e;
  std::atomic<bool> done{false};
  ASSERT_TRUE(pool->spawn([](coro::event& e, std::atomic<bool>& done) -> coro::task<void> {
    co_await e;
    done = true;
  }(e, done)));
  std::thread setter([&] {
    std::this_thread::sleep_for(10ms);
    e.set(pool);
  });
  pool->shutdown();
  setter.join();
  EXPECT_TRUE(done);
}

// spawn() schedules its task from a coroutine of the pool's own source file, where clang 16 and
// older, inlining await_suspend before splitting the coroutine, wrote the awaiter's m_rejected into
// the frame after queueing it: a pool thread could read the flag unwritten (and drop the task with
// the exception it throws), and the spawning thread write into a frame running or freed. Each task
// is spawned onto an idle pool and waited for without touching the pool's lock, so that nothing
// orders such a write before the pool thread's reads, and ThreadSanitizer reports it every time.
TEST(coro_thread_pool, spawn_does_not_touch_the_frame_it_queued) {
  auto pool = coro::thread_pool::make_shared(coro::thread_pool::options{.thread_count = 1});
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(pool->spawn([](std::atomic<int>& ran) -> coro::task<void> {
      ran.fetch_add(1, std::memory_order_release);
      co_return;
    }(ran)));
    ASSERT_TRUE(senet::test::spin_until([&] { return ran.load(std::memory_order_acquire) == i + 1; },
                                        "spawned task runs"));
  }
  pool->shutdown();
  EXPECT_EQ(ran, 100);
}

// ---- poll's names ---------------------------------------------------------------------------------

TEST(coro_poll, names_and_values_match_libcoro) {
  EXPECT_EQ(static_cast<std::uint64_t>(coro::poll_op::read), 1U);   // EPOLLIN
  EXPECT_EQ(static_cast<std::uint64_t>(coro::poll_op::write), 4U);  // EPOLLOUT
  EXPECT_EQ(static_cast<std::uint64_t>(coro::poll_op::read_write), 5U);
  EXPECT_EQ(coro::to_string(coro::poll_op::read), "read");
  EXPECT_EQ(coro::to_string(coro::poll_op::write), "write");
  EXPECT_EQ(coro::to_string(coro::poll_op::read_write), "read_write");
  EXPECT_EQ(coro::to_string(static_cast<coro::poll_op>(77)), "unknown");
  EXPECT_EQ(coro::to_string(coro::poll_status::event), "event");
  EXPECT_EQ(coro::to_string(coro::poll_status::timeout), "timeout");
  EXPECT_EQ(coro::to_string(coro::poll_status::error), "error");
  EXPECT_EQ(coro::to_string(coro::poll_status::closed), "closed");
  EXPECT_EQ(coro::to_string(static_cast<coro::poll_status>(9)), "unknown");
  EXPECT_TRUE(coro::poll_op_readable(coro::poll_op::read_write));
  EXPECT_TRUE(coro::poll_op_writeable(coro::poll_op::read_write));
  EXPECT_FALSE(coro::poll_op_readable(coro::poll_op::write));
  EXPECT_FALSE(coro::poll_op_writeable(coro::poll_op::read));
  static_assert(std::is_same_v<coro::fd_t, int>);
  static_assert(std::is_same_v<coro::clock, std::chrono::steady_clock>);
}

TEST(coro_poll, status_from_events_in_libcoros_order) {
  using senet::io::poll_events;
  EXPECT_EQ(coro::to_poll_status(poll_events::readable), coro::poll_status::event);
  EXPECT_EQ(coro::to_poll_status(poll_events::writable | poll_events::error), coro::poll_status::event);
  EXPECT_EQ(coro::to_poll_status(poll_events::readable | poll_events::peer_closed), coro::poll_status::event);
  EXPECT_EQ(coro::to_poll_status(poll_events::error | poll_events::hangup), coro::poll_status::error);
  EXPECT_EQ(coro::to_poll_status(poll_events::hangup), coro::poll_status::closed);
  EXPECT_EQ(coro::to_poll_status(poll_events::peer_closed), coro::poll_status::closed);
  EXPECT_EQ(coro::to_poll_events(coro::poll_op::read), poll_events::readable);
  EXPECT_EQ(coro::to_poll_events(coro::poll_op::write), poll_events::writable);
  EXPECT_EQ(coro::to_poll_events(coro::poll_op::read_write), poll_events::readable | poll_events::writable);
}

}  // namespace
