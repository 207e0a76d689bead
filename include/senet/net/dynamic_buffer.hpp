// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_DYNAMIC_BUFFER_HPP
#define SENET_NET_DYNAMIC_BUFFER_HPP

#include <senet/net/dynamic_string_buffer.hpp>
#include <senet/net/dynamic_vector_buffer.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace senet::net {

/** `net::dynamic_buffer(container [, max_size])`: a dynamic buffer over a `std::basic_string` or a
    `std::vector` of bytes, as Asio's `dynamic_buffer` (*DynamicBuffer_v1*): a
    `dynamic_string_buffer` or a `dynamic_vector_buffer` referring to `container`, whose current
    contents are the readable bytes, growing to at most `max_size` bytes (no limit by default).

    Example: `net::async_read_until(socket, net::dynamic_buffer(line, 4096), '\n')` reads a line of
    at most 4096 bytes into the `std::string line`.

    Lifetime: `container` must outlive the buffer and the operations using it.
*/
template <class CharT, class Traits, class Allocator>
[[nodiscard]] dynamic_string_buffer<CharT, Traits, Allocator> dynamic_buffer(
    std::basic_string<CharT, Traits, Allocator>& s) noexcept {
  return dynamic_string_buffer<CharT, Traits, Allocator>(s);
}
template <class CharT, class Traits, class Allocator>
[[nodiscard]] dynamic_string_buffer<CharT, Traits, Allocator> dynamic_buffer(
    std::basic_string<CharT, Traits, Allocator>& s, std::size_t max_size) noexcept {
  return dynamic_string_buffer<CharT, Traits, Allocator>(s, max_size);
}
template <class T, class Allocator>
[[nodiscard]] dynamic_vector_buffer<T, Allocator> dynamic_buffer(std::vector<T, Allocator>& v) noexcept {
  return dynamic_vector_buffer<T, Allocator>(v);
}
template <class T, class Allocator>
[[nodiscard]] dynamic_vector_buffer<T, Allocator> dynamic_buffer(std::vector<T, Allocator>& v,
                                                                 std::size_t max_size) noexcept {
  return dynamic_vector_buffer<T, Allocator>(v, max_size);
}

}  // namespace senet::net

#endif  // SENET_NET_DYNAMIC_BUFFER_HPP
