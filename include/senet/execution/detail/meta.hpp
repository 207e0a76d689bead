// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_DETAIL_META_HPP
#define SENET_EXECUTION_DETAIL_META_HPP

#include <concepts>
#include <cstddef>
#include <type_traits>

namespace senet::execution::detail {

// Small type-list utilities. They are deliberately simple (linear recursion over short lists):
// completion-signature lists have a handful of entries, and simple templates keep compile times low.

template <class... Ts>
struct type_list {};

template <class... Ts>
inline constexpr bool always_false = false;

template <class T, class... Ts>
inline constexpr bool one_of = (std::is_same_v<T, Ts> || ...);

template <class From, class To>
struct copy_cvref_impl {
  using type = To;
};
template <class From, class To>
struct copy_cvref_impl<From const, To> {
  using type = To const;
};
template <class From, class To>
struct copy_cvref_impl<From&, To> {
  using type = typename copy_cvref_impl<From, To>::type&;
};
template <class From, class To>
struct copy_cvref_impl<From&&, To> {
  using type = typename copy_cvref_impl<From, To>::type&&;
};

/// `To` with the const and reference qualifiers of `From` (`From` = `S const&` gives `To const&`).
template <class From, class To>
using copy_cvref_t = typename copy_cvref_impl<From, To>::type;

// concat<type_list<A...>, type_list<B...>, ...>::type is type_list<A..., B..., ...>.
template <class... Lists>
struct concat {
  using type = type_list<>;
};
template <class... As>
struct concat<type_list<As...>> {
  using type = type_list<As...>;
};
template <class... As, class... Bs, class... Rest>
struct concat<type_list<As...>, type_list<Bs...>, Rest...> : concat<type_list<As..., Bs...>, Rest...> {};
template <class... As, class... Bs, class... Cs, class... Ds, class... Rest>
struct concat<type_list<As...>, type_list<Bs...>, type_list<Cs...>, type_list<Ds...>, Rest...>
    : concat<type_list<As..., Bs..., Cs..., Ds...>, Rest...> {};

template <class... Lists>
using concat_t = typename concat<Lists...>::type;

// unique<type_list<Done...>, Ts...>::type appends each T not yet in Done.
template <class Done, class... Ts>
struct unique_impl {
  using type = Done;
};
template <class... Done, class T, class... Ts>
struct unique_impl<type_list<Done...>, T, Ts...>
    : unique_impl<std::conditional_t<one_of<T, Done...>, type_list<Done...>, type_list<Done..., T>>, Ts...> {
};

template <class List>
struct unique;
template <class... Ts>
struct unique<type_list<Ts...>> : unique_impl<type_list<>, Ts...> {};

/// The list without duplicates, first occurrences kept in order.
template <class List>
using unique_t = typename unique<List>::type;

// apply<F, type_list<Ts...>> is F<Ts...>.
template <template <class...> class F, class List>
struct apply_impl;
template <template <class...> class F, class... Ts>
struct apply_impl<F, type_list<Ts...>> {
  using type = F<Ts...>;
};
template <template <class...> class F, class List>
using apply_t = typename apply_impl<F, List>::type;

template <class List>
struct list_size;
template <class... Ts>
struct list_size<type_list<Ts...>> : std::integral_constant<std::size_t, sizeof...(Ts)> {};

template <class List>
struct list_front;
template <class T, class... Ts>
struct list_front<type_list<T, Ts...>> {
  using type = T;
};

template <std::size_t I, class... Ts>
struct nth;
template <class T, class... Ts>
struct nth<0, T, Ts...> {
  using type = T;
};
template <std::size_t I, class T, class... Ts>
struct nth<I, T, Ts...> : nth<I - 1, Ts...> {};

/// The `I`-th type of `Ts...`.
template <std::size_t I, class... Ts>
using nth_t = typename nth<I, Ts...>::type;

/// Decays a type in the way a copy stored in an operation state does.
template <class T>
using decay_t = std::decay_t<T>;

template <class T>
concept decay_copyable = std::constructible_from<std::decay_t<T>, T>;

template <class T>
concept nothrow_decay_copyable = std::is_nothrow_constructible_v<std::decay_t<T>, T>;

template <class T, class U>
concept decays_to = std::same_as<std::decay_t<T>, U>;

template <class T>
concept class_type = std::is_class_v<T> && std::same_as<T, std::decay_t<T>>;

}  // namespace senet::execution::detail

#endif  // SENET_EXECUTION_DETAIL_META_HPP
