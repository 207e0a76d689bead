// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_DETAIL_POOLED_RECEIVE_HPP
#define SENET_IO_DETAIL_POOLED_RECEIVE_HPP

/* The records and entry points of buffer pools and of receives into them (net::buffer_pool,
   net::async_receive(socket, pool)); docs/design/io_core.md, "Buffer pools and standing
   operations". */

#include <senet/io/detail/operation.hpp>

#include <cstddef>
#include <cstdint>

namespace senet::io {
class io_context;
}  // namespace senet::io

namespace senet::io::detail {

class provided_buffers;

/** A receive into a pool buffer (op_code::receive_pooled). On success `result_` is the length
    received (0: end of stream, no buffer) and `data_` / `buffer_` say where (`data_` is inside
    buffer `buffer_`, at an offset with incremental consumption): the receiver then owns that
    piece of the buffer and gives it back with `return_buffer`. */
struct pooled_receive_operation : io_operation {
  provided_buffers* pool_ = nullptr;
  unsigned char* data_ = nullptr;
  std::uint32_t buffer_ = 0;
};

/** `start_operation` of a pooled receive, which the core serves itself (from the socket's queue,
    or parked until data comes) without the dispatch on the op code that the general entry makes.
    An operation state's start finds it by its record's type. Context's thread only. */
bool start_operation(io_context& ctx, pooled_receive_operation& op) noexcept;

/** Creates the core of a pool of `count` buffers of `buffer_size` bytes on `ctx`, registered with
    its backend; `watermark` bounds the bytes one socket holds queued. Any thread. Throws
    std::system_error (std::bad_alloc) on failure, std::invalid_argument for bad sizes. */
[[nodiscard]] provided_buffers* open_buffer_pool(io_context& ctx, std::size_t buffer_size, std::size_t count,
                                                 std::size_t watermark);

/** The pool's owner is gone: pending receives on it complete with `no_buffer_space`, it is
    deregistered from the backend, and its memory is freed once every buffer came back. Any
    thread (the work is done on the context's thread, and waited for). */
void close_buffer_pool(provided_buffers* pool) noexcept;

/** Gives a piece of buffer `id` back to `pool`; the buffer is free again once its last piece came
    back and the kernel is done with it (the context's thread, or any thread while no thread runs
    the context). */
void return_buffer(provided_buffers& pool, std::uint32_t id) noexcept;

/** What a pool looks like now (the context's thread). */
struct buffer_pool_state {
  std::size_t buffer_size = 0;
  std::size_t count = 0;
  std::size_t in_use = 0;    ///< buffers of which sockets' queues or pooled_buffers hold a piece
  bool kernel_ring = false;  ///< io_uring: a provided-buffer ring
  bool incremental = false;  ///< the kernel consumes a buffer incrementally
};
[[nodiscard]] buffer_pool_state pool_state(const provided_buffers& pool) noexcept;

}  // namespace senet::io::detail

#endif  // SENET_IO_DETAIL_POOLED_RECEIVE_HPP
