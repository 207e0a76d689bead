// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_THREAD_POOL_HPP
#define SENET_CORO_THREAD_POOL_HPP

#include <senet/coro/task.hpp>

#include <atomic>
#include <concepts>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <ranges>
#include <thread>
#include <vector>

namespace senet::coro {

/** A pool of threads that resume coroutines in FIFO order (libcoro 0.15's `coro::thread_pool`).

    `co_await pool->schedule()` moves the calling coroutine onto one of the pool's threads;
    `spawn(task)` runs a detached `task<void>` there; `schedule(task)` gives a task that runs `task`
    there; `resume(handle)` queues a coroutine handle. `shutdown()` (also run by the destructor)
    waits until every spawned task has ended, then stops accepting work, lets the threads finish
    every coroutine queued before, and joins them.
    It is the pool behind `io_scheduler`'s `process_tasks_on_thread_pool` strategy.

    Differences from libcoro: `schedule()` on a pool that is shut down does not throw (libcoro
    throws `std::runtime_error` from `schedule()`); its `co_await` throws that exception instead,
    in the awaiting coroutine, which goes on on the calling thread. `shutdown()` waits for the
    spawned tasks to end (libcoro leaks those that are suspended then), so a spawned task waiting
    for something that never happens blocks it. An exception that leaves a spawned task is
    dropped, as in libcoro.

    Thread safety: every member may be called from any thread, concurrently. `shutdown()` must not
    be called from one of the pool's own threads (it would join itself).
*/
class thread_pool : public std::enable_shared_from_this<thread_pool> {
  struct private_constructor {
    private_constructor() = default;
  };

 public:
  /** The awaiter of `schedule()`: suspends, and resumes on a pool thread. */
  class schedule_operation {
   public:
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    /** Queues the coroutine; returns false (go on here) when the pool is shut down. */
    // Never inlined: clang 16 and older, inlining it into a coroutine before splitting that
    // coroutine, merge the two stores to m_rejected (false before, true if refused) into one made
    // after the call that queued the coroutine: a write to a frame that a pool thread may be
    // running, or have freed (llvm/llvm-project#56301; clang 17 and 18 keep such an await_suspend
    // out of line themselves, clang 19 no longer inlines it before the split).
    [[gnu::noinline]] bool await_suspend(std::coroutine_handle<> awaiting_coroutine) noexcept;
    /** Throws `std::runtime_error` when the pool was shut down and the coroutine did not move. */
    void await_resume() const;

   private:
    friend class thread_pool;
    explicit schedule_operation(thread_pool& tp) noexcept : m_thread_pool(tp) {}
    thread_pool& m_thread_pool;
    bool m_rejected = false;
  };

  /** libcoro 0.15's thread pool options. */
  struct options {
    /** The number of threads (at least one is started). */
    std::uint32_t thread_count = std::thread::hardware_concurrency();
    /** Called on each thread when it starts, with the thread's index. */
    std::function<void(std::size_t)> on_thread_start_functor = nullptr;
    /** Called on each thread when it stops, with the thread's index. */
    std::function<void(std::size_t)> on_thread_stop_functor = nullptr;
  };

  /** Use `make_shared`. */
  thread_pool(options&& opts, private_constructor);

  /** A pool with `opts`; its threads start at once. */
  static std::shared_ptr<thread_pool> make_shared(options opts = options{
                                                      .thread_count = std::thread::hardware_concurrency(),
                                                      .on_thread_start_functor = nullptr,
                                                      .on_thread_stop_functor = nullptr});

  thread_pool(const thread_pool&) = delete;
  thread_pool(thread_pool&&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  thread_pool& operator=(thread_pool&&) = delete;

  /** Shuts the pool down (see `shutdown()`). */
  virtual ~thread_pool();

  /** The number of threads. */
  [[nodiscard]] std::size_t thread_count() const noexcept { return m_threads.size(); }

  /** An awaiter that moves the awaiting coroutine onto a pool thread. */
  [[nodiscard]] schedule_operation schedule() { return schedule_operation{*this}; }

  /** Runs `task` on the pool, detached: the pool owns it until it ends (in an
      `ex::counting_scope`). Returns false, dropping `task`, if it holds no coroutine or has ended,
      or the pool is shut down, or allocating fails. */
  bool spawn(task<void>&& task) noexcept;

  /** A task that runs `task` on the pool and gives its result. */
  template <class T>
  [[nodiscard]] coro::task<T> schedule(coro::task<T> task) {
    co_await schedule();
    co_return co_await std::move(task);
  }

  /** Queues `handle` to be resumed on a pool thread. Returns false for a null or finished
      handle, or when the pool is shut down. */
  bool resume(std::coroutine_handle<> handle) noexcept;

  /** Queues every non-null handle of `handles`; returns how many were queued. */
  template <std::ranges::range Range>
  requires std::convertible_to<std::ranges::range_value_t<Range>, std::coroutine_handle<>> std::uint64_t
  resume(const Range& handles)
  noexcept {
    std::uint64_t n = 0;
    for (const auto& h : handles) {
      if (resume(std::coroutine_handle<>(h))) {
        ++n;
      }
    }
    return n;
  }

  /** Moves the awaiting coroutine to the back of the queue. */
  [[nodiscard]] schedule_operation yield() { return schedule(); }

  /** Waits for the spawned tasks, stops accepting work, finishes what is queued, and joins the
      threads. Blocking; idempotent. */
  void shutdown() noexcept;

  /** Coroutines queued or running. */
  [[nodiscard]] std::size_t size() const noexcept { return m_size.load(std::memory_order_acquire); }
  /** True if nothing is queued or running. */
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  /** Coroutines queued, not yet running. */
  [[nodiscard]] std::size_t queue_size() const noexcept;
  /** True if nothing is queued. */
  [[nodiscard]] bool queue_empty() const noexcept { return queue_size() == 0; }

 private:
  void executor(std::size_t idx);
  bool enqueue(std::coroutine_handle<> handle) noexcept;

  options m_opts;
  // Spawned tasks: shutdown() joins it before it stops the threads.
  ex::counting_scope m_scope;
  std::mutex m_shutdown_mutex;
  std::vector<std::thread> m_threads;
  mutable std::mutex m_wait_mutex;
  std::condition_variable m_wait_cv;
  std::deque<std::coroutine_handle<>> m_queue;
  std::atomic<std::size_t> m_size{0};
  std::atomic<bool> m_shutdown_requested{false};
};

}  // namespace senet::coro

#endif  // SENET_CORO_THREAD_POOL_HPP
