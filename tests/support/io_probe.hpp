// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_IO_PROBE_HPP
#define SENET_TEST_SUPPORT_IO_PROBE_HPP

/* A receiver for driving one networking operation by hand: its environment carries an io
   scheduler and the token of a stop source the test owns, and it records which channel completed
   (and the values) in an `io_outcome`.

   It keeps the expect receivers' discipline (support/expect_receiver.hpp): a second completion
   fails the test at once (from whichever thread it comes) and changes nothing in the outcome; an
   operation state destroyed without having completed fails the test (only the receiver that was
   moved last, the one the operation state owns, checks); and `io_outcome::stopped_once()`,
   `value_once()` and `error_once()` check that the one completion came on the expected channel.
   `run_until_done` waits at most `wait_limit` (support/deadline.hpp) and then fails the test, asks
   the operation to stop through the outcome's stop source, and aborts if even that does not end
   it. Thread-safe to observe: `done()` is atomic, and the results are written before it is set. */

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <support/deadline.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <sstream>
#include <system_error>
#include <tuple>
#include <utility>

#include <poll.h>

namespace senet::test {

/** What an operation completed with. `Values` are the decayed value types expected. */
template <class... Values>
struct io_outcome {
  std::optional<std::tuple<Values...>> value;
  std::optional<std::error_code> error;
  bool stopped = false;
  std::atomic<bool> done{false};
  /** How many times the operation completed (more than once has already failed the test). */
  std::atomic<int> completions{0};
  ex::inplace_stop_source stop;
  /** Set by a test whose operation is meant never to complete (abandoned by a context's
      destructor): then the probe does not fail when its operation state goes without a completion. */
  bool abandoned = false;

  /** Success when the operation completed exactly once, with `set_stopped()`. */
  [[nodiscard]] ::testing::AssertionResult stopped_once() const { return check(stopped, "set_stopped()"); }

  /** Success when the operation completed exactly once, with `set_value`. */
  [[nodiscard]] ::testing::AssertionResult value_once() const {
    return check(value.has_value(), "set_value");
  }

  /** Success when the operation completed exactly once, with `set_error(expected)` (any error when
      `expected` is empty). */
  [[nodiscard]] ::testing::AssertionResult error_once(std::error_code expected = {}) const {
    std::ostringstream want;
    want << "set_error(" << (expected ? expected.message() : std::string("any error_code")) << ")";
    return check(error.has_value() && (!expected || *error == expected), want.str().c_str());
  }

  /** What the operation completed with, for messages. */
  [[nodiscard]] std::string describe() const {
    if (!done.load(std::memory_order_acquire)) {
      return "no completion";
    }
    std::ostringstream s;
    if (value) {
      s << "set_value";
    } else if (error) {
      s << "set_error(" << *error << " " << error->message() << ")";
    } else {
      s << "set_stopped()";
    }
    int n = completions.load();
    if (n != 1) {
      s << " and " << (n - 1) << " more completion(s)";
    }
    return s.str();
  }

 private:
  ::testing::AssertionResult check(bool channel_ok, char const* expected) const {
    if (done.load(std::memory_order_acquire) && completions.load() == 1 && channel_ok) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "expected exactly one " << expected << ", got " << describe();
  }
};

/** The receiver that fills an `io_outcome`. */
template <class... Values>
class io_probe {
 public:
  using receiver_concept = ex::receiver_t;

  io_probe(io::io_context* ctx, io_outcome<Values...>* outcome) noexcept : ctx_(ctx), outcome_(outcome) {}
  io_probe(io_probe&& other) noexcept
      : ctx_(other.ctx_), outcome_(other.outcome_), owner_(std::exchange(other.owner_, false)) {}
  io_probe(io_probe const&) = delete;
  io_probe& operator=(io_probe const&) = delete;
  io_probe& operator=(io_probe&&) = delete;
  ~io_probe() {
    if (owner_ && outcome_->completions.load() == 0 && !outcome_->abandoned) {
      ADD_FAILURE() << "io_probe: the operation state was destroyed without the operation having completed";
    }
  }

  struct env {
    io::io_context* ctx;
    ex::inplace_stop_token token;
    [[nodiscard]] io::io_context::scheduler_type query(ex::get_scheduler_t) const noexcept {
      return ctx->get_scheduler();
    }
    [[nodiscard]] ex::inplace_stop_token query(ex::get_stop_token_t) const noexcept { return token; }
  };

  template <class... Ts>
  void set_value(Ts&&... ts) && noexcept {
    if (first("set_value")) {
      outcome_->value.emplace(std::forward<Ts>(ts)...);
      outcome_->done.store(true, std::memory_order_release);
    }
  }
  void set_error(std::error_code ec) && noexcept {
    if (first("set_error")) {
      outcome_->error = ec;
      outcome_->done.store(true, std::memory_order_release);
    }
  }
  void set_stopped() && noexcept {
    if (first("set_stopped")) {
      outcome_->stopped = true;
      outcome_->done.store(true, std::memory_order_release);
    }
  }
  [[nodiscard]] env get_env() const noexcept { return {ctx_, outcome_->stop.get_token()}; }

 private:
  bool first(char const* channel) noexcept {
    if (outcome_->completions.fetch_add(1, std::memory_order_acq_rel) != 0) {
      ADD_FAILURE() << "io_probe: the operation completed more than once (again with " << channel << ")";
      return false;
    }
    return true;
  }

  io::io_context* ctx_;
  io_outcome<Values...>* outcome_;
  bool owner_ = true;
};

/** Runs `ctx` (on this thread) until `outcome` is done, even if the operation is started (or
    completes inline) on another thread after this began: it polls the context, and waits on its
    wait_descriptor() for at most 10 ms at a time. After `limit` it fails the test and asks the
    operation to stop (through `outcome.stop`); the watchdog aborts the process if the operation
    does not complete `abort_grace` later. Returns whether the operation completed within
    `limit`. */
template <class... Values>
bool run_until_done(io::io_context& ctx, io_outcome<Values...>& outcome,
                    std::chrono::steady_clock::duration limit = wait_limit) {
  deadline_guard guard("run_until_done", nullptr, limit);
  bool stop_requested = false;
  while (!outcome.done.load(std::memory_order_acquire)) {
    if (!stop_requested && guard.expired()) {
      stop_requested = true;
      outcome.stop.request_stop();
    }
    if (ctx.poll() == 0 && !outcome.done.load(std::memory_order_acquire)) {
      ::pollfd p{ctx.wait_descriptor(), POLLIN, 0};
      ::poll(&p, 1, 10);
    }
  }
  return !guard.expired();
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_IO_PROBE_HPP
