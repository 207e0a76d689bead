// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_WHEN_ALL_HPP
#define SENET_EXECUTION_WHEN_ALL_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/connect.hpp>
#include <senet/execution/detail/storage.hpp>
#include <senet/execution/env.hpp>
#include <senet/execution/get_completion_signatures.hpp>
#include <senet/execution/operation_state.hpp>
#include <senet/execution/queries.hpp>
#include <senet/execution/receiver.hpp>
#include <senet/execution/sender.hpp>
#include <senet/execution/stop_token.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace senet::execution {

namespace detail {

// The environment of each child: the receiver's, with the stop token of the when_all (or when_any)
// operation's own stop source.
template <class... Env>
struct stop_env {
  using type = env<prop<get_stop_token_t, inplace_stop_token>>;
};
template <class Env>
struct stop_env<Env> {
  using type = env<prop<get_stop_token_t, inplace_stop_token>, Env>;
};
template <class... Env>
using stop_env_t = typename stop_env<Env...>::type;

template <class Sndr>
struct when_all_too_many_values {
  static constexpr void raise() noexcept {
    static_assert(
        always_false<Sndr>,
        "senet::execution::when_all: each sender must have at most one set_value completion signature "
        "(see Sndr in this instantiation; into_variant merges several)");
  }
};

// The single value completion of one child, as a list of decayed types (type_list<> if it has none).
template <class Sigs, bool One = count_of<set_value_t, Sigs> == 1>
struct single_value {
  using type = type_list<>;
};
template <class Sigs>
struct single_value<Sigs, true> {
  using type = gather_signatures<set_value_t, decay_sigs_t<Sigs>, as_type_list, first_type>;
};
template <class Sigs>
using single_value_t = typename single_value<Sigs>::type;

template <class... Ts>
using value_sig_t = completion_signatures<set_value_t(Ts...)>;

template <class... Sigs>
struct when_all_sigs_impl {
  static constexpr bool all_have_values = ((count_of<set_value_t, Sigs> == 1) && ...);
  static constexpr bool sends_stopped = ((count_of<set_stopped_t, Sigs> != 0) || ...);
  static constexpr bool nothrow = (nothrow_decay_copyable_results<Sigs> && ...);

  using value_sigs =
      std::conditional_t<all_have_values, apply_t<value_sig_t, concat_t<single_value_t<Sigs>...>>,
                         completion_signatures<>>;
  using error_sigs = concat_sigs_t<decay_sigs_t<transform_completion_signatures<
      Sigs, completion_signatures<>, drop_values, default_set_error, completion_signatures<>>>...>;
  using type = concat_sigs_t<
      value_sigs, error_sigs,
      std::conditional_t<sends_stopped, completion_signatures<set_stopped_t()>, completion_signatures<>>,
      eptr_unless_t<nothrow>>;
};

template <class ChildSigs, class Sndrs>
struct when_all_check;
template <class... ChildSigs, class... Sndrs>
struct when_all_check<type_list<ChildSigs...>, type_list<Sndrs...>> {
  template <class Sigs, class Sndr>
  struct map {
    static constexpr bool ok = valid_completion_signatures<Sigs> && count_of<set_value_t, Sigs> <= 1;
    using error = std::conditional_t<valid_completion_signatures<Sigs>, when_all_too_many_values<Sndr>, Sigs>;
  };
  static constexpr bool ok = (map<ChildSigs, Sndrs>::ok && ...);
  using error = typename first_failed<map<ChildSigs, Sndrs>...>::type;
};

enum class when_all_disposition { started, error, stopped };

template <class Rcvr, class... Children>
struct when_all_state {
  using env_type = env_of_t<Rcvr>;
  using child_env_type = stop_env_t<env_type>;
  using sigs_impl = when_all_sigs_impl<completion_sigs_t<Children, child_env_type>...>;
  using values_type = std::tuple<
      std::optional<apply_t<std::tuple, single_value_t<completion_sigs_t<Children, child_env_type>>>>...>;
  using errors_type =
      apply_t<std::variant,
              unique_t<concat_t<
                  type_list<std::monostate>,
                  gather_signatures<set_error_t, decay_sigs_t<completion_sigs_t<Children, child_env_type>>,
                                    first_type, as_type_list>...,
                  std::conditional_t<sigs_impl::nothrow, type_list<>, type_list<std::exception_ptr>>>>>;

  struct on_stop_request {
    void operator()() noexcept {
      // Hold the operation open while the request runs the children's stop callbacks: a child may
      // complete inside its callback, and the operation must not complete (and perhaps be destroyed)
      // while stop_source_.request_stop() is still running.
      if (!st_->try_hold()) {
        return;  // All children completed: the operation is completing on another thread.
      }
      auto expected = when_all_disposition::started;
      st_->disposition_.compare_exchange_strong(expected, when_all_disposition::stopped);
      st_->stop_source_.request_stop();
      st_->arrive();
    }
    when_all_state* st_;
  };

  when_all_state(Rcvr rcvr) noexcept(std::is_nothrow_move_constructible_v<Rcvr>) : rcvr_(std::move(rcvr)) {}

  child_env_type child_env() const noexcept {
    return child_env_type{prop{get_stop_token, stop_source_.get_token()}, execution::get_env(rcvr_)};
  }

  template <std::size_t I, class... Vs>
  void child_value(Vs&&... vs) noexcept {
    auto& slot = std::get<I>(values_);
    if constexpr ((nothrow_decay_copyable<Vs> && ...)) {
      slot.emplace(std::forward<Vs>(vs)...);
    } else {
      try {
        slot.emplace(std::forward<Vs>(vs)...);
      } catch (...) {
        child_error(std::current_exception());
      }
    }
    arrive();
  }

  template <class E>
  void child_error(E&& e) noexcept {
    auto const old = disposition_.exchange(when_all_disposition::error);
    if (old == when_all_disposition::error) {
      return;  // The first error wins.
    }
    if constexpr (nothrow_decay_copyable<E>) {
      errors_.template emplace<std::decay_t<E>>(std::forward<E>(e));
    } else {
      try {
        errors_.template emplace<std::decay_t<E>>(std::forward<E>(e));
      } catch (...) {
        errors_.template emplace<std::exception_ptr>(std::current_exception());
      }
    }
    stop_source_.request_stop();
  }

  void child_stopped() noexcept {
    auto expected = when_all_disposition::started;
    if (disposition_.compare_exchange_strong(expected, when_all_disposition::stopped)) {
      stop_source_.request_stop();
    }
  }

  // Adds a reference unless the count already reached zero.
  bool try_hold() noexcept {
    std::size_t count = count_.load(std::memory_order_relaxed);
    do {
      if (count == 0) {
        return false;
      }
    } while (!count_.compare_exchange_weak(count, count + 1, std::memory_order_acq_rel,
                                           std::memory_order_relaxed));
    return true;
  }

  void arrive() noexcept {
    if (count_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      complete();
    }
  }

  void complete() noexcept {
    // Deregistering waits for a stop callback running on another thread, so that nothing touches this
    // state after the receiver is completed.
    on_stop_.reset();
    switch (disposition_.load(std::memory_order_acquire)) {
      case when_all_disposition::error:
        std::visit(
            [this](auto& e) noexcept {
              if constexpr (!std::is_same_v<std::decay_t<decltype(e)>, std::monostate>) {
                execution::set_error(std::move(rcvr_), std::move(e));
              }
            },
            errors_);
        return;
      case when_all_disposition::stopped:
        if constexpr (sigs_impl::sends_stopped) {
          execution::set_stopped(std::move(rcvr_));
          return;
        }
        [[fallthrough]];
      case when_all_disposition::started:
        if constexpr (sigs_impl::all_have_values) {
          set_values(std::index_sequence_for<Children...>{});
        }
        return;
    }
  }

  template <std::size_t... Is>
  void set_values(std::index_sequence<Is...>) noexcept {
    auto refs =
        std::tuple_cat(std::apply([](auto&... vs) { return std::tie(vs...); }, *std::get<Is>(values_))...);
    std::apply([this](auto&... vs) { execution::set_value(std::move(rcvr_), std::move(vs)...); }, refs);
  }

  using stop_callback_type = stop_callback_for_t<stop_token_of_t<env_type>, on_stop_request>;

  Rcvr rcvr_;
  std::atomic<std::size_t> count_{sizeof...(Children)};
  std::atomic<when_all_disposition> disposition_{when_all_disposition::started};
  inplace_stop_source stop_source_;
  std::optional<stop_callback_type> on_stop_;
  values_type values_;
  errors_type errors_;
};

template <std::size_t I, class State>
struct when_all_receiver {
  using receiver_concept = receiver_tag;

  template <class... Vs>
  void set_value(Vs&&... vs) && noexcept {
    st_->template child_value<I>(std::forward<Vs>(vs)...);
  }
  template <class E>
  void set_error(E&& e) && noexcept {
    st_->child_error(std::forward<E>(e));
    st_->arrive();
  }
  void set_stopped() && noexcept {
    st_->child_stopped();
    st_->arrive();
  }
  typename State::child_env_type get_env() const noexcept { return st_->child_env(); }

  State* st_;
};

template <class Rcvr, class Seq, class... Children>
struct when_all_operation;

template <class Rcvr, std::size_t... Is, class... Children>
struct when_all_operation<Rcvr, std::index_sequence<Is...>, Children...> : when_all_state<Rcvr, Children...> {
  using operation_state_concept = operation_state_tag;
  using state_type = when_all_state<Rcvr, Children...>;

  template <class Tuple>
  when_all_operation(Tuple&& children, Rcvr rcvr)
      : state_type(std::move(rcvr)), ops_([&] {
          return execution::connect(std::get<Is>(std::forward<Tuple>(children)),
                                    when_all_receiver<Is, state_type>{this});
        }...) {}
  when_all_operation(when_all_operation&&) = delete;

  void start() & noexcept {
    if constexpr (sizeof...(Children) == 0) {
      this->complete();
    } else {
      this->on_stop_.emplace(execution::get_stop_token(execution::get_env(this->rcvr_)),
                             typename state_type::on_stop_request{this});
      ops_.start_all();
    }
  }

  op_tuple<std::index_sequence<Is...>, connect_result_t<Children, when_all_receiver<Is, state_type>>...> ops_;
};

template <class... Sndrs>
struct when_all_sender {
  using sender_concept = sender_tag;

  template <class Self, class... Env>
  static constexpr auto get_completion_signatures() noexcept {
    using check =
        when_all_check<type_list<completion_sigs_t<copy_cvref_t<Self, Sndrs>, stop_env_t<Env...>>...>,
                       type_list<Sndrs...>>;
    if constexpr (!check::ok) {
      return typename check::error{};
    } else {
      return typename when_all_sigs_impl<
          completion_sigs_t<copy_cvref_t<Self, Sndrs>, stop_env_t<Env...>>...>::type{};
    }
  }

  template <class Rcvr>
  when_all_operation<Rcvr, std::index_sequence_for<Sndrs...>, Sndrs...> connect(Rcvr rcvr) && {
    return {std::move(sndrs_), std::move(rcvr)};
  }
  template <class Rcvr>
  when_all_operation<Rcvr, std::index_sequence_for<Sndrs...>, Sndrs const&...> connect(Rcvr rcvr) const& {
    return {sndrs_, std::move(rcvr)};
  }

  std::tuple<Sndrs...> sndrs_;
};

}  // namespace detail

// [exec.when.all]

/** `when_all(sndrs...)`: a sender that starts all `sndrs` and completes when all of them have completed.

    Completion signatures: `set_value_t(Vs...)`, the concatenation of the (decayed) values of the
    senders, each of which must have at most one value completion (if one has none, neither has
    `when_all`); every `set_error_t(decay_t<E>)` of the senders; `set_stopped_t()` if any sender may send it;
    `set_error_t(std::exception_ptr)` when copying a result may throw.
    Result: the values if all complete with values; else the first error; else stopped.
    Cancellation: the children see the operation's own stop token. The first child to complete with an
    error or stopped requests a stop of the others; a stop request on the receiver's token is forwarded to
    all children (the operation then completes with `set_stopped()` when any child could send it).
    No allocation: the children's operations and results live in the operation state.
*/
struct when_all_t {
  template <sender... Sndrs>
  constexpr auto operator()(Sndrs&&... sndrs) const {
    return detail::when_all_sender<std::decay_t<Sndrs>...>{{std::forward<Sndrs>(sndrs)...}};
  }
};

/// The when_all sender factory.
inline constexpr when_all_t when_all{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_WHEN_ALL_HPP
