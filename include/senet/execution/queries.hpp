// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_QUERIES_HPP
#define SENET_EXECUTION_QUERIES_HPP

#include <senet/execution/env.hpp>
#include <senet/execution/stop_token.hpp>

#include <concepts>
#include <type_traits>
#include <utility>

namespace senet::execution {

// [exec.fwd.env]

/** `forwarding_query(q)`: whether adaptors forward query `q` from a receiver's environment to the
    environments they give their children. True for the standard queries below. */
struct forwarding_query_t {
  template <class Query>
  constexpr bool operator()(Query q) const noexcept {
    if constexpr (requires { q.query(forwarding_query_t{}); }) {
      return q.query(forwarding_query_t{});
    } else {
      return std::derived_from<Query, forwarding_query_t>;
    }
  }
};

/// The forwarding-query query object.
inline constexpr forwarding_query_t forwarding_query{};

namespace detail {
// Base of the standard query objects: they are forwarding queries.
struct forwarding_query_base {
  static constexpr bool query(forwarding_query_t) noexcept { return true; }
};
}  // namespace detail

// [exec.get.allocator]

/** `get_allocator(env)`: the allocator an operation should use for what it must allocate. */
struct get_allocator_t : detail::forwarding_query_base {
  using detail::forwarding_query_base::query;
  template <class Env>
  requires detail::has_query<Env, get_allocator_t>
  constexpr auto operator()(Env const& env) const noexcept {
    static_assert(noexcept(env.query(get_allocator_t{})),
                  "senet::execution::get_allocator: query must be noexcept");
    return env.query(*this);
  }
};

/// The allocator query object.
inline constexpr get_allocator_t get_allocator{};

// [exec.get.stop.token]

/** `get_stop_token(env)`: the stop token of a receiver's environment, `never_stop_token{}` if it has none. */
struct get_stop_token_t : detail::forwarding_query_base {
  using detail::forwarding_query_base::query;
  template <class Env>
  constexpr auto operator()(Env const& env) const noexcept {
    if constexpr (detail::has_query<Env, get_stop_token_t>) {
      static_assert(noexcept(env.query(get_stop_token_t{})),
                    "senet::execution::get_stop_token: query must be noexcept");
      static_assert(
          stoppable_token<std::remove_cvref_t<decltype(env.query(get_stop_token_t{}))>>,
          "senet::execution::get_stop_token: the environment's stop token is not a stoppable_token");
      return env.query(*this);
    } else {
      return never_stop_token{};
    }
  }
};

/// The stop token query object.
inline constexpr get_stop_token_t get_stop_token{};

/// The stop token type of environment `T`.
template <class T>
using stop_token_of_t = std::remove_cvref_t<decltype(get_stop_token(std::declval<T>()))>;

// [exec.get.scheduler]

/** `get_scheduler(env)`: the scheduler an operation started with this environment runs on. */
struct get_scheduler_t : detail::forwarding_query_base {
  using detail::forwarding_query_base::query;
  template <class Env>
  requires detail::has_query<Env, get_scheduler_t>
  constexpr auto operator()(Env const& env) const noexcept {
    static_assert(noexcept(env.query(get_scheduler_t{})),
                  "senet::execution::get_scheduler: query must be noexcept");
    return env.query(*this);
  }
};

/// The scheduler query object.
inline constexpr get_scheduler_t get_scheduler{};

// [exec.get.delegation.scheduler]

/** `get_delegation_scheduler(env)`: a scheduler on which work may be delegated (the one `sync_wait` runs). */
struct get_delegation_scheduler_t : detail::forwarding_query_base {
  using detail::forwarding_query_base::query;
  template <class Env>
  requires detail::has_query<Env, get_delegation_scheduler_t>
  constexpr auto operator()(Env const& env) const noexcept { return env.query(*this); }
};

/// The delegation scheduler query object.
inline constexpr get_delegation_scheduler_t get_delegation_scheduler{};

// [exec.get.compl.sched]

/** `get_completion_scheduler<Tag>(attrs)`: the scheduler on which a sender with attributes `attrs`
    completes on channel `Tag` (`set_value_t`, `set_error_t` or `set_stopped_t`). */
template <class Tag>
struct get_completion_scheduler_t : detail::forwarding_query_base {
  using detail::forwarding_query_base::query;
  template <class Env>
  requires detail::has_query<Env, get_completion_scheduler_t>
  constexpr auto operator()(Env const& env) const noexcept { return env.query(*this); }
};

/// The completion scheduler query object for channel `Tag`.
template <class Tag>
inline constexpr get_completion_scheduler_t<Tag> get_completion_scheduler{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_QUERIES_HPP
