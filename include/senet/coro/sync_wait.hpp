// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_SYNC_WAIT_HPP
#define SENET_CORO_SYNC_WAIT_HPP

#include <senet/coro/detail/awaiting.hpp>
#include <senet/coro/detail/result_promise.hpp>

#include <condition_variable>
#include <coroutine>
#include <exception>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>

namespace senet::coro {

namespace detail {

/** The blocking side of sync_wait: notified by the coroutine's end, waited for by the caller. */
class sync_wait_event {
 public:
  void notify() noexcept {
    std::lock_guard lock(mutex_);
    set_ = true;
    cv_.notify_all();
  }
  void wait() noexcept {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return set_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool set_ = false;
};

/** The coroutine sync_wait runs: it awaits the argument and keeps its outcome. */
template <class T>
class sync_wait_task {
 public:
  using promise_type = notifying_promise<T, sync_wait_task<T>, sync_wait_event>;
  explicit sync_wait_task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
  sync_wait_task(sync_wait_task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  sync_wait_task& operator=(sync_wait_task&&) = delete;
  ~sync_wait_task() {
    if (handle_) {
      handle_.destroy();
    }
  }
  promise_type& promise() noexcept { return handle_.promise(); }

 private:
  std::coroutine_handle<promise_type> handle_;
};

template <class T, class A>
sync_wait_task<T> make_sync_wait_task(A&& a) {
  if constexpr (std::is_void_v<T>) {
    co_await std::forward<A>(a);
  } else {
    co_return co_await std::forward<A>(a);
  }
}

}  // namespace detail

/** Runs `a` (a `coro::task`, any awaitable, or any sender) to its end, blocking the calling
    thread, and gives its result (libcoro 0.15's `coro::sync_wait`): the value (`T`, or a reference
    for a result that is one), nothing for `void`, or the exception the body threw, rethrown.

    `a` starts on the calling thread; it typically moves to a scheduler with
    `co_await scheduler->schedule()`, and the calling thread sleeps until it ends wherever it
    ends. A sender given directly runs as `co_await sndr` in a `coro::task` on the calling
    thread would (see `coro::task`). Not from a thread that `a` needs to end (a scheduler's I/O
    thread or pool thread, or the thread that must call `process_events`): that blocks forever,
    as in libcoro.

    Allocation: one coroutine frame for the call.
*/
template <detail::awaitable_or_sender A>
decltype(auto) sync_wait(A&& a) {
  using T = detail::await_result_t<A>;
  detail::sync_wait_event e;
  auto task = detail::make_sync_wait_task<T>(std::forward<A>(a));
  task.promise().start(e);
  e.wait();
  if constexpr (std::is_void_v<T>) {
    task.promise().result();
  } else if constexpr (std::is_reference_v<T>) {
    return task.promise().result();
  } else if constexpr (std::is_move_constructible_v<std::remove_cv_t<T>>) {
    // Moved straight into the result, before the frame and the promise holding the value are
    // destroyed.
    return std::remove_cv_t<T>(std::move(task.promise()).result());
  } else {
    // A type that can be copied but not moved: copied.
    return std::remove_cv_t<T>(std::as_const(task.promise()).result());
  }
}

}  // namespace senet::coro

#endif  // SENET_CORO_SYNC_WAIT_HPP
