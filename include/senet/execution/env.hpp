// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_ENV_HPP
#define SENET_EXECUTION_ENV_HPP

#include <senet/execution/detail/meta.hpp>

#include <concepts>
#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

namespace senet::execution {

// [exec.queryable.concept]

/** A type whose objects can be asked queries (`env.query(q)`). */
template <class T>
concept queryable = std::destructible<T>;

// [exec.prop]

/** An environment with one query: `prop{q, v}.query(q)` returns `v`.

    Example: `ex::prop{ex::get_stop_token, source.get_token()}`.
*/
template <class Query, class Value>
struct prop {
  constexpr prop(Query, Value value) noexcept(std::is_nothrow_move_constructible_v<Value>)
      : value_(std::move(value)) {}

  /// Returns the value.
  constexpr Value const& query(Query) const noexcept { return value_; }

  Value value_;
};

template <class Query, class Value>
prop(Query, Value) -> prop<Query, std::unwrap_reference_t<Value>>;

// [exec.env]

namespace detail {

template <std::size_t I, class Env>
struct env_element {
  Env env_;
};

template <class Env, class Query, class... Args>
concept has_query = requires(Env const& env, Query q, Args&&... args) {
  env.query(q, std::forward<Args>(args)...);
};

template <class Seq, class... Envs>
struct env_base;

template <std::size_t... Is, class... Envs>
struct env_base<std::index_sequence<Is...>, Envs...> : env_element<Is, Envs>... {
  constexpr explicit env_base(Envs... envs) : env_element<Is, Envs>{std::forward<Envs>(envs)}... {}
};

// The index of the first true value.
template <bool... Bs>
constexpr std::size_t first_true() noexcept {
  constexpr bool values[] = {Bs...};
  std::size_t i = 0;
  while (i < sizeof...(Bs) && !values[i]) {
    ++i;
  }
  return i;
}

}  // namespace detail

/** An environment made of several environments: a query is answered by the first one that supports it.

    `env<>` is the empty environment. Example:
    `ex::env{ex::prop{ex::get_stop_token, token}, ex::get_env(rcvr)}`.
*/
template <class... Envs>
struct env : detail::env_base<std::index_sequence_for<Envs...>, Envs...> {
  using detail::env_base<std::index_sequence_for<Envs...>, Envs...>::env_base;

  /// Answers `q` with the first environment that supports it.
  template <class Query, class... Args>
  requires(detail::has_query<std::remove_cvref_t<Envs>, Query, Args...> || ...) constexpr decltype(auto)
      query(Query q, Args&&... args) const noexcept {
    constexpr std::size_t i =
        detail::first_true<detail::has_query<std::remove_cvref_t<Envs>, Query, Args...>...>();
    return get<i>().query(q, std::forward<Args>(args)...);
  }

 private:
  template <std::size_t I>
  constexpr auto const& get() const noexcept {
    return static_cast<detail::env_element<I, detail::nth_t<I, Envs...>> const&>(*this).env_;
  }
};

/// The empty environment: it answers no query.
template <>
struct env<> {};

template <class... Envs>
env(Envs...) -> env<std::unwrap_reference_t<Envs>...>;

// [exec.get.env]

/** `get_env(o)`: the environment of a receiver, or the attributes of a sender — `o.get_env()`, or `env<>{}`
    when `o` has no `get_env` member. */
struct get_env_t {
  template <class T>
  constexpr decltype(auto) operator()(T const& o) const noexcept {
    if constexpr (requires { o.get_env(); }) {
      static_assert(noexcept(o.get_env()), "senet::execution::get_env: get_env() members must be noexcept");
      return o.get_env();
    } else {
      return env<>{};
    }
  }
};

/// The environment (or attributes) query object.
inline constexpr get_env_t get_env{};

/// The type of `get_env(declval<T>())`.
template <class T>
using env_of_t = decltype(get_env(std::declval<T>()));

}  // namespace senet::execution

#endif  // SENET_EXECUTION_ENV_HPP
