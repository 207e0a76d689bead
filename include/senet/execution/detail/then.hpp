// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_DETAIL_THEN_HPP
#define SENET_EXECUTION_DETAIL_THEN_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/connect.hpp>
#include <senet/execution/env.hpp>
#include <senet/execution/get_completion_signatures.hpp>
#include <senet/execution/operation_state.hpp>
#include <senet/execution/receiver.hpp>
#include <senet/execution/sender.hpp>
#include <senet/execution/sender_adaptor_closure.hpp>

#include <exception>
#include <functional>
#include <type_traits>
#include <utility>

// The shared implementation of then, upon_error and upon_stopped: Tag is the channel whose completion
// the function transforms into a value completion.

namespace senet::execution::detail {

template <class Tag, class Fn, class... Args>
struct then_not_callable;

template <class Fn, class... Args>
struct then_not_callable<set_value_t, Fn, Args...> {
  static constexpr void raise() noexcept {
    static_assert(
        always_false<Fn>,
        "senet::execution::then: the function cannot be called with the values the predecessor sends "
        "(see Args... in this instantiation)");
  }
};
template <class Fn, class... Args>
struct then_not_callable<set_error_t, Fn, Args...> {
  static constexpr void raise() noexcept {
    static_assert(
        always_false<Fn>,
        "senet::execution::upon_error: the function cannot be called with the error the predecessor "
        "sends (see Args... in this instantiation)");
  }
};
template <class Fn, class... Args>
struct then_not_callable<set_stopped_t, Fn, Args...> {
  static constexpr void raise() noexcept {
    static_assert(always_false<Fn>,
                  "senet::execution::upon_stopped: the function must be callable with no arguments");
  }
};

template <class R>
struct value_sig_of {
  using type = set_value_t(R);
};
template <>
struct value_sig_of<void> {
  using type = set_value_t();
};

template <bool Ok, class Fn, class... Args>
struct then_value_sig {
  using type = type_list<>;
};
template <class Fn, class... Args>
struct then_value_sig<true, Fn, Args...> {
  using type = type_list<typename value_sig_of<std::invoke_result_t<Fn, Args...>>::type>;
};

// How one signature of the predecessor maps through the function.
template <class Tag, class Fn, class Sig>
struct then_map {
  static constexpr bool ok = true;
  static constexpr bool nothrow = true;
  using error = void;
  using type = type_list<Sig>;
};
template <class Tag, class Fn, class... Args>
struct then_map<Tag, Fn, Tag(Args...)> {
  static constexpr bool ok = std::is_invocable_v<Fn, Args...>;
  static constexpr bool nothrow = std::is_nothrow_invocable_v<Fn, Args...>;
  using error = then_not_callable<Tag, Fn, Args...>;
  using type = typename then_value_sig<ok, Fn, Args...>::type;
};

template <class Tag, class Fn, class Sigs>
struct then_sigs;
template <class Tag, class Fn, class... Sigs>
struct then_sigs<Tag, Fn, completion_signatures<Sigs...>> {
  static constexpr bool ok = (then_map<Tag, Fn, Sigs>::ok && ...);
  using type = std::conditional_t<
      ok,
      list_to_sigs_t<concat_t<typename then_map<Tag, Fn, Sigs>::type...,
                              sigs_to_list_t<eptr_unless_t<(then_map<Tag, Fn, Sigs>::nothrow && ...)>>>>,
      typename first_failed<then_map<Tag, Fn, Sigs>...>::type>;
};

template <class Rcvr, class Fn>
struct then_state {
  Rcvr rcvr_;
  Fn fn_;

  template <class... Args>
  void complete(Args&&... args) noexcept {
    if constexpr (std::is_nothrow_invocable_v<Fn, Args...>) {
      invoke_and_set(std::forward<Args>(args)...);
    } else {
      try {
        invoke_and_set(std::forward<Args>(args)...);
      } catch (...) {
        execution::set_error(std::move(rcvr_), std::current_exception());
      }
    }
  }

  template <class... Args>
  void invoke_and_set(Args&&... args) {
    if constexpr (std::is_void_v<std::invoke_result_t<Fn, Args...>>) {
      std::invoke(std::move(fn_), std::forward<Args>(args)...);
      execution::set_value(std::move(rcvr_));
    } else {
      execution::set_value(std::move(rcvr_), std::invoke(std::move(fn_), std::forward<Args>(args)...));
    }
  }
};

template <class Tag, class Rcvr, class Fn>
struct then_receiver {
  using receiver_concept = receiver_tag;

  template <class... Args>
  void set_value(Args&&... args) && noexcept {
    if constexpr (std::is_same_v<Tag, set_value_t>) {
      st_->complete(std::forward<Args>(args)...);
    } else {
      execution::set_value(std::move(st_->rcvr_), std::forward<Args>(args)...);
    }
  }
  template <class E>
  void set_error(E&& e) && noexcept {
    if constexpr (std::is_same_v<Tag, set_error_t>) {
      st_->complete(std::forward<E>(e));
    } else {
      execution::set_error(std::move(st_->rcvr_), std::forward<E>(e));
    }
  }
  void set_stopped() && noexcept {
    if constexpr (std::is_same_v<Tag, set_stopped_t>) {
      st_->complete();
    } else {
      execution::set_stopped(std::move(st_->rcvr_));
    }
  }
  env_of_t<Rcvr> get_env() const noexcept { return execution::get_env(st_->rcvr_); }

  then_state<Rcvr, Fn>* st_;
};

template <class Tag, class Child, class Fn, class Rcvr>
struct then_operation : then_state<Rcvr, Fn> {
  using operation_state_concept = operation_state_tag;
  using receiver_type = then_receiver<Tag, Rcvr, Fn>;

  then_operation(Child&& child, Fn fn, Rcvr rcvr)
      : then_state<Rcvr, Fn>{std::move(rcvr), std::move(fn)},
        child_op_(execution::connect(std::forward<Child>(child), receiver_type{this})) {}
  then_operation(then_operation&&) = delete;

  void start() & noexcept { execution::start(child_op_); }

  connect_result_t<Child, receiver_type> child_op_;
};

template <class Tag, class Child, class Fn>
struct then_sender {
  using sender_concept = sender_tag;

  template <class Self, class... Env>
  static constexpr auto get_completion_signatures() noexcept {
    using child_sigs = completion_sigs_t<copy_cvref_t<Self, Child>, Env...>;
    if constexpr (!valid_completion_signatures<child_sigs>) {
      return child_sigs{};
    } else {
      return typename then_sigs<Tag, Fn, child_sigs>::type{};
    }
  }

  template <class Rcvr>
  then_operation<Tag, Child, Fn, Rcvr> connect(Rcvr rcvr) && {
    return {std::move(child_), std::move(fn_), std::move(rcvr)};
  }
  template <class Rcvr>
  then_operation<Tag, Child const&, Fn, Rcvr> connect(Rcvr rcvr) const& {
    return {child_, fn_, std::move(rcvr)};
  }

  decltype(auto) get_env() const noexcept { return execution::get_env(child_); }

  Child child_;
  Fn fn_;
};

template <class Tag, class Derived>
struct then_algorithm {
  template <sender Sndr, class Fn>
  requires std::move_constructible<std::decay_t<Fn>>
  constexpr auto operator()(Sndr&& sndr, Fn&& fn) const {
    return then_sender<Tag, std::decay_t<Sndr>, std::decay_t<Fn>>{std::forward<Sndr>(sndr),
                                                                  std::forward<Fn>(fn)};
  }
  template <class Fn>
  requires std::move_constructible<std::decay_t<Fn>>
  constexpr auto operator()(Fn&& fn) const { return make_closure<Derived>(std::forward<Fn>(fn)); }
};

}  // namespace senet::execution::detail

#endif  // SENET_EXECUTION_DETAIL_THEN_HPP
