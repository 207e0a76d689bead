// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_MANUAL_SCHEDULER_HPP
#define SENET_TEST_SUPPORT_MANUAL_SCHEDULER_HPP

#include <senet/execution.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

namespace senet::test {

class manual_scheduler;

/** A queue of scheduled operations that run only when the test says so.

    `manual_context::get_scheduler().schedule()` is a sender that, when started, waits in this
    context's queue until the test calls `run_one()` or `run()`. It then completes with
    `set_stopped()` if a stop was requested on its receiver's stop token by then, and with
    `set_value()` otherwise. Operations are queued in their own storage: nothing is allocated.

    Thread safety: single-threaded; start operations on it and run it from the test thread only.
*/
class manual_context {
 public:
  manual_context() = default;
  manual_context(manual_context const&) = delete;
  manual_context& operator=(manual_context const&) = delete;

  /** A scheduler that queues its operations in this context. */
  manual_scheduler get_scheduler() noexcept;

  /** The number of started operations waiting to run. */
  std::size_t pending() const noexcept { return pending_; }

  /** The number of schedule operations ever started on this context. */
  std::size_t started() const noexcept { return started_; }

  /** Completes the oldest waiting operation; false if none was waiting. */
  bool run_one() noexcept {
    task* t = head_;
    if (t == nullptr) {
      return false;
    }
    head_ = t->next_;
    if (head_ == nullptr) {
      tail_ = nullptr;
    }
    --pending_;
    t->execute_(t);
    return true;
  }

  /** Runs operations, including those that running ones start, until none is waiting; returns how
      many ran. */
  std::size_t run() noexcept {
    std::size_t n = 0;
    while (run_one()) {
      ++n;
    }
    return n;
  }

 private:
  friend class manual_scheduler;

  struct task {
    task* next_ = nullptr;
    void (*execute_)(task*) noexcept = nullptr;
  };

  void push(task* t) noexcept {
    t->next_ = nullptr;
    if (tail_ == nullptr) {
      head_ = t;
    } else {
      tail_->next_ = t;
    }
    tail_ = t;
    ++pending_;
    ++started_;
  }

  task* head_ = nullptr;
  task* tail_ = nullptr;
  std::size_t pending_ = 0;
  std::size_t started_ = 0;
};

/** The scheduler of a `manual_context`. */
class manual_scheduler {
  template <class Rcvr>
  struct operation : manual_context::task {
    using operation_state_concept = ex::operation_state_tag;

    operation(manual_context* ctx, Rcvr rcvr) noexcept(std::is_nothrow_move_constructible_v<Rcvr>)
        : ctx_(ctx), rcvr_(std::move(rcvr)) {
      this->execute_ = &execute;
    }
    operation(operation const&) = delete;
    operation& operator=(operation const&) = delete;

    void start() & noexcept { ctx_->push(this); }

    static void execute(manual_context::task* t) noexcept {
      auto* self = static_cast<operation*>(t);
      if (ex::get_stop_token(ex::get_env(self->rcvr_)).stop_requested()) {
        ex::set_stopped(std::move(self->rcvr_));
      } else {
        ex::set_value(std::move(self->rcvr_));
      }
    }

    manual_context* ctx_;
    Rcvr rcvr_;
  };

  struct attributes {
    manual_context* ctx_;

    manual_scheduler query(ex::get_completion_scheduler_t<ex::set_value_t>) const noexcept {
      return manual_scheduler{ctx_};
    }
  };

  struct sender {
    using sender_concept = ex::sender_tag;
    using completion_signatures = ex::completion_signatures<ex::set_value_t(), ex::set_stopped_t()>;

    template <class Rcvr>
    operation<Rcvr> connect(Rcvr rcvr) const noexcept(std::is_nothrow_move_constructible_v<Rcvr>) {
      return {ctx_, std::move(rcvr)};
    }

    attributes get_env() const noexcept { return {ctx_}; }

    manual_context* ctx_;
  };

 public:
  using scheduler_concept = ex::scheduler_tag;

  explicit manual_scheduler(manual_context* ctx) noexcept : ctx_(ctx) {}

  sender schedule() const noexcept { return {ctx_}; }

  /** The context this scheduler queues on. */
  manual_context& context() const noexcept { return *ctx_; }

  friend bool operator==(manual_scheduler const&, manual_scheduler const&) noexcept = default;

 private:
  manual_context* ctx_;
};

inline manual_scheduler manual_context::get_scheduler() noexcept {
  return manual_scheduler{this};
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_MANUAL_SCHEDULER_HPP
