// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_DETAIL_ADAPT_HPP
#define SENET_EXECUTION_DETAIL_ADAPT_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/connect.hpp>
#include <senet/execution/env.hpp>
#include <senet/execution/get_completion_signatures.hpp>
#include <senet/execution/operation_state.hpp>
#include <senet/execution/receiver.hpp>
#include <senet/execution/sender.hpp>

#include <type_traits>
#include <utility>

// A sender adaptor that maps each completion of its child through Adaptor, a stateless policy with
//   template <class ChildSigs, class Child> using sigs_t = ...;          (signatures, or a diagnostic)
//   template <class ChildSigs, class Rcvr, class Tag, class... Args>
//   static void complete(Rcvr& rcvr, Tag, Args&&... args) noexcept;      (completes rcvr)
// stopped_as_optional and into_variant are written this way.

namespace senet::execution::detail {

template <class Adaptor, class Child, class Rcvr>
struct adapt_operation {
  using operation_state_concept = operation_state_tag;
  using env_type = env_of_t<Rcvr>;
  using child_sigs = completion_sigs_t<Child, env_type>;

  struct receiver {
    using receiver_concept = receiver_tag;

    template <class... Vs>
    void set_value(Vs&&... vs) && noexcept {
      Adaptor::template complete<child_sigs>(op_->rcvr_, set_value_t{}, std::forward<Vs>(vs)...);
    }
    template <class E>
    void set_error(E&& e) && noexcept {
      Adaptor::template complete<child_sigs>(op_->rcvr_, set_error_t{}, std::forward<E>(e));
    }
    void set_stopped() && noexcept { Adaptor::template complete<child_sigs>(op_->rcvr_, set_stopped_t{}); }
    env_type get_env() const noexcept { return execution::get_env(op_->rcvr_); }

    adapt_operation* op_;
  };

  adapt_operation(Child&& child, Rcvr rcvr)
      : rcvr_(std::move(rcvr)), child_op_(execution::connect(std::forward<Child>(child), receiver{this})) {}
  adapt_operation(adapt_operation&&) = delete;

  void start() & noexcept { execution::start(child_op_); }

  Rcvr rcvr_;
  connect_result_t<Child, receiver> child_op_;
};

template <class Adaptor, class Child>
struct adapt_sender {
  using sender_concept = sender_tag;

  template <class Self, class... Env>
  static constexpr auto get_completion_signatures() noexcept {
    using child_sigs = completion_sigs_t<copy_cvref_t<Self, Child>, Env...>;
    if constexpr (!valid_completion_signatures<child_sigs>) {
      return child_sigs{};
    } else {
      return typename Adaptor::template sigs<child_sigs, Child>::type{};
    }
  }

  template <class Rcvr>
  adapt_operation<Adaptor, Child, Rcvr> connect(Rcvr rcvr) && {
    return {std::move(child_), std::move(rcvr)};
  }
  template <class Rcvr>
  adapt_operation<Adaptor, Child const&, Rcvr> connect(Rcvr rcvr) const& {
    return {child_, std::move(rcvr)};
  }

  decltype(auto) get_env() const noexcept { return execution::get_env(child_); }

  Child child_;
};

}  // namespace senet::execution::detail

#endif  // SENET_EXECUTION_DETAIL_ADAPT_HPP
