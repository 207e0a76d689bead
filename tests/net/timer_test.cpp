// SPDX-License-Identifier: BSL-1.0
#include <senet/net/timer.hpp>

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/async_wait.hpp>

#include <support/backend_fixture.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
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
    // sync_wait's environment has a run_loop scheduler, not an io one: the timer's own is used.
    EXPECT_TRUE(ex::sync_wait(t.async_wait_for(1ms)).has_value());
  }
  loop.join();
}

TYPED_TEST(timer_test, need_not_outlive_its_waits) {
  std::optional<net::timer> t(std::in_place, this->scheduler());
  t->expires_after(2ms);
  auto wait = t->async_wait();
  auto other = t->async_wait_for(1ms);
  t.reset();
  ASSERT_TRUE(this->run(ex::when_all(std::move(wait), std::move(other))).has_value());
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

}  // namespace
