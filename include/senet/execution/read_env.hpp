// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_READ_ENV_HPP
#define SENET_EXECUTION_READ_ENV_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/env.hpp>
#include <senet/execution/operation_state.hpp>
#include <senet/execution/sender.hpp>

#include <exception>
#include <type_traits>
#include <utility>

namespace senet::execution {

namespace detail {

template <class Query, class Env>
struct read_env_missing_query {
  static constexpr void raise() noexcept {
    static_assert(
        always_false<Query>,
        "senet::execution::read_env: the receiver's environment has no value for this query (see Query "
        "and Env in this instantiation)");
  }
};

template <class Query>
struct read_env_needs_env {
  static constexpr void raise() noexcept {
    static_assert(
        always_false<Query>,
        "senet::execution::read_env: the completion signatures depend on the receiver's environment");
  }
};

template <class Query, class Rcvr>
struct read_env_operation {
  using operation_state_concept = operation_state_tag;

  read_env_operation(Rcvr rcvr) noexcept(std::is_nothrow_move_constructible_v<Rcvr>)
      : rcvr_(std::move(rcvr)) {}
  read_env_operation(read_env_operation&&) = delete;

  void start() & noexcept {
    if constexpr (noexcept(Query{}(execution::get_env(rcvr_)))) {
      execution::set_value(std::move(rcvr_), Query{}(execution::get_env(rcvr_)));
    } else {
      try {
        execution::set_value(std::move(rcvr_), Query{}(execution::get_env(rcvr_)));
      } catch (...) {
        execution::set_error(std::move(rcvr_), std::current_exception());
      }
    }
  }

  Rcvr rcvr_;
};

template <class Query>
struct read_env_sender {
  using sender_concept = sender_tag;

  template <class Self, class... Env>
  static constexpr auto get_completion_signatures() noexcept {
    if constexpr (sizeof...(Env) == 0) {
      return read_env_needs_env<Query>{};
    } else if constexpr (!(std::is_invocable_v<Query, Env const&> && ...)) {
      return read_env_missing_query<Query, Env...>{};
    } else {
      return concat_sigs_t<completion_signatures<set_value_t(std::invoke_result_t<Query, Env const&>...)>,
                           eptr_unless_t<(std::is_nothrow_invocable_v<Query, Env const&> && ...)>>{};
    }
  }

  template <class Rcvr>
  read_env_operation<Query, Rcvr> connect(Rcvr rcvr) const
      noexcept(std::is_nothrow_move_constructible_v<Rcvr>) {
    return {std::move(rcvr)};
  }
};

}  // namespace detail

// [exec.read.env]

/** `read_env(q)`: a sender that completes at once with `set_value(q(get_env(rcvr)))`, the value the
    receiver's environment has for query `q` (for example `read_env(get_scheduler)`).

    Completion signatures: `set_value_t(decltype(q(env)))`, plus `set_error_t(std::exception_ptr)` when the
    query may throw. Its signatures depend on the environment: it is a sender only in environments that
    answer `q`. Cancellation: none (it completes immediately).
*/
struct read_env_t {
  template <class Query>
  constexpr auto operator()(Query) const noexcept {
    return detail::read_env_sender<Query>{};
  }
};

/// The read_env sender factory.
inline constexpr read_env_t read_env{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_READ_ENV_HPP
