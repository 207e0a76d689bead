// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_AWAITABLE_DECOMPOSES_TO_HPP
#define SENET_STREAM_AWAITABLE_DECOMPOSES_TO_HPP

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace senet::stream {

namespace detail {

template <class R, class... Ts>
constexpr bool tuple_like_of() {
  if constexpr (requires { std::tuple_size<R>::value; }) {
    if constexpr (std::tuple_size<R>::value != sizeof...(Ts)) {
      return false;
    } else {
      return []<std::size_t... I>(std::index_sequence<I...>) {
        return (std::is_same_v<std::tuple_element_t<I, R>, Ts> && ...);
      }
      (std::index_sequence_for<Ts...>{});
    }
  } else {
    return false;
  }
}

}  // namespace detail

/** The result of `co_await a` (`a.await_resume()`) is a tuple-like type whose elements are exactly
    `Ts...`, in order, so that `auto [ec, n] = co_await a;` gives them.

    Syntactic requirements: `std::tuple_size<R>` and `std::tuple_element<I, R>` are defined for the
    decayed result type `R` of `a.await_resume()`, with `sizeof...(Ts)` elements of types `Ts...`
    (`std::tuple<std::error_code, std::size_t>` for `read_some` / `write_some` / `write` /
    `write_eof(buffers)`, `std::tuple<std::error_code>` for `write_eof()`).

    Semantic requirements (of the stream concepts that use it): the first element is the
    `std::error_code` of the operation; the operation never reports its failure by throwing.

    Example:
    ```cpp
    static_assert(senet::stream::awaitable_decomposes_to<decltype(sock.read_some(buf)),
                                                         std::error_code, std::size_t>);
    ```
*/
template <class A, class... Ts>
concept awaitable_decomposes_to = requires(A& a) {
  a.await_resume();
}
&&detail::tuple_like_of<std::remove_cvref_t<decltype(std::declval<A&>().await_resume())>, Ts...>();

}  // namespace senet::stream

#endif  // SENET_STREAM_AWAITABLE_DECOMPOSES_TO_HPP
