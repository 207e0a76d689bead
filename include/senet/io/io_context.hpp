// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_IO_CONTEXT_HPP
#define SENET_IO_IO_CONTEXT_HPP

#include <senet/execution.hpp>
#include <senet/io/backend_info.hpp>
#include <senet/io/backend_kind.hpp>
#include <senet/io/context_options.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/detail/shared_stop.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace senet::io {

namespace detail {
class context_impl;
template <class Rcvr>
class schedule_operation;
class schedule_sender;
class schedule_at_sender;
template <class Values>
struct run_until_state;
class backend;
// src/senet/io/foreign_descriptors.cpp: the registry of descriptors no socket owns.
void with_backend(io_context& ctx, void (*fn)(void*, backend&) noexcept, void* arg);
/** How many operations one handler of the loop may complete at once (without waiting) before
    the starts that follow go through the loop: see `inline_completions_left`. */
inline constexpr int inline_completions_per_handler = 16;
}  // namespace detail

/** An event loop for asynchronous I/O: it runs networking operations, timers and scheduled work,
    on one backend chosen at run time (io_uring, epoll, or the in-memory test backend).

    One thread at a time runs the context (`run`, `run_one`, `poll`, `poll_one`, `run_until`);
    completions are delivered on that thread. Scheduling work onto the context
    (`ex::schedule(ctx.get_scheduler())`) and starting operations on it are safe from any thread
    and wake the loop. `stop()` may be called from any thread.

    Example:
    ```cpp
    senet::io::io_context ctx;
    auto [n] = ctx.run_until(net::async_receive(sock, senet::buffer(data))).value();
    ```

    Thread safety: distinct objects: safe. Shared objects: `get_scheduler`, `stop`, `stopped`,
    `backend` and `wait_descriptor` are safe from any thread; the run functions from one thread at
    a time.

    Fairness: after 64 handlers in a row the loop looks for I/O, timers and work from other
    threads before it runs more. A handler may complete up to 16 operations at once (a read of
    data already there, a send with room for it, on the context's thread, does not wait); after
    that, the operations it starts go through the loop, behind the work waiting there. So a loop
    over reads of a socket that a fast peer keeps ready (`ex::repeat_effect_until` of
    `async_read_some`, a coroutine's `co_await socket.read_some(...)`) lets other sockets and
    timers of the context run.
*/
class io_context {
 public:
  class scheduler_type;
  class work_guard;

  /** A context on the best backend available (io_uring, else epoll), or on the one the
      environment variable `SENET_BACKEND` (`epoll`, `uring` or `test`) names.
      Throws `std::system_error` if the backend cannot be created, and `std::invalid_argument` if
      `SENET_BACKEND` names no backend, or names `test` in a program that does not link
      `senet::testing` (an environment variable cannot switch a production program onto
      simulated sockets). */
  io_context();

  /** A context on backend `kind`. Throws `std::system_error`
      (`std::errc::function_not_supported`) if that backend is not available here (the test
      backend: unless the program links `senet::testing`). */
  explicit io_context(backend_kind kind);

  /** A context set up as `options` say (backend, io_uring completion-queue size, the promise to
      run it on one thread: see `context_options`). Throws like `io_context()` when
      `options.backend` is empty, like `io_context(backend_kind)` otherwise. */
  explicit io_context(const context_options& options);

  /** Cancels every operation still pending (they complete with `set_stopped()`, on the calling
      thread) and releases the backend. No thread may be running the context. An operation whose
      cancellation has not finished after 5 seconds (an io_uring request the kernel cannot cancel)
      is abandoned with a message on stderr: it never completes, and its operation state and
      buffers must stay alive, as the kernel may still write into them. */
  ~io_context();

  io_context(const io_context&) = delete;
  io_context& operator=(const io_context&) = delete;

  /** A scheduler whose `schedule()` completes on the thread running this context. */
  [[nodiscard]] scheduler_type get_scheduler() noexcept;

  /** Runs handlers until the context is stopped or has no more work (no pending operation, no
      queued work, no `work_guard`). Returns the number of handlers run. */
  std::size_t run();

  /** Runs handlers like `run()`, for at most `rel_time`: returns when the context is stopped, has
      no more work, or `rel_time` has passed (on the context's clock, that of its timers:
      `steady_clock`, or the test backend's virtual clock), whichever comes first (a handler that
      became ready just as it passed may still run). Returns the number of handlers run (Asio's
      `io_context::run_for`). A zero or negative `rel_time` runs nothing. */
  template <class Rep, class Period>
  std::size_t run_for(const std::chrono::duration<Rep, Period>& rel_time) {
    // About a hundred years: far enough to mean "no limit", near enough not to overflow.
    constexpr std::chrono::hours cap{24 * 365 * 100};
    return run_for_ns(rel_time >= cap ? std::chrono::nanoseconds(cap)
                                      : std::chrono::ceil<std::chrono::nanoseconds>(rel_time));
  }

  /** Runs at most one handler, blocking until one is ready, the context is stopped, or it has no
      more work. */
  std::size_t run_one();

  /** Runs the handlers that are ready, without blocking. A foreign event loop may call it when
      `wait_descriptor()` becomes readable. */
  std::size_t poll();

  /** Runs at most one ready handler, without blocking. */
  std::size_t poll_one();

  /** Makes the run functions return as soon as possible. Any thread. */
  void stop() noexcept;

  /** Whether `stop()` was called (and `restart()` not since). */
  [[nodiscard]] bool stopped() const noexcept;

  /** Clears the stopped state, so that the run functions run again. */
  void restart() noexcept;

  /** Drives the context on the calling thread until `sndr` completes, and returns like
      `sync_wait`: an engaged `std::optional<std::tuple<values...>>` on `set_value`, an empty one on
      `set_stopped`; on `set_error` it throws (`std::system_error` for a `std::error_code`, the
      exception for a `std::exception_ptr`, the error object otherwise).

      `sndr` is connected to a receiver whose environment provides this context's scheduler
      (`ex::get_scheduler`) and a stop token, so networking senders need no `starts_on`. It may
      complete on another thread. If the context is stopped (`stop()` from any thread, before or
      during the call), `sndr` receives a stop request through that token, and `run_until` still
      waits for its completion: a sender that honours the request completes with `set_stopped()`,
      and `run_until` returns an empty optional. The stopped state stays set (see `restart()`).
      `sndr` must have at most one value completion signature. Not from inside a handler of this
      context. */
  template <class Sndr>
  auto run_until(Sndr&& sndr);

  /** The backend this context runs on. */
  [[nodiscard]] backend_kind backend() const noexcept;

  /** How the backend was set up: which one was chosen, io_uring's setup flags, features and queue
      sizes, and, for a context that fell back to epoll, why io_uring was refused and at which
      step (see `io::backend_info`). Any thread. */
  [[nodiscard]] const io::backend_info& backend_info() const noexcept;

  /** Whether a context on backend `kind` can be created here (io_uring may be refused by the
      kernel; the test backend is there only when the program links `senet::testing`). */
  [[nodiscard]] static bool is_available(backend_kind kind) noexcept;

  /** A descriptor that becomes readable when the context has work (I/O readiness, work queued
      from other threads, and, after `poll()` or `poll_one()` returned, its nearest timer), for
      integrating with a foreign run loop: wait for readability, then call `poll()`. Owned by the
      context; do not read from or close it. */
  [[nodiscard]] int wait_descriptor() const noexcept;

  /** Same as `wait_descriptor()`. */
  [[nodiscard]] int native_handle() const noexcept { return wait_descriptor(); }

 private:
  friend class detail::context_impl;
  friend bool detail::start_operation(io_context&, detail::io_operation&) noexcept;
  friend void detail::post(io_context&, detail::io_operation&) noexcept;
  friend void detail::post_remote(io_context&, detail::io_operation&) noexcept;
  friend void detail::request_cancel(io_context&, detail::io_operation&) noexcept;
  friend void detail::take_cancel_requests(io_context&) noexcept;
  friend void detail::enter_counted_start(io_context&, detail::counted_start&) noexcept;
  friend void detail::leave_counted_start(io_context&, detail::counted_start&) noexcept;
  friend bool detail::starts_wait_on_their_way(io_context&, const detail::descriptor&) noexcept;
  friend detail::clock::time_point detail::now(const io_context&) noexcept;
  friend bool detail::links_timeouts(const io_context&) noexcept;
  friend void detail::with_backend(io_context&, void (*)(void*, detail::backend&) noexcept, void*);
  // The starts handed to the loop that it has not run yet (detail::start_here_or_hand_off,
  // start_here_or_post; found by ADL).
  friend std::atomic<std::size_t>& handed_off_starts(io_context& ctx) noexcept {
    return ctx.handed_off_starts_;
  }
  // How many more operations the handler the loop runs now may complete at once (found by ADL):
  // an operation state's start, a restart of a multi-step operation and a coroutine's direct
  // system call each take one when they complete without waiting, and once none is left, starts
  // and restarts of socket operations are deferred to a later turn of the loop
  // (detail::defer_start_here), so that a peer that keeps a socket ready cannot hold the loop.
  // The loop's thread only; the loop sets it to `detail::inline_completions_per_handler` before
  // every handler (and a run call when it starts).
  friend int& inline_completions_left(io_context& ctx) noexcept { return ctx.inline_completions_left_; }
  // Starts and restarts deferred to a later turn of the loop that have not run yet
  // (detail::stoppable_operation; found by ADL). The loop's thread only. While there are any, a
  // start looks whether one of its socket waits (detail::defer_start_here).
  friend std::uint32_t& deferred_starts(io_context& ctx) noexcept { return ctx.deferred_starts_; }
  // The context's shared stop registrations (detail::stoppable_operation; found by ADL).
  friend detail::shared_stop_table& shared_stops(io_context& ctx) noexcept { return ctx.shared_stops_; }

  // run_until's loop: one turn, which returns after a handler ran, or, unless `ignore_stop` (once
  // run_until has passed the stop on to its sender), as soon as the context is stopped.
  std::size_t run_until_turn(bool ignore_stop);
  std::size_t run_for_ns(std::chrono::nanoseconds rel_time);
  // Marks the calling thread as running the context (throws std::logic_error if another thread
  // runs it) until the matching leave_run.
  struct run_token {
    io_context* previous;
    bool nested;
  };
  run_token enter_run();
  void leave_run(run_token token) noexcept;
  void add_work() noexcept;
  void remove_work() noexcept;

  // Operation starts handed to the loop's thread (from another thread, or from this one outside
  // the loop) whose start has not run there yet. While there are any, a start on the loop's
  // thread is handed over too, behind them, so that operations keep their start order.
  // (Before impl_, whose destruction may still run them.)
  std::atomic<std::size_t> handed_off_starts_{0};
  int inline_completions_left_ = detail::inline_completions_per_handler;
  std::uint32_t deferred_starts_ = 0;
  std::unique_ptr<detail::context_impl> impl_;
  // After impl_, so that it goes first: its destructor removes the callbacks of registrations
  // that shutdown left (operations given up on), before the core they queue sweeps to.
  detail::shared_stop_table shared_stops_{*this};
};

/** The scheduler of an `io_context`: `ex::schedule(sch)` completes with `set_value()` on the thread
    running the context (or `set_stopped()` if a stop was requested before it ran, or the context
    is destroyed first). Networking senders find it in their receiver's environment
    (`ex::get_scheduler`). Cheap to copy; equal when they refer to the same context. */
class io_context::scheduler_type {
 public:
  using scheduler_concept = ex::scheduler_t;

  /** A sender that completes on the context's thread. Safe from any thread. */
  [[nodiscard]] detail::schedule_sender schedule() const noexcept;

  /** A sender that completes `d` after it is started, on the context's thread: a timer (P2762
      §3.5), with the interface of stdexec's timed schedulers (`exec::schedule_after(sch, d)`).
      The deadline is measured on the context's clock (`now()`), rounded up to its resolution; a
      zero or negative `d` completes in the next loop turn.

      Completion signatures: `set_value_t()`, `set_stopped_t()`.
      Cancellation: a stop request removes the pending timer; it then completes with
      `set_stopped()` unless it completed first.
      Thread safety: may be started from any thread; never completes inline in `start()` (a stop
      already requested completes it there with `set_stopped()`).
      Attributes: its completion scheduler (`set_value_t`) is this scheduler, so
      `sch.schedule_after(d) | net::async_...(...)` runs the operation on this context. */
  template <class Rep, class Period>
  [[nodiscard]] detail::schedule_at_sender schedule_after(
      std::chrono::duration<Rep, Period> d) const noexcept;

  /** A sender that completes at `tp` on the context's clock (`std::chrono::steady_clock`, or the
      test backend's virtual clock); as `schedule_after` otherwise. A time point already past
      completes in the next loop turn. */
  template <class Duration>
  [[nodiscard]] detail::schedule_at_sender schedule_at(
      std::chrono::time_point<std::chrono::steady_clock, Duration> tp) const noexcept;

  /** The current time on the context's clock: `std::chrono::steady_clock::now()`, or the test
      backend's virtual time. Thread safety: any thread on the io_uring and epoll backends; on the
      test backend, the thread running the context (or any while none runs it). */
  [[nodiscard]] std::chrono::steady_clock::time_point now() const noexcept;

  /** The context this scheduler schedules on. */
  [[nodiscard]] io_context& context() const noexcept { return *ctx_; }

  friend bool operator==(const scheduler_type&, const scheduler_type&) noexcept = default;

 private:
  friend class io_context;
  explicit scheduler_type(io_context* ctx) noexcept : ctx_(ctx) {}
  io_context* ctx_;
};

/** While it exists, `run()` does not return for lack of work (it still returns on `stop()`).
    Destroying or `reset()`ting it lets `run()` return once the work is done. Any thread. */
class io_context::work_guard {
 public:
  explicit work_guard(io_context& ctx) noexcept : ctx_(&ctx) { ctx.add_work(); }
  work_guard(work_guard&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}
  work_guard(const work_guard&) = delete;
  work_guard& operator=(const work_guard&) = delete;
  work_guard& operator=(work_guard&&) = delete;
  ~work_guard() { reset(); }

  /** Releases the work early. */
  void reset() noexcept {
    if (ctx_ != nullptr) {
      std::exchange(ctx_, nullptr)->remove_work();
    }
  }

 private:
  io_context* ctx_;
};

namespace detail {

/** A senet I/O scheduler: `sch.context()` names the io_context it schedules on. */
template <class Sch>
concept io_scheduler = ex::scheduler<Sch> && requires(const Sch& sch) {
  { sch.context() }
  noexcept->std::same_as<io_context&>;
};

/** The environment of `schedule_sender`: its completion scheduler. */
struct schedule_env {
  io_context* ctx_;
  [[nodiscard]] io_context::scheduler_type query(
      ex::get_completion_scheduler_t<ex::set_value_t>) const noexcept {
    return ctx_->get_scheduler();
  }
};

/** The operation state of `ex::schedule(ctx.get_scheduler())`. */
template <class Rcvr>
class schedule_operation : io_operation {
 public:
  schedule_operation(io_context* ctx, Rcvr rcvr) noexcept(std::is_nothrow_move_constructible_v<Rcvr>)
      : ctx_(ctx), rcvr_(std::move(rcvr)) {}

  void start() & noexcept {
    code_ = op_code::schedule;
    complete_ = &schedule_operation::complete;
    if (running_in_this_thread(*ctx_)) {
      post(*ctx_, *this);
    } else {
      post_remote(*ctx_, *this);
    }
  }

 private:
  static void complete(io_operation* op) noexcept {
    auto& self = static_cast<schedule_operation&>(*op);
    if (self.result_ < 0) {
      // The context is being destroyed.
      ex::set_stopped(std::move(self.rcvr_));
      return;
    }
    using token_type = ex::stop_token_of_t<ex::env_of_t<Rcvr>>;
    if constexpr (!ex::unstoppable_token<token_type>) {
      if (ex::get_stop_token(ex::get_env(self.rcvr_)).stop_requested()) {
        ex::set_stopped(std::move(self.rcvr_));
        return;
      }
    }
    ex::set_value(std::move(self.rcvr_));
  }

  io_context* ctx_;
  Rcvr rcvr_;
};

/** The sender of `ex::schedule(ctx.get_scheduler())`. */
class schedule_sender {
 public:
  using sender_concept = ex::sender_t;
  using completion_signatures = ex::completion_signatures<ex::set_value_t(), ex::set_stopped_t()>;

  explicit schedule_sender(io_context* ctx) noexcept : ctx_(ctx) {}

  template <class Rcvr>
  [[nodiscard]] schedule_operation<Rcvr> connect(Rcvr rcvr) const
      noexcept(std::is_nothrow_move_constructible_v<Rcvr>) {
    return schedule_operation<Rcvr>(ctx_, std::move(rcvr));
  }

  [[nodiscard]] schedule_env get_env() const noexcept { return {ctx_}; }

 private:
  io_context* ctx_;
};

// ---- run_until ----------------------------------------------------------------------------------

template <class... Ts>
using decayed_tuple = std::tuple<std::decay_t<Ts>...>;

template <class... Tuples>
struct single_value_tuple {
  static_assert(sizeof...(Tuples) == 0,
                "io_context::run_until: the sender must have at most one value completion");
  using type = std::tuple<>;
};
template <class Tuple>
struct single_value_tuple<Tuple> {
  using type = Tuple;
};
template <class... Tuples>
using single_value_tuple_t = typename single_value_tuple<Tuples...>::type;

/** The environment run_until gives its sender: the context's scheduler and a stop token. */
struct run_until_env {
  io_context* ctx_;
  ex::inplace_stop_token token_;
  [[nodiscard]] io_context::scheduler_type query(ex::get_scheduler_t) const noexcept {
    return ctx_->get_scheduler();
  }
  [[nodiscard]] ex::inplace_stop_token query(ex::get_stop_token_t) const noexcept { return token_; }
#if SENET_USE_STDEXEC
  // stdexec's algorithms (counting_scope::join among them) ask for the scheduler the sender is
  // started on; the bundled core has no such query and asks get_scheduler.
  [[nodiscard]] io_context::scheduler_type query(ex::get_start_scheduler_t) const noexcept {
    return ctx_->get_scheduler();
  }
#endif
};

template <class Values>
struct run_until_state {
  io_context* ctx_;
  ex::inplace_stop_source stop_{};
  std::optional<Values> value_{};
  std::exception_ptr error_{};
  bool done_ = false;
  // Completion from another thread: the loop sets done_ when it runs this record, so that a
  // completion can never be missed by a loop about to block.
  struct done_record : io_operation {
    run_until_state* state_;
  } record_{};

  void finish() noexcept {
    if (running_in_this_thread(*ctx_)) {
      done_ = true;
    } else {
      record_.state_ = this;
      // Counted as a handler, so that the turn that runs it returns to run_until's loop.
      record_.code_ = op_code::schedule;
      record_.complete_ = [](io_operation* op) noexcept {
        static_cast<done_record*>(op)->state_->done_ = true;
      };
      post_remote(*ctx_, record_);
    }
  }
};

template <class Values>
struct run_until_receiver {
  using receiver_concept = ex::receiver_t;
  run_until_state<Values>* state_;

  template <class... Ts>
  void set_value(Ts&&... ts) && noexcept {
    try {
      state_->value_.emplace(std::forward<Ts>(ts)...);
    } catch (...) {
      state_->error_ = std::current_exception();
    }
    state_->finish();
  }

  template <class Error>
  void set_error(Error&& error) && noexcept {
    if constexpr (std::is_same_v<std::decay_t<Error>, std::exception_ptr>) {
      state_->error_ = std::forward<Error>(error);
    } else if constexpr (std::is_same_v<std::decay_t<Error>, std::error_code>) {
      state_->error_ = std::make_exception_ptr(std::system_error(error));
    } else {
      state_->error_ = std::make_exception_ptr(std::forward<Error>(error));
    }
    state_->finish();
  }

  void set_stopped() && noexcept { state_->finish(); }

  [[nodiscard]] run_until_env get_env() const noexcept { return {state_->ctx_, state_->stop_.get_token()}; }
};

/** Makes the calling thread the one running `ctx` for its lifetime (nests). */
class context_scope {
 public:
  explicit context_scope(io_context& ctx) noexcept : previous_(current_context) { current_context = &ctx; }
  context_scope(const context_scope&) = delete;
  context_scope& operator=(const context_scope&) = delete;
  ~context_scope() { current_context = previous_; }

 private:
  io_context* previous_;
};

}  // namespace detail

inline io_context::scheduler_type io_context::get_scheduler() noexcept {
  return scheduler_type(this);
}

inline detail::schedule_sender io_context::scheduler_type::schedule() const noexcept {
  return detail::schedule_sender(ctx_);
}

template <class Sndr>
auto io_context::run_until(Sndr&& sndr) {
  using values_type =
      ex::value_types_of_t<Sndr, detail::run_until_env, detail::decayed_tuple, detail::single_value_tuple_t>;
  detail::run_until_state<values_type> state{this};
  class run_scope {
   public:
    explicit run_scope(io_context* ctx) : ctx_(ctx), token_(ctx->enter_run()) {}
    run_scope(const run_scope&) = delete;
    run_scope& operator=(const run_scope&) = delete;
    ~run_scope() { ctx_->leave_run(token_); }

   private:
    io_context* ctx_;
    run_token token_;
  } scope(this);
  // Inside the run scope, so that releasing it at the end needs no wake-up of the loop.
  work_guard guard(*this);
  auto op = ex::connect(std::forward<Sndr>(sndr), detail::run_until_receiver<values_type>{&state});
  ex::start(op);
  // A stop() (from a handler or another thread) ends the turn; it is passed on to the sender once,
  // and the loop then ignores the stopped state until the sender completes.
  bool stop_forwarded = false;
  while (!state.done_) {
    if (!stop_forwarded && stopped()) {
      stop_forwarded = true;
      state.stop_.request_stop();
      continue;
    }
    run_until_turn(stop_forwarded);
  }
  if (state.error_) {
    std::rethrow_exception(state.error_);
  }
  return std::move(state.value_);
}

}  // namespace senet::io

#include <senet/io/detail/schedule_at.hpp>  // IWYU pragma: export (scheduler_type::schedule_at)

#endif  // SENET_IO_IO_CONTEXT_HPP
