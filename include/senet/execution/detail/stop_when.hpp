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

#include <atomic>
#include <concepts>
#include <type_traits>
#include <utility>

// stop_when(sndr, token): runs sndr with a stop token that is stopped when either `token` or the
// receiver's own stop token is. counting_scope::token::wrap uses it to attach the scope's stop token.
// It owns no stop source: a child may complete (and the operation be destroyed) inside a stop callback,
// which must not leave a request_stop of a source inside the destroyed operation on the stack.

namespace senet::execution::detail {

// A token stopped when either of two tokens is.
template <class Token1, class Token2>
struct fused_stop_token {
  template <class Fn>
  class callback_type {
    struct forward {
      void operator()() noexcept { self_->run(); }
      callback_type* self_;
    };

   public:
    template <class Init>
    requires std::constructible_from<Fn, Init> callback_type(fused_stop_token const& token, Init&& init)
    noexcept(std::is_nothrow_constructible_v<Fn, Init>)
        : fn_(std::forward<Init>(init)),
          cb1_(token.token1_, forward{this}),
          cb2_(token.token2_, forward{this}) {}
    callback_type(callback_type&&) = delete;

   private:
    void run() noexcept {
      if (!called_.exchange(true, std::memory_order_acq_rel)) {
        std::move(fn_)();
      }
    }

    Fn fn_;
    std::atomic<bool> called_{false};
    stop_callback_for_t<Token1, forward> cb1_;
    stop_callback_for_t<Token2, forward> cb2_;
  };

  [[nodiscard]] bool stop_requested() const noexcept {
    return token1_.stop_requested() || token2_.stop_requested();
  }
  [[nodiscard]] bool stop_possible() const noexcept {
    return token1_.stop_possible() || token2_.stop_possible();
  }

  friend bool operator==(fused_stop_token const&, fused_stop_token const&) noexcept = default;

  Token1 token1_;
  Token2 token2_;
};

template <class Token, class RcvrToken>
struct fused_token {
  using type = fused_stop_token<Token, RcvrToken>;
  static type make(Token token, RcvrToken rcvr_token) noexcept { return type{token, rcvr_token}; }
};
template <class Token, class RcvrToken>
requires unstoppable_token<RcvrToken>
struct fused_token<Token, RcvrToken> {
  using type = Token;
  static type make(Token token, RcvrToken) noexcept { return token; }
};

template <class Token, class... Env>
struct stop_when_env {
  using type = env<prop<get_stop_token_t, Token>>;
};
template <class Token, class Env>
struct stop_when_env<Token, Env> {
  using token_type = typename fused_token<Token, stop_token_of_t<Env>>::type;
  using type = env<prop<get_stop_token_t, token_type>, Env>;
};

template <class Child, class Token, class Rcvr>
struct stop_when_operation {
  using operation_state_concept = operation_state_tag;
  using env_type = env_of_t<Rcvr>;
  using child_env_type = typename stop_when_env<Token, env_type>::type;

  struct receiver {
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
    child_env_type get_env() const noexcept {
      // get_env is called twice rather than copied: env_type may be a reference into the receiver.
      auto token = fused_token<Token, stop_token_of_t<env_type>>::make(
          op_->token_, get_stop_token(execution::get_env(op_->rcvr_)));
      return child_env_type{prop{get_stop_token, token}, execution::get_env(op_->rcvr_)};
    }

    stop_when_operation* op_;
  };

  stop_when_operation(Child&& child, Token token, Rcvr rcvr)
      : rcvr_(std::move(rcvr)),
        token_(std::move(token)),
        child_op_(execution::connect(std::forward<Child>(child), receiver{this})) {}
  stop_when_operation(stop_when_operation&&) = delete;

  void start() & noexcept { execution::start(child_op_); }

  Rcvr rcvr_;
  Token token_;
  connect_result_t<Child, receiver> child_op_;
};

template <class Child, class Token>
struct stop_when_sender {
  using sender_concept = sender_tag;

  template <class Self, class... Env>
  static constexpr auto get_completion_signatures() noexcept {
    return completion_sigs_t<copy_cvref_t<Self, Child>, typename stop_when_env<Token, Env...>::type>{};
  }

  template <class Rcvr>
  stop_when_operation<Child, Token, Rcvr> connect(Rcvr rcvr) && {
    return {std::move(child_), std::move(token_), std::move(rcvr)};
  }
  template <class Rcvr>
  stop_when_operation<Child const&, Token, Rcvr> connect(Rcvr rcvr) const& {
    return {child_, token_, std::move(rcvr)};
  }

  decltype(auto) get_env() const noexcept { return execution::get_env(child_); }

  Child child_;
  Token token_;
};

}  // namespace senet::execution::detail

#endif  // SENET_EXECUTION_DETAIL_STOP_WHEN_HPP
