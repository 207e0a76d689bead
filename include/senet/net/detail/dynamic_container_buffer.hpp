// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_DETAIL_DYNAMIC_CONTAINER_BUFFER_HPP
#define SENET_NET_DETAIL_DYNAMIC_CONTAINER_BUFFER_HPP

#include <senet/buffer.hpp>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <stdexcept>

namespace senet::net::detail {

/** What `dynamic_string_buffer` and `dynamic_vector_buffer` share: Asio's *DynamicBuffer_v1* over a
    contiguous container of bytes (`Container` has `data()`, `size()`, `capacity()`, `resize(n)`,
    `erase(first, last)`, `begin()`, and one-byte elements).

    The container's first `size()` bytes are the readable bytes (`data()`); `prepare(n)` grows the
    container by `n` writable bytes after them, `commit(n)` makes the first `n` of those readable
    and shrinks the container to the readable bytes, `consume(n)` erases the first `n` readable
    bytes. The buffer refers to the container, which must outlive it; between operations the
    container holds exactly the readable bytes.
*/
template <class Container>
class dynamic_container_buffer {
  static_assert(sizeof(typename Container::value_type) == 1,
                "senet: a dynamic buffer's container holds bytes (elements of size 1)");

 public:
  using const_buffers_type = const_buffer;
  using mutable_buffers_type = mutable_buffer;

  /** A buffer over `c`, whose bytes are all readable, growing to at most `max_size` bytes. */
  explicit dynamic_container_buffer(Container& c,
                                    std::size_t max_size = std::numeric_limits<std::size_t>::max()) noexcept
      : container_(&c), size_(c.size()), max_size_(max_size) {}

  /** The number of readable bytes. */
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  /** The most bytes the buffer may hold (readable and writable together). */
  [[nodiscard]] std::size_t max_size() const noexcept { return max_size_; }

  /** The bytes the container holds without allocating, at most `max_size()`. */
  [[nodiscard]] std::size_t capacity() const noexcept { return std::min(container_->capacity(), max_size_); }

  /** The readable bytes. Invalidated by `prepare`, `commit` and `consume`. */
  [[nodiscard]] const_buffer data() const noexcept { return {container_->data(), size_}; }

  /** `n` writable bytes after the readable ones. Throws `std::length_error` if `size() + n` would
      exceed `max_size()`, and what the container's `resize` throws. Invalidates `data()`. */
  [[nodiscard]] mutable_buffer prepare(std::size_t n) {
    if (size_ > max_size_ || max_size_ - size_ < n) {
      throw std::length_error("senet::net::dynamic_buffer: prepare would exceed max_size()");
    }
    container_->resize(size_ + n);
    return {container_->data() + size_, n};
  }

  /** Makes the first `n` prepared bytes readable (at most as many as were prepared) and drops
      the rest of the prepared bytes. */
  void commit(std::size_t n) {
    size_ += std::min(n, container_->size() - size_);
    container_->resize(size_);
  }

  /** Removes the first `n` readable bytes (all of them if `n >= size()`). */
  void consume(std::size_t n) {
    std::size_t k = std::min(n, size_);
    container_->erase(container_->begin(), container_->begin() + static_cast<std::ptrdiff_t>(k));
    size_ -= k;
  }

 private:
  Container* container_;
  std::size_t size_;
  std::size_t max_size_;
};

}  // namespace senet::net::detail

#endif  // SENET_NET_DETAIL_DYNAMIC_CONTAINER_BUFFER_HPP
