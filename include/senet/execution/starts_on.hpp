// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_STARTS_ON_HPP
#define SENET_EXECUTION_STARTS_ON_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/connect.hpp>
#include <senet/execution/env.hpp>
#include <senet/execution/get_completion_signatures.hpp>
#include <senet/execution/operation_state.hpp>
#include <senet/execution/queries.hpp>
#include <senet/execution/receiver.hpp>
#include <senet/execution/scheduler.hpp>
#include <senet/execution/sender.hpp>

#include <type_traits>
#include <utility>

namespace senet::execution {

namespace detail {

// The environment of the sender started on sch: get_scheduler answers sch.
template <class Sch, class Env>
using starts_on_env_t = env<prop<get_scheduler_t, Sch>, Env>;

template <class Sch, class... Env>
struct starts_on_child_env {
  using type = env<prop<get_scheduler_t, Sch>>;
};
template <class Sch, class Env>
struct starts_on_child_env<Sch, Env> {
  using type = starts_on_env_t<Sch, Env>;
};

template <class Op>
struct starts_on_sched_receiver {
  using receiver_concept = receiver_tag;

  void set_value() && noexcept { execution::start(op_->child_op_); }
  template <class E>
  void set_error(E&& e) && noexcept {
    execution::set_error(std::move(op_->rcvr_), std::forward<E>(e));
  }
  void set_stopped() && noexcept { execution::set_stopped(std::move(op_->rcvr_)); }
  typename Op::env_type get_env() const noexcept { return execution::get_env(op_->rcvr_); }

  Op* op_;
};

template <class Op>
struct starts_on_child_receiver {
  using receiver_concept = receiver_tag;

  template <class... Vs>
  void set_value(Vs&&... vs) && noexcept {
    execution::set_value(std::move(op_->rcvr_), std::forward<Vs>(vs)...);
  }
  template <class E>
  void set_error(E&& e) && noexcept {
    execution::set_error(std::move(op_->rcvr_), std::forward<E>(e));
  }
  void set_stopped() && noexcept { execution::set_stopped(std::move(op_->rcvr_)); }
  typename Op::child_env_type get_env() const noexcept {
    return typename Op::child_env_type{prop{get_scheduler, op_->sch_}, execution::get_env(op_->rcvr_)};
  }

  Op* op_;
};

template <class Sch, class Child, class Rcvr>
struct starts_on_operation {
  using operation_state_concept = operation_state_tag;
  using env_type = env_of_t<Rcvr>;
  using child_env_type = starts_on_env_t<Sch, env_type>;
  using sched_receiver = starts_on_sched_receiver<starts_on_operation>;
  using child_receiver = starts_on_child_receiver<starts_on_operation>;

  starts_on_operation(Sch sch, Child&& child, Rcvr rcvr)
      : rcvr_(std::move(rcvr)),
        sch_(std::move(sch)),
        sched_op_(execution::connect(execution::schedule(sch_), sched_receiver{this})),
        child_op_(execution::connect(std::forward<Child>(child), child_receiver{this})) {}
  starts_on_operation(starts_on_operation&&) = delete;

  void start() & noexcept { execution::start(sched_op_); }

  Rcvr rcvr_;
  Sch sch_;
  connect_result_t<schedule_result_t<Sch&>, sched_receiver> sched_op_;
  connect_result_t<Child, child_receiver> child_op_;
};

template <class Sch, class Child>
struct starts_on_sender {
  using sender_concept = sender_tag;

  template <class Self, class... Env>
  static constexpr auto get_completion_signatures() noexcept {
    using child_sigs =
        completion_sigs_t<copy_cvref_t<Self, Child>, typename starts_on_child_env<Sch, Env...>::type>;
    using sched_sigs = completion_sigs_t<schedule_result_t<Sch&>, Env...>;
    if constexpr (!valid_completion_signatures<sched_sigs>) {
      return sched_sigs{};
    } else if constexpr (!valid_completion_signatures<child_sigs>) {
      return child_sigs{};
    } else {
      return concat_sigs_t<
          child_sigs, transform_completion_signatures<sched_sigs, completion_signatures<>, drop_values>>{};
    }
  }

  template <class Rcvr>
  starts_on_operation<Sch, Child, Rcvr> connect(Rcvr rcvr) && {
    return {std::move(sch_), std::move(child_), std::move(rcvr)};
  }
  template <class Rcvr>
  starts_on_operation<Sch, Child const&, Rcvr> connect(Rcvr rcvr) const& {
    return {sch_, child_, std::move(rcvr)};
  }

  Sch sch_;
  Child child_;
};

}  // namespace detail

// [exec.starts.on]

/** `starts_on(sch, sndr)`: a sender that starts `sndr` on scheduler `sch` — it first completes
    `schedule(sch)`, then starts `sndr` there.

    Completion signatures: those of `sndr` (in an environment where `get_scheduler` is `sch`), plus the
    error and stopped completions of `schedule(sch)`.
    Cancellation: the receiver's stop token reaches both `schedule(sch)` and `sndr`.
    `sndr` sees `get_scheduler(get_env(rcvr))` == `sch`; other queries come from the receiver.
*/
struct starts_on_t {
  template <scheduler Sch, sender Sndr>
  constexpr auto operator()(Sch&& sch, Sndr&& sndr) const {
    return detail::starts_on_sender<std::decay_t<Sch>, std::decay_t<Sndr>>{std::forward<Sch>(sch),
                                                                           std::forward<Sndr>(sndr)};
  }
};

/// The starts_on sender adaptor.
inline constexpr starts_on_t starts_on{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_STARTS_ON_HPP
