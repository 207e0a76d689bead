// SPDX-License-Identifier: BSL-1.0
// The timed part of io_context::scheduler_type: schedule_after, schedule_at and now, with the
// interface of stdexec's timed schedulers.
#include <senet/io/io_context.hpp>

#include <senet/config.hpp>
#include <senet/execution.hpp>
#include <senet/net/async_wait.hpp>

#include <support/backend_fixture.hpp>
#include <support/completion_signatures.hpp>
#include <support/run.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <type_traits>

#include <poll.h>

#if SENET_USE_STDEXEC
#include <exec/timed_scheduler.hpp>
#endif

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
using clock_type = std::chrono::steady_clock;

template <class Backend>
class scheduler_timers : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(scheduler_timers, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(scheduler_timers, completion_signatures_and_completion_scheduler) {
  auto sch = this->scheduler();
  using sndr = decltype(sch.schedule_after(1ms));
  static_assert(senet::test::sends_v<sndr, ex::set_value_t()>);
  static_assert(senet::test::sends_v<sndr, ex::set_stopped_t()>);
  static_assert(std::is_same_v<decltype(sch.schedule_at(clock_type::now())), sndr>);
  EXPECT_TRUE(ex::get_completion_scheduler<ex::set_value_t>(ex::get_env(sch.schedule_after(1ms))) == sch);
}

TYPED_TEST(scheduler_timers, now_is_the_contexts_clock) {
  auto sch = this->scheduler();
  auto a = sch.now();
  auto b = sch.now();
  EXPECT_LE(a, b);
  if (this->kind == io::backend_kind::test) {
    // The virtual clock moves only when the context runs a timer.
    EXPECT_EQ(a, b);
  }
}

TYPED_TEST(scheduler_timers, schedule_after_completes_after_the_duration) {
  auto sch = this->scheduler();
  auto before = sch.now();
  ASSERT_TRUE(this->run(sch.schedule_after(20ms)).has_value());
  auto elapsed = sch.now() - before;
  EXPECT_GE(elapsed, 20ms);
  if (this->kind == io::backend_kind::test) {
    EXPECT_EQ(elapsed, 20ms) << "the virtual clock jumps to the deadline exactly";
  }
}

TYPED_TEST(scheduler_timers, schedule_at_completes_at_the_time_point) {
  auto sch = this->scheduler();
  auto deadline = sch.now() + 15ms;
  ASSERT_TRUE(this->run(sch.schedule_at(deadline)).has_value());
  EXPECT_GE(sch.now(), deadline);
  if (this->kind == io::backend_kind::test) {
    EXPECT_EQ(sch.now(), deadline);
  }
}

TYPED_TEST(scheduler_timers, past_and_zero_deadlines_complete) {
  auto sch = this->scheduler();
  EXPECT_TRUE(this->run(sch.schedule_at(sch.now() - 1h)).has_value());
  EXPECT_TRUE(this->run(sch.schedule_after(0ms)).has_value());
  EXPECT_TRUE(this->run(sch.schedule_after(-5s)).has_value());
}

TYPED_TEST(scheduler_timers, timers_complete_in_deadline_order) {
  auto sch = this->scheduler();
  int order = 0;
  int first = 0;
  int second = 0;
  auto r = this->run(ex::when_all(sch.schedule_after(30ms) | ex::then([&] { second = ++order; }),
                                  sch.schedule_after(10ms) | ex::then([&] { first = ++order; })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 2);
}

TYPED_TEST(scheduler_timers, a_stop_request_cancels_a_pending_timer) {
  auto sch = this->scheduler();
  auto before = clock_type::now();
  // when_any: the first completion stops the other; the hour-long timer must not hold it up.
  auto r = this->run(ex::when_any(sch.schedule_after(1h) | ex::then([] { return 1; }),
                                  sch.schedule_after(1ms) | ex::then([] { return 2; })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 2);
  EXPECT_LT(clock_type::now() - before, 1min);
}

TYPED_TEST(scheduler_timers, a_huge_duration_saturates) {
  auto sch = this->scheduler();
  auto r = this->run(ex::when_any(sch.schedule_after(std::chrono::hours::max()) | ex::then([] { return 1; }),
                                  sch.schedule_after(1ms) | ex::then([] { return 2; })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 2);
}

// The completion scheduler lets a networking sender follow it (the adaptor form), and it is this
// context's.
TYPED_TEST(scheduler_timers, networking_senders_follow_it_in_the_adaptor_form) {
  auto sch = this->scheduler();
  auto before = sch.now();
  ASSERT_TRUE(this->run(sch.schedule_after(5ms) | senet::net::async_wait_for(5ms)).has_value());
  EXPECT_GE(sch.now() - before, 10ms);
}

// Started from a thread that does not run the context: the timer moves itself to the context.
TYPED_TEST(scheduler_timers, under_sync_wait_with_the_context_on_another_thread) {
  auto sch = this->scheduler();
  io::io_context::work_guard guard(this->ctx());
  std::thread runner([this] { senet::test::bounded_run(this->ctx()); });
  std::thread::id completed_on{};
  auto r =
      ex::sync_wait(sch.schedule_after(2ms) | ex::then([&] { completed_on = std::this_thread::get_id(); }));
  guard.reset();
  runner.join();
  EXPECT_TRUE(r.has_value());
  EXPECT_NE(completed_on, std::this_thread::get_id());
}

#if SENET_USE_STDEXEC
// stdexec's timed-scheduler customisation points find the members.
TYPED_TEST(scheduler_timers, stdexec_timed_scheduler_interface) {
  auto sch = this->scheduler();
  static_assert(exec::__timed_scheduler<decltype(sch)>);
  auto before = exec::now(sch);
  ASSERT_TRUE(this->run(exec::schedule_after(sch, 5ms)).has_value());
  ASSERT_TRUE(this->run(exec::schedule_at(sch, exec::now(sch) + 5ms)).has_value());
  EXPECT_GE(exec::now(sch) - before, 10ms);
}
#endif

}  // namespace
