// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_NET_DETAIL_IO_AWAITER_HPP
#define SENET_CORO_NET_DETAIL_IO_AWAITER_HPP

/* The one awaiter behind every asynchronous step of the facade's networking: a poll, a connect,
   the rest of a receive or send that would have blocked, and a DNS lookup.

   An `io_awaiter<Policy>` connects one of senet's senders (what `Policy::make_sender` gives:
   `net::async_wait`, `net::async_connect`, `net::async_receive`, `net::async_send`,
   `ip::async_resolve`, wrapped in `net::timeout` when a time limit is given) to its own
   receiver, in storage inside the awaiter (so inside the awaiting coroutine's frame: the awaiter
   allocates nothing), on the io_context of the scheduler the socket belongs to. Each completion
   goes to the policy, which records the result and says whether the step is done or needs
   another operation (a send that went out in part): the operation state is then rebuilt in place
   for the rest.

   With the scheduler (`coro::detail::scheduler_core`) the awaiter keeps the facade's contract:
   the operation counts in `io_scheduler::size()` while it is pending (`io_started`), the
   scheduler's `shutdown()` is its stop token (a pending wait completes at once, cancelled), and
   the coroutine resumes according to the execution strategy (`io_finished`: on the I/O thread or
   on the thread pool); an operation that completed inside `start()` lets the coroutine go on
   where it is (`io_done_inline`).

   Two races are decided with atomic exchanges, as in senet's own awaiters: an operation started
   on one thread (a pool thread) may complete on the context's thread before `start()` returned
   (`phase_`), and the last operation may complete before or after the coroutine is suspended
   (`state_`). */

#include <senet/coro/detail/scheduler_core.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/timeout.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

namespace senet::coro::net::detail {

/** What a policy says after a completion: the step is over, or another operation is needed. */
enum class io_step : std::uint8_t { done, again };

/** The errno value behind `ec`: itself for system and generic errors, the equivalent condition
    for senet's (`operation_aborted` is `ECANCELED`, `not_open` `EBADF`), else `EIO`. */
[[nodiscard]] inline int errno_of(const std::error_code& ec) noexcept {
  if (ec.category() == std::system_category() || ec.category() == std::generic_category()) {
    return ec.value();
  }
  std::error_condition cond = ec.default_error_condition();
  return cond.category() == std::generic_category() ? cond.value() : EIO;
}

/** True for the error a `net::timeout` gives when the time limit passed. */
[[nodiscard]] inline bool is_timeout(const std::error_code& ec) noexcept {
  return ec == std::errc::timed_out;
}

/** The awaiter of one asynchronous step; see the file comment. `Policy` provides `result_type`,
    `make_sender(io::io_context::scheduler_type)`, `io_step on_value(values...)`,
    `io_step on_error(std::error_code)`, `void on_stopped()`, `void on_timeout()` (the time limit
    passed before another operation could start), and `result_type result()`. */
template <class Policy>
class io_awaiter {
  struct receiver;
  using scheduler_type = io::io_context::scheduler_type;
  using plain_sender = decltype(std::declval<Policy&>().make_sender(std::declval<scheduler_type>()));
  using timed_sender = decltype(senet::net::timeout(std::declval<plain_sender>(),
                                                    std::declval<io::detail::clock::duration>()));
  using plain_operation = ex::connect_result_t<plain_sender, receiver>;
  using timed_operation = ex::connect_result_t<timed_sender, receiver>;

 public:
  using result_type = typename Policy::result_type;

  /** A step of `policy` on `scheduler`'s io_context, limited to `timeout` (0: no limit). A null
      `scheduler` is for an awaiter that is never suspended (its owner is ready at once). */
  io_awaiter(coro::detail::scheduler_core* scheduler, Policy policy,
             std::chrono::milliseconds timeout) noexcept(std::is_nothrow_move_constructible_v<Policy>)
      : scheduler_(scheduler), policy_(std::move(policy)), timeout_(timeout) {}

  /** Moves an awaiter that has not been awaited (its operation is built when it is). */
  io_awaiter(io_awaiter&& other) noexcept(std::is_nothrow_move_constructible_v<Policy>)
      : scheduler_(other.scheduler_), policy_(std::move(other.policy_)), timeout_(other.timeout_) {}
  io_awaiter(const io_awaiter&) = delete;
  io_awaiter& operator=(const io_awaiter&) = delete;
  io_awaiter& operator=(io_awaiter&&) = delete;
  ~io_awaiter() = default;

  [[nodiscard]] bool await_ready() const noexcept { return false; }

  bool await_suspend(std::coroutine_handle<> h) noexcept {
    handle_ = h;
    scheduler_->io_started();
    if (timeout_.count() > 0) {
      deadline_ = io::detail::now(scheduler_->context()) + timeout_;
    }
    run();
    if (state_.exchange(suspended, std::memory_order_acq_rel) == done) {
      scheduler_->io_done_inline();
      return false;
    }
    return true;
  }

  result_type await_resume() noexcept(noexcept(std::declval<Policy&>().result())) { return policy_.result(); }

  /** The policy, for the owner's use after the step (the connect's error code). */
  [[nodiscard]] Policy& policy() noexcept { return policy_; }

 private:
  enum : int { idle = 0, suspended = 1, done = 2 };
  enum : int { starting = 0, waiting = 1, completed = 2 };

  struct receiver {
    using receiver_concept = ex::receiver_t;
    io_awaiter* self_;

    // The scheduler's shutdown as the stop token, and its io_context's scheduler, where a sender
    // that is not bound to one completes (`ip::async_resolve`) and where the timer of the generic
    // `net::timeout` runs.
    struct env {
      ex::inplace_stop_token token_;
      scheduler_type scheduler_;
      [[nodiscard]] ex::inplace_stop_token query(ex::get_stop_token_t) const noexcept { return token_; }
      [[nodiscard]] scheduler_type query(ex::get_scheduler_t) const noexcept { return scheduler_; }
    };

    template <class... Values>
    void set_value(Values&&... values) && noexcept {
      self_->completed_step(self_->policy_.on_value(std::forward<Values>(values)...));
    }
    void set_error(std::error_code ec) && noexcept { self_->completed_step(self_->policy_.on_error(ec)); }
    void set_error(std::exception_ptr) && noexcept {
      self_->completed_step(self_->policy_.on_error(std::make_error_code(std::errc::not_enough_memory)));
    }
    void set_stopped() && noexcept {
      self_->policy_.on_stopped();
      self_->completed_step(io_step::done);
    }
    [[nodiscard]] env get_env() const noexcept {
      return {self_->scheduler_->stop_token(), self_->scheduler_->context().get_scheduler()};
    }
  };

  // Builds an operation state in place from its sender (operation states cannot be moved).
  template <class Operation, class Make>
  struct connector {
    Make make_;
    io_awaiter* self_;
    // NOLINTNEXTLINE(google-explicit-constructor)
    operator Operation() const { return ex::connect(make_(), receiver{self_}); }
  };

  // Starts operations until one has to wait, or the step is done.
  void run() noexcept {
    for (;;) {
      if (!start_one()) {
        return;  // its completion goes on
      }
      if (last_ == io_step::done) {
        finish();
        return;
      }
    }
  }

  // Starts the next operation; true when it completed inside start() (the caller goes on).
  bool start_one() noexcept {
    phase_.store(starting, std::memory_order_relaxed);
    scheduler_type sch = scheduler_->context().get_scheduler();
    if (timeout_.count() > 0) {
      io::detail::clock::duration left = deadline_ - io::detail::now(scheduler_->context());
      if (left <= io::detail::clock::duration::zero()) {
        policy_.on_timeout();
        last_ = io_step::done;
        return true;
      }
      auto make = [this, sch, left] { return senet::net::timeout(policy_.make_sender(sch), left); };
      timed_.reset();
      timed_.emplace(connector<timed_operation, decltype(make)>{make, this});
      ex::start(*timed_);
    } else {
      auto make = [this, sch] { return policy_.make_sender(sch); };
      plain_.reset();
      plain_.emplace(connector<plain_operation, decltype(make)>{make, this});
      ex::start(*plain_);
    }
    return phase_.exchange(waiting, std::memory_order_acq_rel) == completed;
  }

  // From the receiver, on the context's thread (or inside start()).
  void completed_step(io_step step) noexcept {
    last_ = step;
    // Inside start() (also on another thread, still returning from it): start_one's caller goes on.
    if (phase_.exchange(completed, std::memory_order_acq_rel) == starting) {
      return;
    }
    if (step == io_step::done) {
      finish();
    } else {
      run();
    }
  }

  void finish() noexcept {
    if (state_.exchange(done, std::memory_order_acq_rel) == suspended) {
      scheduler_->io_finished(handle_);
    }
  }

  coro::detail::scheduler_core* scheduler_;
  Policy policy_;
  std::chrono::milliseconds timeout_;
  io::detail::clock::time_point deadline_{};
  std::coroutine_handle<> handle_{};
  std::atomic<int> state_{idle};
  std::atomic<int> phase_{waiting};
  io_step last_ = io_step::done;
  std::optional<plain_operation> plain_{};
  std::optional<timed_operation> timed_{};
};

}  // namespace senet::coro::net::detail

#endif  // SENET_CORO_NET_DETAIL_IO_AWAITER_HPP
