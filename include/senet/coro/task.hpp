// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_TASK_HPP
#define SENET_CORO_TASK_HPP

#include <senet/coro/detail/awaiting.hpp>
#include <senet/coro/detail/frame_cache.hpp>
#include <senet/execution.hpp>
#include <senet/io/detail/stoppable_operation.hpp>
#include <senet/io/get_io_scheduler.hpp>

#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace senet::coro {

template <class T = void>
class task;

namespace detail {

/** The part of a task's promise that does not depend on its value type. */
class promise_base : public awaiting_promise {
 public:
  // Frames are recycled per thread (detail/frame_cache.hpp).
  static void* operator new(std::size_t size) { return allocate_task_frame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept { free_task_frame(frame, size); }

  struct final_awaitable {
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept {
      promise_base& p = h.promise();
      if (p.continuation_) {
        return p.continuation_;
      }
      if (p.on_done_ != nullptr) {
        // Started as a sender: complete the receiver, which may destroy this frame.
        p.on_done_(p.done_arg_);
      }
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };

  [[nodiscard]] std::suspend_always initial_suspend() const noexcept { return {}; }
  [[nodiscard]] final_awaitable final_suspend() const noexcept { return {}; }

  /** The coroutine resumed when this one ends (libcoro's `promise_base::continuation`). */
  void continuation(std::coroutine_handle<> c) noexcept { continuation_ = c; }

  // Set by the operation state when the task is started as a sender.
  void (*on_done_)(void*) noexcept = nullptr;
  void* done_arg_ = nullptr;

 protected:
  std::coroutine_handle<> continuation_{};
};

struct unset_return_value {};

[[noreturn]] inline void throw_unset_return_value() {
  throw std::runtime_error(
      "senet::coro::task: the return value was never set, did you execute the coroutine?");
}

/** The promise of `task<T>` (libcoro's `coro::detail::promise<T>`). */
template <class T>
class promise final : public promise_base {
 public:
  using task_type = task<T>;
  using coroutine_handle = std::coroutine_handle<promise<T>>;
  static constexpr bool return_type_is_reference = std::is_reference_v<T>;
  using stored_type =
      std::conditional_t<return_type_is_reference, std::remove_reference_t<T>*, std::remove_const_t<T>>;
  using variant_type = std::variant<unset_return_value, stored_type, std::exception_ptr>;

  promise() noexcept = default;
  promise(const promise&) = delete;
  promise& operator=(const promise&) = delete;

  task_type get_return_object() noexcept;

  template <class U>
  requires(return_type_is_reference&& std::is_constructible_v<T, U&&>) ||
      (!return_type_is_reference && std::is_constructible_v<stored_type, U&&>)void return_value(U&& value) {
    if constexpr (return_type_is_reference) {
      T ref = static_cast<U&&>(value);
      storage_.template emplace<1>(std::addressof(ref));
    } else {
      storage_.template emplace<1>(std::forward<U>(value));
    }
  }
  /** `co_return {a, b};` (a braced list names no type for the template above), and a value of a
      type that can be copied but not moved, which is then copied (libcoro's second overload). */
  void return_value(stored_type&& value) requires(!return_type_is_reference) {
    if constexpr (std::is_move_constructible_v<stored_type>) {
      storage_.template emplace<1>(std::move(value));
    } else {
      storage_.template emplace<1>(value);
    }
  }

  void unhandled_exception() noexcept { storage_.template emplace<2>(std::current_exception()); }

  /** The value (a const reference to it), or the exception the body threw. Throws
      `std::runtime_error` when the body has not returned. */
  decltype(auto) result() & {
    check();
    if constexpr (return_type_is_reference) {
      return static_cast<T>(*std::get<1>(storage_));
    } else {
      return static_cast<const T&>(std::get<1>(storage_));
    }
  }
  decltype(auto) result() const& {
    check();
    if constexpr (return_type_is_reference) {
      return static_cast<std::add_const_t<T>>(*std::get<1>(storage_));
    } else {
      return static_cast<const T&>(std::get<1>(storage_));
    }
  }
  /** The value, moved out (a reference for `task<T&>`). */
  decltype(auto) result() && {
    check();
    if constexpr (return_type_is_reference) {
      return static_cast<T>(*std::get<1>(storage_));
    } else if constexpr (std::is_move_constructible_v<T>) {
      return static_cast<T&&>(std::get<1>(storage_));
    } else {
      return static_cast<const T&&>(std::get<1>(storage_));
    }
  }

  [[nodiscard]] std::exception_ptr exception() const noexcept {
    return storage_.index() == 2 ? std::get<2>(storage_) : std::exception_ptr{};
  }

 private:
  void check() const {
    if (storage_.index() == 2) {
      std::rethrow_exception(std::get<2>(storage_));
    }
    if (storage_.index() == 0) {
      throw_unset_return_value();
    }
  }

  variant_type storage_{};
};

template <>
class promise<void> : public promise_base {
 public:
  using task_type = task<void>;
  using coroutine_handle = std::coroutine_handle<promise<void>>;

  promise() noexcept = default;
  promise(const promise&) = delete;
  promise& operator=(const promise&) = delete;

  task_type get_return_object() noexcept;
  void return_void() noexcept {}
  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  /** Rethrows the exception the body threw, if any. */
  void result() const {
    if (exception_) {
      std::rethrow_exception(exception_);
    }
  }

  [[nodiscard]] std::exception_ptr exception() const noexcept { return exception_; }

 private:
  std::exception_ptr exception_{};
};

template <class T>
struct task_signatures {
  using type = ex::completion_signatures<ex::set_value_t(T), ex::set_error_t(std::exception_ptr)>;
};
template <>
struct task_signatures<void> {
  using type = ex::completion_signatures<ex::set_value_t(), ex::set_error_t(std::exception_ptr)>;
};

}  // namespace detail

/** A lazy coroutine task with libcoro 0.15's interface (`coro::task<T>`), which is also a sender.

    As in libcoro: calling the coroutine creates the task and runs nothing (it starts suspended);
    `co_await t` (or `co_await std::move(t)`) runs it and gives its value, rethrowing what its body
    threw; `resume()` runs it by hand until its next suspension; `is_ready()` says whether it has
    ended; `promise().result()` gives its value afterwards; `destroy()` destroys the frame; a task
    owns its frame (move-only) and destroys it with itself. `task<T&>` returns a reference.
    Awaiting a task transfers control to it symmetrically, and its end resumes the awaiting
    coroutine on the thread where it ended.

    senet additions:
    - **Awaiting senders.** The body may `co_await` any sender with at most one value completion
      signature (a `senet::task`, `net::async_receive(sock, buf)`, `ex::just(1)`...): `set_value`
      gives its value (nothing, the single value, or a `std::tuple`), `set_error(std::error_code)`
      throws `std::system_error`, `set_error(std::exception_ptr)` rethrows, and `set_stopped()`
      throws `std::system_error(std::errc::operation_canceled)`, since a libcoro task has no
      stopped state. On a thread of an `io_scheduler` (its I/O thread, its pool, or inside its
      `process_events`) the sender finds that scheduler's io_context as its I/O scheduler
      (`io::get_io_scheduler`), sees its `shutdown()` as a stop request, counts in its `size()`,
      and the task resumes according to its execution strategy. Elsewhere the sender finds the
      io_context the task was started on as a sender (below) or that the thread runs; a sender
      that needs an I/O scheduler where none is known terminates the program with a message.
    - **Being a sender.** `coro::task<T>` has completion signatures `set_value_t(T)` (`()` for
      `void`) and `set_error_t(std::exception_ptr)`: `ex::sync_wait(t)`, `ctx.run_until(t)`,
      `ex::when_all(t1, t2)`, and `co_await t` in a `senet::task` all work, and a task started so
      in an environment with a senet I/O scheduler passes that io_context on to the senders it
      awaits. A stop request from that receiver is not seen by the task (libcoro tasks have no
      stop tokens); it ends when its body ends. Started as a sender, the task completes on the
      thread where its body ends.

    Thread safety: a task is one object, used by one thread at a time. Allocation: one frame per
    call of the coroutine, as in libcoro, but frames up to 4 KiB are recycled through a small
    per-thread cache, so that a coroutine calling one repeatedly (a poll loop) allocates nothing on
    the steady path; awaiting allocates nothing.

    Example:
    ```cpp
    coro::task<int> answer(std::shared_ptr<coro::io_scheduler> s) {
      co_await s->schedule();
      co_return 42;
    }
    int v = coro::sync_wait(answer(s));
    ```
*/
template <class T>
class [[nodiscard]] task {
 public:
  using task_type = task<T>;
  using promise_type = detail::promise<T>;
  using coroutine_handle = std::coroutine_handle<promise_type>;
  using sender_concept = ex::sender_t;
  using completion_signatures = typename detail::task_signatures<T>::type;

  /** The awaiter of `co_await task` before the result is read. */
  struct awaitable_base {
    explicit awaitable_base(coroutine_handle coroutine) noexcept : m_coroutine(coroutine) {}
    [[nodiscard]] bool await_ready() const noexcept { return !m_coroutine || m_coroutine.done(); }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) noexcept {
      if constexpr (std::is_base_of_v<detail::awaiting_promise, Promise>) {
        m_coroutine.promise().io_ = awaiting.promise().io_;
      }
      m_coroutine.promise().continuation(awaiting);
      return m_coroutine;
    }
    coroutine_handle m_coroutine{};
  };

  task() noexcept = default;
  explicit task(coroutine_handle handle) noexcept : m_coroutine(handle) {}
  task(const task&) = delete;
  task(task&& other) noexcept : m_coroutine(std::exchange(other.m_coroutine, nullptr)) {}
  task& operator=(const task&) = delete;
  task& operator=(task&& other) noexcept {
    if (std::addressof(other) != this) {
      if (m_coroutine) {
        m_coroutine.destroy();
      }
      m_coroutine = std::exchange(other.m_coroutine, nullptr);
    }
    return *this;
  }
  ~task() {
    if (m_coroutine) {
      m_coroutine.destroy();
    }
  }

  /** True if the task has ended (it is at its final suspension point) or holds no coroutine. */
  [[nodiscard]] bool is_ready() const noexcept { return !m_coroutine || m_coroutine.done(); }

  /** Resumes the coroutine unless it has ended; returns whether it has not ended yet. */
  bool resume() {
    if (!m_coroutine.done()) {
      m_coroutine.resume();
    }
    return !m_coroutine.done();
  }

  /** Destroys the coroutine frame; returns false if there was none. */
  bool destroy() {
    if (m_coroutine) {
      m_coroutine.destroy();
      m_coroutine = nullptr;
      return true;
    }
    return false;
  }

  /** Runs the task, and gives a (const) reference to its value. */
  auto operator co_await() const& noexcept {
    struct awaitable : awaitable_base {
      decltype(auto) await_resume() { return this->m_coroutine.promise().result(); }
    };
    return awaitable{awaitable_base{m_coroutine}};
  }

  /** Runs the task, and gives its value (moved out of the promise). */
  auto operator co_await() const&& noexcept {
    struct awaitable : awaitable_base {
      decltype(auto) await_resume() { return std::move(this->m_coroutine.promise()).result(); }
    };
    return awaitable{awaitable_base{m_coroutine}};
  }

  /** The promise: `promise().result()` gives the value once the task has ended. */
  promise_type& promise() & { return m_coroutine.promise(); }
  const promise_type& promise() const& { return m_coroutine.promise(); }
  promise_type&& promise() && { return std::move(m_coroutine.promise()); }

  /** The coroutine handle (the task still owns it). */
  coroutine_handle handle() { return m_coroutine; }

  // ---- the sender interface (senet) ----

  template <class Rcvr>
  class operation;

  /** Connects the task to `rcvr`: the operation state owns the coroutine from now on. */
  template <class Rcvr>
  [[nodiscard]] operation<Rcvr> connect(Rcvr rcvr) && noexcept(std::is_nothrow_move_constructible_v<Rcvr>) {
    return operation<Rcvr>(std::exchange(m_coroutine, nullptr), std::move(rcvr));
  }

  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }

 private:
  coroutine_handle m_coroutine{};
};

/** The operation state of a task connected to `Rcvr`. */
template <class T>
template <class Rcvr>
class task<T>::operation {
 public:
  using operation_state_concept = ex::operation_state_t;

  operation(coroutine_handle h, Rcvr&& rcvr) noexcept(std::is_nothrow_move_constructible_v<Rcvr>)
      : handle_(h), rcvr_(std::move(rcvr)) {}
  operation(const operation&) = delete;
  operation& operator=(const operation&) = delete;
  ~operation() {
    if (handle_) {
      handle_.destroy();
    }
  }

  void start() & noexcept {
    if (!handle_) [[unlikely]] {
      ex::set_error(std::move(rcvr_),
                    std::make_exception_ptr(std::logic_error("senet::coro::task: no coroutine")));
      return;
    }
    promise_type& p = handle_.promise();
    if constexpr (io::detail::env_with_io_scheduler<ex::env_of_t<Rcvr>>) {
      p.io_ = &io::get_io_scheduler(ex::get_env(rcvr_)).context();
    }
    p.on_done_ = &operation::on_done;
    p.done_arg_ = this;
    handle_.resume();
  }

 private:
  static void on_done(void* arg) noexcept {
    auto& self = *static_cast<operation*>(arg);
    promise_type& p = self.handle_.promise();
    if (std::exception_ptr e = p.exception()) {
      ex::set_error(std::move(self.rcvr_), std::move(e));
      return;
    }
    if constexpr (std::is_void_v<T>) {
      ex::set_value(std::move(self.rcvr_));
    } else {
      try {
        ex::set_value(std::move(self.rcvr_), std::move(p).result());
      } catch (...) {
        ex::set_error(std::move(self.rcvr_), std::current_exception());
      }
    }
  }

  coroutine_handle handle_;
  Rcvr rcvr_;
};

namespace detail {
template <class T>
task<T> promise<T>::get_return_object() noexcept {
  return task<T>{coroutine_handle::from_promise(*this)};
}
inline task<void> promise<void>::get_return_object() noexcept {
  return task<void>{coroutine_handle::from_promise(*this)};
}
}  // namespace detail

}  // namespace senet::coro

#endif  // SENET_CORO_TASK_HPP
