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

  /** A piece: bytes of one buffer that one completion handed over, from `offset` (always 0
      unless the kernel consumes buffers incrementally). Pieces link a socket's queue (`next`). */
  struct piece {
    std::uint32_t buffer;
    std::uint32_t offset;
    std::uint32_t length;
    std::uint32_t next;
  };

  /** A free piece record (the table grows, by doubling, when every record is in use: a pool
      without incremental consumption never needs more than one per buffer), or `no_buffer`
      when memory runs out. */
  std::uint32_t new_piece() noexcept {
    if (free_piece_ == no_buffer) [[unlikely]] {
      return grow_pieces();
    }
    std::uint32_t p = free_piece_;
    free_piece_ = pieces_[p].next;
    return p;
  }
  void free_piece(std::uint32_t p) noexcept {
    pieces_[p].next = free_piece_;
    free_piece_ = p;
  }
  [[nodiscard]] piece& piece_at(std::uint32_t p) const noexcept { return pieces_[p]; }

  /** A completion handed over `length` bytes of buffer `id` (0: none, e.g. end of stream);
      `kernel_done`: the kernel no longer fills it (no IORING_CQE_F_BUF_MORE). Returns the offset
      of the bytes in the buffer. */
  std::uint32_t consumed(std::uint32_t id, std::uint32_t length, bool kernel_done) noexcept {
    std::uint32_t offset = offset_[id];
    offset_[id] += length;
    if (kernel_done) {
      kernel_has_[id] = false;
      ++out_;
    }
    return offset;
  }

  /** A piece of buffer `id` goes out (to a queue, then a pooled_buffer) / comes back. */
  void hold(std::uint32_t id) noexcept {
    if (held_[id]++ == 0) {
      ++taken_;
    }
  }
  /** True when it was the buffer's last piece. */
  bool unhold(std::uint32_t id) noexcept {
    if (--held_[id] != 0) {
      return false;
    }
    --taken_;
    return true;
  }

  /** Whether buffer `id` is free again: the kernel is done with it and no piece of it is out.
      The caller then gives it back (the ring, or the free stack) and `refilled(id)`. */
  [[nodiscard]] bool reusable(std::uint32_t id) const noexcept { return !kernel_has_[id] && held_[id] == 0; }
  void refilled(std::uint32_t id) noexcept {
    kernel_has_[id] = true;
    offset_[id] = 0;
    --out_;
  }

  // The context (null once the pool was closed; its backend hooks are then no longer called).
  context_impl* impl_;
  // The backend's ring of free buffers (io_uring: the provided-buffer ring), or null when the core's
  // free stack holds them.
  void* ring_ = nullptr;
  std::uint16_t group_ = 0;
  // Whether the kernel consumes a buffer incrementally (IOU_PBUF_RING_INC): a completion then
  // takes only what it received of the buffer, and the next one goes on at that offset.
  bool incremental_ = false;
  // How many bytes one socket may hold queued before its standing receive is paused.
  std::size_t watermark_;
  // Buffers of which a piece is out (queued, or in a pooled_buffer): what in_use() says.
  std::uint32_t taken_ = 0;
  // Buffers the kernel (the epoll backend: the core) finished with and that are not free again
  // yet: when all are, the pool ran dry.
  std::uint32_t out_ = 0;
  // Standing receives that ran dry (-ENOBUFS): re-armed when a buffer comes back.
  pooled_socket* starved_ = nullptr;
  // Sockets whose state names this pool (the pool's storage stays until none does).
  std::uint32_t users_ = 0;
  // The buffer_pool object was destroyed: freed once nothing is taken and no socket uses it.
  bool closed_ = false;
  // Closed and unused, but not freed yet: a start handed to the loop by another thread may still
  // name it (release_pool_if_unused); the loop frees it (context_impl::free_retired_pools).
  bool retired_ = false;
  // The context whose list of pools holds it (`next_pool_`), from its registration until it is
  // freed or the context is destroyed; unlike `impl_`, kept after the pool was closed.
  context_impl* home_ = nullptr;

  // The context's list of pools, open and closed (`home_`).
  provided_buffers* next_pool_ = nullptr;

 private:
  // new_piece() when no record is free: doubles the table.
  std::uint32_t grow_pieces() noexcept;

  std::size_t size_;
  std::uint32_t count_;
  std::unique_ptr<unsigned char[]> storage_;
  std::unique_ptr<std::uint32_t[]> free_;
  std::uint32_t free_count_ = 0;
  // Per buffer: pieces out, bytes the kernel filled so far, whether the kernel still fills it.
  std::unique_ptr<std::uint32_t[]> held_;
  std::unique_ptr<std::uint32_t[]> offset_;
  std::unique_ptr<bool[]> kernel_has_;
  // The piece records and the head of their free list.
  std::unique_ptr<piece[]> pieces_;
  std::uint32_t piece_capacity_ = 0;
  std::uint32_t free_piece_ = no_buffer;
};

/** Frees `pool` if it was closed and nothing refers to it any more; while starts handed to its
    context's loop by other threads have not reached it (one may be a pooled receive on `pool`), it
    is retired instead, and the loop frees it after them. True when it was freed. */
bool release_pool_if_unused(provided_buffers* pool) noexcept;

}  // namespace senet::io::detail

#endif  // SENET_IO_PROVIDED_BUFFERS_HPP
