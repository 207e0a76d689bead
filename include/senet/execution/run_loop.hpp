// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_RUN_LOOP_HPP
#define SENET_EXECUTION_RUN_LOOP_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/env.hpp>
#include <senet/execution/operation_state.hpp>
#include <senet/execution/queries.hpp>
#include <senet/execution/scheduler.hpp>
#include <senet/execution/sender.hpp>
#include <senet/execution/stop_token.hpp>

#include <condition_variable>
#include <exception>
#include <mutex>
#include <utility>

namespace senet::execution {

// [exec.run.loop]

/** An execution resource that runs the work scheduled on it on the thread that calls `run()`, in FIFO
    order. `sync_wait` drives one.

    `run()` executes queued work until `finish()` was called and the queue is empty. Scheduling never
    allocates: each operation state is its own queue node.
    Thread safety: `get_scheduler()`, `finish()` and starting schedule operations may be called from any
    thread; `run()` from one thread at a time. The loop must be empty and not running when destroyed.
*/
class run_loop {
  struct task_base {
    task_base* next_ = nullptr;
    void (*execute_)(task_base*) noexcept = nullptr;
  };

  template <class Rcvr>
  struct operation : task_base {
    using operation_state_concept = operation_state_tag;

    operation(run_loop* loop, Rcvr rcvr) noexcept(std::is_nothrow_move_constructible_v<Rcvr>)
        : task_base{nullptr, &execute_impl}, loop_(loop), rcvr_(std::move(rcvr)) {}
    operation(operation&&) = delete;

    void start() & noexcept { loop_->push_back(this); }

    static void execute_impl(task_base* base) noexcept {
      auto& self = *static_cast<operation*>(base);
      if constexpr (unstoppable_token<stop_token_of_t<env_of_t<Rcvr>>>) {
        execution::set_value(std::move(self.rcvr_));
      } else {
        if (execution::get_stop_token(execution::get_env(self.rcvr_)).stop_requested()) {
          execution::set_stopped(std::move(self.rcvr_));
        } else {
          execution::set_value(std::move(self.rcvr_));
        }
      }
    }

    run_loop* loop_;
    Rcvr rcvr_;
  };

 public:
  class scheduler;

 private:
  class schedule_sender;

  // The attributes of a schedule sender: its completion scheduler.
  struct schedule_attrs {
    template <class Tag>
    scheduler query(get_completion_scheduler_t<Tag>) const noexcept;
    run_loop* loop_;
  };

  class schedule_sender {
   public:
    using sender_concept = sender_tag;

    /** Completion signatures: `set_value_t()`, plus `set_stopped_t()` unless the receiver's stop token is
        unstoppable (the operation completes with `set_stopped()` when a stop was requested by the time the
        loop runs it). */
    template <class Self, class... Env>
    static constexpr auto get_completion_signatures() noexcept {
      if constexpr ((unstoppable_token<stop_token_of_t<Env>> && ...) && sizeof...(Env) != 0) {
        return completion_signatures<set_value_t()>{};
      } else {
        return completion_signatures<set_value_t(), set_stopped_t()>{};
      }
    }

    template <class Rcvr>
    operation<Rcvr> connect(Rcvr rcvr) const noexcept(std::is_nothrow_move_constructible_v<Rcvr>) {
      return {loop_, std::move(rcvr)};
    }

    schedule_attrs get_env() const noexcept { return {loop_}; }

   private:
    friend class scheduler;
    explicit schedule_sender(run_loop* loop) noexcept : loop_(loop) {}
    run_loop* loop_;
  };

 public:
  /** The scheduler of a run_loop: `schedule(sch)` completes on the thread running `run()`. */
  class scheduler {
   public:
    using scheduler_concept = scheduler_tag;

    /// A sender completing on the loop's thread; see `run_loop`.
    schedule_sender schedule() const noexcept { return schedule_sender{loop_}; }

    friend bool operator==(scheduler const&, scheduler const&) noexcept = default;

   private:
    friend class run_loop;
    explicit scheduler(run_loop* loop) noexcept : loop_(loop) {}
    run_loop* loop_;
  };

  run_loop() noexcept = default;
  run_loop(run_loop&&) = delete;

  ~run_loop() {
    if (head_ != nullptr || state_ == state::running) {
      std::terminate();
    }
  }

  /// A scheduler for this loop.
  scheduler get_scheduler() noexcept { return scheduler{this}; }

  /// Runs queued work on this thread until `finish()` was called and the queue is empty.
  void run() {
    {
      std::lock_guard lock(mutex_);
      if (state_ == state::starting) {
        state_ = state::running;
      }
    }
    while (task_base* task = pop_front()) {
      task->execute_(task);
    }
  }

  /// Makes `run()` return once the queue is empty.
  void finish() {
    std::lock_guard lock(mutex_);
    state_ = state::finishing;
    cv_.notify_all();
  }

 private:
  enum class state { starting, running, finishing };

  void push_back(task_base* task) noexcept {
    std::lock_guard lock(mutex_);
    task->next_ = nullptr;
    if (tail_ == nullptr) {
      head_ = task;
    } else {
      tail_->next_ = task;
    }
    tail_ = task;
    cv_.notify_one();
  }

  task_base* pop_front() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return head_ != nullptr || state_ == state::finishing; });
    if (head_ == nullptr) {
      return nullptr;
    }
    task_base* task = head_;
    head_ = task->next_;
    if (head_ == nullptr) {
      tail_ = nullptr;
    }
    return task;
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  task_base* head_ = nullptr;
  task_base* tail_ = nullptr;
  state state_ = state::starting;
};

template <class Tag>
inline run_loop::scheduler run_loop::schedule_attrs::query(get_completion_scheduler_t<Tag>) const noexcept {
  return loop_->get_scheduler();
}

}  // namespace senet::execution

#endif  // SENET_EXECUTION_RUN_LOOP_HPP
