// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_DETAIL_LET_HPP
#define SENET_EXECUTION_DETAIL_LET_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/connect.hpp>
#include <senet/execution/detail/storage.hpp>
#include <senet/execution/env.hpp>
#include <senet/execution/get_completion_signatures.hpp>
#include <senet/execution/operation_state.hpp>
#include <senet/execution/receiver.hpp>
#include <senet/execution/sender.hpp>
#include <senet/execution/sender_adaptor_closure.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

// The shared implementation of let_value, let_error and let_stopped: Tag is the channel whose completion
// is replaced by the sender the function returns.

namespace senet::execution::detail {

template <class Tag, class Fn, class... Args>
struct let_not_callable {
  static constexpr void raise() noexcept {
    if constexpr (std::is_same_v<Tag, set_value_t>) {
      static_assert(
          always_false<Fn>,
          "senet::execution::let_value: the function cannot be called with lvalues of the values the "
          "predecessor sends (see Args... in this instantiation)");
    } else if constexpr (std::is_same_v<Tag, set_error_t>) {
      static_assert(
          always_false<Fn>,
          "senet::execution::let_error: the function cannot be called with an lvalue of the error the "
          "predecessor sends (see Args... in this instantiation)");
    } else {
      static_assert(always_false<Fn>,
                    "senet::execution::let_stopped: the function must be callable with no arguments");
    }
  }
};

template <class Tag, class Fn, class Result>
struct let_result_not_sender {
  static constexpr void raise() noexcept {
    static_assert(always_false<Fn>,
                  "senet::execution::let_value/let_error/let_stopped: the function must return a sender (see "
                  "Result in this instantiation)");
  }
};

template <class... Env>
struct env_or_empty {
  using type = env<>;
};
template <class Env>
struct env_or_empty<Env> {
  using type = Env;
};

// How one signature of the predecessor maps: a matching one is replaced by the completions of the sender
// the function returns.
template <bool Callable, class Tag, class Fn, class EnvList, class... Args>
struct let_map_callable {
  static constexpr bool ok = false;
  static constexpr bool nothrow = true;
  using error = let_not_callable<Tag, Fn, Args...>;
  using type = type_list<>;
};

template <bool IsSender, class Tag, class Fn, class Result, class... Env>
struct let_map_result {
  static constexpr bool ok = false;
  static constexpr bool nothrow = true;
  using error = let_result_not_sender<Tag, Fn, Result>;
  using type = type_list<>;
};
template <class Tag, class Fn, class Result, class... Env>
struct let_map_result<true, Tag, Fn, Result, Env...> {
  using sigs = completion_sigs_t<Result, Env...>;
  static constexpr bool ok = valid_completion_signatures<sigs>;
  static constexpr bool nothrow = nothrow_connectable<Result, typename env_or_empty<Env...>::type>;
  using error = sigs;
  using type = std::conditional_t<ok, sigs_to_list_t<std::conditional_t<ok, sigs, completion_signatures<>>>,
                                  type_list<>>;
};

template <class Tag, class Fn, class... Env, class... Args>
struct let_map_callable<true, Tag, Fn, type_list<Env...>, Args...>
    : let_map_result<sender<std::invoke_result_t<Fn, std::decay_t<Args>&...>>, Tag, Fn,
                     std::invoke_result_t<Fn, std::decay_t<Args>&...>, Env...> {
  static constexpr bool nothrow =
      let_map_result<sender<std::invoke_result_t<Fn, std::decay_t<Args>&...>>, Tag, Fn,
                     std::invoke_result_t<Fn, std::decay_t<Args>&...>, Env...>::nothrow &&
      (nothrow_decay_copyable<Args> && ...) && std::is_nothrow_invocable_v<Fn, std::decay_t<Args>&...>;
};

template <class Tag, class Fn, class EnvList, class Sig>
struct let_map {
  static constexpr bool ok = true;
  static constexpr bool nothrow = true;
  using error = void;
  using type = type_list<Sig>;
};
template <class Tag, class Fn, class EnvList, class... Args>
struct let_map<Tag, Fn, EnvList, Tag(Args...)>
    : let_map_callable<std::is_invocable_v<Fn, std::decay_t<Args>&...>, Tag, Fn, EnvList, Args...> {};

template <class Tag, class Fn, class EnvList, class Sigs>
struct let_sigs;
template <class Tag, class Fn, class EnvList, class... Sigs>
struct let_sigs<Tag, Fn, EnvList, completion_signatures<Sigs...>> {
  static constexpr bool ok = (let_map<Tag, Fn, EnvList, Sigs>::ok && ...);
  static constexpr bool nothrow = (let_map<Tag, Fn, EnvList, Sigs>::nothrow && ...);
  using type = std::conditional_t<ok,
                                  list_to_sigs_t<concat_t<typename let_map<Tag, Fn, EnvList, Sigs>::type...,
                                                          sigs_to_list_t<eptr_unless_t<nothrow>>>>,
                                  typename first_failed<let_map<Tag, Fn, EnvList, Sigs>...>::type>;
};

// A completion of the predecessor on a channel other than Tag (passed on to the receiver as it
// is), kept while the predecessor's start() is still running (see let_operation::pass).
template <class CTag, class... Args>
struct let_passed {
  std::tuple<Args...> args;
};

template <class Tag, class Sig>
struct let_passed_of {
  using type = type_list<>;
};
template <class Tag, class CTag, class... Args>
requires(!std::is_same_v<Tag, CTag>) struct let_passed_of<Tag, CTag(Args...)> {
  using type = type_list<let_passed<CTag, std::decay_t<Args>...>>;
};

// The types an operation needs for the Tag completions Tag(Args...) of its predecessor, whose
// operation state is ChildOp: the predecessor's operation state and those of the senders the
// function may return share one storage (`ops_variant`), since the predecessor's ends (its values
// moved into `args_variant`) before the next one is connected. `args_variant` also keeps, for as
// long as the predecessor's start() runs, a completion on another channel (`let_passed`), and the
// exception of a failed decay-copy when `Nothrow` is false.
template <class Fn, class Rcvr, class ChildOp, class Tag, class ChildSigs, bool Nothrow>
struct let_types;
template <class Fn, class Rcvr, class ChildOp, class Tag, class... Sigs, bool Nothrow>
struct let_types<Fn, Rcvr, ChildOp, Tag, completion_signatures<Sigs...>, Nothrow> {
  template <class List>
  struct one;
  template <class... Args>
  struct one<type_list<Args...>> {
    using tuple = std::tuple<std::decay_t<Args>...>;
    using result_sender = std::invoke_result_t<Fn, std::decay_t<Args>&...>;
    using op = connect_result_t<result_sender, forward_receiver<Rcvr>>;
  };
  template <class List>
  struct many;
  template <class... ArgLists>
  struct many<type_list<ArgLists...>> {
    using tuples = type_list<typename one<ArgLists>::tuple...>;
    using ops = type_list<typename one<ArgLists>::op...>;
  };
  using gathered = many<gather_args_t<Tag, completion_signatures<Sigs...>>>;
  using passed = concat_t<
      typename let_passed_of<Tag, Sigs>::type...,
      std::conditional_t<Nothrow, type_list<>, type_list<let_passed<set_error_t, std::exception_ptr>>>>;
  using args_variant =
      apply_t<std::variant, unique_t<concat_t<type_list<std::monostate>, typename gathered::tuples, passed>>>;
  using ops_variant = apply_t<manual_variant, unique_t<concat_t<type_list<ChildOp>, typename gathered::ops>>>;
};

template <class Op>
struct let_receiver {
  using receiver_concept = receiver_tag;
  using tag = typename Op::tag;

  template <class... Vs>
  void set_value(Vs&&... vs) && noexcept {
    if constexpr (std::is_same_v<tag, set_value_t>) {
      op_->complete(std::forward<Vs>(vs)...);
    } else {
      op_->pass(set_value_t{}, std::forward<Vs>(vs)...);
    }
  }
  template <class E>
  void set_error(E&& e) && noexcept {
    if constexpr (std::is_same_v<tag, set_error_t>) {
      op_->complete(std::forward<E>(e));
    } else {
      op_->pass(set_error_t{}, std::forward<E>(e));
    }
  }
  void set_stopped() && noexcept {
    if constexpr (std::is_same_v<tag, set_stopped_t>) {
      op_->complete();
    } else {
      op_->pass(set_stopped_t{});
    }
  }
  typename Op::env_type get_env() const noexcept { return execution::get_env(op_->rcvr_); }

  Op* op_;
};

template <class Tag, class Child, class Fn, class Rcvr>
struct let_operation {
  using operation_state_concept = operation_state_tag;
  using tag = Tag;
  using env_type = env_of_t<Rcvr>;
  using child_sigs = completion_sigs_t<Child, env_type>;
  using child_receiver = let_receiver<let_operation>;
  using child_op = connect_result_t<Child, child_receiver>;
  static constexpr bool nothrow = let_sigs<Tag, Fn, type_list<env_type>, child_sigs>::nothrow;
  using types = let_types<Fn, Rcvr, child_op, Tag, child_sigs, nothrow>;

  let_operation(Child&& child, Fn fn, Rcvr rcvr) : rcvr_(std::move(rcvr)), fn_(std::move(fn)) {
    ops_.template emplace_from<child_op>(
        [&] { return execution::connect(std::forward<Child>(child), child_receiver{this}); });
  }
  let_operation(let_operation&&) = delete;

  void start() & noexcept {
    phase_.store(starting, std::memory_order_relaxed);
    execution::start(ops_.template get<child_op>());
    // Nothing of this operation is touched after this exchange unless the predecessor completed
    // before it: a completion after it may end the operation (its receiver may destroy it).
    if (phase_.exchange(running, std::memory_order_acq_rel) == completed) {
      // The predecessor completed inside its start(): its operation state is destroyed (or the
      // completion passed on) only now.
      std::visit(
          [&](auto& stored) noexcept {
            using stored_t = std::decay_t<decltype(stored)>;
            if constexpr (is_passed<stored_t>::value) {
              deliver_passed(stored);
            } else if constexpr (!std::is_same_v<stored_t, std::monostate>) {
              continue_with(stored);
            }
          },
          args_);
    }
  }

  // A completion of the predecessor on another channel than Tag: passed on to the receiver, at
  // once when start() has returned, else kept until it returns (the receiver may end this
  // operation, and start() still reads phase_ after the predecessor's start()).
  template <class CTag, class... Args>
  void pass(CTag, Args&&... args) noexcept {
    if (phase_.load(std::memory_order_acquire) == running) {
      CTag{}(std::move(rcvr_), std::forward<Args>(args)...);
      return;
    }
    // (A decay-copy of an error that throws ends the program here, as the noexcept completion
    // would: error types are nothrow-copyable in practice.)
    auto& stored = args_.template emplace<let_passed<CTag, std::decay_t<Args>...>>(
        let_passed<CTag, std::decay_t<Args>...>{{std::forward<Args>(args)...}});
    if (phase_.exchange(completed, std::memory_order_acq_rel) == starting) {
      return;  // start() passes it on once the predecessor's start() has returned
    }
    deliver_passed(stored);
  }

  template <class CTag, class... Args>
  void deliver_passed(let_passed<CTag, Args...>& stored) noexcept {
    std::apply([this](Args&... args) noexcept { CTag{}(std::move(rcvr_), std::move(args)...); }, stored.args);
  }

  template <class T>
  struct is_passed : std::false_type {};
  template <class CTag, class... Args>
  struct is_passed<let_passed<CTag, Args...>> : std::true_type {};

  // The predecessor's Tag completion: its values are kept, its operation state destroyed, and the
  // sender the function returns for them connected in the same storage and started.
  template <class... Args>
  void complete(Args&&... args) noexcept {
    using tuple_t = std::tuple<std::decay_t<Args>...>;
    tuple_t* stored = nullptr;
    if constexpr (nothrow) {
      stored = &args_.template emplace<tuple_t>(std::forward<Args>(args)...);
    } else {
      try {
        stored = &args_.template emplace<tuple_t>(std::forward<Args>(args)...);
      } catch (...) {
        pass(set_error_t{}, std::current_exception());
        return;
      }
    }
    if (phase_.exchange(completed, std::memory_order_acq_rel) == starting) {
      return;  // start() goes on once the predecessor's start() has returned
    }
    continue_with(*stored);
  }

  template <class Tuple>
  void continue_with(Tuple& stored) noexcept {
    using sender_t = decltype(std::apply(std::move(fn_), stored));
    using op_t = connect_result_t<sender_t, forward_receiver<Rcvr>>;
    ops_.reset();  // the predecessor's: nothing of it is used any more
    if constexpr (nothrow) {
      start_next<op_t>(stored);
    } else {
      try {
        start_next<op_t>(stored);
      } catch (...) {
        execution::set_error(std::move(rcvr_), std::current_exception());
      }
    }
  }

  template <class Op, class Tuple>
  void start_next(Tuple& stored) {
    auto& op = ops_.template emplace_from<Op>([&] {
      return execution::connect(std::apply(std::move(fn_), stored), forward_receiver<Rcvr>{&rcvr_});
    });
    execution::start(op);
  }

  enum phase : std::uint8_t { idle, starting, running, completed };

  Rcvr rcvr_;
  Fn fn_;
  typename types::args_variant args_;
  // phase_ shares the variant's padding.
  [[no_unique_address]] typename types::ops_variant ops_;
  std::atomic<std::uint8_t> phase_{idle};
};

template <class Tag, class Child, class Fn>
struct let_sender {
  using sender_concept = sender_tag;

  template <class Self, class... Env>
  static constexpr auto get_completion_signatures() noexcept {
    using child_sigs = completion_sigs_t<copy_cvref_t<Self, Child>, Env...>;
    if constexpr (!valid_completion_signatures<child_sigs>) {
      return child_sigs{};
    } else {
      return typename let_sigs<Tag, Fn, type_list<Env...>, child_sigs>::type{};
    }
  }

  template <class Rcvr>
  let_operation<Tag, Child, Fn, Rcvr> connect(Rcvr rcvr) && {
    return {std::move(child_), std::move(fn_), std::move(rcvr)};
  }
  template <class Rcvr>
  let_operation<Tag, Child const&, Fn, Rcvr> connect(Rcvr rcvr) const& {
    return {child_, fn_, std::move(rcvr)};
  }

  Child child_;
  Fn fn_;
};

template <class Tag, class Derived>
struct let_algorithm {
  template <sender Sndr, class Fn>
  requires std::move_constructible<std::decay_t<Fn>>
  constexpr auto operator()(Sndr&& sndr, Fn&& fn) const {
    return let_sender<Tag, std::decay_t<Sndr>, std::decay_t<Fn>>{std::forward<Sndr>(sndr),
                                                                 std::forward<Fn>(fn)};
  }
  template <class Fn>
  requires std::move_constructible<std::decay_t<Fn>>
  constexpr auto operator()(Fn&& fn) const { return make_closure<Derived>(std::forward<Fn>(fn)); }
};

}  // namespace senet::execution::detail

#endif  // SENET_EXECUTION_DETAIL_LET_HPP
