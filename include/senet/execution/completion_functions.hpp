// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_COMPLETION_FUNCTIONS_HPP
#define SENET_EXECUTION_COMPLETION_FUNCTIONS_HPP

#include <type_traits>
#include <utility>

namespace senet::execution {

// [exec.set.value]

/** `set_value(std::move(rcvr), vs...)`: completes an operation successfully with values `vs...`,
    by calling `std::move(rcvr).set_value(vs...)`, which must be noexcept. */
struct set_value_t {
  template <class Rcvr, class... Vs>
  requires requires(Rcvr&& rcvr, Vs&&... vs) { std::forward<Rcvr>(rcvr).set_value(std::forward<Vs>(vs)...); }
  constexpr void operator()(Rcvr&& rcvr, Vs&&... vs) const noexcept {
    static_assert(noexcept(std::forward<Rcvr>(rcvr).set_value(std::forward<Vs>(vs)...)),
                  "senet::execution::set_value: set_value members must be noexcept");
    std::forward<Rcvr>(rcvr).set_value(std::forward<Vs>(vs)...);
  }
};

// [exec.set.error]

/** `set_error(std::move(rcvr), e)`: completes an operation with error `e`, by calling
    `std::move(rcvr).set_error(e)`, which must be noexcept. */
struct set_error_t {
  template <class Rcvr, class E>
  requires requires(Rcvr&& rcvr, E&& e) { std::forward<Rcvr>(rcvr).set_error(std::forward<E>(e)); }
  constexpr void operator()(Rcvr&& rcvr, E&& e) const noexcept {
    static_assert(noexcept(std::forward<Rcvr>(rcvr).set_error(std::forward<E>(e))),
                  "senet::execution::set_error: set_error members must be noexcept");
    std::forward<Rcvr>(rcvr).set_error(std::forward<E>(e));
  }
};

// [exec.set.stopped]

/** `set_stopped(std::move(rcvr))`: completes an operation as cancelled, by calling
    `std::move(rcvr).set_stopped()`, which must be noexcept. */
struct set_stopped_t {
  template <class Rcvr>
  requires requires(Rcvr&& rcvr) { std::forward<Rcvr>(rcvr).set_stopped(); }
  constexpr void operator()(Rcvr&& rcvr) const noexcept {
    static_assert(noexcept(std::forward<Rcvr>(rcvr).set_stopped()),
                  "senet::execution::set_stopped: set_stopped members must be noexcept");
    std::forward<Rcvr>(rcvr).set_stopped();
  }
};

/// The value completion function.
inline constexpr set_value_t set_value{};
/// The error completion function.
inline constexpr set_error_t set_error{};
/// The stopped completion function.
inline constexpr set_stopped_t set_stopped{};

namespace detail {
template <class Tag>
concept completion_tag = std::is_same_v<Tag, set_value_t> || std::is_same_v<Tag, set_error_t> ||
    std::is_same_v<Tag, set_stopped_t>;
}  // namespace detail

}  // namespace senet::execution

#endif  // SENET_EXECUTION_COMPLETION_FUNCTIONS_HPP
