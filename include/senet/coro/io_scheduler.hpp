// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_IO_SCHEDULER_HPP
#define SENET_CORO_IO_SCHEDULER_HPP

#include <senet/coro/detail/awaiting.hpp>
#include <senet/coro/detail/op_storage.hpp>
#include <senet/coro/detail/scheduler_core.hpp>
#include <senet/coro/fd.hpp>
#include <senet/coro/poll.hpp>
#include <senet/coro/task.hpp>
#include <senet/coro/thread_pool.hpp>
#include <senet/coro/time.hpp>
#include <senet/execution.hpp>
#include <senet/io/backend_kind.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/poll_events.hpp>
#include <senet/net/timeout.hpp>

#include <atomic>
#include <chrono>
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

namespace senet::coro {

/** Whether a task given a time limit ended in time (libcoro 0.15's `coro::timeout_status`). */
enum timeout_status {
  no_timeout,
  timeout,
};

class io_scheduler;

namespace detail {

/** The part of `s` that awaiters use (its io_context, shutdown stop token, `size()` count and
    execution strategy): for the facade's own awaiters, `coro::net`'s among them. */
[[nodiscard]] scheduler_core& core_of(io_scheduler& s) noexcept;

/** The thread count of libcoro's default pool: one thread per core but one, at least one. */
[[nodiscard]] inline std::uint32_t default_pool_threads() noexcept {
  const unsigned n = std::thread::hardware_concurrency();
  return n > 1 ? n - 1 : 1;
}

/** Maps a readiness sender's completions to a `poll_status`, as `poll` reports them. */
struct to_status_fn {
  poll_status operator()(io::poll_events events) const noexcept { return to_poll_status(events); }
};
struct error_to_status_fn {
  poll_target target;
  template <class E>
  poll_status operator()(const E& e) const noexcept {
    if constexpr (std::is_same_v<E, std::error_code>) {
      return to_poll_status(e, target);
    } else {
      return poll_status::error;
    }
  }
};
struct stopped_to_status_fn {
  poll_status operator()() const noexcept { return poll_status::closed; }
};
struct ignore_stop_fn {
  void operator()() const noexcept {}
};

template <class Sndr>
[[nodiscard]] auto readiness_as_status(Sndr&& sndr, poll_target target) {
  return ex::upon_stopped(
      ex::upon_error(ex::then(std::forward<Sndr>(sndr), to_status_fn{}), error_to_status_fn{target}),
      stopped_to_status_fn{});
}

}  // namespace detail

/** An event loop for coroutines with libcoro 0.15's interface (`coro::io_scheduler`), built on a
    senet `io::io_context` (io_uring or epoll): it resumes coroutines (`schedule()`), runs timers
    (`schedule_after`, `yield_for`...), waits for readiness on descriptors (`poll`), and owns
    detached tasks (`spawn`). Create it with `make_shared(options)`.

    Threads (`options::thread_strategy`): `spawn` starts a dedicated I/O thread that runs the
    io_context; `manual` starts none, and the program drives it by calling `process_events(timeout)`
    (from one thread at a time). Where coroutines run (`options::execution_strategy`):
    `process_tasks_on_thread_pool` resumes them on a `thread_pool` made from `options::pool`;
    `process_tasks_inline` resumes them on the thread running the io_context (the I/O thread, or
    the caller of `process_events`).

    What senet does beyond libcoro, and where it differs:
    - **One descriptor, several polls.** Any number of coroutines may poll one descriptor at once,
      for the same or for different events (a reader polling `read` while a writer polls `write`
      on one socket); each completes on its own. libcoro registers the descriptor once per poll
      and fails (EEXIST) on the second.
    - **Shutdown cancels waits.** `shutdown()` ends the polls and timers still pending: a poll then
      returns `poll_status::closed`, a timer (`schedule_after`, `yield_for`...) ends early, a sender
      awaited on the scheduler sees a stop request. libcoro's shutdown waits for them (forever,
      for a poll without a timeout, such as a server's accept). Then it waits for the spawned tasks
      to end, stops the I/O thread and the pool; nothing is leaked.
    - **Senders.** A `coro::task` running on the scheduler can `co_await` senet senders
      (`net::async_receive`...), which run on this io_context; `context()` gives it.
    - **Backends.** `options::backend` (an addition at the end of libcoro's options) picks the
      io_context's backend; by default the best available (`SENET_BACKEND` may name one).
    - `schedule(task, timeout)` and `schedule(stop_source, task, timeout)` (which need libcoro's
      `when_any` and `expected`) are not provided.

    Thread safety: every member may be called from any thread, except `process_events` (one thread
    at a time, never with the `spawn` strategy's thread) and `shutdown()`, which blocks until the
    scheduler is idle and so must not be called from a coroutine running on it or from its
    threads (nor may the last `shared_ptr` be released there).
*/
class io_scheduler : public std::enable_shared_from_this<io_scheduler>, private detail::scheduler_core {
  struct private_constructor {
    private_constructor() = default;
  };

 public:
  class schedule_operation;

  /** Who runs the io_context. */
  enum class thread_strategy_t {
    /** A dedicated I/O thread, started by `make_shared` and joined by `shutdown()`. */
    spawn,
    /** The program calls `process_events(timeout)`. */
    manual,
  };

  /** Where coroutines resume. */
  enum class execution_strategy_t {
    /** On the thread pool built from `options::pool`, in FIFO order. */
    process_tasks_on_thread_pool,
    /** On the thread running the io_context. */
    process_tasks_inline,
  };

  /** libcoro 0.15's options, plus senet's `backend` at the end. */
  struct options {
    /** Who runs the io_context. */
    thread_strategy_t thread_strategy{thread_strategy_t::spawn};
    /** Called on the I/O thread when it starts (`spawn` strategy). */
    std::function<void()> on_io_thread_start_functor{nullptr};
    /** Called on the I/O thread when it stops (`spawn` strategy). */
    std::function<void()> on_io_thread_stop_functor{nullptr};
    /** The thread pool of `process_tasks_on_thread_pool` (by default one thread per core but one). */
    thread_pool::options pool{.thread_count = detail::default_pool_threads(),
                              .on_thread_start_functor = nullptr,
                              .on_thread_stop_functor = nullptr};
    /** Where coroutines resume. */
    execution_strategy_t execution_strategy{execution_strategy_t::process_tasks_on_thread_pool};
    /** senet: the io_context's backend; empty for the best available. */
    std::optional<io::backend_kind> backend{};
  };

  /** Use `make_shared`. */
  io_scheduler(options&& opts, private_constructor);

  /** A scheduler with `opts`: its io_context, and (per the strategies) its I/O thread and pool,
      are running when it returns. Throws `std::system_error` if the io_context cannot be created. */
  static std::shared_ptr<io_scheduler> make_shared(
      options opts = options{.thread_strategy = thread_strategy_t::spawn,
                             .on_io_thread_start_functor = nullptr,
                             .on_io_thread_stop_functor = nullptr,
                             .pool = {.thread_count = detail::default_pool_threads(),
                                      .on_thread_start_functor = nullptr,
                                      .on_thread_stop_functor = nullptr},
                             .execution_strategy = execution_strategy_t::process_tasks_on_thread_pool,
                             .backend = std::nullopt});

  io_scheduler(const io_scheduler&) = delete;
  io_scheduler(io_scheduler&&) = delete;
  io_scheduler& operator=(const io_scheduler&) = delete;
  io_scheduler& operator=(io_scheduler&&) = delete;

  /** Shuts the scheduler down (see `shutdown()`). */
  virtual ~io_scheduler();

  /** `manual` strategy: runs what is ready on the calling thread; if nothing was, waits up to
      `timeout` for something to become ready (zero: does not wait; negative: waits until
      something is) and runs that. Returns `size()`. With the `spawn` strategy it does nothing
      and returns `size()`. */
  std::size_t process_events(std::chrono::milliseconds timeout = std::chrono::milliseconds{0});

  /** The awaiter of `schedule()` and `yield()`. */
  class schedule_operation {
   public:
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    /** Queues the coroutine on the scheduler; false (go on here) once it is shut down. */
    bool await_suspend(std::coroutine_handle<> awaiting_coroutine) noexcept;
    void await_resume() const noexcept {}

   private:
    friend class io_scheduler;
    explicit schedule_operation(io_scheduler& s) noexcept : scheduler_(s) {}

    struct receiver {
      using receiver_concept = ex::receiver_t;
      schedule_operation* self_;
      void set_value() && noexcept { self_->resume(); }
      void set_stopped() && noexcept { self_->resume(); }
      [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }
    };
    using op_type = ex::connect_result_t<io::detail::schedule_sender, receiver>;

    void resume() noexcept;

    io_scheduler& scheduler_;
    std::coroutine_handle<> handle_{};
    // process_tasks_inline: the io_context's schedule operation, made in await_suspend.
    detail::op_storage<op_type> op_{};
  };

  /** An awaiter that moves the awaiting coroutine onto the scheduler: to the pool, or to the
      thread running the io_context. Allocates nothing. */
  [[nodiscard]] schedule_operation schedule() { return schedule_operation{*this}; }

  /** Runs `task` on the scheduler, detached: the scheduler owns it (and counts it in `size()`)
      until it ends; `shutdown()` waits for it. An exception leaving it is dropped, as in libcoro.
      Returns false, and drops `task`, if it holds no coroutine or has ended, or the scheduler is
      shut down. */
  bool spawn(task<void>&& task);

  /** A task that runs `task` on the scheduler and gives its result. */
  template <class T>
  [[nodiscard]] coro::task<T> schedule(coro::task<T> task) {
    co_await schedule();
    co_return co_await std::move(task);
  }

  /** A task that resumes on the scheduler after `amount` (zero or negative: as `schedule()`).
      It ends early when the scheduler shuts down. */
  template <class Rep, class Period>
  [[nodiscard]] task<void> schedule_after(std::chrono::duration<Rep, Period> amount) {
    return yield_for_internal(std::chrono::ceil<std::chrono::nanoseconds>(amount));
  }

  /** A task that resumes on the scheduler at `time` (now or past: as `schedule()`). It ends early
      when the scheduler shuts down. */
  [[nodiscard]] task<void> schedule_at(time_point time);

  /** Moves the awaiting coroutine to the back of the scheduler's queue. */
  [[nodiscard]] schedule_operation yield() { return schedule_operation{*this}; }

  /** As `schedule_after(amount)`. */
  template <class Rep, class Period>
  [[nodiscard]] task<void> yield_for(std::chrono::duration<Rep, Period> amount) {
    return yield_for_internal(std::chrono::ceil<std::chrono::nanoseconds>(amount));
  }

  /** As `schedule_at(time)`. */
  [[nodiscard]] task<void> yield_until(time_point time);

  /** A task that waits until `fd` is ready for `op`, or `timeout` passes (zero or negative: no
      limit), and gives how it ended (see `poll_status`): `event`, `timeout`, `error` (an error
      pending on `fd`, or `fd` cannot be polled), `closed` (the peer hung up, or the scheduler
      shut down). Nothing is read or written. The coroutine resumes on the scheduler.

      `fd` is a descriptor that no senet socket owns (a pipe, an eventfd, a socket made with
      `::socket`...): it is waited for with `io::async_poll`. Several polls of one `fd` may be
      pending at once, for the same or for different events. Before closing a descriptor that was
      polled, call `io::forget_descriptor(s->context(), fd)` (or close it after the scheduler shut
      down), so that a descriptor later given the same number is not mistaken for it.
      Allocation: the task's frame (one per call, as in libcoro), recycled per thread (see
      `coro::task`): a poll loop allocates nothing on the steady path. */
  [[nodiscard]] task<poll_status> poll(fd_t fd, poll_op op,
                                       std::chrono::milliseconds timeout = std::chrono::milliseconds{0});

  /** Polls a socket object (libcoro's `poll(const net::socket&, op, timeout)`). A socket type that
      owns a senet socket provides `sock.wait_sender(io::io_context&, io::poll_events)`, a sender of
      the `io::poll_events` that occurred (such as `net::async_wait`), which is used; otherwise its
      `native_handle()` is polled as a descriptor. */
  template <class Socket>
  requires requires(const Socket& sock) {
    { sock.native_handle() } -> std::convertible_to<fd_t>;
  }
  [[nodiscard]] task<poll_status> poll(const Socket& sock, poll_op op,
                                       std::chrono::milliseconds timeout = std::chrono::milliseconds{0}) {
    if constexpr (requires { sock.wait_sender(context(), to_poll_events(op)); }) {
      return poll_sender(sock.wait_sender(context(), to_poll_events(op)), timeout, poll_target::socket);
    } else {
      return poll(static_cast<fd_t>(sock.native_handle()), op, timeout);
    }
  }

  /** senet: `poll` for any readiness sender (completing with `io::poll_events`, such as
      `net::async_wait(sch, sock, w)` or `io::async_poll(sch, fd, events)` on `context()`), with the
      same timeout, status mapping, shutdown and resumption rules. `readiness` is started on this
      scheduler's io_context when the task is awaited. `target` says what it waits on, for the
      status of a failed wait (see `to_poll_status(const std::error_code&, poll_target)`). */
  template <class Sndr>
  [[nodiscard]] task<poll_status> poll_sender(
      Sndr readiness, std::chrono::milliseconds timeout = std::chrono::milliseconds{0},
      poll_target target = poll_target::descriptor) {
    if (timeout <= std::chrono::milliseconds{0}) {
      co_return co_await io_awaiter(detail::readiness_as_status(std::move(readiness), target));
    } else {
      co_return co_await io_awaiter(
          detail::readiness_as_status(senet::net::timeout(std::move(readiness), timeout), target));
    }
  }

  /** Resumes `handle` on the scheduler (on the pool, or on the thread running the io_context).
      Returns false for a null or finished handle, or once the scheduler is shut down. */
  bool resume(std::coroutine_handle<> handle);

  /** Spawned tasks not yet ended, plus polls and timers pending, plus coroutines queued (and, with
      the thread pool, the pool's queued and running coroutines). */
  [[nodiscard]] std::size_t size() const noexcept;

  /** True when `size()` is zero. */
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }

  /** Ends pending polls and timers (polls return `closed`), waits until the spawned tasks have
      ended and nothing is pending, then stops the I/O thread (joined) and the pool. Idempotent;
      blocking; not from the scheduler's own threads (see the class). With the `manual` strategy
      it drives the io_context itself while it waits. Afterwards `schedule()` goes on on the calling
      thread, `spawn` and `resume` return false, and a poll returns `closed` at once. */
  void shutdown() noexcept;

  /** senet: the io_context the scheduler runs on, for senet operations (`net::async_*`,
      `io::async_poll`, `io::forget_descriptor`). */
  [[nodiscard]] io::io_context& context() noexcept { return scheduler_core::context(); }

 private:
  friend class schedule_operation;
  friend scheduler_core& detail::core_of(io_scheduler& s) noexcept;
  struct resume_record;

  /** Awaits `sndr` on this scheduler: its io_context, its shutdown stop token, counted in `size()`,
      resumed by the execution strategy. */
  template <class Sndr>
  [[nodiscard]] detail::sender_awaiter<Sndr> io_awaiter(Sndr&& sndr) {
    return detail::sender_awaiter<Sndr>(std::forward<Sndr>(sndr),
                                        detail::await_context{this, {&context(), stop_token(), nullptr}});
  }

  task<void> yield_for_internal(std::chrono::nanoseconds amount);
  /** One count of `size_`, released when it is destroyed (unless moved from). */
  class spawn_count {
   public:
    explicit spawn_count(io_scheduler* s) noexcept : s_(s) {
      s_->size_.fetch_add(1, std::memory_order_relaxed);
    }
    spawn_count(spawn_count&& other) noexcept : s_(std::exchange(other.s_, nullptr)) {}
    spawn_count(const spawn_count&) = delete;
    spawn_count& operator=(const spawn_count&) = delete;
    spawn_count& operator=(spawn_count&&) = delete;
    ~spawn_count() {
      if (s_ != nullptr) {
        s_->release_one();
      }
    }

   private:
    io_scheduler* s_;
  };

  // The task spawn() starts: sets `*started` as soon as it runs, then moves onto the executor and
  // awaits `t`. `counted` lives in its frame: released when the frame is destroyed, whether the
  // task ran to its end, threw, or was never started (a scope that refused it).
  task<void> spawned(task<void> t, spawn_count counted, bool* started);
  void drain_manual() noexcept;

  options opts_;
  std::atomic<bool> shutdown_requested_{false};
  std::atomic<bool> shut_down_{false};
  ex::counting_scope scope_;
  std::optional<io::io_context::work_guard> work_;
  std::thread io_thread_;
};

inline detail::scheduler_core& detail::core_of(io_scheduler& s) noexcept {
  return s;
}

}  // namespace senet::coro

#endif  // SENET_CORO_IO_SCHEDULER_HPP
