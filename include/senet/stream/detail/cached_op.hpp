// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_DETAIL_CACHED_OP_HPP
#define SENET_STREAM_DETAIL_CACHED_OP_HPP

/* The composed operations of the sinks and sources (a buffered writer's flush, a socket sink's
   write-then-shutdown, the erased operations of any_write_sink): coroutines whose frames come from
   a cache in the object that runs them, and which are awaitables with the properties of the
   stream concepts.

   - Frame reuse. A `cached_op<R>` coroutine is called through `with_cache(cache, fn)`, and its
     frame is allocated from that cache. (Not through a `frame_cache&` parameter and a placement
     `operator new`: g++ 12 then warns that the frame is freed by a mismatched `operator delete`.) The cache
   keeps its memory between operations, so an object that runs one operation at a time allocates once (the
   first time, or again when a later operation needs a larger frame) and never again. A frame asked for while
   the cache's memory is in use (a second operation of the same object before the first ended) comes from
   `::operator new` instead, and is freed there: correct, only not free. The frame records where it came from
   in a tail after its `size` bytes.
   - Eager completion. A `senet::task` gives the awaitable its I/O context and stop token before
     `await_ready()` (`bind_io_environment`); the coroutine then runs inside `await_ready()`, and when
     everything it awaits completes without suspending, so does the whole operation: the awaiting
     coroutine does not suspend. In another coroutine the operation runs from `await_suspend()`,
     with the I/O scheduler and stop token of that coroutine's environment, if it has them.
   - Environment. What the coroutine awaits gets the same I/O context and stop token (its
     `await_transform` binds senet's awaitables, its promise's environment answers
     `get_io_scheduler` and `get_stop_token`), so a socket's `write_some` inside it behaves as it does
     in the task.
   - Completion race. The coroutine may wait for an operation that completes on the I/O context's
     thread while the awaiting coroutine runs on another. `state_` decides who goes on, as in
     write_now: the coroutine's final suspension returns to the awaiter if it already suspended, and
     otherwise leaves it to `await_suspend()` (which then returns false).
   The bodies report errors in their results and do not throw; an exception that escapes one anyway
   is rethrown by `await_resume()`. */

#include <senet/detail/task_promise.hpp>
#include <senet/execution.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/detail/socket_awaitable.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstring>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>

namespace senet::stream::detail {

/** The memory of an object's operation frames, kept across operations (see the file comment). */
class frame_cache {
 public:
  frame_cache() noexcept = default;
  frame_cache(frame_cache&& other) noexcept
      : memory_(std::exchange(other.memory_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        busy_(std::exchange(other.busy_, false)) {}
  frame_cache& operator=(frame_cache&& other) noexcept {
    if (this != &other) {
      ::operator delete(memory_);
      memory_ = std::exchange(other.memory_, nullptr);
      size_ = std::exchange(other.size_, 0);
      busy_ = std::exchange(other.busy_, false);
    }
    return *this;
  }
  frame_cache(const frame_cache&) = delete;
  frame_cache& operator=(const frame_cache&) = delete;
  ~frame_cache() { ::operator delete(memory_); }

  /** A frame of `size` bytes: the cached memory when it is free (grown if too small), else fresh
      memory from `::operator new`. */
  [[nodiscard]] void* allocate(std::size_t size) {
    std::size_t total = tail_offset(size) + sizeof(frame_cache*);
    frame_cache* owner = nullptr;
    void* frame;
    if (busy_) {
      frame = ::operator new(total);
    } else {
      if (total > size_) {
        void* fresh = ::operator new(total);
        ::operator delete(memory_);
        memory_ = fresh;
        size_ = total;
      }
      busy_ = true;
      owner = this;
      frame = memory_;
    }
    std::memcpy(static_cast<char*>(frame) + tail_offset(size), &owner, sizeof owner);
    return frame;
  }

  /** A frame of `size` bytes from `::operator new`, for a coroutine called without a cache. */
  [[nodiscard]] static void* allocate_uncached(std::size_t size) {
    void* frame = ::operator new(tail_offset(size) + sizeof(frame_cache*));
    frame_cache* owner = nullptr;
    std::memcpy(static_cast<char*>(frame) + tail_offset(size), &owner, sizeof owner);
    return frame;
  }

  /** Gives back a frame from `allocate(size)` or `allocate_uncached(size)`. */
  static void deallocate(void* frame, std::size_t size) noexcept {
    frame_cache* owner;
    std::memcpy(&owner, static_cast<char*>(frame) + tail_offset(size), sizeof owner);
    if (owner != nullptr) {
      owner->busy_ = false;
    } else {
      ::operator delete(frame);
    }
  }

 private:
  static constexpr std::size_t tail_offset(std::size_t size) noexcept {
    return (size + alignof(frame_cache*) - 1) & ~(alignof(frame_cache*) - 1);
  }

  void* memory_ = nullptr;
  std::size_t size_ = 0;
  bool busy_ = false;
};

/** The cache the next `cached_op` frame comes from: set by `with_cache` just before the call. */
inline thread_local frame_cache* next_frame_cache = nullptr;

/** `fn()`, a call of a `cached_op` coroutine, with its frame from `cache`. */
template <class Fn>
[[nodiscard]] auto with_cache(frame_cache& cache, Fn&& fn) {
  next_frame_cache = &cache;
  auto op = std::forward<Fn>(fn)();
  next_frame_cache = nullptr;  // not taken if fn threw before its coroutine was called
  return op;
}

enum : int { op_started = 0, op_suspended = 1, op_done = 2 };

/** What a `cached_op` body awaits, by reference (a prvalue wrapper: g++ copies an xvalue that
    `await_transform` returns). */
template <class A>
struct awaiter_ref {
  A& a_;
  [[nodiscard]] bool await_ready() { return a_.await_ready(); }
  template <class Promise>
  auto await_suspend(std::coroutine_handle<Promise> h) {
    return a_.await_suspend(h);
  }
  decltype(auto) await_resume() { return a_.await_resume(); }
};

/** A composed operation: a coroutine (called through `with_cache`) and the awaitable that runs it; `co_await`
 * gives its `R` (see the file comment). */
template <class R>
class [[nodiscard]] cached_op {
 public:
  struct promise_type {
    static void* operator new(std::size_t size) {
      if (frame_cache* cache = std::exchange(next_frame_cache, nullptr)) {
        return cache->allocate(size);
      }
      return frame_cache::allocate_uncached(size);
    }
    static void operator delete(void* frame, std::size_t size) noexcept {
      frame_cache::deallocate(frame, size);
    }

    cached_op get_return_object() noexcept {
      return cached_op(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }

    struct final_awaiter {
      [[nodiscard]] bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) const noexcept {
        promise_type& p = h.promise();
        if (p.state_.exchange(op_done, std::memory_order_acq_rel) == op_started) {
          return std::noop_coroutine();  // ended inside await_ready/await_suspend, which go on
        }
        return p.continuation_;
      }
      void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }

    template <class U>
    void return_value(U&& value) noexcept(std::is_nothrow_assignable_v<R&, U&&>) {
      result_ = std::forward<U>(value);
    }
    void unhandled_exception() noexcept { error_ = std::current_exception(); }

    [[nodiscard]] senet::detail::task_env get_env() const noexcept { return senet::detail::task_env(&ctx_); }

    /** senet's awaitables get this operation's I/O context and stop token before `await_ready()`. */
    template <class A>
    awaiter_ref<std::remove_reference_t<A>> await_transform(A&& a) noexcept {
      if constexpr (senet::detail::binds_io_environment<std::remove_cvref_t<A>>) {
        a.bind_io_environment(ctx_.io, ctx_.token);
      }
      return {a};
    }

    senet::detail::task_context ctx_{};
    std::coroutine_handle<> continuation_{};
    std::atomic<int> state_{op_started};
    R result_{};
    std::exception_ptr error_{};
  };

  cached_op(cached_op&& other) noexcept
      : handle_(std::exchange(other.handle_, {})), bound_(std::exchange(other.bound_, false)) {}
  cached_op& operator=(cached_op&&) = delete;
  cached_op(const cached_op&) = delete;
  cached_op& operator=(const cached_op&) = delete;
  ~cached_op() {
    if (handle_) {
      handle_.destroy();
    }
  }

  /** The I/O context and stop token of the awaiting task (before `await_ready()`). */
  void bind_io_environment(io::io_context* io, ex::inplace_stop_token token) noexcept {
    handle_.promise().ctx_.io = io;
    handle_.promise().ctx_.token = token;
    bound_ = true;
  }

  [[nodiscard]] bool await_ready() {
    if (!bound_) {
      return false;  // the environment comes from the promise in await_suspend
    }
    handle_.resume();
    return handle_.promise().state_.load(std::memory_order_acquire) == op_done;
  }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    promise_type& p = handle_.promise();
    p.continuation_ = h;
    if (!bound_) {
      bound_ = true;
      using env_type = ex::env_of_t<Promise>;
      if constexpr (io::detail::env_with_io_scheduler<env_type>) {
        const auto& env = ex::get_env(h.promise());
        p.ctx_.io = &io::get_io_scheduler(env).context();
        p.ctx_.token = net::detail::awaitable_stop_token(env);
      }
      handle_.resume();
    }
    // Ended inside resume() (here or in await_ready), or later, maybe on another thread before
    // this exchange.
    return p.state_.exchange(op_suspended, std::memory_order_acq_rel) != op_done;
  }

  R await_resume() {
    promise_type& p = handle_.promise();
    if (p.error_) {
      std::rethrow_exception(p.error_);
    }
    return std::move(p.result_);
  }

 private:
  explicit cached_op(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}

  std::coroutine_handle<promise_type> handle_;
  bool bound_ = false;
};

}  // namespace senet::stream::detail

#endif  // SENET_STREAM_DETAIL_CACHED_OP_HPP
