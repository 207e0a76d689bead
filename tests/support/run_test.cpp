// SPDX-License-Identifier: BSL-1.0
// senet-test-labels: threaded (the watchdog of support/deadline.hpp stops contexts from its own thread)
// senet::test::run, value_of and error_of (and so backend_fixture's): they must fail on a second
// completion, on the wrong channel, and on no completion within their limit, or the tests that use
// them could not fail.
#include <support/run.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/net/async_receive.hpp>

#include <support/backend_fixture.hpp>
#include <support/channel_sender.hpp>
#include <support/pending_sender.hpp>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
namespace t = senet::test;

auto const reset = std::make_error_code(std::errc::connection_reset);

using int_sender = t::channel_sender<int>;

/** Completes with set_value(1), then again through `second`, inside start(). */
template <class Second>
struct twice_sender {
  using sender_concept = ex::sender_tag;
  using completion_signatures =
      ex::completion_signatures<ex::set_value_t(int), ex::set_error_t(std::error_code), ex::set_stopped_t()>;
  Second second;

  template <class Rcvr>
  struct operation {
    using operation_state_concept = ex::operation_state_tag;
    Second second;
    Rcvr rcvr;
    void start() & noexcept {
      ex::set_value(std::move(rcvr), 1);
      second(std::move(rcvr));
    }
  };

  template <class Rcvr>
  operation<Rcvr> connect(Rcvr rcvr) && {
    return {std::move(second), std::move(rcvr)};
  }
};

template <class Second>
twice_sender<Second> twice(Second second) {
  return {std::move(second)};
}

template <class Backend>
class run_test : public t::backend_fixture<Backend> {};

TYPED_TEST_SUITE(run_test, t::all_backends, t::backend_names);

TYPED_TEST(run_test, returns_like_run_until) {
  auto r = this->run(int_sender::value(3));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 3);
  EXPECT_FALSE(this->run(int_sender::stopped()).has_value());
  try {
    this->run(int_sender::error(reset));
    ADD_FAILURE() << "run did not throw on set_error";
  } catch (std::system_error const& e) {
    EXPECT_EQ(e.code(), reset);
  }
}

TYPED_TEST(run_test, gives_the_sender_the_contexts_scheduler_and_a_stop_token) {
  t::pending_control pending;
  // The pending leaf completes when the stop token run gives it is triggered: by the context's stop.
  auto r = this->run(ex::when_all(
      pending.sender(), ex::schedule(this->scheduler()) | ex::then([this] { this->ctx().stop(); })));
  EXPECT_FALSE(r.has_value());
  EXPECT_TRUE(pending.stop_requested());
}

TYPED_TEST(run_test, fails_on_a_second_value) {
  EXPECT_NONFATAL_FAILURE(this->run(twice([](auto&& r) { ex::set_value(std::move(r), 2); })),
                          "completed more than once (again with set_value)");
}

TYPED_TEST(run_test, fails_on_a_stop_after_a_value) {
  std::optional<std::tuple<int>> r;
  EXPECT_NONFATAL_FAILURE(r = this->run(twice([](auto&& r) { ex::set_stopped(std::move(r)); })),
                          "again with set_stopped");
  ASSERT_TRUE(r.has_value());  // the first completion counts, the second is not passed on
  EXPECT_EQ(std::get<0>(*r), 1);
}

TYPED_TEST(run_test, fails_on_an_error_after_a_value) {
  EXPECT_NONFATAL_FAILURE(this->run(twice([](auto&& r) { ex::set_error(std::move(r), reset); })),
                          "again with set_error");
}

TYPED_TEST(run_test, fails_when_nothing_completes_within_the_limit_and_stops_the_sender) {
  auto pair = this->tcp_pair();
  char in = 0;
  std::optional<std::tuple<std::size_t>> r;
  auto const start = std::chrono::steady_clock::now();
  EXPECT_NONFATAL_FAILURE(
      r = t::run(this->ctx(), net::async_receive(pair.server, senet::buffer(&in, 1)), "idle receive", 100ms),
      "idle receive: not finished within 100 ms (the watchdog stopped the context)");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  EXPECT_FALSE(r.has_value());  // the receive honoured the stop request
  EXPECT_TRUE(this->ctx().stopped());
}

TYPED_TEST(run_test, value_of_returns_the_value) {
  EXPECT_EQ(this->value_of(int_sender::value(5)), 5);
  auto [a, b] = this->value_of(ex::just(1, 'b'));
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 'b');
}

TYPED_TEST(run_test, value_of_fails_on_an_error) {
  int v = -1;
  EXPECT_NONFATAL_FAILURE(v = this->value_of(int_sender::error(reset)), "expected set_value");
  EXPECT_EQ(v, 0);
}

TYPED_TEST(run_test, value_of_fails_on_an_exception) {
  EXPECT_NONFATAL_FAILURE(
      this->value_of(ex::just() | ex::then([]() -> int { throw std::runtime_error("boom"); })),
      "set_error(exception: boom), expected set_value");
}

TYPED_TEST(run_test, value_of_fails_on_stopped) {
  EXPECT_NONFATAL_FAILURE(this->value_of(int_sender::stopped()),
                          "completed with set_stopped, expected set_value");
}

TYPED_TEST(run_test, error_of_returns_the_error) {
  EXPECT_EQ(this->error_of(int_sender::error(reset)), reset);
}

TYPED_TEST(run_test, error_of_fails_on_a_value) {
  std::error_code ec = reset;
  EXPECT_NONFATAL_FAILURE(ec = this->error_of(int_sender::value(1)),
                          "completed with set_value, expected set_error");
  EXPECT_FALSE(ec);
}

TYPED_TEST(run_test, error_of_fails_on_stopped) {
  EXPECT_NONFATAL_FAILURE(this->error_of(int_sender::stopped()),
                          "completed with set_stopped, expected set_error");
}

}  // namespace
