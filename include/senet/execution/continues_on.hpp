// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_CONTINUES_ON_HPP
#define SENET_EXECUTION_CONTINUES_ON_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/connect.hpp>
#include <senet/execution/detail/storage.hpp>
#include <senet/execution/env.hpp>
#include <senet/execution/get_completion_signatures.hpp>
#include <senet/execution/operation_state.hpp>
#include <senet/execution/queries.hpp>
#include <senet/execution/receiver.hpp>
#include <senet/execution/scheduler.hpp>
#include <senet/execution/sender.hpp>
#include <senet/execution/sender_adaptor_closure.hpp>
#include <senet/execution/starts_on.hpp>

#include <exception>
#include <type_traits>
#include <utility>

namespace senet::execution {

namespace detail {

template <class Op>
struct continues_on_child_receiver {
  using receiver_concept = receiver_tag;

  template <class... Vs>
  void set_value(Vs&&... vs) && noexcept {
    op_->store(set_value_t{}, std::forward<Vs>(vs)...);
  }
  template <class E>
  void set_error(E&& e) && noexcept {
    op_->store(set_error_t{}, std::forward<E>(e));
  }
  void set_stopped() && noexcept { op_->store(set_stopped_t{}); }
  typename Op::env_type get_env() const noexcept { return execution::get_env(op_->rcvr_); }

  Op* op_;
};

template <class Op>
struct continues_on_sched_receiver {
  using receiver_concept = receiver_tag;

  void set_value() && noexcept { deliver_result(op_->rcvr_, op_->result_); }
  template <class E>
  void set_error(E&& e) && noexcept {
    execution::set_error(std::move(op_->rcvr_), std::forward<E>(e));
  }
  void set_stopped() && noexcept { execution::set_stopped(std::move(op_->rcvr_)); }
  typename Op::env_type get_env() const noexcept { return execution::get_env(op_->rcvr_); }

  Op* op_;
};

template <class Sch, class Child, class Rcvr>
struct continues_on_operation {
  using operation_state_concept = operation_state_tag;
  using env_type = env_of_t<Rcvr>;
  using child_sigs = completion_sigs_t<Child, env_type>;
  using child_receiver = continues_on_child_receiver<continues_on_operation>;
  using sched_receiver = continues_on_sched_receiver<continues_on_operation>;

  continues_on_operation(Child&& child, Sch sch, Rcvr rcvr)
      : rcvr_(std::move(rcvr)),
        sch_(std::move(sch)),
        child_op_(execution::connect(std::forward<Child>(child), child_receiver{this})),
        sched_op_(execution::connect(execution::schedule(sch_), sched_receiver{this})) {}
  continues_on_operation(continues_on_operation&&) = delete;

  void start() & noexcept { execution::start(child_op_); }

  // Keeps the child's result, then moves to the scheduler to deliver it.
  template <class Tag, class... Args>
  void store(Tag tag, Args&&... args) noexcept {
    if constexpr ((nothrow_decay_copyable<Args> && ...)) {
      emplace_result(result_, tag, std::forward<Args>(args)...);
    } else {
      try {
        emplace_result(result_, tag, std::forward<Args>(args)...);
      } catch (...) {
        execution::set_error(std::move(rcvr_), std::current_exception());
        return;
      }
    }
    execution::start(sched_op_);
  }

  Rcvr rcvr_;
  Sch sch_;
  results_variant_t<child_sigs> result_;
  connect_result_t<Child, child_receiver> child_op_;
  connect_result_t<schedule_result_t<Sch&>, sched_receiver> sched_op_;
};

// The attributes of continues_on(sndr, sch): it completes on sch.
template <class Sch>
struct continues_on_attrs {
  Sch query(get_completion_scheduler_t<set_value_t>) const noexcept { return sch_; }
  Sch query(get_completion_scheduler_t<set_stopped_t>) const noexcept { return sch_; }
  Sch sch_;
};

template <class Child, class Sch>
struct continues_on_sender {
  using sender_concept = sender_tag;

  template <class Self, class... Env>
  static constexpr auto get_completion_signatures() noexcept {
    using child_sigs = completion_sigs_t<copy_cvref_t<Self, Child>, Env...>;
    using sched_sigs = completion_sigs_t<schedule_result_t<Sch&>, Env...>;
    if constexpr (!valid_completion_signatures<child_sigs>) {
      return child_sigs{};
    } else if constexpr (!valid_completion_signatures<sched_sigs>) {
      return sched_sigs{};
    } else {
      return concat_sigs_t<decay_sigs_t<child_sigs>,
                           transform_completion_signatures<sched_sigs, completion_signatures<>, drop_values>,
                           eptr_unless_t<nothrow_decay_copyable_results<child_sigs>>>{};
    }
  }

  template <class Rcvr>
  continues_on_operation<Sch, Child, Rcvr> connect(Rcvr rcvr) && {
    return {std::move(child_), std::move(sch_), std::move(rcvr)};
  }
  template <class Rcvr>
  continues_on_operation<Sch, Child const&, Rcvr> connect(Rcvr rcvr) const& {
    return {child_, sch_, std::move(rcvr)};
  }

  continues_on_attrs<Sch> get_env() const noexcept { return {sch_}; }

  Child child_;
  Sch sch_;
};

}  // namespace detail

// [exec.continues.on]

/** `continues_on(sndr, sch)`: a sender that runs `sndr`, then completes with its result on scheduler `sch`
    (it stores the result, completes `schedule(sch)`, and delivers the result from there).

    Completion signatures: those of `sndr` with the data decayed (sent as rvalues), plus the error and
    stopped completions of `schedule(sch)`, plus `set_error_t(std::exception_ptr)` when copying the result
    may throw.
    Cancellation: the receiver's stop token reaches `sndr` and `schedule(sch)`; when the schedule
    operation is stopped, the result is dropped and the operation completes with `set_stopped()`.
    Attributes: `get_completion_scheduler<set_value_t>` is `sch`. Pipeable: `sndr | continues_on(sch)`.
*/
struct continues_on_t {
  template <sender Sndr, scheduler Sch>
  constexpr auto operator()(Sndr&& sndr, Sch&& sch) const {
    return detail::continues_on_sender<std::decay_t<Sndr>, std::decay_t<Sch>>{std::forward<Sndr>(sndr),
                                                                              std::forward<Sch>(sch)};
  }
  template <scheduler Sch>
  constexpr auto operator()(Sch&& sch) const {
    return detail::make_closure<continues_on_t>(std::forward<Sch>(sch));
  }
};

/// The continues_on sender adaptor.
inline constexpr continues_on_t continues_on{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_CONTINUES_ON_HPP
