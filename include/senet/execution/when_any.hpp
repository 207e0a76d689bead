// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_WHEN_ANY_HPP
#define SENET_EXECUTION_WHEN_ANY_HPP

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
#include <senet/execution/when_all.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace senet::execution {

namespace detail {

template <class... Sigs>
struct when_any_sigs_impl {
  static constexpr bool nothrow = (nothrow_decay_copyable_results<Sigs> && ...);
  using type =
      concat_sigs_t<decay_sigs_t<Sigs>..., completion_signatures<set_stopped_t()>, eptr_unless_t<nothrow>>;
};

template <class... Sigs>
struct when_any_check {
  template <class S>
  struct map {
    static constexpr bool ok = valid_completion_signatures<S>;
    using error = S;
  };
  static constexpr bool ok = (valid_completion_signatures<Sigs> && ...);
  using error = typename first_failed<map<Sigs>...>::type;
};

template <class Rcvr, class... Children>
struct when_any_state {
  using env_type = env_of_t<Rcvr>;
  using child_env_type = stop_env_t<env_type>;
  using sigs_impl = when_any_sigs_impl<completion_sigs_t<Children, child_env_type>...>;
  using result_type = results_variant_t<typename sigs_impl::type>;

  struct on_stop_request {
    void operator()() noexcept {
      // Hold the operation open while the request runs the children's stop callbacks: a child may
      // complete inside its callback, and the operation must not complete (and perhaps be destroyed)
      // while stop_source_.request_stop() is still running.
      if (!st_->try_hold()) {
        return;  // All children completed: the operation is completing on another thread.
      }
      st_->stop_source_.request_stop();
      st_->arrive();
    }
    when_any_state* st_;
  };

  explicit when_any_state(Rcvr rcvr) noexcept(std::is_nothrow_move_constructible_v<Rcvr>)
      : rcvr_(std::move(rcvr)) {}

  child_env_type child_env() const noexcept {
    return child_env_type{prop{get_stop_token, stop_source_.get_token()}, execution::get_env(rcvr_)};
  }

  template <class Tag, class... Args>
  void child_complete(Tag tag, Args&&... args) noexcept {
    if (!done_.exchange(true, std::memory_order_acq_rel)) {
      // The first completion wins: keep it and stop the others.
      if constexpr ((nothrow_decay_copyable<Args> && ...)) {
        emplace_result(result_, tag, std::forward<Args>(args)...);
      } else {
        try {
          emplace_result(result_, tag, std::forward<Args>(args)...);
        } catch (...) {
          emplace_result(result_, set_error_t{}, std::current_exception());
        }
      }
      stop_source_.request_stop();
    }
    arrive();
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
      // Deregistering waits for a stop callback running on another thread.
      on_stop_.reset();
      if (execution::get_stop_token(execution::get_env(rcvr_)).stop_requested()) {
        execution::set_stopped(std::move(rcvr_));
      } else {
        deliver_result(rcvr_, result_);
      }
    }
  }

  using stop_callback_type = stop_callback_for_t<stop_token_of_t<env_type>, on_stop_request>;

  Rcvr rcvr_;
  std::atomic<std::size_t> count_{sizeof...(Children)};
  std::atomic<bool> done_{false};
  inplace_stop_source stop_source_;
  std::optional<stop_callback_type> on_stop_;
  result_type result_;
};

template <class State>
struct when_any_receiver {
  using receiver_concept = receiver_tag;

  template <class... Vs>
  void set_value(Vs&&... vs) && noexcept {
    st_->child_complete(set_value_t{}, std::forward<Vs>(vs)...);
  }
  template <class E>
  void set_error(E&& e) && noexcept {
    st_->child_complete(set_error_t{}, std::forward<E>(e));
  }
  void set_stopped() && noexcept { st_->child_complete(set_stopped_t{}); }
  typename State::child_env_type get_env() const noexcept { return st_->child_env(); }

  State* st_;
};

template <class Rcvr, class Seq, class... Children>
struct when_any_operation;

template <class Rcvr, std::size_t... Is, class... Children>
struct when_any_operation<Rcvr, std::index_sequence<Is...>, Children...> : when_any_state<Rcvr, Children...> {
  using operation_state_concept = operation_state_tag;
  using state_type = when_any_state<Rcvr, Children...>;

  template <class Tuple>
  when_any_operation(Tuple&& children, Rcvr rcvr)
      : state_type(std::move(rcvr)), ops_([&] {
          return execution::connect(std::get<Is>(std::forward<Tuple>(children)),
                                    when_any_receiver<state_type>{this});
        }...) {}
  when_any_operation(when_any_operation&&) = delete;

  void start() & noexcept {
    this->on_stop_.emplace(execution::get_stop_token(execution::get_env(this->rcvr_)),
                           typename state_type::on_stop_request{this});
    ops_.start_all();
  }

  op_tuple<std::index_sequence<Is...>, connect_result_t<Children, when_any_receiver<state_type>>...> ops_;
};

template <class... Sndrs>
struct when_any_sender {
  using sender_concept = sender_tag;

  template <class Self, class... Env>
  static constexpr auto get_completion_signatures() noexcept {
    using check = when_any_check<completion_sigs_t<copy_cvref_t<Self, Sndrs>, stop_env_t<Env...>>...>;
    if constexpr (!check::ok) {
      return typename check::error{};
    } else {
      return typename when_any_sigs_impl<
          completion_sigs_t<copy_cvref_t<Self, Sndrs>, stop_env_t<Env...>>...>::type{};
    }
  }

  template <class Rcvr>
  when_any_operation<Rcvr, std::index_sequence_for<Sndrs...>, Sndrs...> connect(Rcvr rcvr) && {
    return when_any_operation<Rcvr, std::index_sequence_for<Sndrs...>, Sndrs...>(std::move(sndrs_),
                                                                                 std::move(rcvr));
  }
  template <class Rcvr>
  when_any_operation<Rcvr, std::index_sequence_for<Sndrs...>, Sndrs const&...> connect(Rcvr rcvr) const& {
    return when_any_operation<Rcvr, std::index_sequence_for<Sndrs...>, Sndrs const&...>(sndrs_,
                                                                                        std::move(rcvr));
  }

  std::tuple<Sndrs...> sndrs_;
};

}  // namespace detail

// exec::when_any of stdexec (not in the working draft)

/** `when_any(sndrs...)`: a sender that starts all `sndrs` and completes with the result of the first one
    to complete, on whichever channel; the others are then asked to stop, and the operation completes once
    all have completed. (stdexec has it as `exec::when_any`.)

    Completion signatures: the union of the senders' completions with the data decayed (sent as
    rvalues), plus `set_stopped_t()`, plus `set_error_t(std::exception_ptr)` when copying a result may throw.
    Cancellation: the children see the operation's own stop token, which is stopped as soon as one child
    completes; a stop request on the receiver's token is forwarded to all of them, and the operation then
    completes with `set_stopped()`.
    No allocation: the children's operations and the winning result live in the operation state.
*/
struct when_any_t {
  template <sender Sndr, sender... Sndrs>
  constexpr auto operator()(Sndr&& sndr, Sndrs&&... sndrs) const {
    return detail::when_any_sender<std::decay_t<Sndr>, std::decay_t<Sndrs>...>{
        {std::forward<Sndr>(sndr), std::forward<Sndrs>(sndrs)...}};
  }
};

/// The when_any sender factory.
inline constexpr when_any_t when_any{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_WHEN_ANY_HPP
