// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_SENDER_ADAPTOR_CLOSURE_HPP
#define SENET_EXECUTION_SENDER_ADAPTOR_CLOSURE_HPP

#include <senet/execution/sender.hpp>

#include <concepts>
#include <tuple>
#include <type_traits>
#include <utility>

namespace senet::execution {

// [exec.adapt.obj]

/** Base (CRTP) of pipeable sender adaptors: for a closure `c`, `sndr | c` is `c(sndr)` and `c1 | c2` is a
    closure applying `c1` then `c2`. `then(f)`, `let_value(f)`, `continues_on(sch)`... return closures. */
template <class Derived>
struct sender_adaptor_closure {};

namespace detail {

template <class T>
concept adaptor_closure =
    std::derived_from<std::remove_cvref_t<T>, sender_adaptor_closure<std::remove_cvref_t<T>>> &&
    std::move_constructible<std::remove_cvref_t<T>> && std::constructible_from<std::remove_cvref_t<T>, T>;

// c1 | c2.
template <class C1, class C2>
struct composed_closure : sender_adaptor_closure<composed_closure<C1, C2>> {
  C1 first_;
  C2 second_;

  template <sender Sndr>
  requires std::invocable<C1, Sndr> && std::invocable<C2, std::invoke_result_t<C1, Sndr>>
  constexpr auto operator()(Sndr&& sndr) && {
    return std::move(second_)(std::move(first_)(std::forward<Sndr>(sndr)));
  }
  template <sender Sndr>
  requires std::invocable<C1 const&, Sndr> && std::invocable<C2 const&, std::invoke_result_t<C1 const&, Sndr>>
  constexpr auto operator()(Sndr&& sndr) const& { return second_(first_(std::forward<Sndr>(sndr))); }
};

// The closure of algorithm Algo with bound trailing arguments: closure(sndr) is Algo{}(sndr, args...).
template <class Algo, class... Args>
struct bound_closure : sender_adaptor_closure<bound_closure<Algo, Args...>> {
  std::tuple<Args...> args_;

  template <class... As>
  constexpr explicit bound_closure(std::in_place_t, As&&... as) : args_(std::forward<As>(as)...) {}

  template <sender Sndr>
  requires std::invocable<Algo, Sndr, Args...>
  constexpr auto operator()(Sndr&& sndr) && {
    return std::apply([&](Args&... args) { return Algo{}(std::forward<Sndr>(sndr), std::move(args)...); },
                      args_);
  }
  template <sender Sndr>
  requires std::invocable<Algo, Sndr, Args const&...>
  constexpr auto operator()(Sndr&& sndr) const& {
    return std::apply([&](Args const&... args) { return Algo{}(std::forward<Sndr>(sndr), args...); }, args_);
  }
};

template <class Algo, class... As>
constexpr auto make_closure(As&&... as) {
  return bound_closure<Algo, std::decay_t<As>...>{std::in_place, std::forward<As>(as)...};
}

}  // namespace detail

/// `sndr | closure` is `closure(sndr)`.
template <sender Sndr, detail::adaptor_closure Closure>
requires std::invocable<Closure, Sndr>
constexpr auto operator|(Sndr&& sndr, Closure&& closure) {
  return std::forward<Closure>(closure)(std::forward<Sndr>(sndr));
}

/// `c1 | c2` is a closure that applies `c1`, then `c2`.
template <detail::adaptor_closure C1, detail::adaptor_closure C2>
constexpr auto operator|(C1&& c1, C2&& c2) {
  return detail::composed_closure<std::remove_cvref_t<C1>, std::remove_cvref_t<C2>>{
      {}, std::forward<C1>(c1), std::forward<C2>(c2)};
}

}  // namespace senet::execution

#endif  // SENET_EXECUTION_SENDER_ADAPTOR_CLOSURE_HPP
