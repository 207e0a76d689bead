// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_NET_BUFFER_CONCEPTS_HPP
#define SENET_CORO_NET_BUFFER_CONCEPTS_HPP

#include <concepts>
#include <cstddef>

/** The buffer concepts libcoro 0.15 constrains its send and receive templates with
    (`coro::concepts::const_buffer`, `coro::concepts::mutable_buffer`). */
namespace senet::coro::concepts {

/** Contiguous bytes to send: `empty()`, `data()` giving `const char*`, `size()`
    (`std::string`, `std::string_view`, `std::vector<char>`, `std::span<const char>`). */
template <class T>
concept const_buffer = requires(const T t) {
  { t.empty() } -> std::same_as<bool>;
  { t.data() } -> std::same_as<const char*>;
  { t.size() } -> std::same_as<std::size_t>;
};

/** Contiguous bytes to receive into: `empty()`, `data()` giving `char*`, `size()`
    (`std::string&`, `std::vector<char>&`, `std::span<char>`). */
template <class T>
concept mutable_buffer = requires(T t) {
  { t.empty() } -> std::same_as<bool>;
  { t.data() } -> std::same_as<char*>;
  { t.size() } -> std::same_as<std::size_t>;
};

}  // namespace senet::coro::concepts

#endif  // SENET_CORO_NET_BUFFER_CONCEPTS_HPP
