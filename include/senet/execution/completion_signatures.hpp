// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_COMPLETION_SIGNATURES_HPP
#define SENET_EXECUTION_COMPLETION_SIGNATURES_HPP

#include <senet/execution/completion_functions.hpp>
#include <senet/execution/detail/meta.hpp>

#include <exception>
#include <tuple>
#include <type_traits>
#include <variant>

namespace senet::execution {

// [exec.cmplsig]

namespace detail {
template <class Sig>
inline constexpr bool is_completion_signature = false;
template <class... Vs>
inline constexpr bool is_completion_signature<set_value_t(Vs...)> = true;
template <class E>
inline constexpr bool is_completion_signature<set_error_t(E)> = true;
template <>
inline constexpr bool is_completion_signature<set_stopped_t()> = true;
}  // namespace detail

/** The list of ways a sender can complete: each `Sig` is `set_value_t(Vs...)`, `set_error_t(E)` or
    `set_stopped_t()`. An argument type `T` means an rvalue of `T`, `T&` an lvalue. */
template <class... Sigs>
struct completion_signatures {
  static_assert((detail::is_completion_signature<Sigs> && ...),
                "senet::execution::completion_signatures: each signature must be set_value_t(Vs...), "
                "set_error_t(E) or set_stopped_t()");
};

namespace detail {

template <class T>
inline constexpr bool is_completion_signatures_v = false;
template <class... Sigs>
inline constexpr bool is_completion_signatures_v<completion_signatures<Sigs...>> = true;

/// The result of a completion-signature computation is usable (and not a diagnostic).
template <class T>
concept valid_completion_signatures = is_completion_signatures_v<T>;

// A completion-signature computation that fails returns a "diagnostic" type instead of a
// completion_signatures: an empty struct whose static raise() holds a static_assert naming the problem.
// Computations pass diagnostics through, so sender_in stays a soft (SFINAE-friendly) check; code that
// needs the signatures (connect, sync_wait, spawn) calls report_invalid to turn them into an error.
template <class Sigs>
constexpr void report_invalid() noexcept {
  if constexpr (requires { Sigs::raise(); }) {
    Sigs::raise();
  } else {
    static_assert(always_false<Sigs>,
                  "senet::execution: get_completion_signatures did not return a "
                  "senet::execution::completion_signatures<...> for this sender (see the type above)");
  }
}

template <class Sndr, class... Env>
struct no_completion_signatures {
  static constexpr void raise() noexcept {
    static_assert(
        always_false<Sndr>,
        "senet::execution::get_completion_signatures: this type has no completion signatures in this "
        "environment (a sender needs a nested completion_signatures alias, a static "
        "get_completion_signatures<Self, Env...>() or a get_completion_signatures(env) member)");
  }
};

template <class Sigs>
struct sigs_to_list;
template <class... Sigs>
struct sigs_to_list<completion_signatures<Sigs...>> {
  using type = type_list<Sigs...>;
};

/// completion_signatures<Sigs...> as type_list<Sigs...>.
template <class Sigs>
using sigs_to_list_t = typename sigs_to_list<Sigs>::type;

/// A type_list of signatures as completion_signatures, without duplicates.
template <class List>
using list_to_sigs_t = apply_t<completion_signatures, unique_t<List>>;

/// The union (without duplicates) of several completion_signatures<...>.
template <class... Sigs>
using concat_sigs_t = list_to_sigs_t<concat_t<sigs_to_list_t<Sigs>...>>;

// The argument lists of the signatures with tag Tag: type_list<type_list<Args...>...>.
template <class Tag, class Sig>
struct args_if {
  using type = type_list<>;
};
template <class Tag, class... Args>
struct args_if<Tag, Tag(Args...)> {
  using type = type_list<type_list<Args...>>;
};

template <class Tag, class Sigs>
struct gather_args {
  using type = type_list<>;  // Not a completion_signatures (a diagnostic): nothing to gather.
};
template <class Tag, class... Sigs>
struct gather_args<Tag, completion_signatures<Sigs...>> {
  using type = concat_t<typename args_if<Tag, Sigs>::type...>;
};

template <class Tag, class Sigs>
using gather_args_t = typename gather_args<Tag, Sigs>::type;

template <class ArgLists, template <class...> class Tuple, template <class...> class Variant>
struct gather_apply;
template <class... ArgLists, template <class...> class Tuple, template <class...> class Variant>
struct gather_apply<type_list<ArgLists...>, Tuple, Variant> {
  using type = Variant<apply_t<Tuple, ArgLists>...>;
};

/// Variant<Tuple<Args...>...> over the signatures `Tag(Args...)` of Sigs ([exec.util.cmplsig]).
template <class Tag, class Sigs, template <class...> class Tuple, template <class...> class Variant>
using gather_signatures = typename gather_apply<gather_args_t<Tag, Sigs>, Tuple, Variant>::type;

template <class Tag, class Sigs>
inline constexpr std::size_t count_of = list_size<gather_args_t<Tag, Sigs>>::value;

/// std::tuple of the decayed types.
template <class... Ts>
using decayed_tuple = std::tuple<std::decay_t<Ts>...>;

/// The empty type used when there is nothing to hold.
struct empty_variant {
  empty_variant() = delete;
};

template <class... Ts>
struct variant_or_empty_impl {
  using type = apply_t<std::variant, unique_t<type_list<std::decay_t<Ts>...>>>;
};
template <>
struct variant_or_empty_impl<> {
  using type = empty_variant;
};

/// std::variant of the distinct decayed types, or empty_variant when there are none.
template <class... Ts>
using variant_or_empty = typename variant_or_empty_impl<Ts...>::type;

template <class... Ts>
using first_type = typename list_front<type_list<Ts...>>::type;

template <class... Ts>
using as_type_list = type_list<Ts...>;

// Whether every value and error datum of Sigs can be decay-copied without throwing.
template <class Sig>
inline constexpr bool nothrow_decay_copyable_sig = true;
template <class Tag, class... Args>
inline constexpr bool nothrow_decay_copyable_sig<Tag(Args...)> = (nothrow_decay_copyable<Args> && ...);

template <class Sigs>
inline constexpr bool nothrow_decay_copyable_results = false;
template <class... Sigs>
inline constexpr bool nothrow_decay_copyable_results<completion_signatures<Sigs...>> =
    (nothrow_decay_copyable_sig<Sigs> && ...);

/// completion_signatures<set_error_t(std::exception_ptr)> unless NoThrow.
template <bool NoThrow>
using eptr_unless_t = std::conditional_t<NoThrow, completion_signatures<>,
                                         completion_signatures<set_error_t(std::exception_ptr)>>;

// The signatures with every datum decayed (to rvalues), as an operation that stores results sends them.
template <class Sig>
struct decay_sig;
template <class Tag, class... Args>
struct decay_sig<Tag(Args...)> {
  using type = Tag(std::decay_t<Args>...);
};
template <class Sigs>
struct decay_sigs;
template <class... Sigs>
struct decay_sigs<completion_signatures<Sigs...>> {
  using type = list_to_sigs_t<type_list<typename decay_sig<Sigs>::type...>>;
};
template <class Sigs>
using decay_sigs_t = typename decay_sigs<Sigs>::type;

// The diagnostic of the first of several signature mappings that failed (each has ::ok and ::error).
template <class... Maps>
struct first_failed {
  using type = void;
};
template <class M, class... Ms>
struct first_failed<M, Ms...> {
  using type = std::conditional_t<M::ok, typename first_failed<Ms...>::type, typename M::error>;
};

// For transform_completion_signatures: drops the value completions.
template <class... Vs>
using drop_values = completion_signatures<>;

template <class... Vs>
using default_set_value = completion_signatures<set_value_t(Vs...)>;
template <class E>
using default_set_error = completion_signatures<set_error_t(E)>;

template <class Sig, template <class...> class SetValue, template <class> class SetError, class SetStopped>
struct transform_one;
template <class... Vs, template <class...> class SetValue, template <class> class SetError, class SetStopped>
struct transform_one<set_value_t(Vs...), SetValue, SetError, SetStopped> {
  using type = sigs_to_list_t<SetValue<Vs...>>;
};
template <class E, template <class...> class SetValue, template <class> class SetError, class SetStopped>
struct transform_one<set_error_t(E), SetValue, SetError, SetStopped> {
  using type = sigs_to_list_t<SetError<E>>;
};
template <template <class...> class SetValue, template <class> class SetError, class SetStopped>
struct transform_one<set_stopped_t(), SetValue, SetError, SetStopped> {
  using type = sigs_to_list_t<SetStopped>;
};

template <class Sigs, class Additional, template <class...> class SetValue, template <class> class SetError,
          class SetStopped>
struct transform_sigs;
template <class... Sigs, class Additional, template <class...> class SetValue,
          template <class> class SetError, class SetStopped>
struct transform_sigs<completion_signatures<Sigs...>, Additional, SetValue, SetError, SetStopped> {
  using type =
      list_to_sigs_t<concat_t<sigs_to_list_t<Additional>,
                              typename transform_one<Sigs, SetValue, SetError, SetStopped>::type...>>;
};

}  // namespace detail

/** Maps each signature of `InputSigs` — `set_value_t(Vs...)` to `SetValue<Vs...>`, `set_error_t(E)` to
    `SetError<E>`, `set_stopped_t()` to `SetStopped` — and adds `AdditionalSigs`; duplicates removed.
    (The P2300R10 / stdexec form.) */
template <class InputSigs, class AdditionalSigs = completion_signatures<>,
          template <class...> class SetValue = detail::default_set_value,
          template <class> class SetError = detail::default_set_error,
          class SetStopped = completion_signatures<set_stopped_t()>>
requires detail::valid_completion_signatures<InputSigs> && detail::valid_completion_signatures<AdditionalSigs>
using transform_completion_signatures =
    typename detail::transform_sigs<InputSigs, AdditionalSigs, SetValue, SetError, SetStopped>::type;

}  // namespace senet::execution

#endif  // SENET_EXECUTION_COMPLETION_SIGNATURES_HPP
