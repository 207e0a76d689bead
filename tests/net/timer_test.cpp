// SPDX-License-Identifier: BSL-1.0
#include <senet/net/timer.hpp>

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/async_wait.hpp>

#include <support/backend_fixture.hpp>
#include <support/io_probe.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;

template <class Backend>
class timer_test : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(timer_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(timer_test, keeps_its_context_and_clock) {
  net::timer t(this->scheduler());
  EXPECT_EQ(t.scheduler(), this->scheduler());
  auto a = t.now();
  auto b = io::detail::now(this->ctx());
  EXPECT_LE(a, b);
}

TYPED_TEST(timer_test, expiry_and_async_wait) {
  net::timer t(this->scheduler());
  t.expires_after(3ms);
  auto expiry = t.expiry();
  EXPECT_GE(expiry, t.now());
  ASSERT_TRUE(this->run(t.async_wait()).has_value());
  EXPECT_GE(t.now(), expiry);
  t.expires_at(t.now() + 1ms);
  ASSERT_TRUE(this->run(t.async_wait()).has_value());
}

TYPED_TEST(timer_test, waits_through_the_cpos) {
  net::timer t(this->scheduler());
  auto start = t.now();
  ASSERT_TRUE(this->run(net::async_wait_for(t, 2ms)).has_value());
  EXPECT_GE(t.now() - start, 2ms);
  ASSERT_TRUE(this->run(net::async_wait_until(t, t.now() + 1ms)).has_value());
}

TYPED_TEST(timer_test, runs_on_its_own_context_whatever_the_receiver_says) {
  std::thread loop;
  {
    io::io_context::work_guard guard(this->ctx());
    loop = std::thread([&] { this->ctx().run(); });
    net::timer t(this->scheduler());
    // sync_wait's environment has a run_loop scheduler, not an io one: the timer's own is used,
    // and the wait completes on the context's thread.
    auto r = ex::sync_wait(t.async_wait_for(1ms) | ex::then([] { return std::this_thread::get_id(); }));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(std::get<0>(*r), loop.get_id());
  }
  loop.join();
}

TYPED_TEST(timer_test, need_not_outlive_its_waits) {
  std::optional<net::timer> t(std::in_place, this->scheduler());
  auto start = t->now();
  t->expires_after(2ms);
  auto wait = t->async_wait();
  auto other = t->async_wait_for(1ms);
  t.reset();
  ASSERT_TRUE(this->run(ex::when_all(std::move(wait), std::move(other))).has_value());
  EXPECT_GE(io::detail::now(this->ctx()) - start, 2ms) << "the waits ran to their expiry";
}

TYPED_TEST(timer_test, changing_the_expiry_does_not_affect_waits_already_made) {
  net::timer t(this->scheduler());
  t.expires_after(1ms);
  auto wait = t.async_wait();
  t.expires_after(1h);
  bool fired = false;
  auto r =
      this->run(ex::when_any(std::move(wait) | ex::then([&] { fired = true; }), net::async_wait_for(30s)));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(fired);
}

TYPED_TEST(timer_test, cancellation) {
  net::timer t(this->scheduler());
  bool stopped = false;
  auto r = this->run(
      ex::when_any(t.async_wait_for(1h) | ex::upon_stopped([&] { stopped = true; }), t.async_wait_for(1ms)));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(stopped);
}

// ---- cancel() ----

TYPED_TEST(timer_test, cancel_completes_every_pending_wait_with_set_stopped) {
  net::timer t(this->scheduler());
  t.expires_after(1h);
  int stopped = 0;
  std::size_t cancelled = 99;
  auto r =
      this->run(ex::when_all(t.async_wait() | ex::upon_stopped([&] { ++stopped; }),
                             t.async_wait_for(2h) | ex::upon_stopped([&] { ++stopped; }),
                             ex::schedule(this->scheduler()) | ex::then([&] { cancelled = t.cancel(); })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(stopped, 2);
  EXPECT_EQ(cancelled, 2U);
  EXPECT_LT(t.now(), t.expiry()) << "the waits ended early, by the cancel";
}

TYPED_TEST(timer_test, cancel_without_waits_returns_zero_and_later_waits_work) {
  net::timer t(this->scheduler());
  EXPECT_EQ(t.cancel(), 0U);
  ASSERT_TRUE(this->run(ex::when_all(t.async_wait(), ex::schedule(this->scheduler()))).has_value());
  EXPECT_EQ(t.cancel(), 0U);
  // Waits made after a cancel are not affected by it.
  t.expires_after(1ms);
  EXPECT_TRUE(this->run(t.async_wait()).has_value());
  EXPECT_TRUE(this->run(t.async_wait_for(1ms)).has_value());
}

TYPED_TEST(timer_test, cancel_reaches_senders_made_before_it_and_started_after) {
  net::timer t(this->scheduler());
  auto early = t.async_wait_for(1ms);
  EXPECT_EQ(t.cancel(), 0U);
  EXPECT_FALSE(this->run(std::move(early)).has_value()) << "completed with set_stopped";
}

TYPED_TEST(timer_test, cancel_of_one_timer_leaves_the_others_and_copies_alone) {
  net::timer t(this->scheduler());
  net::timer copy = t;
  net::timer other(this->scheduler());
  bool copy_fired = false;
  bool other_fired = false;
  bool t_stopped = false;
  auto r = this->run(ex::when_all(
      t.async_wait_for(1h) | ex::upon_stopped([&] { t_stopped = true; }),
      copy.async_wait_for(1ms) | ex::then([&] { copy_fired = true; }) | ex::upon_stopped([] {}),
      other.async_wait_for(1ms) | ex::then([&] { other_fired = true; }) | ex::upon_stopped([] {}),
      ex::schedule(this->scheduler()) | ex::then([&] { t.cancel(); })));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(t_stopped);
  EXPECT_TRUE(copy_fired);
  EXPECT_TRUE(other_fired);
}

TYPED_TEST(timer_test, moved_timer_takes_its_waits_along) {
  net::timer t(this->scheduler());
  auto wait = t.async_wait_for(1h);
  net::timer moved(std::move(t));
  EXPECT_EQ(t.cancel(), 0U);  // NOLINT(bugprone-use-after-move): a moved-from timer cancels nothing
  EXPECT_EQ(moved.cancel(), 0U);
  EXPECT_FALSE(this->run(std::move(wait)).has_value());
}

// cancel() from another thread while the context runs its waits: each wait completes exactly once,
// with set_stopped (cancelled) or set_value (fired first). Clean under ThreadSanitizer.
TYPED_TEST(timer_test, cancel_from_another_thread_races_completion) {
  net::timer t(this->scheduler());
  int stopped = 0;
  for (int i = 0; i < 1000; ++i) {
    senet::test::io_outcome<> outcome;
    // Alternately a wait that fires at once (racing the cancel) and one that only the cancel ends.
    auto op = ex::connect(i % 2 == 0 ? t.async_wait_for(0ms) : t.async_wait_for(1h),
                          senet::test::io_probe<>{&this->ctx(), &outcome});
    std::thread loop([&] { senet::test::run_until_done(this->ctx(), outcome); });
    ex::start(op);
    std::size_t cancelled = t.cancel();
    loop.join();
    ASSERT_TRUE(outcome.stopped || outcome.value.has_value()) << i;
    ASSERT_FALSE(outcome.error.has_value());
    // The one wait was started before the cancel: counted as pending, unless it had completed.
    ASSERT_LE(cancelled, 1U) << i;
    if (outcome.stopped) {
      ASSERT_EQ(cancelled, 1U) << "a wait stopped by the cancel was pending, iteration " << i;
    }
    if (i % 2 == 1) {
      ASSERT_TRUE(outcome.stopped) << "a wait of an hour ends only by the cancel, iteration " << i;
    }
    stopped += outcome.stopped ? 1 : 0;
  }
  EXPECT_GE(stopped, 500);
}

TYPED_TEST(timer_test, a_wait_handed_off_before_its_timer_is_destroyed_completes_once_at_its_expiry) {
  // Started on a thread that does not run the context, the wait reaches the loop only when it
  // runs, after the timer was destroyed (on another thread); a timer "need not outlive the waits
  // it started (destroying it does not cancel them)": the wait completes once, at its expiry.
  std::optional<net::timer> t(std::in_place, this->scheduler());
  auto start = t->now();
  t->expires_after(2ms);
  senet::test::io_outcome<> outcome;
  auto op = ex::connect(t->async_wait(), senet::test::io_probe<>{&this->ctx(), &outcome});
  std::thread([&] { ex::start(op); }).join();
  std::thread([&] { t.reset(); }).join();
  // run() (not run_until_done's polls) lets the test backend's virtual clock reach the expiry.
  this->ctx().run();
  EXPECT_TRUE(outcome.value_once());
  EXPECT_GE(io::detail::now(this->ctx()) - start, 2ms) << "the wait ran to its expiry";
}

TYPED_TEST(timer_test, a_wait_handed_off_before_its_timer_is_cancelled_and_destroyed_completes_once_stopped) {
  // As above, but the other thread cancels the timer before destroying it: the wait had been
  // started, so it counts as pending, and it completes once with set_stopped() when the loop
  // takes it, long before its expiry.
  std::optional<net::timer> t(std::in_place, this->scheduler());
  t->expires_after(1h);
  senet::test::io_outcome<> outcome;
  auto op = ex::connect(t->async_wait(), senet::test::io_probe<>{&this->ctx(), &outcome});
  std::thread([&] { ex::start(op); }).join();
  std::size_t cancelled = 99;
  std::thread([&] {
    cancelled = t->cancel();
    t.reset();
  }).join();
  EXPECT_EQ(cancelled, 1U);
  ASSERT_TRUE(senet::test::run_until_done(this->ctx(), outcome));
  EXPECT_TRUE(outcome.stopped_once());
}

}  // namespace
