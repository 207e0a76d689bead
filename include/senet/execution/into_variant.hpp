// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_INTO_VARIANT_HPP
#define SENET_EXECUTION_INTO_VARIANT_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/detail/adapt.hpp>
#include <senet/execution/sender_adaptor_closure.hpp>

#include <exception>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace senet::execution {

namespace detail {

template <class Sigs>
using into_variant_type = gather_signatures<set_value_t, Sigs, decayed_tuple, variant_or_empty>;

struct into_variant_adaptor {
  template <class ChildSigs, class Child>
  struct sigs {
    using type =
        concat_sigs_t<completion_signatures<set_value_t(into_variant_type<ChildSigs>)>,
                      transform_completion_signatures<
                          ChildSigs, completion_signatures<set_error_t(std::exception_ptr)>, drop_values>>;
  };

  template <class ChildSigs, class Rcvr, class Tag, class... Args>
  static void complete(Rcvr& rcvr, Tag, Args&&... args) noexcept {
    if constexpr (std::is_same_v<Tag, set_value_t>) {
      using variant_t = into_variant_type<ChildSigs>;
      using tuple_t = decayed_tuple<Args...>;
      try {
        execution::set_value(std::move(rcvr),
                             variant_t(std::in_place_type<tuple_t>, std::forward<Args>(args)...));
      } catch (...) {
        execution::set_error(std::move(rcvr), std::current_exception());
      }
    } else {
      Tag{}(std::move(rcvr), std::forward<Args>(args)...);
    }
  }
};

}  // namespace detail

// [exec.into.variant]

/** `into_variant(sndr)`: merges the value completions of `sndr` into one, whose value is a
    `std::variant<std::tuple<decay_t<Vs>...>...>` holding the values `sndr` sent.

    Completion signatures: `set_value_t(value_types_of_t<Sndr, Env>)`; the errors and stopped of `sndr`;
    `set_error_t(std::exception_ptr)` (like stdexec, always).
    Cancellation: none of its own. Pipeable: `sndr | into_variant()`.
*/
struct into_variant_t {
  template <sender Sndr>
  constexpr auto operator()(Sndr&& sndr) const {
    return detail::adapt_sender<detail::into_variant_adaptor, std::decay_t<Sndr>>{std::forward<Sndr>(sndr)};
  }
  constexpr auto operator()() const noexcept { return detail::make_closure<into_variant_t>(); }
};

/// The into_variant sender adaptor.
inline constexpr into_variant_t into_variant{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_INTO_VARIANT_HPP
