// SPDX-License-Identifier: BSL-1.0
// senet-test-labels: threaded (the watchdog of support/deadline.hpp stops contexts from its own thread)
// The io_probe itself: it must fail on what it does not expect (a second completion, a wrong
// channel, no completion), or the tests that use it could not fail.
#include <support/io_probe.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>

#include <support/backend_fixture.hpp>
#include <support/channel_sender.hpp>
#include <support/pending_sender.hpp>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <system_error>
#include <utility>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
namespace t = senet::test;

auto const reset = std::make_error_code(std::errc::connection_reset);
auto const refused = std::make_error_code(std::errc::connection_refused);

/** Completes twice inside start(): first with set_value(1), then with `second`. */
template <class Second>
struct twice_sender {
  using sender_concept = ex::sender_tag;
  using completion_signatures =
      ex::completion_signatures<ex::set_value_t(std::size_t), ex::set_error_t(std::error_code),
                                ex::set_stopped_t()>;
  Second second;

  template <class Rcvr>
  struct operation {
    using operation_state_concept = ex::operation_state_tag;
    Second second;
    Rcvr rcvr;
    void start() & noexcept {
      ex::set_value(std::move(rcvr), std::size_t{1});
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
class io_probe_test : public t::backend_fixture<Backend> {};

TYPED_TEST_SUITE(io_probe_test, t::all_backends, t::backend_names);

TYPED_TEST(io_probe_test, records_one_value) {
  t::io_outcome<std::size_t> outcome;
  {
    auto op = ex::connect(t::channel_sender<std::size_t>::value(7),
                          t::io_probe<std::size_t>{&this->ctx(), &outcome});
    ex::start(op);
  }
  EXPECT_TRUE(outcome.value_once());
  EXPECT_EQ(std::get<0>(*outcome.value), 7U);
  EXPECT_FALSE(outcome.stopped_once());
  EXPECT_FALSE(outcome.error_once());
  EXPECT_EQ(outcome.completions.load(), 1);
}

TYPED_TEST(io_probe_test, records_one_error) {
  t::io_outcome<std::size_t> outcome;
  {
    auto op = ex::connect(t::channel_sender<std::size_t>::error(reset),
                          t::io_probe<std::size_t>{&this->ctx(), &outcome});
    ex::start(op);
  }
  EXPECT_TRUE(outcome.error_once());
  EXPECT_TRUE(outcome.error_once(reset));
  EXPECT_FALSE(outcome.error_once(refused));
  EXPECT_FALSE(outcome.value_once());
  EXPECT_FALSE(outcome.stopped_once());
}

TYPED_TEST(io_probe_test, records_one_stop) {
  t::io_outcome<std::size_t> outcome;
  {
    auto op = ex::connect(t::channel_sender<std::size_t>::stopped(),
                          t::io_probe<std::size_t>{&this->ctx(), &outcome});
    ex::start(op);
  }
  EXPECT_TRUE(outcome.stopped_once());
  EXPECT_FALSE(outcome.value_once());
  EXPECT_FALSE(outcome.error_once());
}

TYPED_TEST(io_probe_test, the_wrong_channel_names_what_came) {
  t::io_outcome<std::size_t> outcome;
  {
    auto op = ex::connect(t::channel_sender<std::size_t>::error(reset),
                          t::io_probe<std::size_t>{&this->ctx(), &outcome});
    ex::start(op);
  }
  auto r = outcome.stopped_once();
  ASSERT_FALSE(r);
  EXPECT_NE(std::string(r.message()).find("expected exactly one set_stopped(), got set_error("),
            std::string::npos)
      << r.message();
}

TYPED_TEST(io_probe_test, fails_on_a_second_value) {
  t::io_outcome<std::size_t> outcome;
  EXPECT_NONFATAL_FAILURE(
      {
        auto op = ex::connect(twice([](auto&& r) { ex::set_value(std::move(r), std::size_t{2}); }),
                              t::io_probe<std::size_t>{&this->ctx(), &outcome});
        ex::start(op);
      },
      "completed more than once (again with set_value)");
  EXPECT_EQ(outcome.completions.load(), 2);
  EXPECT_EQ(std::get<0>(*outcome.value), 1U);  // the second completion changed nothing
  EXPECT_FALSE(outcome.value_once());
}

TYPED_TEST(io_probe_test, fails_on_a_stop_after_a_value) {
  t::io_outcome<std::size_t> outcome;
  EXPECT_NONFATAL_FAILURE(
      {
        auto op = ex::connect(twice([](auto&& r) { ex::set_stopped(std::move(r)); }),
                              t::io_probe<std::size_t>{&this->ctx(), &outcome});
        ex::start(op);
      },
      "again with set_stopped");
  EXPECT_FALSE(outcome.stopped);
  EXPECT_FALSE(outcome.stopped_once());
  EXPECT_FALSE(outcome.value_once());
}

TYPED_TEST(io_probe_test, fails_on_an_error_after_a_value) {
  t::io_outcome<std::size_t> outcome;
  EXPECT_NONFATAL_FAILURE(
      {
        auto op = ex::connect(twice([](auto&& r) { ex::set_error(std::move(r), reset); }),
                              t::io_probe<std::size_t>{&this->ctx(), &outcome});
        ex::start(op);
      },
      "again with set_error");
  EXPECT_FALSE(outcome.error.has_value());
}

TYPED_TEST(io_probe_test, fails_when_the_operation_never_completed) {
  t::io_outcome<> outcome;
  t::pending_control never;
  EXPECT_NONFATAL_FAILURE(
      {
        auto op = ex::connect(never.sender(), t::io_probe<>{&this->ctx(), &outcome});
        ex::start(op);
        // Destroyed while pending (the pending sender allows it): the probe must notice.
      },
      "destroyed without the operation having completed");
}

TYPED_TEST(io_probe_test, an_abandoned_operation_may_go_without_completing) {
  t::io_outcome<> outcome;
  outcome.abandoned = true;
  t::pending_control never;
  {
    auto op = ex::connect(never.sender(), t::io_probe<>{&this->ctx(), &outcome});
    ex::start(op);
  }
  EXPECT_FALSE(outcome.done.load());
}

TYPED_TEST(io_probe_test, a_moved_from_probe_does_not_check) {
  t::io_outcome<> outcome;
  t::io_probe<> first{&this->ctx(), &outcome};
  {
    t::io_probe<> second(std::move(first));
    ex::set_value(std::move(second));
  }
  EXPECT_TRUE(outcome.value_once());
}  // `first` is destroyed here, moved-from: no failure

TYPED_TEST(io_probe_test, run_until_done_waits_for_a_real_operation) {
  auto pair = this->tcp_pair();
  char in = 0;
  char out = 'x';
  t::io_outcome<std::size_t> outcome;
  auto op = ex::connect(net::async_receive(pair.server, senet::buffer(&in, 1)),
                        t::io_probe<std::size_t>{&this->ctx(), &outcome});
  ex::start(op);
  ASSERT_EQ(this->value_of(net::async_send(pair.client, senet::buffer(&out, 1))), 1U);
  EXPECT_TRUE(t::run_until_done(this->ctx(), outcome));
  EXPECT_TRUE(outcome.value_once());
  EXPECT_EQ(in, 'x');
}

TYPED_TEST(io_probe_test, run_until_done_fails_after_its_limit_and_asks_for_a_stop) {
  auto pair = this->tcp_pair();
  char in = 0;
  t::io_outcome<std::size_t> outcome;
  auto op = ex::connect(net::async_receive(pair.server, senet::buffer(&in, 1)),
                        t::io_probe<std::size_t>{&this->ctx(), &outcome});
  ex::start(op);
  bool in_time = true;
  auto const start = std::chrono::steady_clock::now();
  EXPECT_NONFATAL_FAILURE(in_time = t::run_until_done(this->ctx(), outcome, 100ms),
                          "run_until_done: not finished within 100 ms");
  EXPECT_FALSE(in_time);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  EXPECT_TRUE(outcome.stopped_once());  // the stop request ended the receive
}

}  // namespace
