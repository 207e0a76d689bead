// SPDX-License-Identifier: BSL-1.0
#include <senet/io/test_network.hpp>

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/timeout.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <poll.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <tuple>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
namespace test = senet::test;

// Counts the completions of a timer; its environment has the context's scheduler and `token`.
struct timer_receiver {
  using receiver_concept = ex::receiver_t;
  io::io_context* ctx;
  ex::inplace_stop_token token;
  int* value;
  int* stopped;
  void set_value() && noexcept { ++*value; }
  void set_stopped() && noexcept {
    if (stopped != nullptr) {
      ++*stopped;
    } else {
      ADD_FAILURE() << "unexpected set_stopped";
    }
  }
  [[nodiscard]] auto get_env() const noexcept {
    return test::make_env(test::scheduler_entry(ctx->get_scheduler()), test::stop_token_entry(token));
  }
};

// ---- the controls ------------------------------------------------------------------------------

TEST(test_network, belongs_to_a_test_context) {
  io::io_context ctx{io::test};
  EXPECT_EQ(ctx.backend(), io::backend_kind::test);
  EXPECT_TRUE(io::io_context::is_available(io::backend_kind::test));
  io::test_network& net = io::test_network::of(ctx);
  EXPECT_EQ(&net, &io::test_network::of(ctx));
  io::io_context other{io::test};
  EXPECT_NE(&net, &io::test_network::of(other));
  EXPECT_GE(ctx.wait_descriptor(), 0);
}

TEST(test_network, of_a_context_on_another_backend_throws) {
  io::io_context ctx{io::epoll};
  try {
    (void)io::test_network::of(ctx);
    ADD_FAILURE() << "test_network::of accepted an epoll context";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::invalid_argument);
  }
}

TEST(test_network, settings_have_defaults_and_reject_zero) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  EXPECT_EQ(net.max_transfer(), io::test_network::no_limit);
  EXPECT_EQ(net.send_buffer_limit(), io::test_network::no_limit);
  EXPECT_EQ(net.latency(), 0s);
  net.set_max_transfer(3);
  net.set_send_buffer_limit(100);
  net.set_latency(2ms);
  EXPECT_EQ(net.max_transfer(), 3U);
  EXPECT_EQ(net.send_buffer_limit(), 100U);
  EXPECT_EQ(net.latency(), 2ms);
  net.set_latency(-1s);
  EXPECT_EQ(net.latency(), 0s);
  EXPECT_THROW(net.set_max_transfer(0), std::invalid_argument);
  EXPECT_THROW(net.set_send_buffer_limit(0), std::invalid_argument);
  EXPECT_EQ(net.max_transfer(), 3U);
  EXPECT_EQ(net.buffered(-1), 0U);
}

// ---- the virtual clock -----------------------------------------------------------------------------

TEST(test_network, ten_minute_timer_completes_at_once_in_virtual_time) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto real_start = std::chrono::steady_clock::now();
  auto t0 = net.now();
  EXPECT_TRUE(ctx.run_until(net::async_wait_for(10min)).has_value());
  EXPECT_EQ(net.now() - t0, 10min);
  // A generous bound: the point is that nobody waited ten minutes.
  EXPECT_LT(std::chrono::steady_clock::now() - real_start, 60s);
}

TEST(test_network, virtual_time_moves_only_as_far_as_the_next_deadline) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto t0 = net.now();
  int order = 0;
  int first = 0;
  int second = 0;
  int third = 0;
  auto r = ctx.run_until(ex::when_all(ex::then(net::async_wait_for(1h), [&] { third = ++order; }),
                                      ex::then(net::async_wait_for(1s), [&] { first = ++order; }),
                                      ex::then(net::async_wait_for(1min), [&] { second = ++order; })));
  EXPECT_TRUE(r.has_value());
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 2);
  EXPECT_EQ(third, 3);
  EXPECT_EQ(net.now() - t0, 1h);
}

TEST(test_network, async_wait_until_uses_the_virtual_clock) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto t0 = net.now();
  EXPECT_TRUE(ctx.run_until(net::async_wait_until(t0 + 90s)).has_value());
  EXPECT_EQ(net.now(), t0 + 90s);
  // A deadline already past completes without moving time.
  EXPECT_TRUE(ctx.run_until(net::async_wait_until(t0 + 30s)).has_value());
  EXPECT_EQ(net.now(), t0 + 90s);
}

TEST(test_network, advance_moves_the_clock_and_expires_timers) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto t0 = net.now();
  net.advance(90s);
  EXPECT_EQ(net.now(), t0 + 90s);
  net.advance(-5s);
  EXPECT_EQ(net.now(), t0 + 90s);
  // A timer started before an advance completes at the next turn, without further time passing.
  int fired = 0;
  auto op = ex::connect(net::async_wait_for(1min), timer_receiver{&ctx, {}, &fired, nullptr});
  ex::start(op);
  EXPECT_EQ(ctx.poll(), 0U);
  EXPECT_EQ(fired, 0);
  net.advance(2min);
  EXPECT_EQ(ctx.poll(), 1U);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(net.now(), t0 + 90s + 2min);
}

TEST(test_network, a_foreign_loop_sees_advanced_timers_on_the_wait_descriptor) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  int fired = 0;
  auto op = ex::connect(net::async_wait_for(5s), timer_receiver{&ctx, {}, &fired, nullptr});
  ex::start(op);
  ctx.poll();
  EXPECT_EQ(fired, 0);
  net.advance(5s);
  ::pollfd p{ctx.wait_descriptor(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  while (!fired && ctx.poll() != 0) {
  }
  EXPECT_EQ(fired, 1);
}

// ---- timeouts and cancellation -----------------------------------------------------------------

TEST(test_network, timeout_fires_in_virtual_time) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto t0 = net.now();
  try {
    ctx.run_until(net::timeout(net::async_wait_for(1h), 10min));
    ADD_FAILURE() << "the timeout did not fire";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::timed_out);
  }
  EXPECT_EQ(net.now() - t0, 10min);
}

TEST(test_network, timeout_that_does_not_fire) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto t0 = net.now();
  EXPECT_TRUE(ctx.run_until(net::timeout(net::async_wait_for(1s), 10min)).has_value());
  EXPECT_EQ(net.now() - t0, 1s);
  // The cancelled timeout timer does not move time later.
  EXPECT_TRUE(ctx.run_until(net::async_wait_for(1s)).has_value());
  EXPECT_EQ(net.now() - t0, 2s);
}

TEST(test_network, when_any_cancels_the_slower_timer) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto t0 = net.now();
  auto r = ctx.run_until(ex::when_any(ex::then(net::async_wait_for(1h), [] { return 1; }),
                                      ex::then(net::async_wait_for(1s), [] { return 2; })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 2);
  EXPECT_EQ(net.now() - t0, 1s);
  EXPECT_EQ(ctx.run(), 0U);  // nothing left: the hour-long timer was removed
  EXPECT_EQ(net.now() - t0, 1s);
}

TEST(test_network, stop_source_cancels_a_pending_timer) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto t0 = net.now();
  ex::inplace_stop_source stop;
  int value = 0;
  int stopped = 0;
  auto op = ex::connect(net::async_wait_for(10min), timer_receiver{&ctx, stop.get_token(), &value, &stopped});
  ex::start(op);
  EXPECT_EQ(ctx.poll(), 0U);
  stop.request_stop();
  ctx.run();
  EXPECT_EQ(value, 0);
  EXPECT_EQ(stopped, 1);
  EXPECT_EQ(net.now(), t0);
}

}  // namespace
