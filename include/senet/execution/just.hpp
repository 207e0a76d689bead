// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_JUST_HPP
#define SENET_EXECUTION_JUST_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/env.hpp>
#include <senet/execution/operation_state.hpp>
#include <senet/execution/sender.hpp>

#include <concepts>
#include <tuple>
#include <type_traits>
#include <utility>

namespace senet::execution {

namespace detail {

template <class Rcvr, class Tag, class... Ts>
struct just_operation {
  using operation_state_concept = operation_state_tag;

  template <class Tuple>
  just_operation(Tuple&& values, Rcvr rcvr) noexcept(
      std::is_nothrow_constructible_v<std::tuple<Ts...>, Tuple>&& std::is_nothrow_move_constructible_v<Rcvr>)
      : values_(std::forward<Tuple>(values)), rcvr_(std::move(rcvr)) {}
  just_operation(just_operation&&) = delete;

  void start() & noexcept {
    std::apply([this](Ts&... vs) noexcept { Tag{}(std::move(rcvr_), std::move(vs)...); }, values_);
  }

  std::tuple<Ts...> values_;
  Rcvr rcvr_;
};

template <class Tag, class... Ts>
struct just_sender {
  using sender_concept = sender_tag;
  using completion_signatures = execution::completion_signatures<Tag(Ts...)>;

  template <class Rcvr>
  just_operation<Rcvr, Tag, Ts...> connect(Rcvr rcvr) && noexcept(
      (std::is_nothrow_move_constructible_v<Ts> && ...) && std::is_nothrow_move_constructible_v<Rcvr>) {
    return {std::move(values_), std::move(rcvr)};
  }

  template <class Rcvr>
  requires(std::copy_constructible<Ts>&&...) just_operation<Rcvr, Tag, Ts...> connect(Rcvr rcvr)
  const& noexcept((std::is_nothrow_copy_constructible_v<Ts> && ...) &&
                  std::is_nothrow_move_constructible_v<Rcvr>) {
    return {values_, std::move(rcvr)};
  }

  std::tuple<Ts...> values_;
};

}  // namespace detail

// [exec.just]

/** `just(vs...)`: a sender that completes at once, inside `start`, with `set_value(vs...)`.

    Completion signatures: `set_value_t(decay_t<Vs>...)`.
    Cancellation: none (it completes immediately).
    The values are copied into the sender; connecting an lvalue sender copies them again.
*/
struct just_t {
  template <class... Vs>
  requires(std::move_constructible<std::decay_t<Vs>>&&...) constexpr auto operator()(Vs&&... vs) const {
    return detail::just_sender<set_value_t, std::decay_t<Vs>...>{{std::forward<Vs>(vs)...}};
  }
};

/** `just_error(e)`: a sender that completes at once with `set_error(e)`.

    Completion signatures: `set_error_t(decay_t<E>)`. Cancellation: none.
*/
struct just_error_t {
  template <class E>
  requires std::move_constructible<std::decay_t<E>>
  constexpr auto operator()(E&& e) const {
    return detail::just_sender<set_error_t, std::decay_t<E>>{{std::forward<E>(e)}};
  }
};

/** `just_stopped()`: a sender that completes at once with `set_stopped()`.

    Completion signatures: `set_stopped_t()`. Cancellation: none.
*/
struct just_stopped_t {
  constexpr auto operator()() const noexcept { return detail::just_sender<set_stopped_t>{}; }
};

/// The just sender factory.
inline constexpr just_t just{};
/// The just_error sender factory.
inline constexpr just_error_t just_error{};
/// The just_stopped sender factory.
inline constexpr just_stopped_t just_stopped{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_JUST_HPP
