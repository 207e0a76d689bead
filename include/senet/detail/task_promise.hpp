// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_DETAIL_TASK_PROMISE_HPP
#define SENET_DETAIL_TASK_PROMISE_HPP

/* The promise of senet::task<T> and the awaiters its await_transform returns.

   A task is connected (as a sender) or awaited (by another task). Either way its promise gets a
   `task_context` (the I/O context, the stop token and the frame allocator of whoever awaits it),
   which the environment of everything the task awaits answers from, and a way to go on when the
   body ends: the awaiting task's handle (symmetric transfer from final_suspend), or the operation
   state's completion function. A stop (an awaited sender completed with set_stopped) goes up the
   chain of awaiting tasks through `unhandled_stopped()` to the operation state, which completes
   its receiver with set_stopped; the frames stay suspended and are destroyed with the operation
   state.

   Awaiting never grows the stack: a sender is started in await_suspend, and when it completes
   inside `start()` await_suspend returns false (the coroutine goes on) instead of the receiver
   resuming it; an awaited task is resumed by the parent's await_suspend, and when it ends inside
   that call its final_suspend returns to it, which returns false. Only a completion that comes
   later resumes the awaiting coroutine (or transfers to it), from a stack that does not hold it.
   (Symmetric transfer alone does not suffice: g++ does not make it a tail call without
   optimisation.) */

#include <senet/detail/frame_allocator.hpp>
#include <senet/execution.hpp>
#include <senet/execution/detail/stop_slot.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>

#include <atomic>
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <memory>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace senet {

template <class T>
class task;

namespace detail {

/** What a task inherits from whoever awaits it. Lives in the operation state of the outermost
    task; tasks awaited by tasks point at their parent's. */
struct task_context {
  io::io_context* io = nullptr;
  ex::inplace_stop_token token{};
  const frame_allocator* alloc = nullptr;
  /** The outermost task's one stop callback for the waits of the chain
      (execution/detail/stop_slot.hpp, bound to `token`),
      or null (then each wait registers its own). */
  execution_detail::stop_slot* stop_slot = nullptr;
};

[[noreturn]] inline void no_io_context_for_task() noexcept {
  std::fputs(
      "senet::task: an operation asked the task's environment for an I/O scheduler, but the task was "
      "started where none is known. Start the task on an io_context (ctx.run_until(t), "
      "ex::starts_on(ctx.get_scheduler(), t), or with io::get_io_scheduler in the receiver's "
      "environment), or give the operation its scheduler explicitly.\n",
      stderr);
  std::terminate();
}

/** The environment of the receivers a task connects what it awaits to. */
class task_env {
 public:
  explicit task_env(const task_context* ctx) noexcept : ctx_(ctx) {}

  [[nodiscard]] ex::inplace_stop_token query(ex::get_stop_token_t) const noexcept { return ctx_->token; }
  [[nodiscard]] io::io_context::scheduler_type query(io::get_io_scheduler_t) const noexcept {
    return io_context().get_scheduler();
  }
  [[nodiscard]] io::io_context::scheduler_type query(ex::get_scheduler_t) const noexcept {
    return io_context().get_scheduler();
  }

 private:
  [[nodiscard]] io::io_context& io_context() const noexcept {
    if (ctx_->io == nullptr) [[unlikely]] {
      no_io_context_for_task();
    }
    return *ctx_->io;
  }

  const task_context* ctx_;
};

/** An awaiter that knows its I/O context and stop token before `await_ready()` (senet's socket
    awaitables): a task gives them with `bind_io_environment`. */
template <class A>
concept binds_io_environment = requires(A& a, io::io_context* io, ex::inplace_stop_token token) {
  a.bind_io_environment(io, token);
};

/** One that also takes the chain's stop slot (`task_context::stop_slot`). */
template <class A>
concept binds_stop_slot = requires(A& a, io::io_context* io, ex::inplace_stop_token token,
                                   execution_detail::stop_slot* slot) {
  a.bind_io_environment(io, token, slot);
};

/** The awaiter of an awaitable `A` (an awaiter, or a type with a member `operator co_await`). */
template <class A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (requires { std::forward<A>(a).operator co_await(); }) {
    return std::forward<A>(a).operator co_await();
  } else {
    return std::forward<A>(a);
  }
}

template <class T>
concept is_task = requires {
  typename std::remove_cvref_t<T>::senet_task_value_type;
};

enum : int { task_started = 0, task_suspended = 1, task_done = 2, task_stopped = 3 };

class promise_base {
 public:
  // ---- frame allocation (see frame_allocator.hpp) ----
  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept { free_frame(frame, size); }

  struct initial_awaiter {
    promise_base* p_;
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept { p_->on_resume(); }
  };
  [[nodiscard]] initial_awaiter initial_suspend() noexcept { return {this}; }

  struct final_awaiter {
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) const noexcept {
      promise_base& p = h.promise();
      current_frame_allocator = nullptr;
      if (p.continuation_) {
        if (p.state_.exchange(task_done, std::memory_order_acq_rel) == task_started) {
          // Completed inside the awaiting task's await_suspend, which goes on (no stack growth,
          // whether or not the compiler turns symmetric transfer into a tail call).
          return std::noop_coroutine();
        }
        return p.continuation_;
      }
      // The outermost task: the operation state completes its receiver, which may destroy the
      // operation state and this frame (suspended at its final point, as the standard allows).
      p.on_done_(p.done_arg_);
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  [[nodiscard]] final_awaiter final_suspend() noexcept { return {}; }

  void unhandled_exception() noexcept { error_ = std::current_exception(); }

  /** Where to go on when something this task awaits completed with set_stopped: the task
      completes stopped, and so does every task awaiting it. */
  [[nodiscard]] std::coroutine_handle<> unhandled_stopped() noexcept {
    current_frame_allocator = nullptr;
    return on_stopped_(stopped_arg_);
  }

  [[nodiscard]] task_env get_env() const noexcept { return task_env(ctx_); }

  // ---- await_transform ----
  template <class Sndr>
  auto await_transform(Sndr&& sndr);  // below

  void on_resume() const noexcept { current_frame_allocator = ctx_->alloc; }

  // Set by the operation state or the awaiting task before the body starts.
  const task_context* ctx_ = nullptr;
  promise_base* parent_ = nullptr;  // the awaiting task's promise, if any
  // Awaited by a task: task_started until the parent's await_suspend has seen how the first
  // resumption ended (task_suspended), or the child ended first (task_done, task_stopped).
  std::atomic<int> state_{task_started};
  std::coroutine_handle<> continuation_{};
  void (*on_done_)(void*) noexcept = nullptr;
  void* done_arg_ = nullptr;
  std::coroutine_handle<> (*on_stopped_)(void*) noexcept = nullptr;
  void* stopped_arg_ = nullptr;
  std::exception_ptr error_{};
};

/** A task awaited by a task was stopped: the parent is stopped too, by its await_suspend when the
    child stopped inside it (so that nothing is destroyed under that call), else here. */
inline std::coroutine_handle<> child_stopped(void* child) noexcept {
  auto& c = *static_cast<promise_base*>(child);
  if (c.state_.exchange(task_stopped, std::memory_order_acq_rel) == task_started) {
    return std::noop_coroutine();
  }
  return c.parent_->unhandled_stopped();
}

template <class T>
class task_promise;

// ---- awaiting a task ----

template <class T>
class task_awaiter {
 public:
  explicit task_awaiter(std::coroutine_handle<task_promise<T>> child) noexcept : child_(child) {}
  task_awaiter(task_awaiter&& other) noexcept : child_(std::exchange(other.child_, {})) {}
  task_awaiter& operator=(task_awaiter&&) = delete;
  ~task_awaiter() {
    if (child_) {
      child_.destroy();
    }
  }

  [[nodiscard]] bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> parent_handle, promise_base& parent) noexcept {
    promise_base& c = child_.promise();
    c.ctx_ = parent.ctx_;
    c.parent_ = &parent;
    c.continuation_ = parent_handle;
    c.on_stopped_ = &child_stopped;
    c.stopped_arg_ = &c;
    child_.resume();
    switch (c.state_.exchange(task_suspended, std::memory_order_acq_rel)) {
      case task_done:
        return false;  // go on at once
      case task_stopped:
        // Last: completing the outermost receiver may destroy every frame, this one too.
        parent.unhandled_stopped().resume();
        return true;
      default:
        return true;  // the child suspended; its end resumes the parent
    }
  }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> parent_handle) noexcept {
    return await_suspend(parent_handle, parent_handle.promise());
  }
  decltype(auto) await_resume() {
    child_.promise().on_resume();
    return child_.promise().result();
  }

 private:
  std::coroutine_handle<task_promise<T>> child_;
};

// ---- awaiting a sender ----

template <class... Ts>
struct type_pack {};

template <class Values>
struct sender_value_type;
template <>
struct sender_value_type<type_pack<>> {  // no value completion
  using type = void;
};
template <>
struct sender_value_type<type_pack<type_pack<>>> {
  using type = void;
};
template <class T>
struct sender_value_type<type_pack<type_pack<T>>> {
  using type = std::decay_t<T>;
};
template <class T0, class T1, class... Ts>
struct sender_value_type<type_pack<type_pack<T0, T1, Ts...>>> {
  using type = std::tuple<std::decay_t<T0>, std::decay_t<T1>, std::decay_t<Ts>...>;
};
template <class V0, class V1, class... Vs>
struct sender_value_type<type_pack<V0, V1, Vs...>> {
  static_assert(sizeof(V0) == 0,
                "senet::task: co_await of a sender with more than one value completion signature "
                "(use ex::into_variant)");
};

struct void_value {};

template <class E>
[[nodiscard]] std::exception_ptr as_exception_ptr(E&& e) noexcept {
  if constexpr (std::is_same_v<std::decay_t<E>, std::exception_ptr>) {
    return std::forward<E>(e);
  } else if constexpr (std::is_same_v<std::decay_t<E>, std::error_code>) {
    return std::make_exception_ptr(std::system_error(e));
  } else {
    return std::make_exception_ptr(std::forward<E>(e));
  }
}

template <class Sndr>
class sender_awaiter {
 public:
  using value_type =
      typename sender_value_type<ex::value_types_of_t<Sndr, task_env, type_pack, type_pack>>::type;

  sender_awaiter(Sndr&& sndr, promise_base& p)
      : promise_(&p), op_(ex::connect(std::forward<Sndr>(sndr), receiver{this})) {}
  sender_awaiter(const sender_awaiter&) = delete;
  sender_awaiter& operator=(const sender_awaiter&) = delete;

  [[nodiscard]] bool await_ready() const noexcept { return false; }

  bool await_suspend(std::coroutine_handle<> h) noexcept {
    handle_ = h;
    current_frame_allocator = nullptr;
    ex::start(op_);
    if (state_.exchange(suspended, std::memory_order_acq_rel) == done) {
      // Completed inside start(): go on here, without growing the stack.
      if (result_.index() != 0) {
        return false;
      }
      // Last: completing the outermost receiver may destroy every frame, this one too.
      promise_->unhandled_stopped().resume();
    }
    return true;
  }

  value_type await_resume() {
    promise_->on_resume();
    if (result_.index() == 2) {
      std::rethrow_exception(std::get<2>(std::move(result_)));
    }
    if constexpr (!std::is_void_v<value_type>) {
      return std::get<1>(std::move(result_));
    }
  }

 private:
  using stored_value = std::conditional_t<std::is_void_v<value_type>, void_value, value_type>;

  struct receiver {
    using receiver_concept = ex::receiver_t;
    sender_awaiter* self_;

    template <class... As>
    void set_value(As&&... as) && noexcept {
      try {
        self_->result_.template emplace<1>(std::forward<As>(as)...);
      } catch (...) {
        self_->result_.template emplace<2>(std::current_exception());
      }
      self_->finish();
    }
    template <class E>
    void set_error(E&& e) && noexcept {
      self_->result_.template emplace<2>(as_exception_ptr(std::forward<E>(e)));
      self_->finish();
    }
    void set_stopped() && noexcept { self_->finish(); }
    [[nodiscard]] task_env get_env() const noexcept { return self_->promise_->get_env(); }
  };

  enum : int { started = 0, suspended = 1, done = 2 };

  void finish() noexcept {
    if (state_.exchange(done, std::memory_order_acq_rel) == suspended) {
      if (result_.index() == 0) {
        promise_->unhandled_stopped().resume();
      } else {
        handle_.resume();
      }
    }
  }

  promise_base* promise_;
  std::coroutine_handle<> handle_{};
  std::atomic<int> state_{started};
  // monostate: stopped (or not completed yet).
  std::variant<std::monostate, stored_value, std::exception_ptr> result_{};
  ex::connect_result_t<Sndr, receiver> op_;
};

// ---- awaiting anything else ----

/** Forwards to `A`'s awaiter, clearing and restoring the frame allocator of the task around a
    suspension. */
template <class Awaiter>
class forwarding_awaiter {
 public:
  forwarding_awaiter(Awaiter&& a, promise_base& p) : a_(std::forward<Awaiter>(a)), p_(&p) {}

  [[nodiscard]] bool await_ready() { return a_.await_ready(); }
  template <class Promise>
  auto await_suspend(std::coroutine_handle<Promise> h) {
    current_frame_allocator = nullptr;
    return a_.await_suspend(h);
  }
  decltype(auto) await_resume() {
    p_->on_resume();
    return a_.await_resume();
  }

 private:
  Awaiter a_;  // a reference when the awaiter is an lvalue
  promise_base* p_;
};

template <class Sndr>
auto promise_base::await_transform(Sndr&& sndr) {
  using plain = std::remove_cvref_t<Sndr>;
  if constexpr (is_task<plain>) {
    static_assert(!std::is_lvalue_reference_v<Sndr>, "senet::task: co_await a task rvalue (std::move(t))");
    return task_awaiter<typename plain::senet_task_value_type>(std::move(sndr).release_handle());
  } else if constexpr (binds_io_environment<plain>) {
    if constexpr (binds_stop_slot<plain>) {
      sndr.bind_io_environment(ctx_->io, ctx_->token, ctx_->stop_slot);
    } else {
      sndr.bind_io_environment(ctx_->io, ctx_->token);
    }
    return forwarding_awaiter<Sndr&>(sndr, *this);
  } else if constexpr (ex::sender<plain>) {
    return sender_awaiter<Sndr>(std::forward<Sndr>(sndr), *this);
  } else {
    using awaiter_type = decltype(get_awaiter(std::forward<Sndr>(sndr)));
    return forwarding_awaiter<awaiter_type>(get_awaiter(std::forward<Sndr>(sndr)), *this);
  }
}

// ---- the promise ----

template <class T>
class task_promise : public promise_base {
 public:
  task<T> get_return_object() noexcept;

  template <class U = T>
  requires std::convertible_to<U&&, T>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    value_.emplace(std::forward<U>(value));
  }

  T result() {
    if (error_) {
      std::rethrow_exception(error_);
    }
    return std::move(*value_);
  }
  [[nodiscard]] bool has_value() const noexcept { return value_.has_value(); }

 private:
  std::optional<T> value_{};
};

template <class T>
class task_promise<T&> : public promise_base {
 public:
  task<T&> get_return_object() noexcept;

  void return_value(T& value) noexcept { value_ = std::addressof(value); }

  T& result() {
    if (error_) {
      std::rethrow_exception(error_);
    }
    return *value_;
  }

 private:
  T* value_ = nullptr;
};

template <>
class task_promise<void> : public promise_base {
 public:
  task<void> get_return_object() noexcept;

  void return_void() noexcept {}

  void result() {
    if (error_) {
      std::rethrow_exception(error_);
    }
  }
};

}  // namespace detail
}  // namespace senet

#endif  // SENET_DETAIL_TASK_PROMISE_HPP
