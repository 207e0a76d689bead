// SPDX-License-Identifier: BSL-1.0
// io_context::run_for (Asio's semantics), on every backend.
#include <senet/io/io_context.hpp>

#include <senet/execution.hpp>
#include <senet/net/async_wait.hpp>

#include <support/backend_fixture.hpp>
#include <support/io_probe.hpp>

#include <gtest/gtest.h>

#include <chrono>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;

struct counting_receiver {
  using receiver_concept = ex::receiver_t;
  int* values;
  void set_value() && noexcept { ++*values; }
  void set_stopped() && noexcept {}
};

template <class Backend>
class io_context_run_for : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(io_context_run_for, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(io_context_run_for, returns_the_handlers_run_once_the_work_is_done) {
  int values = 0;
  auto s = this->scheduler();
  auto op1 = ex::connect(ex::schedule(s), counting_receiver{&values});
  auto op2 = ex::connect(ex::schedule(s), counting_receiver{&values});
  auto op3 = ex::connect(ex::schedule(s), counting_receiver{&values});
  ex::start(op1);
  ex::start(op2);
  ex::start(op3);
  // Returns as soon as nothing is left, long before the hour.
  EXPECT_EQ(this->ctx().run_for(1h), 3U);
  EXPECT_EQ(values, 3);
  EXPECT_EQ(this->ctx().run_for(1h), 0U);  // no work: at once
}

TYPED_TEST(io_context_run_for, runs_timers_that_expire_within_the_duration) {
  senet::test::io_outcome<> outcome;
  auto op = ex::connect(net::async_wait_for(this->scheduler(), 5ms),
                        senet::test::io_probe<>{&this->ctx(), &outcome});
  ex::start(op);
  EXPECT_EQ(this->ctx().run_for(10s), 1U);
  EXPECT_TRUE(outcome.done.load());
  EXPECT_TRUE(outcome.value_once());
}

TYPED_TEST(io_context_run_for, returns_when_the_duration_has_passed) {
  senet::test::io_outcome<> outcome;
  auto op = ex::connect(net::async_wait_for(this->scheduler(), 1h),
                        senet::test::io_probe<>{&this->ctx(), &outcome});
  ex::start(op);
  auto before = io::detail::now(this->ctx());
  EXPECT_EQ(this->ctx().run_for(20ms), 0U);
  auto after = io::detail::now(this->ctx());
  EXPECT_GE(after - before, 20ms);  // on the context's clock (virtual on the test backend)
  EXPECT_FALSE(outcome.done.load());
  // The timer is still pending; it is cancelled by the destructor.
  outcome.stop.request_stop();
  EXPECT_EQ(this->ctx().run_for(10s), 1U);
  EXPECT_TRUE(outcome.stopped_once());
}

TYPED_TEST(io_context_run_for, returns_on_stop) {
  senet::test::io_outcome<> outcome;
  auto op = ex::connect(net::async_wait_for(this->scheduler(), 1h),
                        senet::test::io_probe<>{&this->ctx(), &outcome});
  ex::start(op);
  int values = 0;
  auto stopper =
      ex::connect(ex::schedule(this->scheduler()) | ex::then([&]() noexcept { this->ctx().stop(); }),
                  counting_receiver{&values});
  ex::start(stopper);
  EXPECT_EQ(this->ctx().run_for(1h), 1U);
  EXPECT_TRUE(this->ctx().stopped());
  EXPECT_FALSE(outcome.done.load());
  this->ctx().restart();
  outcome.stop.request_stop();
  EXPECT_EQ(this->ctx().run_for(10s), 1U);
}

TYPED_TEST(io_context_run_for, a_zero_duration_runs_nothing) {
  int values = 0;
  auto op = ex::connect(ex::schedule(this->scheduler()), counting_receiver{&values});
  ex::start(op);
  EXPECT_EQ(this->ctx().run_for(0ms), 0U);
  EXPECT_EQ(this->ctx().run_for(-5ms), 0U);
  EXPECT_EQ(values, 0);
  EXPECT_EQ(this->ctx().run_for(1s), 1U);
  EXPECT_EQ(values, 1);
}

TYPED_TEST(io_context_run_for, a_huge_duration_does_not_overflow) {
  int values = 0;
  auto op = ex::connect(ex::schedule(this->scheduler()), counting_receiver{&values});
  ex::start(op);
  EXPECT_EQ(this->ctx().run_for(std::chrono::hours::max()), 1U);
  EXPECT_EQ(this->ctx().run_for(std::chrono::nanoseconds::max()), 0U);
}

}  // namespace
