// SPDX-License-Identifier: BSL-1.0
// A small sender algorithm the examples share: repeat_until(make_step).
//
// std::execution has no loop algorithm yet (stdexec keeps one, exec::repeat_effect_until, outside
// the standard names), so the examples bring their own. It shows how such a loop is written without
// recursion and without allocating: the step's operation state is rebuilt in place, and a step that
// completes inside its own start() is continued by the loop, not by a nested call.
#ifndef SENET_EXAMPLES_REPEAT_UNTIL_HPP
#define SENET_EXAMPLES_REPEAT_UNTIL_HPP

#include <senet/execution.hpp>

#include <atomic>
#include <exception>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

namespace example {

namespace ex = senet::ex;

template <class MakeStep, class Rcvr>
class repeat_operation {
  using step_sender = std::invoke_result_t<MakeStep&>;

  struct step_receiver {
    using receiver_concept = ex::receiver_tag;
    repeat_operation* op_;
    void set_value(bool done) && noexcept { op_->step_done(done ? result::done : result::again); }
    void set_error(std::error_code ec) && noexcept {
      op_->error_ = ec;
      op_->step_done(result::error);
    }
    void set_error(std::exception_ptr e) && noexcept {
      op_->exception_ = std::move(e);
      op_->step_done(result::exception);
    }
    void set_stopped() && noexcept { op_->step_done(result::stopped); }
    [[nodiscard]] ex::env_of_t<Rcvr> get_env() const noexcept { return ex::get_env(op_->rcvr_); }
  };
  using step_operation = ex::connect_result_t<step_sender, step_receiver>;

  // Builds the step's operation state in place (operation states cannot be moved).
  struct connect_step {
    repeat_operation* op_;
    // NOLINTNEXTLINE(google-explicit-constructor)
    operator step_operation() const { return ex::connect(op_->make_step_(), step_receiver{op_}); }
  };

  enum class result { again, done, error, exception, stopped };
  enum phase : int { starting, finished_inline, waiting };

 public:
  using operation_state_concept = ex::operation_state_tag;

  repeat_operation(MakeStep make_step, Rcvr rcvr)
      : make_step_(std::move(make_step)), rcvr_(std::move(rcvr)) {}
  repeat_operation(const repeat_operation&) = delete;
  repeat_operation& operator=(const repeat_operation&) = delete;

  void start() & noexcept { loop(); }

 private:
  void loop() noexcept {
    for (;;) {
      phase_.store(starting, std::memory_order_relaxed);
      try {
        step_.emplace(connect_step{this});
      } catch (...) {
        ex::set_error(std::move(rcvr_), std::current_exception());
        return;
      }
      ex::start(*step_);
      // If the step is still running, its completion continues the loop; otherwise continue here.
      if (phase_.exchange(waiting, std::memory_order_acq_rel) != finished_inline || !finish()) {
        return;
      }
    }
  }

  void step_done(result r) noexcept {
    result_ = r;
    if (phase_.exchange(finished_inline, std::memory_order_acq_rel) == waiting && finish()) {
      loop();
    }
  }

  // Returns true if the loop goes on; otherwise completes the receiver.
  bool finish() noexcept {
    step_.reset();
    switch (result_) {
      case result::again:
        return true;
      case result::done:
        ex::set_value(std::move(rcvr_));
        break;
      case result::error:
        ex::set_error(std::move(rcvr_), error_);
        break;
      case result::exception:
        ex::set_error(std::move(rcvr_), std::move(exception_));
        break;
      case result::stopped:
        ex::set_stopped(std::move(rcvr_));
        break;
    }
    return false;
  }

  MakeStep make_step_;
  Rcvr rcvr_;
  result result_ = result::again;
  std::error_code error_{};
  std::exception_ptr exception_{};
  std::atomic<int> phase_{waiting};
  std::optional<step_operation> step_{};
};

template <class MakeStep>
struct repeat_sender {
  using sender_concept = ex::sender_tag;
  using completion_signatures =
      ex::completion_signatures<ex::set_value_t(), ex::set_error_t(std::error_code),
                                ex::set_error_t(std::exception_ptr), ex::set_stopped_t()>;
  MakeStep make_step_;

  template <class Rcvr>
  repeat_operation<MakeStep, Rcvr> connect(Rcvr rcvr) && {
    return {std::move(make_step_), std::move(rcvr)};
  }
};

/** A sender that runs `make_step()` (a sender completing with `set_value(bool done)`) again and
    again until a step completes with `true`, then completes with `set_value()`. A step's error or
    stop ends the loop with that completion. */
template <class MakeStep>
repeat_sender<std::decay_t<MakeStep>> repeat_until(MakeStep&& make_step) {
  return {std::forward<MakeStep>(make_step)};
}

}  // namespace example

#endif  // SENET_EXAMPLES_REPEAT_UNTIL_HPP
