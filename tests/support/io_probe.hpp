// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_IO_PROBE_HPP
#define SENET_TEST_SUPPORT_IO_PROBE_HPP

/* A receiver for driving one networking operation by hand: its environment carries an io
   scheduler and the token of a stop source the test owns, and it records which channel completed
   (and the values). Thread-safe to observe: `done()` is atomic. */

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
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
  ex::inplace_stop_source stop;
};

/** The receiver that fills an `io_outcome`. */
template <class... Values>
struct io_probe {
  using receiver_concept = ex::receiver_t;

  io::io_context* ctx;
  io_outcome<Values...>* outcome;

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
    outcome->value.emplace(std::forward<Ts>(ts)...);
    outcome->done.store(true, std::memory_order_release);
  }
  void set_error(std::error_code ec) && noexcept {
    outcome->error = ec;
    outcome->done.store(true, std::memory_order_release);
  }
  void set_stopped() && noexcept {
    outcome->stopped = true;
    outcome->done.store(true, std::memory_order_release);
  }
  [[nodiscard]] env get_env() const noexcept { return {ctx, outcome->stop.get_token()}; }
};

/** Runs `ctx` (on this thread) until `outcome` is done, even if the operation is started (or
    completes inline) on another thread after this began: it polls the context, and waits on its
    wait_descriptor() for at most 10 ms at a time. */
template <class... Values>
void run_until_done(io::io_context& ctx, const io_outcome<Values...>& outcome) {
  while (!outcome.done.load(std::memory_order_acquire)) {
    if (ctx.poll() == 0 && !outcome.done.load(std::memory_order_acquire)) {
      ::pollfd p{ctx.wait_descriptor(), POLLIN, 0};
      ::poll(&p, 1, 10);
    }
  }
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_IO_PROBE_HPP
