// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_POOLED_BUFFER_HPP
#define SENET_NET_POOLED_BUFFER_HPP

#include <senet/buffer.hpp>
#include <senet/io/detail/pooled_receive.hpp>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace senet::net {

/** Bytes received into a buffer of a `net::buffer_pool`, owned: the buffer goes back to its pool
    when the `pooled_buffer` is destroyed or `reset()`. Where the pool consumes buffers
    incrementally (`buffer_pool::incremental()`), it owns a piece of a buffer (its id, and the
    bytes at their offset): the buffer goes back once the kernel is done with it and its last
    piece is destroyed, in any order.

    `net::async_receive(socket, pool)` completes with one. An empty `pooled_buffer` (`size() == 0`,
    no buffer held) means end of stream, as a receive of 0 bytes does.

    Thread safety: destroy (or `reset`) it on the thread that runs its pool's io_context (where
    the receive completed), or on any thread while no thread runs that context: giving the buffer
    back may re-arm a socket's standing receive. Its bytes may be read and written on any thread.
    It may outlive the `net::buffer_pool` object (the pool's memory stays until its last buffer
    comes back), but not the io_context.
*/
class pooled_buffer {
 public:
  /** An empty buffer (holds nothing). */
  pooled_buffer() noexcept = default;

  pooled_buffer(const pooled_buffer&) = delete;
  pooled_buffer& operator=(const pooled_buffer&) = delete;

  pooled_buffer(pooled_buffer&& other) noexcept
      : pool_(std::exchange(other.pool_, nullptr)),
        data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        id_(other.id_) {}

  pooled_buffer& operator=(pooled_buffer&& other) noexcept {
    if (this != &other) {
      reset();
      pool_ = std::exchange(other.pool_, nullptr);
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      id_ = other.id_;
    }
    return *this;
  }

  ~pooled_buffer() { reset(); }

  /** The received bytes. */
  [[nodiscard]] unsigned char* data() const noexcept { return data_; }
  /** How many bytes were received (0: end of stream, or an empty/reset buffer). */
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  /** The bytes as a buffer, e.g. for `net::async_write(socket, b.buffer())`. */
  [[nodiscard]] mutable_buffer buffer() const noexcept { return {data_, size_}; }

  /** Drops the first `n` bytes (at most `size()`) from the view; the buffer stays held. */
  void consume(std::size_t n) noexcept {
    n = n < size_ ? n : size_;
    data_ += n;
    size_ -= n;
  }

  /** Gives the buffer (piece) back to its pool now; the object becomes empty. */
  void reset() noexcept {
    if (pool_ != nullptr) {
      io::detail::return_buffer(*std::exchange(pool_, nullptr), id_);
    }
    data_ = nullptr;
    size_ = 0;
  }

  /** Whether a pool buffer is held (also after `consume` took every byte). */
  [[nodiscard]] bool holds_buffer() const noexcept { return pool_ != nullptr; }

  /** Internal: takes over a piece of buffer `id` of `pool`, `size` bytes at `data`. */
  pooled_buffer(io::detail::provided_buffers* pool, std::uint32_t id, unsigned char* data,
                std::size_t size) noexcept
      : pool_(pool), data_(data), size_(size), id_(id) {}

 private:
  io::detail::provided_buffers* pool_ = nullptr;
  unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
  std::uint32_t id_ = 0;
};

}  // namespace senet::net

#endif  // SENET_NET_POOLED_BUFFER_HPP
