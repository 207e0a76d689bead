// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TASK_HPP
#define SENET_TASK_HPP

#include <senet/detail/frame_allocator.hpp>
#include <senet/detail/task_promise.hpp>
#include <senet/execution.hpp>
#include <senet/io/detail/stoppable_operation.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>

#include <coroutine>
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace senet {

/** A lazy coroutine task that is a sender: `senet::task<T>` is the return type of a coroutine
    that `co_await`s senders, other tasks and senet's socket awaitables, and produces a `T`
    (P2762 §3.6, `io_task`).

    Lazy: calling the coroutine creates the task and runs nothing; the body starts when the task is
    started as a sender (`ex::sync_wait(t)`, `ctx.run_until(t)`, `ex::when_all(t1, t2)`,
    `ex::spawn` into a `counting_scope`...) or awaited by another task (`co_await f()`).

    Inside the body:
    - `co_await sndr` on any sender with at most one value completion signature gives its value:
      nothing for `set_value()`, `T` (decayed) for `set_value(T)`, a `std::tuple` for several
      values. `set_error(std::error_code)` is thrown as `std::system_error`,
      `set_error(std::exception_ptr)` is rethrown, any other error `e` is thrown as `e`.
      `set_stopped()` ends the task at once: it completes with `set_stopped()` (and so does every
      task awaiting it, up to the one connected as a sender); destructors of the suspended frames
      run when that operation state is destroyed.
    - What is awaited sees the task's environment: the stop token of the receiver the task is
      connected to (`ex::get_stop_token`), and, when that receiver's environment has a senet I/O
      scheduler (`io::get_io_scheduler`, or `ex::get_scheduler` giving an
      `io_context::scheduler_type`), that scheduler as `io::get_io_scheduler` and
      `ex::get_scheduler`; so `co_await net::async_receive(sock, buf)` needs nothing else in a task
      started on an `io_context`. Awaiting a networking sender without an explicit scheduler in a
      task started where no I/O scheduler is known terminates the program with a message.
    - `co_await other_task()` runs `other_task` with the same environment (symmetric transfer: a
      loop awaiting tasks, or senders that complete inside `start()`, does not grow the stack).
    - senet's socket awaitables (`sock.read_some(buf)`, `sock.write_some(buf)`) are given the
      task's I/O context and stop token before `await_ready()`, so that they complete without
      suspending when the kernel has the data.
    - Other awaitables (with `await_ready` / `await_suspend` / `await_resume`, or a member
      `operator co_await`) are awaited as they are.

    Completion signatures (as a sender): `set_value_t(T)` (`set_value_t()` for `task<void>`,
    `set_value_t(T&)` for `task<T&>`, which returns a reference to an object the coroutine does
    not own), `set_error_t(std::exception_ptr)` (an exception that left the body),
    `set_stopped_t()`.
    Cancellation: a stop request on the receiver's stop token reaches every operation the task
    (and the tasks it awaits) is waiting for, through their receivers' stop token; those that
    honour it complete with `set_stopped()`, which stops the task. A task that awaits nothing
    stoppable runs to its end.
    Allocation: a frame is allocated when the coroutine is called, before anything is connected,
    so a task created outside any task comes from `::operator new`; a task created while the body
    of a task whose receiver's environment has an allocator (`ex::get_allocator`) runs (a child it
    awaits, a session it spawns) is allocated with that allocator. Each frame keeps a copy of its
    allocator and is freed with it, wherever it is destroyed. Awaiting a sender or a task
    allocates nothing.
    Thread safety: a task is one object, used by one thread at a time; the body runs on the
    threads that resume it (the thread that starts it, then where what it awaits completes: on an
    io_context, that context's thread).
    Lifetime: a task owns its frame (move-only; destroying a task that was not started destroys
    the frame and the coroutine's arguments). Arguments taken by reference must outlive it.

    Example:
    ```cpp
    senet::task<std::size_t> echo_once(senet::ip::tcp::socket& sock) {
      char buf[1024];
      std::size_t n = co_await net::async_receive(sock, senet::buffer(buf));
      co_return co_await net::async_write(sock, senet::buffer(buf, n));
    }
    auto [n] = ctx.run_until(echo_once(sock)).value();
    ```
    See P2762 §3.6.
*/
namespace detail {
template <class T>
struct task_signatures {
  using type =
      ex::completion_signatures<ex::set_value_t(T), ex::set_error_t(std::exception_ptr), ex::set_stopped_t()>;
};
template <>
struct task_signatures<void> {
  using type =
      ex::completion_signatures<ex::set_value_t(), ex::set_error_t(std::exception_ptr), ex::set_stopped_t()>;
};
}  // namespace detail

template <class T = void>
class [[nodiscard]] task {
 public:
  using promise_type = detail::task_promise<T>;
  using senet_task_value_type = T;
  using sender_concept = ex::sender_t;
  using completion_signatures = typename detail::task_signatures<T>::type;

  task(task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      if (handle_) {
        handle_.destroy();
      }
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  ~task() {
    if (handle_) {
      handle_.destroy();
    }
  }

  /** Whether the task holds a coroutine (false after a move). */
  [[nodiscard]] explicit operator bool() const noexcept { return static_cast<bool>(handle_); }

  template <class Rcvr>
  class operation;

  /** Connects the task to `rcvr`: the operation state owns the coroutine from now on. */
  template <class Rcvr>
  [[nodiscard]] operation<Rcvr> connect(Rcvr rcvr) && noexcept(std::is_nothrow_move_constructible_v<Rcvr>) {
    return operation<Rcvr>(std::exchange(handle_, {}), std::move(rcvr));
  }

  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }

  /** For the awaiting task's promise (detail/task_promise.hpp). */
  [[nodiscard]] std::coroutine_handle<promise_type> release_handle() && noexcept {
    return std::exchange(handle_, {});
  }

 private:
  friend promise_type;
  explicit task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}

  std::coroutine_handle<promise_type> handle_;
};

namespace detail {

template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<task_promise>::from_promise(*this));
}
template <class T>
task<T&> task_promise<T&>::get_return_object() noexcept {
  return task<T&>(std::coroutine_handle<task_promise>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<task_promise>::from_promise(*this));
}

struct no_stop_bridge {};

/** Requests stop on `source_` (a receiver's foreign stop token reaching the task's own). */
struct forward_stop_request {
  ex::inplace_stop_source* source_;
  void operator()() const noexcept { source_->request_stop(); }
};

template <class Env>
struct task_env_allocator {
  using type = no_stop_bridge;
};
template <class Env>
requires requires(const Env& env) {
  ex::get_allocator(env);
}
struct task_env_allocator<Env> {
  using type = frame_allocator_of<std::decay_t<decltype(ex::get_allocator(std::declval<const Env&>()))>>;
};

}  // namespace detail

/** The operation state of a task connected to `Rcvr`. */
template <class T>
template <class Rcvr>
class task<T>::operation {
  using env_type = ex::env_of_t<Rcvr>;
  using token_type = ex::stop_token_of_t<env_type>;
  static constexpr bool direct_token = std::is_same_v<token_type, ex::inplace_stop_token>;
  static constexpr bool bridge = !direct_token && !ex::unstoppable_token<token_type>;
  using source_type = std::conditional_t<bridge, ex::inplace_stop_source, detail::no_stop_bridge>;
  using callback_type =
      std::conditional_t<bridge,
                         std::optional<ex::stop_callback_for_t<token_type, detail::forward_stop_request>>,
                         detail::no_stop_bridge>;
  using allocator_type = typename detail::task_env_allocator<env_type>::type;
  static constexpr bool has_allocator = !std::is_same_v<allocator_type, detail::no_stop_bridge>;

 public:
  operation(std::coroutine_handle<promise_type> h,
            Rcvr&& rcvr) noexcept(std::is_nothrow_move_constructible_v<Rcvr>)
      : handle_(h), rcvr_(std::move(rcvr)), alloc_(make_allocator(rcvr_)) {}
  operation(const operation&) = delete;
  operation& operator=(const operation&) = delete;
  ~operation() {
    if (handle_) {
      handle_.destroy();
    }
  }

  void start() & noexcept {
    const env_type& env = ex::get_env(rcvr_);
    if constexpr (io::detail::env_with_io_scheduler<env_type>) {
      ctx_.io = &io::get_io_scheduler(env).context();
    }
    if constexpr (direct_token) {
      ctx_.token = ex::get_stop_token(env);
    } else if constexpr (bridge) {
      callback_.emplace(ex::get_stop_token(env), detail::forward_stop_request{&source_});
      ctx_.token = source_.get_token();
    }
    if constexpr (has_allocator) {
      ctx_.alloc = &alloc_;
    }
    if (!handle_) [[unlikely]] {
      // A moved-from task: complete as an empty coroutine would not; report it.
      ex::set_error(std::move(rcvr_), std::make_exception_ptr(std::logic_error("senet::task: no coroutine")));
      return;
    }
    promise_type& p = handle_.promise();
    stop_slot_.bind(ctx_.token);
    ctx_.stop_slot = &stop_slot_;
    p.ctx_ = &ctx_;
    p.on_done_ = &operation::on_done;
    p.done_arg_ = this;
    p.on_stopped_ = &operation::on_stopped;
    p.stopped_arg_ = this;
    handle_.resume();
  }

 private:
  static allocator_type make_allocator(const Rcvr& rcvr) noexcept {
    if constexpr (has_allocator) {
      return allocator_type(ex::get_allocator(ex::get_env(rcvr)));
    } else {
      (void)rcvr;
      return {};
    }
  }

  static void on_done(void* arg) noexcept {
    auto& self = *static_cast<operation*>(arg);
    // Before the receiver is completed, which may destroy the stop source: the stop slot's callback
    // (registered at the chain's first wait; no wait is left now) and the bridge's.
    self.stop_slot_.reset();
    if constexpr (bridge) {
      self.callback_.reset();
    }
    promise_type& p = self.handle_.promise();
    if (p.error_) {
      ex::set_error(std::move(self.rcvr_), p.error_);
      return;
    }
    if constexpr (std::is_void_v<T>) {
      ex::set_value(std::move(self.rcvr_));
    } else {
      // result() cannot throw here: there is no error, and it only moves (or binds) the value.
      ex::set_value(std::move(self.rcvr_), p.result());
    }
  }

  static std::coroutine_handle<> on_stopped(void* arg) noexcept {
    auto& self = *static_cast<operation*>(arg);
    self.stop_slot_.reset();  // as in on_done
    if constexpr (bridge) {
      self.callback_.reset();
    }
    ex::set_stopped(std::move(self.rcvr_));
    return std::noop_coroutine();
  }

  std::coroutine_handle<promise_type> handle_;
  Rcvr rcvr_;
  [[no_unique_address]] allocator_type alloc_;
  detail::task_context ctx_{};
  [[no_unique_address]] source_type source_{};
  [[no_unique_address]] callback_type callback_{};
  // After source_: its callback goes first.
  execution_detail::stop_slot stop_slot_{};
};

}  // namespace senet

#endif  // SENET_TASK_HPP
