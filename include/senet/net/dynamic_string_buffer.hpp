// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_DYNAMIC_STRING_BUFFER_HPP
#define SENET_NET_DYNAMIC_STRING_BUFFER_HPP

#include <senet/net/detail/dynamic_container_buffer.hpp>

#include <cstddef>
#include <limits>
#include <memory>
#include <string>

namespace senet::net {

/** A dynamic buffer over a `std::basic_string` of bytes, with the members of Asio's
    `dynamic_string_buffer` (*DynamicBuffer_v1*): `size()`, `max_size()`, `capacity()`, `data()`,
    `prepare(n)`, `commit(n)`, `consume(n)`. Made by `net::dynamic_buffer(str [, max_size])`; what
    `net::async_read_until` reads into.

    The string's characters are the readable bytes: after an operation, read them from the string
    itself (and erase what you used, or call `consume`). During an operation the string also holds
    the prepared bytes. `prepare` throws `std::length_error` past `max_size()`.

    Example:
    ```cpp
    std::string line;
    std::size_t n = ... net::async_read_until(socket, net::dynamic_buffer(line), '\n') ...;
    use(line.substr(0, n));  // the line, with its '\n'
    line.erase(0, n);        // what came after it stays for the next call
    ```

    Lifetime: the string must outlive the buffer (and every operation using it); the buffer holds a
    pointer to it and is cheap to copy. Thread safety: as the string.
*/
template <class CharT, class Traits = std::char_traits<CharT>, class Allocator = std::allocator<CharT>>
class dynamic_string_buffer
    : public detail::dynamic_container_buffer<std::basic_string<CharT, Traits, Allocator>> {
  using base = detail::dynamic_container_buffer<std::basic_string<CharT, Traits, Allocator>>;

 public:
  /** A buffer over `s`, whose characters are all readable, growing to at most `max_size` bytes. */
  explicit dynamic_string_buffer(std::basic_string<CharT, Traits, Allocator>& s,
                                 std::size_t max_size = std::numeric_limits<std::size_t>::max()) noexcept
      : base(s, max_size) {}
};

}  // namespace senet::net

#endif  // SENET_NET_DYNAMIC_STRING_BUFFER_HPP
