// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_STOPPED_AS_OPTIONAL_HPP
#define SENET_EXECUTION_STOPPED_AS_OPTIONAL_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/detail/adapt.hpp>
#include <senet/execution/sender_adaptor_closure.hpp>

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace senet::execution {

namespace detail {

template <class Child>
struct stopped_as_optional_not_single {
  static constexpr void raise() noexcept {
    static_assert(
        always_false<Child>,
        "senet::execution::stopped_as_optional: the sender must have exactly one set_value completion "
        "with exactly one value");
  }
};

template <class Sigs, bool Ok = count_of<set_value_t, Sigs> == 1>
struct single_value_type {
  static constexpr bool ok = false;
  using type = void;
};
template <class Sigs>
struct single_value_type<Sigs, true> {
  using args = gather_args_t<set_value_t, Sigs>;  // type_list<type_list<Args...>>
  using list = typename list_front<args>::type;
  static constexpr bool ok = list_size<list>::value == 1;
  using type = typename std::conditional_t<ok, list_front<list>, std::type_identity<void>>::type;
};

struct stopped_as_optional_adaptor {
  template <class ChildSigs, class Child>
  struct sigs {
    using value = single_value_type<ChildSigs>;
    template <class>
    struct ok_sigs {
      using type =
          concat_sigs_t<completion_signatures<set_value_t(std::optional<std::decay_t<typename value::type>>)>,
                        transform_completion_signatures<ChildSigs, completion_signatures<>, drop_values,
                                                        default_set_error, completion_signatures<>>,
                        eptr_unless_t<nothrow_decay_copyable<typename value::type>>>;
    };
    using type = typename std::conditional_t<value::ok, ok_sigs<void>,
                                             std::type_identity<stopped_as_optional_not_single<Child>>>::type;
  };

  template <class ChildSigs, class Rcvr, class Tag, class... Args>
  static void complete(Rcvr& rcvr, Tag, Args&&... args) noexcept {
    using value_t = std::decay_t<typename single_value_type<ChildSigs>::type>;
    if constexpr (std::is_same_v<Tag, set_value_t>) {
      if constexpr ((nothrow_decay_copyable<Args> && ...)) {
        execution::set_value(std::move(rcvr),
                             std::optional<value_t>(std::in_place, std::forward<Args>(args)...));
      } else {
        try {
          execution::set_value(std::move(rcvr),
                               std::optional<value_t>(std::in_place, std::forward<Args>(args)...));
        } catch (...) {
          execution::set_error(std::move(rcvr), std::current_exception());
        }
      }
    } else if constexpr (std::is_same_v<Tag, set_stopped_t>) {
      execution::set_value(std::move(rcvr), std::optional<value_t>());
    } else {
      Tag{}(std::move(rcvr), std::forward<Args>(args)...);
    }
  }
};

}  // namespace detail

// [exec.stopped.opt]

/** `stopped_as_optional(sndr)`: maps the single value `v` of `sndr` to `std::optional(v)` and a stopped
    completion to an empty optional.

    Completion signatures: `set_value_t(std::optional<decay_t<V>>)` (`sndr` must have exactly one value
    completion, with one value); the errors of `sndr`; `set_error_t(std::exception_ptr)` when copying the
    value may throw. Never `set_stopped_t()`.
    Cancellation: a stop request that stops `sndr` becomes an empty optional.
    Pipeable: `sndr | stopped_as_optional()`.
*/
struct stopped_as_optional_t {
  template <sender Sndr>
  constexpr auto operator()(Sndr&& sndr) const {
    return detail::adapt_sender<detail::stopped_as_optional_adaptor, std::decay_t<Sndr>>{
        std::forward<Sndr>(sndr)};
  }
  constexpr auto operator()() const noexcept { return detail::make_closure<stopped_as_optional_t>(); }
};

/// The stopped_as_optional sender adaptor.
inline constexpr stopped_as_optional_t stopped_as_optional{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_STOPPED_AS_OPTIONAL_HPP
