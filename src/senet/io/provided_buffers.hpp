// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_PROVIDED_BUFFERS_HPP
#define SENET_IO_PROVIDED_BUFFERS_HPP

/* The core of a net::buffer_pool: its memory, which buffers are free, and where the backend keeps
   them (docs/design/io_core.md, "Buffer pools and standing operations"). Context's thread only,
   except where a member says otherwise. */

#include <senet/io/detail/operation.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace senet::io::detail {

class context_impl;
struct pooled_socket;

class provided_buffers {
 public:
  static constexpr std::uint32_t no_buffer = 0xffffffffU;

  provided_buffers(context_impl& impl, std::size_t buffer_size, std::uint32_t count, std::size_t watermark);
  provided_buffers(const provided_buffers&) = delete;
  provided_buffers& operator=(const provided_buffers&) = delete;
  ~provided_buffers();

  [[nodiscard]] unsigned char* data(std::uint32_t id) const noexcept {
    return storage_.get() + std::size_t{id} * size_;
  }
  [[nodiscard]] std::size_t buffer_size() const noexcept { return size_; }
  [[nodiscard]] std::uint32_t count() const noexcept { return count_; }

  /** A free buffer from the core's free stack (backends without a kernel ring: epoll), or
      `no_buffer`. The core counts it as taken when a completion hands it over. */
  std::uint32_t take() noexcept { return free_count_ == 0 ? no_buffer : free_[--free_count_]; }

  /** Puts a buffer back on the free stack (one that `take()` returned and that received
      nothing, or one that came back). */
  void untake(std::uint32_t id) noexcept { free_[free_count_++] = id; }

  /** The backend keeps the free buffers (`ring_`): the core's free stack holds none; buffers
      that come back after the backend let go of the pool are pushed onto it again. */
  void empty_free_stack() noexcept { free_count_ = 0; }

  // The context (null once the pool was closed; its backend hooks are then no longer called).
  context_impl* impl_;
  // The backend's ring of free buffers (io_uring: the provided-buffer ring), or null when the core's
  // free stack holds them.
  void* ring_ = nullptr;
  std::uint16_t group_ = 0;
  // Whether the kernel consumes a buffer incrementally (IOU_PBUF_RING_INC).
  bool incremental_ = false;
  // How many bytes one socket may hold queued before its standing receive is paused.
  std::size_t watermark_;
  // Buffers handed out (to a queue or a pooled_buffer), not yet given back.
  std::uint32_t taken_ = 0;
  // Standing receives that ran dry (-ENOBUFS): re-armed when a buffer comes back.
  pooled_socket* starved_ = nullptr;
  // Sockets whose state names this pool (the pool's storage stays until none does).
  std::uint32_t users_ = 0;
  // The buffer_pool object was destroyed: freed once nothing is taken and no socket uses it.
  bool closed_ = false;

  // The context's list of pools.
  provided_buffers* next_pool_ = nullptr;

  // Per buffer: the link of a socket's queue of received buffers, and the received length.
  std::unique_ptr<std::uint32_t[]> next_;
  std::unique_ptr<std::uint32_t[]> length_;

 private:
  std::size_t size_;
  std::uint32_t count_;
  std::unique_ptr<unsigned char[]> storage_;
  std::unique_ptr<std::uint32_t[]> free_;
  std::uint32_t free_count_ = 0;
};

/** Frees `pool` if it was closed and nothing refers to it any more. True when it was freed. */
bool release_pool_if_unused(provided_buffers* pool) noexcept;

}  // namespace senet::io::detail

#endif  // SENET_IO_PROVIDED_BUFFERS_HPP
