// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_TIMER_HPP
#define SENET_NET_TIMER_HPP

#include <senet/execution.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/detail/wait_kind.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

namespace senet::net {

namespace detail {

/** The waits a timer started since its last `cancel()`: `cancel()` stops `source` and starts a new
    generation. Each wait keeps its generation alive, so a timer need not outlive its waits. */
struct timer_generation {
  ex::inplace_stop_source source;
  std::atomic<std::size_t> pending{0};
};

/** What a timer shares with its copies of the current generation. */
struct timer_shared {
  std::mutex mutex;
  std::shared_ptr<timer_generation> current = std::make_shared<timer_generation>();
};

/** The operation state of a timer's wait: the timer operation (`wait_kind`), run with a stop token
    of its own that is stopped by the receiver's stop token or by the timer's `cancel()`. Owning a
    stop source is safe here: a cancelled timer never completes inside the stop request (it
    completes through the context's ready queue). */
template <class Rcvr>
class timer_wait_operation {
  struct forward_stop {
    timer_wait_operation* op_;
    void operator()() noexcept { op_->source_.request_stop(); }
  };

  struct inner_env {
    const ex::inplace_stop_source* source_;
    [[nodiscard]] ex::inplace_stop_token query(ex::get_stop_token_t) const noexcept {
      return source_->get_token();
    }
  };

  struct inner_receiver {
    using receiver_concept = ex::receiver_t;
    timer_wait_operation* op_;
    void set_value() && noexcept { op_->done(true); }
    void set_stopped() && noexcept { op_->done(false); }
    [[nodiscard]] inner_env get_env() const noexcept { return {&op_->source_}; }
  };

  using rcvr_token = ex::stop_token_of_t<ex::env_of_t<Rcvr>>;
  static constexpr bool rcvr_stoppable = !ex::unstoppable_token<rcvr_token>;
  struct no_callback {};
  using rcvr_callback =
      std::conditional_t<rcvr_stoppable, std::optional<ex::stop_callback_for_t<rcvr_token, forward_stop>>,
                         no_callback>;
  using generation_callback = ex::stop_callback_for_t<ex::inplace_stop_token, forward_stop>;

 public:
  using operation_state_concept = ex::operation_state_t;

  timer_wait_operation(io::io_context& ctx, wait_kind kind, std::shared_ptr<timer_generation> generation,
                       Rcvr rcvr) noexcept(std::is_nothrow_move_constructible_v<Rcvr>)
      : rcvr_(std::move(rcvr)),
        generation_(std::move(generation)),
        inner_(ctx, std::move(kind), inner_receiver{this}) {}
  timer_wait_operation(const timer_wait_operation&) = delete;
  timer_wait_operation& operator=(const timer_wait_operation&) = delete;

  void start() & noexcept {
    if (generation_ != nullptr) {
      generation_->pending.fetch_add(1, std::memory_order_relaxed);
      // Runs at once if the timer was cancelled since the sender was made.
      generation_callback_.emplace(generation_->source.get_token(), forward_stop{this});
    }
    if constexpr (rcvr_stoppable) {
      rcvr_callback_.emplace(ex::get_stop_token(ex::get_env(rcvr_)), forward_stop{this});
    }
    ex::start(inner_);
  }

 private:
  void done(bool fired) noexcept {
    // Destroying a callback waits for it if another thread is running it, so no stop request
    // reaches `source_` once this operation is completed.
    if constexpr (rcvr_stoppable) {
      rcvr_callback_.reset();
    }
    generation_callback_.reset();
    if (generation_ != nullptr) {
      generation_->pending.fetch_sub(1, std::memory_order_relaxed);
    }
    if (fired) {
      ex::set_value(std::move(rcvr_));
    } else {
      ex::set_stopped(std::move(rcvr_));
    }
  }

  Rcvr rcvr_;
  std::shared_ptr<timer_generation> generation_;
  ex::inplace_stop_source source_;
  rcvr_callback rcvr_callback_{};
  std::optional<generation_callback> generation_callback_{};
  io_operation_state<wait_kind, inner_receiver> inner_;
};

/** The sender of a timer's waits. */
class timer_wait_sender {
 public:
  using sender_concept = ex::sender_t;
  using completion_signatures = ex::completion_signatures<ex::set_value_t(), ex::set_stopped_t()>;

  timer_wait_sender(io::io_context* ctx, wait_kind kind,
                    std::shared_ptr<timer_generation> generation) noexcept
      : ctx_(ctx), kind_(kind), generation_(std::move(generation)) {}

  template <class Rcvr>
  [[nodiscard]] timer_wait_operation<Rcvr> connect(Rcvr rcvr) const& noexcept(
      std::is_nothrow_move_constructible_v<Rcvr>) {
    return {*ctx_, kind_, generation_, std::move(rcvr)};
  }
  template <class Rcvr>
  [[nodiscard]] timer_wait_operation<Rcvr> connect(Rcvr rcvr) && noexcept(
      std::is_nothrow_move_constructible_v<Rcvr>) {
    return {*ctx_, kind_, std::move(generation_), std::move(rcvr)};
  }

  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }

 private:
  io::io_context* ctx_;
  wait_kind kind_;
  std::shared_ptr<timer_generation> generation_;
};

}  // namespace detail

/** A timer object: keeps its io_context (and so its clock) and an expiry across waits
    (P2762 §3.5).

    `t.async_wait()` waits until the expiry set by `expires_at` / `expires_after`;
    `t.async_wait_for(d)` and `t.async_wait_until(tp)` wait without changing it, and
    `net::async_wait_for(t, d)` / `net::async_wait_until(t, tp)` call those. The waits run on the
    context of the scheduler the timer was made with, whatever the receiver's environment says
    (for waits on the receiver's scheduler, use `net::async_wait_for(d)` without a timer).

    The senders copy what they need: a timer need not outlive the waits it started (destroying it
    does not cancel them), and changing its expiry does not affect waits already made.

    Completion signatures of its senders: `set_value_t()`, `set_stopped_t()`.
    Cancellation: a stop request removes the pending wait; it completes with `set_stopped()`
    unless it completed first. `cancel()` does the same to every wait of the timer at once.
    Thread safety: distinct objects: safe; a shared object: const members and `cancel()`, which
    may be called from any thread, also while the context runs on another.

    Allocation: a timer allocates its shared cancellation state when it is made, copied or
    cancelled; its waits allocate nothing.
*/
class timer {
 public:
  using clock_type = std::chrono::steady_clock;
  using duration = clock_type::duration;
  using time_point = clock_type::time_point;

  /** A timer whose waits run on `sch`'s io_context; expiry: now. */
  template <io::detail::io_scheduler Sch>
  explicit timer(const Sch& sch)
      : ctx_(&sch.context()),
        expiry_(io::detail::now(*ctx_)),
        shared_(std::make_shared<detail::timer_shared>()) {}

  /** A timer of the same context and expiry, with no waits of its own (`cancel()` on one does not
      cancel the other's). */
  timer(const timer& other)
      : ctx_(other.ctx_), expiry_(other.expiry_), shared_(std::make_shared<detail::timer_shared>()) {}
  timer& operator=(const timer& other) {
    if (this != &other) {
      auto fresh = std::make_shared<detail::timer_shared>();
      ctx_ = other.ctx_;
      expiry_ = other.expiry_;
      shared_ = std::move(fresh);
    }
    return *this;
  }
  /** Takes over `other`'s waits (`cancel()` on this timer cancels them); `other` keeps its
      context and can still wait, but its `cancel()` no longer reaches any wait. */
  timer(timer&& other) noexcept = default;
  timer& operator=(timer&& other) noexcept = default;
  ~timer() = default;

  /** The current time on the timer's clock: its context's clock (`steady_clock`, or the test
      backend's virtual clock). */
  [[nodiscard]] time_point now() const noexcept { return io::detail::now(*ctx_); }

  /** A scheduler of the timer's context. */
  [[nodiscard]] io::io_context::scheduler_type scheduler() const noexcept { return ctx_->get_scheduler(); }

  /** When `async_wait()` completes. */
  [[nodiscard]] time_point expiry() const noexcept { return expiry_; }

  /** Sets the expiry to `tp`. */
  void expires_at(time_point tp) noexcept { expiry_ = tp; }

  /** Sets the expiry to `now() + d`. */
  template <class Rep, class Period>
  void expires_after(std::chrono::duration<Rep, Period> d) noexcept {
    expiry_ = now() + std::chrono::ceil<duration>(d);
  }

  /** The type of the senders of a timer. */
  using sender_type = detail::timer_wait_sender;

  /** A sender that completes at `expiry()` (as it is now). */
  [[nodiscard]] sender_type async_wait() const noexcept { return async_wait_until(expiry_); }

  /** A sender that completes `d` after it is started. */
  template <class Rep, class Period>
  [[nodiscard]] sender_type async_wait_for(std::chrono::duration<Rep, Period> d) const noexcept {
    return {ctx_, detail::wait_kind::for_(d), generation()};
  }

  /** A sender that completes at `tp`. */
  [[nodiscard]] sender_type async_wait_until(time_point tp) const noexcept {
    return {ctx_, detail::wait_kind::until(tp), generation()};
  }
  /** Cancels every wait of this timer that has been started and not completed: each completes
      with `set_stopped()` (as on a stop request; Asio's `cancel` completes them with
      `operation_aborted`, but a timer's senders have no error channel), unless it completed
      first. Senders made before the call but started after it are cancelled too, as soon as they
      start (in `start()`, on the starting thread); waits made after it are not affected. Returns
      the number of waits that were pending (a wait completing at the same moment on another
      thread may be counted).

      May be called from any thread. Throws `std::bad_alloc` if the new cancellation state cannot
      be allocated (then nothing is cancelled). On a moved-from timer it does nothing and
      returns 0. */
  std::size_t cancel() {
    if (shared_ == nullptr) {
      return 0;
    }
    auto fresh = std::make_shared<detail::timer_generation>();
    std::shared_ptr<detail::timer_generation> old;
    {
      std::lock_guard lock(shared_->mutex);
      old = std::exchange(shared_->current, std::move(fresh));
    }
    std::size_t pending = old->pending.load(std::memory_order_relaxed);
    old->source.request_stop();
    return pending;
  }

 private:
  std::shared_ptr<detail::timer_generation> generation() const noexcept {
    if (shared_ == nullptr) {
      return nullptr;
    }
    std::lock_guard lock(shared_->mutex);
    return shared_->current;
  }

  io::io_context* ctx_;
  time_point expiry_;
  std::shared_ptr<detail::timer_shared> shared_;
};

}  // namespace senet::net

#endif  // SENET_NET_TIMER_HPP
