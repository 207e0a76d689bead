// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_WHEN_ALL_HPP
#define SENET_CORO_WHEN_ALL_HPP

#include <senet/coro/detail/awaiting.hpp>
#include <senet/coro/detail/result_promise.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace senet::coro {

namespace detail {

/** What `when_all_task<void>::return_value()` gives (libcoro's `coro::detail::void_value`). */
struct void_value {};

/** Counts the tasks still running, plus one for the awaiting coroutine; the last to arrive
    resumes it. */
class when_all_latch {
 public:
  explicit when_all_latch(std::size_t count) noexcept : count_(count + 1) {}
  when_all_latch(when_all_latch&& other) noexcept
      : count_(other.count_.load(std::memory_order_acquire)), awaiting_(std::exchange(other.awaiting_, {})) {}
  when_all_latch& operator=(when_all_latch&&) = delete;

  [[nodiscard]] bool is_ready() const noexcept { return awaiting_ && awaiting_.done(); }

  /** False when every task ended already (the awaiting coroutine goes on). */
  bool try_await(std::coroutine_handle<> awaiting) noexcept {
    awaiting_ = awaiting;
    return count_.fetch_sub(1, std::memory_order_acq_rel) > 1;
  }

  /** A task ended. */
  void notify() noexcept {
    if (count_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      awaiting_.resume();
    }
  }

 private:
  std::atomic<std::size_t> count_;
  std::coroutine_handle<> awaiting_{};
};

/** One result of `when_all` (libcoro 0.15's `coro::detail::when_all_task`): `return_value()`
    gives the awaitable's value (a reference to it, held by this object), `void_value{}` for a
    `void` one, or rethrows what it threw. */
template <class T>
class when_all_task {
 public:
  using promise_type = notifying_promise<T, when_all_task<T>, when_all_latch>;
  using coroutine_handle_type = std::coroutine_handle<promise_type>;

  explicit when_all_task(coroutine_handle_type h) noexcept : m_coroutine(h) {}
  when_all_task(const when_all_task&) = delete;
  when_all_task(when_all_task&& other) noexcept : m_coroutine(std::exchange(other.m_coroutine, {})) {}
  when_all_task& operator=(const when_all_task&) = delete;
  when_all_task& operator=(when_all_task&&) = delete;
  ~when_all_task() {
    if (m_coroutine) {
      m_coroutine.destroy();
    }
  }

  /** The value; rethrows the awaitable's exception. */
  decltype(auto) return_value() & {
    if constexpr (std::is_void_v<T>) {
      m_coroutine.promise().result();
      return void_value{};
    } else {
      return m_coroutine.promise().result();
    }
  }
  /** The value (a const reference); rethrows the awaitable's exception. */
  decltype(auto) return_value() const& {
    if constexpr (std::is_void_v<T>) {
      m_coroutine.promise().result();
      return void_value{};
    } else {
      return std::as_const(m_coroutine.promise()).result();
    }
  }
  /** The value, moved out; rethrows the awaitable's exception. */
  decltype(auto) return_value() && {
    if constexpr (std::is_void_v<T>) {
      m_coroutine.promise().result();
      return void_value{};
    } else {
      return std::move(m_coroutine.promise()).result();
    }
  }

  /** Starts the awaitable; the latch hears of its end. */
  void start(when_all_latch& latch) noexcept { m_coroutine.promise().start(latch); }

 private:
  coroutine_handle_type m_coroutine;
};

template <class T, class A>
when_all_task<T> make_when_all_task(A a) {
  if constexpr (std::is_void_v<T>) {
    co_await std::move(a);
  } else {
    co_return co_await std::move(a);
  }
}

/** The awaitable `when_all` returns: starts every task when awaited, and gives them back (a
    tuple, or the container) once all have ended. */
template <class Tasks>
class when_all_ready_awaitable {
 public:
  explicit when_all_ready_awaitable(Tasks&& tasks) noexcept(std::is_nothrow_move_constructible_v<Tasks>)
      : latch_(count(tasks)), tasks_(std::move(tasks)) {}
  when_all_ready_awaitable(when_all_ready_awaitable&& other) noexcept(
      std::is_nothrow_move_constructible_v<Tasks>)
      : latch_(std::move(other.latch_)), tasks_(std::move(other.tasks_)) {}
  when_all_ready_awaitable(const when_all_ready_awaitable&) = delete;
  when_all_ready_awaitable& operator=(const when_all_ready_awaitable&) = delete;
  when_all_ready_awaitable& operator=(when_all_ready_awaitable&&) = delete;

  template <bool Move>
  struct awaiter {
    when_all_ready_awaitable& self_;
    [[nodiscard]] bool await_ready() const noexcept { return self_.latch_.is_ready(); }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
      if constexpr (std::is_same_v<Tasks, std::tuple<>>) {
        return false;
      } else {
        self_.start_all();
        return self_.latch_.try_await(awaiting);
      }
    }
    decltype(auto) await_resume() noexcept(std::is_nothrow_move_constructible_v<Tasks>) {
      if constexpr (Move) {
        // By value: the awaitable is a temporary that ends with the full expression, so a
        // reference into it would dangle in `for (auto& t : co_await when_all(std::move(v)))`
        // (libcoro gives `Tasks&&` there).
        return Tasks(std::move(self_.tasks_));
      } else {
        return (self_.tasks_);
      }
    }
  };

  /** Starts every task; gives `Tasks&`. */
  awaiter<false> operator co_await() & noexcept { return {*this}; }
  /** Starts every task; gives the `Tasks`, moved out of the awaitable. */
  awaiter<true> operator co_await() && noexcept { return {*this}; }

 private:
  static std::size_t count(const Tasks& tasks) noexcept {
    if constexpr (requires { std::tuple_size<Tasks>::value; }) {
      return std::tuple_size_v<Tasks>;
    } else {
      return std::size(tasks);
    }
  }
  void start_all() noexcept {
    if constexpr (requires { std::tuple_size<Tasks>::value; }) {
      std::apply([this](auto&... t) { (t.start(latch_), ...); }, tasks_);
    } else {
      for (auto& t : tasks_) {
        t.start(latch_);
      }
    }
  }

  when_all_latch latch_;
  Tasks tasks_;
};

}  // namespace detail

/** Runs every awaitable concurrently and resumes the awaiting coroutine when all have ended
    (libcoro 0.15's `coro::when_all`). `co_await when_all(a, b, c)` gives a
    `std::tuple<when_all_task<A>, ...>`; `std::get<i>(results).return_value()` gives each result
    (rethrowing what that awaitable threw). Each argument is a `coro::task`, another awaitable, or a
    sender (awaited as in a `coro::task`).

    Each awaitable starts on the thread that awaits `when_all`, in order; the coroutine resumes on
    the thread where the last one ends. Allocation: one coroutine frame per awaitable. */
template <detail::awaitable_or_sender... As>
[[nodiscard]] auto when_all(As... awaitables) {
  using tasks = std::tuple<detail::when_all_task<detail::await_result_t<As>>...>;
  return detail::when_all_ready_awaitable<tasks>(
      tasks(detail::make_when_all_task<detail::await_result_t<As>>(std::move(awaitables))...));
}

/** The range form: `co_await when_all(std::move(tasks))` runs every element of the range
    concurrently and gives a `std::vector<when_all_task<T>>`, in the range's order. The results
    are given by value (libcoro gives a reference into the awaitable, which dangles once the full
    expression ends), so `for (auto& r : co_await when_all(std::move(tasks)))` is safe. */
template <std::ranges::range Range, detail::awaitable_or_sender A = std::ranges::range_value_t<Range>,
          class T = detail::await_result_t<A>>
[[nodiscard]] auto when_all(Range awaitables)
    -> detail::when_all_ready_awaitable<std::vector<detail::when_all_task<T>>> {
  std::vector<detail::when_all_task<T>> tasks;
  if constexpr (std::ranges::sized_range<Range>) {
    tasks.reserve(std::ranges::size(awaitables));
  }
  for (auto&& a : awaitables) {
    tasks.emplace_back(detail::make_when_all_task<T>(std::move(a)));
  }
  return detail::when_all_ready_awaitable<std::vector<detail::when_all_task<T>>>(std::move(tasks));
}

}  // namespace senet::coro

#endif  // SENET_CORO_WHEN_ALL_HPP
