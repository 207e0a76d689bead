// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_SYNC_WAIT_HPP
#define SENET_EXECUTION_SYNC_WAIT_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/connect.hpp>
#include <senet/execution/get_completion_signatures.hpp>
#include <senet/execution/into_variant.hpp>
#include <senet/execution/operation_state.hpp>
#include <senet/execution/queries.hpp>
#include <senet/execution/receiver.hpp>
#include <senet/execution/run_loop.hpp>
#include <senet/execution/sender.hpp>

#include <exception>
#include <optional>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace senet::execution {

namespace detail {

// The environment sync_wait gives the operation: its run_loop is the scheduler and the delegation
// scheduler; there is no stop token (never_stop_token).
struct sync_wait_env {
  run_loop::scheduler query(get_scheduler_t) const noexcept { return loop_->get_scheduler(); }
  run_loop::scheduler query(get_delegation_scheduler_t) const noexcept { return loop_->get_scheduler(); }
  run_loop* loop_;
};

template <class Sndr>
struct sync_wait_no_single_value {
  static constexpr void raise() noexcept {
    static_assert(
        always_false<Sndr>,
        "senet::execution::sync_wait: the sender must have exactly one set_value completion signature "
        "(use into_variant, or sync_wait_with_variant, for several)");
  }
};

template <class Result>
struct sync_wait_state {
  run_loop loop_;
  std::optional<Result> result_;
  std::exception_ptr error_;
};

template <class Result>
struct sync_wait_receiver {
  using receiver_concept = receiver_tag;

  template <class... Vs>
  void set_value(Vs&&... vs) && noexcept {
    try {
      st_->result_.emplace(std::forward<Vs>(vs)...);
    } catch (...) {
      st_->error_ = std::current_exception();
    }
    st_->loop_.finish();
  }

  template <class E>
  void set_error(E&& e) && noexcept {
    if constexpr (std::is_same_v<std::decay_t<E>, std::exception_ptr>) {
      st_->error_ = std::forward<E>(e);
    } else if constexpr (std::is_same_v<std::decay_t<E>, std::error_code>) {
      st_->error_ = std::make_exception_ptr(std::system_error(e));
    } else {
      st_->error_ = std::make_exception_ptr(std::forward<E>(e));
    }
    st_->loop_.finish();
  }

  void set_stopped() && noexcept { st_->loop_.finish(); }

  sync_wait_env get_env() const noexcept { return {&st_->loop_}; }

  sync_wait_state<Result>* st_;
};

}  // namespace detail

// [exec.sync.wait]

/** `sync_wait(sndr)`: starts `sndr` and blocks the calling thread, running a `run_loop` on it, until the
    operation completes; returns its values.

    Returns `std::optional<std::tuple<decay_t<Vs>...>>` for the sender's single `set_value_t(Vs...)`
    completion, or `std::nullopt` when it completes with `set_stopped()`. On `set_error(e)` it throws:
    an `std::exception_ptr` is rethrown, an `std::error_code` is thrown as `std::system_error(e)`, any other
    error type is thrown as is.
    The receiver's environment gives `get_scheduler` and `get_delegation_scheduler` (the run_loop) and no
    stop token. It allocates nothing besides what `make_exception_ptr` allocates on an error.
*/
struct sync_wait_t {
  template <class Sndr>
  auto operator()(Sndr&& sndr) const {
    using sigs_t = detail::completion_sigs_t<Sndr, detail::sync_wait_env>;
    if constexpr (!detail::valid_completion_signatures<sigs_t>) {
      detail::report_invalid<sigs_t>();
      return std::optional<std::tuple<>>{};
    } else if constexpr (detail::count_of<set_value_t, sigs_t> != 1) {
      detail::sync_wait_no_single_value<Sndr>::raise();
      return std::optional<std::tuple<>>{};
    } else {
      using result_t =
          detail::gather_signatures<set_value_t, sigs_t, detail::decayed_tuple, detail::first_type>;
      detail::sync_wait_state<result_t> st;
      auto op = execution::connect(std::forward<Sndr>(sndr), detail::sync_wait_receiver<result_t>{&st});
      execution::start(op);
      st.loop_.run();
      if (st.error_) {
        std::rethrow_exception(std::move(st.error_));
      }
      return std::move(st.result_);
    }
  }
};

/// The sync_wait function object.
inline constexpr sync_wait_t sync_wait{};

/** `sync_wait_with_variant(sndr)`: `sync_wait` for a sender with several value completions. Returns
    `std::optional<std::variant<std::tuple<decay_t<Vs>...>...>>`: the values of the completion that happened,
    or `std::nullopt` when stopped; errors are thrown as by `sync_wait`.
*/
struct sync_wait_with_variant_t {
  template <sender Sndr>
  auto operator()(Sndr&& sndr) const {
    auto result = sync_wait_t{}(into_variant(std::forward<Sndr>(sndr)));
    using variant_t = std::tuple_element_t<0, typename decltype(result)::value_type>;
    std::optional<variant_t> out;
    if (result) {
      out.emplace(std::get<0>(std::move(*result)));
    }
    return out;
  }
};

/// The sync_wait_with_variant function object.
inline constexpr sync_wait_with_variant_t sync_wait_with_variant{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_SYNC_WAIT_HPP
