// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_DETAIL_STOP_WHEN_HPP
#define SENET_EXECUTION_DETAIL_STOP_WHEN_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/connect.hpp>
#include <senet/execution/env.hpp>
#include <senet/execution/get_completion_signatures.hpp>
#include <senet/execution/operation_state.hpp>
#include <senet/execution/queries.hpp>
#include <senet/execution/receiver.hpp>
#include <senet/execution/sender.hpp>
#include <senet/execution/stop_token.hpp>

#include <optional>
#include <type_traits>
#include <utility>

// stop_when(sndr, token): runs sndr with a stop token that is stopped when either `token` or the
// receiver's own stop token is. counting_scope::token::wrap uses it to attach the scope's stop source.

namespace senet::execution::detail {

template <class... Env>
struct stop_when_env {
  using type = env<prop<get_stop_token_t, inplace_stop_token>>;
};
template <class Env>
struct stop_when_env<Env> {
  using type = env<prop<get_stop_token_t, inplace_stop_token>, Env>;
};

template <class Child, class Rcvr>
struct stop_when_operation {
  using operation_state_concept = operation_state_tag;
  using env_type = env_of_t<Rcvr>;
  using child_env_type = typename stop_when_env<env_type>::type;

  struct forward_stop {
    void operator()() noexcept { source_->request_stop(); }
    inplace_stop_source* source_;
  };

  struct receiver {
    using receiver_concept = receiver_tag;

    template <class... Vs>
    void set_value(Vs&&... vs) && noexcept {
      op_->reset_callbacks();
      execution::set_value(std::move(op_->rcvr_), std::forward<Vs>(vs)...);
    }
    template <class E>
    void set_error(E&& e) && noexcept {
      op_->reset_callbacks();
      execution::set_error(std::move(op_->rcvr_), std::forward<E>(e));
    }
    void set_stopped() && noexcept {
      op_->reset_callbacks();
      execution::set_stopped(std::move(op_->rcvr_));
    }
    child_env_type get_env() const noexcept {
      return child_env_type{prop{get_stop_token, op_->source_.get_token()}, execution::get_env(op_->rcvr_)};
    }

    stop_when_operation* op_;
  };

  stop_when_operation(Child&& child, inplace_stop_token token, Rcvr rcvr)
      : rcvr_(std::move(rcvr)),
        token_(token),
        child_op_(execution::connect(std::forward<Child>(child), receiver{this})) {}
  stop_when_operation(stop_when_operation&&) = delete;

  void start() & noexcept {
    token_callback_.emplace(token_, forward_stop{&source_});
    receiver_callback_.emplace(execution::get_stop_token(execution::get_env(rcvr_)), forward_stop{&source_});
    execution::start(child_op_);
  }

  void reset_callbacks() noexcept {
    token_callback_.reset();
    receiver_callback_.reset();
  }

  Rcvr rcvr_;
  inplace_stop_token token_;
  inplace_stop_source source_;
  std::optional<inplace_stop_callback<forward_stop>> token_callback_;
  std::optional<stop_callback_for_t<stop_token_of_t<env_type>, forward_stop>> receiver_callback_;
  connect_result_t<Child, receiver> child_op_;
};

template <class Child>
struct stop_when_sender {
  using sender_concept = sender_tag;

  template <class Self, class... Env>
  static constexpr auto get_completion_signatures() noexcept {
    return completion_sigs_t<copy_cvref_t<Self, Child>, typename stop_when_env<Env...>::type>{};
  }

  template <class Rcvr>
  stop_when_operation<Child, Rcvr> connect(Rcvr rcvr) && {
    return {std::move(child_), token_, std::move(rcvr)};
  }
  template <class Rcvr>
  stop_when_operation<Child const&, Rcvr> connect(Rcvr rcvr) const& {
    return {child_, token_, std::move(rcvr)};
  }

  decltype(auto) get_env() const noexcept { return execution::get_env(child_); }

  Child child_;
  inplace_stop_token token_;
};

}  // namespace senet::execution::detail

#endif  // SENET_EXECUTION_DETAIL_STOP_WHEN_HPP
