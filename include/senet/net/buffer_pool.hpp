// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_BUFFER_POOL_HPP
#define SENET_NET_BUFFER_POOL_HPP

#include <senet/io/detail/pooled_receive.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/pooled_buffer.hpp>

#include <cstddef>
#include <utility>

namespace senet::net {

/** The sizes of a `net::buffer_pool`. */
struct buffer_pool_options {
  /** Bytes per buffer (a receive completes with at most this many; with incremental
      consumption, at most what is left of the buffer it lands in). */
  std::size_t buffer_size = 4096;
  /** How many buffers (1 .. 32768): all that the pool's sockets may hold at once. */
  std::size_t buffer_count = 256;
  /** How many received bytes one socket may hold queued (received, not yet taken by a
      receive) before it stops receiving: data then waits in the kernel's socket buffer (and TCP
      flow control slows the peer) until the socket's receives have taken its queue down to half
      of this. 0 means one buffer. A socket may exceed it by what the kernel had already received
      when the limit was reached (at most a few buffers). */
  std::size_t socket_watermark = 64 * 1024;
};

/** A pool of receive buffers registered with an io_context: sockets receive into it with
    `net::async_receive(socket, pool)`, which completes with a `net::pooled_buffer` that owns one
    buffer until it is destroyed.

    On io_uring the pool is a provided-buffer ring (IORING_REGISTER_PBUF_RING): a socket that
    receives into the pool keeps a multishot receive armed, the kernel picks a buffer only when
    data arrives, and what arrives between two receives is queued on the socket, in order, and
    handed to the next receives. So an idle connection holds no buffer at all. Where the kernel
    offers incremental consumption (IOU_PBUF_RING_INC, Linux 6.12; `incremental()` says so), a
    receive takes only the bytes it received of a buffer and the next one goes on in the same
    buffer, possibly for another socket: memory per message is then the message, not a whole
    buffer, so a few large buffers serve many small messages, and a buffer goes back to the ring
    when the kernel has filled it and every `pooled_buffer` of it is gone. Nothing changes in the
    API; `in_use()` counts buffers of which a piece is held. On epoll the pool
    is filled the same way by `recv` on each readiness edge, with the same queueing rules.
    The test backend has no buffer pools: a pooled receive there fails with
    `std::errc::operation_not_supported`.

    When every buffer is in use, sockets stop receiving (their data waits in the kernel) and go
    on as soon as a buffer comes back: no receive fails for it, none polls on a timer. One socket
    holds at most about `socket_watermark` bytes queued (see `buffer_pool_options`).

    Memory: the pool allocates `buffer_size * buffer_count` bytes when it is created and touches
    every page then, so that the memory is resident from the start (what a server's resident size
    shows is its real cost, however many connections come later) and no receive waits for the
    kernel to fault a page in. Each socket that receives into the pool has a small state (about
    250 bytes, in the heap, recycled) from its first pooled receive until it is closed.

    Lifetime: create and destroy the pool on any thread; it must be destroyed before its
    io_context. Destroying it makes receives waiting on it (and later ones) fail with
    `std::errc::no_buffer_space` once the data already queued for them is taken; its memory is
    freed only when the last `pooled_buffer` has come back, so buffers may outlive the pool
    object. A socket receives into one pool only (another gives `std::errc::invalid_argument`).

    Thread safety: the members may be called on the context's thread (or while no thread runs
    it); the constructor and destructor on any thread.

    Example:
    @code
    net::buffer_pool pool(ctx, {.buffer_size = 4096, .buffer_count = 1024});
    auto echo = net::async_receive(sock, pool) | ex::let_value([&](net::pooled_buffer b) {
      return net::async_write(sock, b.buffer()) | ex::then([b = std::move(b)](std::size_t) {});
    });
    @endcode
*/
class buffer_pool {
 public:
  /** Registers a pool of `options.buffer_count` buffers of `options.buffer_size` bytes with
      `ctx`. Throws `std::invalid_argument` for a size or count out of range,
      `std::system_error` when the backend refuses it (e.g. locked-memory limits on io_uring). */
  explicit buffer_pool(io::io_context& ctx, buffer_pool_options options = {})
      : ctx_(&ctx),
        pool_(io::detail::open_buffer_pool(ctx, options.buffer_size, options.buffer_count,
                                           options.socket_watermark)) {}

  buffer_pool(const buffer_pool&) = delete;
  buffer_pool& operator=(const buffer_pool&) = delete;

  ~buffer_pool() { io::detail::close_buffer_pool(pool_); }

  /** The context the pool is registered with. */
  [[nodiscard]] io::io_context& context() const noexcept { return *ctx_; }
  /** Bytes per buffer. */
  [[nodiscard]] std::size_t buffer_size() const noexcept { return state().buffer_size; }
  /** Number of buffers. */
  [[nodiscard]] std::size_t buffer_count() const noexcept { return state().count; }
  /** Buffers of which sockets' queues or `pooled_buffer`s hold bytes now. */
  [[nodiscard]] std::size_t in_use() const noexcept { return state().in_use; }
  /** True when the kernel picks the buffers itself (io_uring's provided-buffer ring). */
  [[nodiscard]] bool kernel_ring() const noexcept { return state().kernel_ring; }
  /** True when the kernel consumes the buffers incrementally (io_uring with IOU_PBUF_RING_INC,
      Linux 6.12): several received messages share one buffer. */
  [[nodiscard]] bool incremental() const noexcept { return state().incremental; }

  /** Internal: the io core's pool. */
  [[nodiscard]] io::detail::provided_buffers& native() const noexcept { return *pool_; }

 private:
  [[nodiscard]] io::detail::buffer_pool_state state() const noexcept {
    return io::detail::pool_state(*pool_);
  }

  io::io_context* ctx_;
  io::detail::provided_buffers* pool_;
};

}  // namespace senet::net

#endif  // SENET_NET_BUFFER_POOL_HPP
