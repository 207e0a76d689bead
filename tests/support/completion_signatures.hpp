// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_COMPLETION_SIGNATURES_HPP
#define SENET_TEST_SUPPORT_COMPLETION_SIGNATURES_HPP

#include <senet/execution.hpp>
#include <support/test_env.hpp>

#include <type_traits>

namespace senet::test {

namespace detail {

template <class Sig, class Sigs>
struct contains_signature : std::false_type {};

template <class Sig, class... Sigs>
struct contains_signature<Sig, ex::completion_signatures<Sigs...>>
    : std::bool_constant<(std::is_same_v<Sig, Sigs> || ...)> {};

template <class A, class B>
struct includes_signatures : std::false_type {};

template <class... As, class B>
struct includes_signatures<ex::completion_signatures<As...>, B>
    : std::bool_constant<(contains_signature<As, B>::value && ...)> {};

}  // namespace detail

/** The completion signatures of `Sndr` connected to a receiver with environment `Env`. */
template <class Sndr, class Env = empty_env>
using completions_of_t = ex::completion_signatures_of_t<Sndr, Env>;

/** True when the `ex::completion_signatures` set `Sigs` has the signature `Sig`. */
template <class Sig, class Sigs>
inline constexpr bool contains_signature_v = detail::contains_signature<Sig, Sigs>::value;

/** True when two `ex::completion_signatures` sets have the same signatures, in any order (the
    standard leaves the order unspecified, and implementations differ). */
template <class A, class B>
inline constexpr bool same_signatures_v =
    detail::includes_signatures<A, B>::value&& detail::includes_signatures<B, A>::value;

/** True when `Sndr` may complete with `Sig` in environment `Env`. */
template <class Sndr, class Sig, class Env = empty_env>
inline constexpr bool sends_v = contains_signature_v<Sig, completions_of_t<Sndr, Env>>;

/** True when `Sndr` completes in environment `Env` with exactly the signatures `Sigs...`. */
template <class Sndr, class Env, class... Sigs>
inline constexpr bool sends_exactly_v =
    same_signatures_v<completions_of_t<Sndr, Env>, ex::completion_signatures<Sigs...>>;

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_COMPLETION_SIGNATURES_HPP
