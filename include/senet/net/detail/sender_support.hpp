// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_DETAIL_SENDER_SUPPORT_HPP
#define SENET_NET_DETAIL_SENDER_SUPPORT_HPP

#include <concepts>
#include <exception>
#include <optional>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include <senet/execution.hpp>

// Small tools shared by senet's sender adaptors (net::timeout, net::without_stop_token,
// net::async_read / async_write, ip::async_resolve). Only the standard `ex::` names are used, so
// they work with the bundled core and with stdexec.
namespace senet::net::detail {

/** A receiver environment that answers `get_stop_token` with `Token` and forwards every other
    query to `Env`. */
template <class Env, class Token>
struct stop_token_env {
  Env env_;
  Token token_;

  [[nodiscard]] Token query(ex::get_stop_token_t) const noexcept { return token_; }

  template <class Query, class... Args>
  requires(!std::same_as<Query, ex::get_stop_token_t>) && requires(const Env& env, Query q, Args&&... args) {
    env.query(q, std::forward<Args>(args)...);
  }
  [[nodiscard]] decltype(auto) query(Query q, Args&&... args) const
      noexcept(noexcept(std::declval<const Env&>().query(q, std::forward<Args>(args)...))) {
    return env_.query(q, std::forward<Args>(args)...);
  }
};

template <class Env, class Token>
stop_token_env<Env, Token> make_stop_token_env(Env env, Token token) noexcept {
  return {std::move(env), std::move(token)};
}

// ---- completion signature lists -------------------------------------------------------------

template <class Sig, class... Sigs>
inline constexpr bool contains_v = (std::same_as<Sig, Sigs> || ...);

/// `ex::completion_signatures<...>` with the signatures `Extra...` added (each at most once).
template <class Sigs, class... Extra>
struct add_signatures;

template <class... Sigs>
struct add_signatures<ex::completion_signatures<Sigs...>> {
  using type = ex::completion_signatures<Sigs...>;
};

template <class... Sigs, class First, class... Rest>
struct add_signatures<ex::completion_signatures<Sigs...>, First, Rest...> {
  using type = typename add_signatures<
      std::conditional_t<contains_v<First, Sigs...>, ex::completion_signatures<Sigs...>,
                         ex::completion_signatures<Sigs..., First>>,
      Rest...>::type;
};

template <class Sigs, class... Extra>
using add_signatures_t = typename add_signatures<Sigs, Extra...>::type;

// ---- storing a completion to deliver it later ------------------------------------------------

/// The decayed arguments of one completion, tagged with its channel.
template <class Sig>
struct decayed_tuple;
template <class Tag, class... Args>
struct decayed_tuple<Tag(Args...)> {
  using type = std::tuple<Tag, std::decay_t<Args>...>;
};

/// Whether storing the arguments of `Sig` may throw.
template <class Sig>
struct nothrow_storable;
template <class Tag, class... Args>
struct nothrow_storable<Tag(Args...)>
    : std::bool_constant<(std::is_nothrow_constructible_v<std::decay_t<Args>, Args> && ...)> {};

template <class List, class T>
struct push_unique;
template <class... Ts, class T>
struct push_unique<std::variant<Ts...>, T> {
  using type = std::conditional_t<contains_v<T, Ts...>, std::variant<Ts...>, std::variant<Ts..., T>>;
};

template <class Variant, class... Sigs>
struct result_variant_impl {
  using type = Variant;
};
template <class Variant, class First, class... Rest>
struct result_variant_impl<Variant, First, Rest...> {
  using type =
      typename result_variant_impl<typename push_unique<Variant, typename decayed_tuple<First>::type>::type,
                                   Rest...>::type;
};

template <class Sigs>
struct completion_storage;
template <class... Sigs>
struct completion_storage<ex::completion_signatures<Sigs...>> {
  /// `std::monostate` (nothing stored yet), then one tuple per distinct decayed completion.
  using type = typename result_variant_impl<std::variant<std::monostate>, Sigs...>::type;
  static constexpr bool nothrow = (nothrow_storable<Sigs>::value && ...);
};

/// Delivers the completion stored in `result` (not `monostate`) to `rcvr`.
template <class Rcvr, class Variant>
void deliver(Rcvr& rcvr, Variant& result) noexcept {
  std::visit(
      [&rcvr]<class Tuple>(Tuple& t) noexcept {
        if constexpr (!std::same_as<Tuple, std::monostate>) {
          std::apply([&rcvr](auto tag, auto&... args) noexcept { tag(std::move(rcvr), std::move(args)...); },
                     t);
        }
      },
      result);
}

/// The completions of `net::timeout` of a sender with completions `Sigs`: those, plus
/// `set_error_t(std::error_code)` and `set_stopped_t()`, plus `set_error_t(std::exception_ptr)` if
/// storing one of them may throw (the generic adaptor keeps the first result until both of its
/// children are done; a customisation declares the same list).
template <class Sigs>
using timeout_signatures_from =
    std::conditional_t<completion_storage<add_signatures_t<Sigs, ex::set_error_t(std::error_code),
                                                           ex::set_stopped_t()>>::nothrow,
                       add_signatures_t<Sigs, ex::set_error_t(std::error_code), ex::set_stopped_t()>,
                       add_signatures_t<Sigs, ex::set_error_t(std::error_code), ex::set_stopped_t(),
                                        ex::set_error_t(std::exception_ptr)>>;

// ---- constructing immovable operation states in place ---------------------------------------

/// Converts to the result of `fn()`, so that `optional<T>::emplace(emplace_from{fn})` builds an
/// immovable `T` (an operation state) in place through guaranteed copy elision.
template <class Fn>
struct emplace_from {
  Fn fn_;
  using result_type = std::invoke_result_t<Fn&>;
  // NOLINTNEXTLINE(google-explicit-constructor)
  operator result_type() && noexcept(std::is_nothrow_invocable_v<Fn&>) { return fn_(); }
};
template <class Fn>
emplace_from(Fn) -> emplace_from<Fn>;

}  // namespace senet::net::detail

#endif  // SENET_NET_DETAIL_SENDER_SUPPORT_HPP
