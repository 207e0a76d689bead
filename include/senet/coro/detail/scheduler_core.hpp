// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_DETAIL_SCHEDULER_CORE_HPP
#define SENET_CORO_DETAIL_SCHEDULER_CORE_HPP

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <memory>

namespace senet::coro {

class thread_pool;

namespace detail {

/** What the awaiters of the facade need from an `io_scheduler`: its io_context, the stop token
    that `shutdown()` fires, the count behind `size()`, and where a coroutine resumes once what it
    awaited on the io_context completed (on the I/O thread, or on the thread pool). `io_scheduler`
    derives from it; the awaiters hold a pointer to it. */
class scheduler_core {
 public:
  scheduler_core(const scheduler_core&) = delete;
  scheduler_core& operator=(const scheduler_core&) = delete;

  /** The io_context every operation of the scheduler runs on. */
  [[nodiscard]] io::io_context& context() noexcept { return *ctx_; }

  /** Fires when `shutdown()` starts: pending polls and timers complete then. */
  [[nodiscard]] ex::inplace_stop_token stop_token() const noexcept { return stop_.get_token(); }

  /** An operation is about to start on the io_context on behalf of a coroutine (counted by
      `size()` until it completes). */
  void io_started() noexcept { size_.fetch_add(1, std::memory_order_relaxed); }

  /** The operation counted by `io_started` completed inside its start: the coroutine goes on
      where it is. */
  void io_done_inline() noexcept { release_one(); }

  /** The operation counted by `io_started` completed on the io_context's thread: resumes `h`
      there (process_tasks_inline) or on the thread pool (process_tasks_on_thread_pool). */
  void io_finished(std::coroutine_handle<> h) noexcept;

 protected:
  scheduler_core() = default;
  ~scheduler_core() = default;

  void release_one() noexcept {
    if (size_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      size_.notify_all();
    }
  }

  std::unique_ptr<io::io_context> ctx_;
  ex::inplace_stop_source stop_{};
  // Spawned tasks not finished, operations pending on the io_context, coroutines queued there.
  std::atomic<std::size_t> size_{0};
  bool inline_ = false;
  std::shared_ptr<thread_pool> pool_;
};

/** The scheduler whose thread is the calling thread: its I/O thread (spawn strategy), the thread
    inside its `process_events` (manual strategy), or one of its thread pool's threads; else null.
    A sender awaited by a coroutine on such a thread runs on that scheduler's io_context. */
extern thread_local constinit scheduler_core* current_scheduler;

/** Sets `current_scheduler` for its lifetime (nests). */
class current_scheduler_scope {
 public:
  explicit current_scheduler_scope(scheduler_core* s) noexcept : previous_(current_scheduler) {
    current_scheduler = s;
  }
  current_scheduler_scope(const current_scheduler_scope&) = delete;
  current_scheduler_scope& operator=(const current_scheduler_scope&) = delete;
  ~current_scheduler_scope() { current_scheduler = previous_; }

 private:
  scheduler_core* previous_;
};

}  // namespace detail
}  // namespace senet::coro

#endif  // SENET_CORO_DETAIL_SCHEDULER_CORE_HPP
