// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_GET_COMPLETION_SIGNATURES_HPP
#define SENET_EXECUTION_GET_COMPLETION_SIGNATURES_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/env.hpp>
#include <senet/execution/sender.hpp>

#include <type_traits>
#include <utility>

namespace senet::execution {

// [exec.getcomplsigs]

/** The completion signatures of `Sndr` when connected to a receiver whose environment is `Env`:
    `get_completion_signatures<Sndr, Env>()` returns a `completion_signatures<...>` object (use
    `completion_signatures_of_t` for the type). Without `Env`, only senders whose signatures do not depend
    on the environment answer.

    A sender provides its signatures in one of three ways, tried in this order (the same protocol as
    stdexec, so a sender works with both):
    1. a nested alias `using completion_signatures = ex::completion_signatures<...>;` (fixed signatures);
    2. `template <class Self, class... Env> static constexpr auto get_completion_signatures()` returning a
       `completion_signatures<...>` object (stdexec declares it `consteval`; either works here);
    3. a member `get_completion_signatures(Env&&)` whose return type is the signatures.

    A computation that fails returns a diagnostic type instead (and `sender_in` is false); `connect` and
    `sync_wait` turn it into a compile error whose text names the problem.
*/
template <class Sndr, class... Env>
requires(sizeof...(Env) <= 1) constexpr auto get_completion_signatures() noexcept {
  using sndr_t = std::remove_cvref_t<Sndr>;
  if constexpr (requires { typename sndr_t::completion_signatures; }) {
    return typename sndr_t::completion_signatures{};
  } else if constexpr (requires { sndr_t::template get_completion_signatures<Sndr, Env...>(); }) {
    return sndr_t::template get_completion_signatures<Sndr, Env...>();
  } else if constexpr (requires { std::declval<Sndr>().get_completion_signatures(std::declval<Env>()...); }) {
    return decltype(std::declval<Sndr>().get_completion_signatures(std::declval<Env>()...)){};
  } else {
    return detail::no_completion_signatures<Sndr, Env...>{};
  }
}

/** The legacy call form `get_completion_signatures(sndr, env)`. */
template <class Sndr, class... Env>
requires(sizeof...(Env) <= 1) constexpr auto get_completion_signatures(Sndr&&, Env&&...) noexcept {
  return execution::get_completion_signatures<Sndr, Env...>();
}

namespace detail {
/// The raw result of the signature computation: completion_signatures<...> or a diagnostic type.
template <class Sndr, class... Env>
using completion_sigs_t = decltype(execution::get_completion_signatures<Sndr, Env...>());
}  // namespace detail

/** A sender whose completion signatures are known in environment `Env` (or in any environment, when
    `Env` is omitted). */
template <class Sndr, class... Env>
concept sender_in = sender<Sndr> &&(sizeof...(Env) <= 1) &&
                    detail::valid_completion_signatures<detail::completion_sigs_t<Sndr, Env...>>;

/// The `completion_signatures<...>` type of `Sndr` in environment `Env`.
template <class Sndr, class... Env>
requires sender_in<Sndr, Env...>
using completion_signatures_of_t = detail::completion_sigs_t<Sndr, Env...>;

/** `Variant<Tuple<Vs...>...>` over the value completions `set_value_t(Vs...)` of `Sndr` in `Env`; by default
    `std::variant<std::tuple<decay_t<Vs>...>...>`. */
template <class Sndr, class Env = env<>, template <class...> class Tuple = detail::decayed_tuple,
          template <class...> class Variant = detail::variant_or_empty>
requires sender_in<Sndr, Env>
using value_types_of_t =
    detail::gather_signatures<set_value_t, completion_signatures_of_t<Sndr, Env>, Tuple, Variant>;

/** `Variant<Es...>` over the error completions `set_error_t(E)` of `Sndr` in `Env`. */
template <class Sndr, class Env = env<>, template <class...> class Variant = detail::variant_or_empty>
requires sender_in<Sndr, Env>
using error_types_of_t = detail::gather_signatures<set_error_t, completion_signatures_of_t<Sndr, Env>,
                                                   detail::first_type, Variant>;

/** Whether `Sndr` may complete with `set_stopped()` in `Env`. */
template <class Sndr, class Env = env<>>
requires sender_in<Sndr, Env>
inline constexpr bool sends_stopped =
    detail::count_of<set_stopped_t, completion_signatures_of_t<Sndr, Env>> != 0;

/** `transform_completion_signatures` applied to the signatures of `Sndr` in `Env`. */
template <class Sndr, class Env = env<>, class AdditionalSigs = completion_signatures<>,
          template <class...> class SetValue = detail::default_set_value,
          template <class> class SetError = detail::default_set_error,
          class SetStopped = completion_signatures<set_stopped_t()>>
requires sender_in<Sndr, Env>
using transform_completion_signatures_of =
    transform_completion_signatures<completion_signatures_of_t<Sndr, Env>, AdditionalSigs, SetValue, SetError,
                                    SetStopped>;

}  // namespace senet::execution

#endif  // SENET_EXECUTION_GET_COMPLETION_SIGNATURES_HPP
