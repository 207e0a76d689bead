// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_DETAIL_AWAITING_HPP
#define SENET_CORO_DETAIL_AWAITING_HPP

/* How the facade's coroutines (coro::task, and the coroutines inside sync_wait and when_all) await
   things: an awaitable (anything with operator co_await or the await_ready / await_suspend /
   await_resume members, such as another coro::task, io_scheduler::schedule(), coro::event) is
   awaited as it is; a sender (senet::task, net::async_*, ex::just...) is connected and started by
   `sender_awaiter`, whose receiver's environment gives the sender an I/O scheduler and a stop
   token.

   Which io_context a sender runs on: the one of the io_scheduler whose thread the coroutine is on
   (detail::current_scheduler), else the one the coroutine inherited when it was started as a
   sender in an environment that names one (a senet::task awaiting a coro::task), else the
   io_context the calling thread runs. With a scheduler, the operation counts in its size(), sees
   its shutdown as a stop request, and the coroutine resumes according to its execution strategy;
   otherwise it resumes where the sender completes. */

#include <senet/coro/detail/op_storage.hpp>
#include <senet/coro/detail/scheduler_core.hpp>
#include <senet/detail/task_promise.hpp>
#include <senet/execution.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>

#include <atomic>
#include <concepts>
#include <coroutine>
#include <cstdio>
#include <exception>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace senet::coro {

/** The concepts of libcoro 0.15 that its templates are constrained with (`coro::concepts`). */
namespace concepts {

/** A type whose `await_suspend` accepts a `std::coroutine_handle<>`. */
template <class T>
concept awaiter = requires(T t, std::coroutine_handle<> h) {
  { t.await_ready() } -> std::convertible_to<bool>;
  t.await_suspend(h);
  t.await_resume();
};

/** An awaiter, or a type whose member `operator co_await` gives one. */
template <class T>
concept awaitable = awaiter<T> || requires(T&& t) {
  { std::forward<T>(t).operator co_await() } -> awaiter;
};

/** The awaiter and the result of `co_await`ing an `awaitable` `T`. */
template <class T>
struct awaitable_traits {};

template <awaitable T>
struct awaitable_traits<T> {
  using awaiter_type = decltype(senet::detail::get_awaiter(std::declval<T>()));
  using awaiter_return_type = decltype(std::declval<awaiter_type>().await_resume());
};

}  // namespace concepts

namespace detail {

[[noreturn]] inline void no_io_context_for_coroutine() noexcept {
  std::fputs(
      "senet::coro: a coroutine awaited a sender that asked for an I/O scheduler, but the coroutine "
      "runs on no io_scheduler's thread and was not started on an io_context. co_await "
      "scheduler->schedule() first, or give the operation its scheduler explicitly.\n",
      stderr);
  std::terminate();
}

/** Where a sender awaited by a coroutine runs, and who resumes the coroutine. */
struct await_context {
  scheduler_core* scheduler = nullptr;
  io::io_context* io = nullptr;
  ex::inplace_stop_token token{};
};

/** The environment of the receiver a coroutine connects an awaited sender to. */
class await_env {
 public:
  explicit await_env(const await_context* c) noexcept : c_(c) {}

  [[nodiscard]] ex::inplace_stop_token query(ex::get_stop_token_t) const noexcept { return c_->token; }
  [[nodiscard]] io::io_context::scheduler_type query(io::get_io_scheduler_t) const noexcept {
    return context().get_scheduler();
  }
  [[nodiscard]] io::io_context::scheduler_type query(ex::get_scheduler_t) const noexcept {
    return context().get_scheduler();
  }

 private:
  [[nodiscard]] io::io_context& context() const noexcept {
    if (c_->io == nullptr) [[unlikely]] {
      no_io_context_for_coroutine();
    }
    return *c_->io;
  }

  const await_context* c_;
};

/** The value `co_await sndr` gives: nothing, the single value, or a tuple of several. */
template <class Sndr>
using sender_await_result_t = typename senet::detail::sender_value_type<
    ex::value_types_of_t<Sndr, await_env, senet::detail::type_pack, senet::detail::type_pack>>::type;

/** The environment given to a `senet::task` awaited where no io_context is known: a
    senet::task reads its I/O scheduler when it starts, and may well need none. */
class plain_await_env {
 public:
  explicit plain_await_env(const await_context* c) noexcept : c_(c) {}
  [[nodiscard]] ex::inplace_stop_token query(ex::get_stop_token_t) const noexcept { return c_->token; }

 private:
  const await_context* c_;
};

struct no_op {};

/** Awaits a sender: `set_value` gives its value, `set_error(std::error_code)` throws
    `std::system_error`, `set_error(std::exception_ptr)` rethrows, `set_stopped()` throws
    `std::system_error(std::errc::operation_canceled)` (a libcoro coroutine has no stopped state).
    The operation state is connected at construction: with `await_env`, or, for a senet::task
    awaited where no io_context is known, with `plain_await_env`. */
template <class Sndr>
class sender_awaiter {
 public:
  using value_type = sender_await_result_t<Sndr>;

  sender_awaiter(Sndr&& sndr, await_context c) : c_(c) {
    if constexpr (dual) {
      if (c_.io == nullptr) {
        plain_op_.construct([&] { return ex::connect(std::forward<Sndr>(sndr), receiver<false>{this}); });
        return;
      }
    }
    io_op_.construct([&] { return ex::connect(std::forward<Sndr>(sndr), receiver<true>{this}); });
  }
  sender_awaiter(const sender_awaiter&) = delete;
  sender_awaiter& operator=(const sender_awaiter&) = delete;

  [[nodiscard]] bool await_ready() const noexcept { return false; }

  bool await_suspend(std::coroutine_handle<> h) noexcept {
    handle_ = h;
    if (c_.scheduler != nullptr) {
      c_.scheduler->io_started();
    }
    start();
    if (state_.exchange(suspended, std::memory_order_acq_rel) == done) {
      // Completed inside start(): go on here.
      if (c_.scheduler != nullptr) {
        c_.scheduler->io_done_inline();
      }
      return false;
    }
    return true;
  }

  value_type await_resume() {
    if (result_.index() == 0) {
      throw std::system_error(std::make_error_code(std::errc::operation_canceled));
    }
    if (result_.index() == 2) {
      std::rethrow_exception(std::get<2>(std::move(result_)));
    }
    if constexpr (!std::is_void_v<value_type>) {
      return std::get<1>(std::move(result_));
    }
  }

 private:
  using stored_value = std::conditional_t<std::is_void_v<value_type>, senet::detail::void_value, value_type>;
  static constexpr bool dual = senet::detail::is_task<Sndr>;

  template <bool WithIo>
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
      self_->result_.template emplace<2>(senet::detail::as_exception_ptr(std::forward<E>(e)));
      self_->finish();
    }
    void set_stopped() && noexcept { self_->finish(); }
    [[nodiscard]] std::conditional_t<WithIo, await_env, plain_await_env> get_env() const noexcept {
      return std::conditional_t<WithIo, await_env, plain_await_env>(&self_->c_);
    }
  };

  using io_op_type = ex::connect_result_t<Sndr, receiver<true>>;
  template <bool Dual, class = void>
  struct plain_storage {
    using type = no_op;
  };
  template <class Void>
  struct plain_storage<true, Void> {
    using type = op_storage<ex::connect_result_t<Sndr, receiver<false>>>;
  };

  void start() noexcept {
    if constexpr (dual) {
      if (c_.io == nullptr) {
        ex::start(plain_op_.get());
        return;
      }
    }
    ex::start(io_op_.get());
  }

  enum : int { started = 0, suspended = 1, done = 2 };

  void finish() noexcept {
    if (state_.exchange(done, std::memory_order_acq_rel) == suspended) {
      if (c_.scheduler != nullptr) {
        c_.scheduler->io_finished(handle_);
      } else {
        handle_.resume();
      }
    }
  }

  await_context c_;
  std::coroutine_handle<> handle_{};
  std::atomic<int> state_{started};
  // monostate: stopped (or not completed yet).
  std::variant<std::monostate, stored_value, std::exception_ptr> result_{};
  op_storage<io_op_type> io_op_;
  [[no_unique_address]] typename plain_storage<dual>::type plain_op_;
};

/** What `co_await x` gives in a facade coroutine. */
template <class A>
struct await_result {
  using type = sender_await_result_t<A>;
};
template <concepts::awaitable A>
struct await_result<A> {
  using type = typename concepts::awaitable_traits<A>::awaiter_return_type;
};
/** What sync_wait and when_all keep of `co_await x`: a value for a value or an rvalue reference
    (a task's `co_await std::move(t)` gives `T&&` into a frame about to go), a reference for an
    lvalue reference. */
template <class A>
using await_result_t =
    std::conditional_t<std::is_rvalue_reference_v<typename await_result<A>::type>,
                       std::remove_cvref_t<typename await_result<A>::type>, typename await_result<A>::type>;

/** Something a facade coroutine can `co_await`: an awaitable or a sender. */
template <class A>
concept awaitable_or_sender = concepts::awaitable<A> || ex::sender<std::remove_cvref_t<A>>;

/** Forwards to an awaiter held by value (what a member `operator co_await` returned) or by
    reference (an awaiter awaited directly, which lives until the end of the `co_await`
    expression): g++ would otherwise try to move the awaiter itself into the frame. */
template <class Awaiter>
struct held_awaiter {
  Awaiter aw_;
  [[nodiscard]] bool await_ready() { return aw_.await_ready(); }
  template <class Promise>
  auto await_suspend(std::coroutine_handle<Promise> h) {
    return aw_.await_suspend(h);
  }
  decltype(auto) await_resume() { return aw_.await_resume(); }
};

/** The base of the facade's promises: `await_transform` (awaitables as they are, senders through
    `sender_awaiter`) and the io_context inherited from a sender environment. */
class awaiting_promise {
 public:
  template <class A>
  decltype(auto) await_transform(A&& a) {
    if constexpr (requires { std::forward<A>(a).operator co_await(); }) {
      return held_awaiter<decltype(std::forward<A>(a).operator co_await())>{
          std::forward<A>(a).operator co_await()};
    } else if constexpr (concepts::awaiter<A>) {
      return held_awaiter<std::remove_reference_t<A>&>{a};
    } else {
      static_assert(ex::sender<std::remove_cvref_t<A>>,
                    "senet::coro: co_await needs an awaitable or a sender");
      return sender_awaiter<A>(std::forward<A>(a), where());
    }
  }

  /** Set when the coroutine is started as a sender whose receiver's environment has a senet I/O
      scheduler, or by the coroutine that awaits this one. */
  io::io_context* io_ = nullptr;

 private:
  [[nodiscard]] await_context where() const noexcept {
    if (scheduler_core* s = current_scheduler; s != nullptr) {
      return {s, &s->context(), s->stop_token()};
    }
    return {nullptr, io_ != nullptr ? io_ : io::detail::current_context, {}};
  }
};

}  // namespace detail
}  // namespace senet::coro

#endif  // SENET_CORO_DETAIL_AWAITING_HPP
