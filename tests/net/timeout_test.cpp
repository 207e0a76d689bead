// SPDX-License-Identifier: BSL-1.0
#include <senet/net/timeout.hpp>

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <support/backend_fixture.hpp>
#include <support/deadline.hpp>
#include <support/pending_sender.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <variant>

namespace {

namespace ex = senet::ex;
namespace net = senet::net;
namespace test = senet::test;
using namespace std::chrono_literals;

// What a sender completed with, for the tests to compare.
struct outcome {
  enum kind { none, value, error, stopped } kind_ = none;
  int value_ = 0;
  std::error_code error_{};
  int completions_ = 0;
};

// Completes `outcome`; its environment has the io_context's scheduler and a stop token.
template <class Sch>
struct outcome_receiver {
  using receiver_concept = ex::receiver_tag;
  outcome* out_;
  Sch sch_;
  ex::inplace_stop_token token_;

  void set_value() && noexcept { record(outcome::value, 0, {}); }
  void set_value(int v) && noexcept { record(outcome::value, v, {}); }
  void set_error(std::error_code ec) && noexcept { record(outcome::error, 0, ec); }
  void set_stopped() && noexcept { record(outcome::stopped, 0, {}); }
  auto get_env() const noexcept {
    return test::make_env(test::scheduler_entry(sch_), test::stop_token_entry(token_));
  }
  void record(outcome::kind k, int v, std::error_code ec) const noexcept {
    out_->kind_ = k;
    out_->value_ = v;
    out_->error_ = ec;
    ++out_->completions_;
  }
};

// Runs `sndr` on `ctx` until it completes; a stop is requested after the operation started if
// `request_stop`.
template <class Sndr>
outcome run_outcome(senet::io::io_context& ctx, Sndr&& sndr, bool request_stop = false) {
  ex::inplace_stop_source source;
  outcome out;
  auto op = ex::connect(std::forward<Sndr>(sndr), outcome_receiver<decltype(ctx.get_scheduler())>{
                                                      &out, ctx.get_scheduler(), source.get_token()});
  ex::start(op);
  if (request_stop) {
    source.request_stop();
  }
  {
    // Bounded: at the deadline the context is stopped, run_one() returns 0 and the test fails.
    senet::test::deadline_guard guard("timeout_test: run", &ctx);
    while (out.completions_ == 0 && ctx.run_one() != 0) {
    }
  }
  ctx.poll();  // a second completion, if there were one, would be counted now
  EXPECT_EQ(out.completions_, 1) << "the context ran out of work before the operation completed";
  return out;
}

// Every test runs on each backend (a backend that cannot be created here is skipped, saying so).
template <class Backend>
class timeout_test : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(timeout_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(timeout_test, fires_when_the_child_takes_too_long) {
  test::pending_control child;
  outcome out = run_outcome(this->ctx(), net::timeout(child.sender(), 10ms));
  EXPECT_EQ(out.kind_, outcome::error);
  EXPECT_EQ(out.error_, std::errc::timed_out);
  EXPECT_EQ(out.error_, std::make_error_code(std::errc::timed_out));
  // The child was stopped, and had completed before the timeout operation did.
  EXPECT_TRUE(child.stop_requested());
  EXPECT_TRUE(child.stopped());
}

TYPED_TEST(timeout_test, does_not_fire_when_the_child_completes_first) {
  // The timer is an hour long: if it were not stopped when the child completes, the operation
  // (which waits for both) would not complete and the test would hang.
  outcome out = run_outcome(this->ctx(), net::timeout(ex::just(5), 1h));
  EXPECT_EQ(out.kind_, outcome::value);
  EXPECT_EQ(out.value_, 5);
}

TYPED_TEST(timeout_test, child_completing_later_but_in_time) {
  // The child is a 1 ms timer, the limit an hour.
  auto r = this->run(net::timeout(net::async_wait_for(1ms) | ex::then([] { return 9; }), 1h));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 9);
}

TYPED_TEST(timeout_test, passes_the_childs_error_through) {
  auto ec = std::make_error_code(std::errc::connection_reset);
  outcome out = run_outcome(this->ctx(), net::timeout(ex::just_error(ec), 1h));
  EXPECT_EQ(out.kind_, outcome::error);
  EXPECT_EQ(out.error_, ec);
}

TYPED_TEST(timeout_test, passes_the_childs_stop_through) {
  outcome out = run_outcome(this->ctx(), net::timeout(ex::just_stopped(), 1h));
  EXPECT_EQ(out.kind_, outcome::stopped);
}

TYPED_TEST(timeout_test, outer_stop_request_stops_child_and_timer) {
  test::pending_control child;
  outcome out = run_outcome(this->ctx(), net::timeout(child.sender(), 1h), /*request_stop=*/true);
  EXPECT_EQ(out.kind_, outcome::stopped);
  EXPECT_TRUE(child.stopped());
}

TYPED_TEST(timeout_test, run_until_reports_timed_out_as_system_error) {
  test::pending_control child;
  try {
    this->run(net::timeout(child.sender(), 1ms));
    ADD_FAILURE() << "no timeout";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::timed_out);
  }
}

// A sender that customises timeout (as an io_uring operation linking IORING_OP_LINK_TIMEOUT would).
struct custom_timeout_sender {
  using sender_concept = ex::sender_tag;
  using completion_signatures = ex::completion_signatures<ex::set_value_t(int)>;
  template <class Rcvr>
  auto connect(Rcvr rcvr) && {
    return ex::connect(ex::just(1), std::move(rcvr));
  }
  auto timeout(std::chrono::nanoseconds) && { return ex::just(2); }
};

TEST(timeout, uses_the_senders_own_timeout_when_it_has_one) {
  auto [v] = ex::sync_wait(net::timeout(custom_timeout_sender{}, 1s)).value();
  EXPECT_EQ(v, 2);
}

}  // namespace
