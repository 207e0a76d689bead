// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_EVENT_HPP
#define SENET_CORO_EVENT_HPP

#include <atomic>
#include <coroutine>
#include <memory>

namespace senet::coro {

/** The order in which `event::set` resumes its waiters (libcoro 0.15's
    `coro::resume_order_policy`). */
enum class resume_order_policy {
  /** Last in, first out (the default: no reversal of the waiter list). */
  lifo,
  /** First in, first out. */
  fifo,
};

namespace concepts {
/** An executor as `event::set(executor)` uses it: `resume(handle)` queues a coroutine. */
template <class E>
concept executor = requires(E& e, std::coroutine_handle<> h) {
  e.resume(h);
};
}  // namespace concepts

/** A manually set, thread-safe signal that any number of coroutines may `co_await` (libcoro 0.15's
    `coro::event`).

    `co_await e` goes on at once when `e` is set, and otherwise suspends until `set()`; `set()`
    resumes every waiter on the calling thread (in `policy` order), `set(executor)` hands each
    waiter to `executor->resume(handle)` (an `io_scheduler` or a `thread_pool`) instead. `reset()`
    makes a set event unset again. An event is neither copyable nor movable, and must outlive its
    waiters. No allocation: each waiter's node lives in its awaiter.

    Thread safety: every member may be called from any thread, concurrently.
*/
class event {
 public:
  /** The awaiter of `co_await event`. */
  struct awaiter {
    explicit awaiter(const event& e) noexcept : m_event(e) {}
    /** True if the event is set. */
    [[nodiscard]] bool await_ready() const noexcept { return m_event.is_set(); }
    /** Adds the coroutine to the waiters; false (go on) if the event became set. */
    bool await_suspend(std::coroutine_handle<> awaiting_coroutine) noexcept {
      m_awaiting_coroutine = awaiting_coroutine;
      const void* set_state = &m_event;
      void* old = m_event.m_state.load(std::memory_order_acquire);
      do {
        if (old == set_state) {
          return false;
        }
        m_next = static_cast<awaiter*>(old);
      } while (!m_event.m_state.compare_exchange_weak(old, this, std::memory_order_release,
                                                      std::memory_order_acquire));
      return true;
    }
    void await_resume() const noexcept {}

    /** The next waiter in the event's list. */
    awaiter* m_next{nullptr};
    /** The waiting coroutine. */
    std::coroutine_handle<> m_awaiting_coroutine{};
    /** The event waited for. */
    const event& m_event;
  };

  /** An event, set if `initially_set`. */
  explicit event(bool initially_set = false) noexcept
      : m_state(initially_set ? static_cast<void*>(this) : nullptr) {}
  ~event() = default;
  event(const event&) = delete;
  event(event&&) = delete;
  event& operator=(const event&) = delete;
  event& operator=(event&&) = delete;

  /** True if the event is set. */
  [[nodiscard]] bool is_set() const noexcept { return m_state.load(std::memory_order_acquire) == this; }

  /** Sets the event and resumes every waiter on this thread, in `policy` order. */
  void set(resume_order_policy policy = resume_order_policy::lifo) noexcept {
    awaiter* waiters = take_waiters(policy);
    while (waiters != nullptr) {
      awaiter* next = waiters->m_next;
      waiters->m_awaiting_coroutine.resume();
      waiters = next;
    }
  }

  /** Sets the event and hands each waiter to `e->resume(handle)`, in `policy` order. */
  template <concepts::executor Executor>
  void set(std::shared_ptr<Executor> e, resume_order_policy policy = resume_order_policy::lifo) noexcept {
    awaiter* waiters = take_waiters(policy);
    while (waiters != nullptr) {
      awaiter* next = waiters->m_next;
      e->resume(waiters->m_awaiting_coroutine);
      waiters = next;
    }
  }

  /** An awaiter that suspends until the event is set. */
  [[nodiscard]] awaiter operator co_await() const noexcept { return awaiter(*this); }

  /** Makes a set event unset (no effect on an unset one, or one with waiters). */
  void reset() noexcept {
    void* old = this;
    m_state.compare_exchange_strong(old, nullptr, std::memory_order_acquire);
  }

 private:
  friend struct awaiter;

  awaiter* take_waiters(resume_order_policy policy) noexcept {
    void* old = m_state.exchange(this, std::memory_order_acq_rel);
    if (old == this) {
      return nullptr;
    }
    auto* head = static_cast<awaiter*>(old);
    if (policy == resume_order_policy::fifo) {
      awaiter* reversed = nullptr;
      while (head != nullptr) {
        awaiter* next = head->m_next;
        head->m_next = reversed;
        reversed = head;
        head = next;
      }
      head = reversed;
    }
    return head;
  }

  // null: not set, no waiters; `this`: set; otherwise the list of waiters (most recent first).
  mutable std::atomic<void*> m_state;
};

}  // namespace senet::coro

#endif  // SENET_CORO_EVENT_HPP
