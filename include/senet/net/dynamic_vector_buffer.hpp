// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_DYNAMIC_VECTOR_BUFFER_HPP
#define SENET_NET_DYNAMIC_VECTOR_BUFFER_HPP

#include <senet/net/detail/dynamic_container_buffer.hpp>

#include <cstddef>
#include <limits>
#include <memory>
#include <vector>

namespace senet::net {

/** A dynamic buffer over a `std::vector` of bytes (`char`, `unsigned char`, `std::byte`, ...), with
    the members of Asio's `dynamic_vector_buffer` (*DynamicBuffer_v1*): `size()`, `max_size()`,
    `capacity()`, `data()`, `prepare(n)`, `commit(n)`, `consume(n)`. Made by
    `net::dynamic_buffer(vec [, max_size])`; what `net::async_read_until` reads into.

    The vector's elements are the readable bytes: after an operation, read them from the vector
    itself (and erase what you used, or call `consume`). During an operation the vector also holds
    the prepared bytes. `prepare` throws `std::length_error` past `max_size()`.

    Lifetime: the vector must outlive the buffer (and every operation using it); the buffer holds a
    pointer to it and is cheap to copy. Thread safety: as the vector.
*/
template <class T, class Allocator = std::allocator<T>>
class dynamic_vector_buffer : public detail::dynamic_container_buffer<std::vector<T, Allocator>> {
  using base = detail::dynamic_container_buffer<std::vector<T, Allocator>>;

 public:
  /** A buffer over `v`, whose elements are all readable, growing to at most `max_size` bytes. */
  explicit dynamic_vector_buffer(std::vector<T, Allocator>& v,
                                 std::size_t max_size = std::numeric_limits<std::size_t>::max()) noexcept
      : base(v, max_size) {}
};

}  // namespace senet::net

#endif  // SENET_NET_DYNAMIC_VECTOR_BUFFER_HPP
