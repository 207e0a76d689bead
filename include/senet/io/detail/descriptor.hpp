// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_DETAIL_DESCRIPTOR_HPP
#define SENET_IO_DETAIL_DESCRIPTOR_HPP

#include <cstdint>

namespace senet::io::detail {

/** Bits of `descriptor::eager`. */
inline constexpr std::uint8_t eager_send = 1;
inline constexpr std::uint8_t eager_receive = 2;

/** What senet keeps with a socket's descriptor: the fd and the per-descriptor state of the
    io_context that registered it (epoll: its wait lists; null until the first wait).

    A socket holds one `descriptor`, moves it on move (leaving the source with fd -1 and a null
    state) and calls `release_descriptor` before it closes or releases the fd.
*/
struct descriptor {
  /** The file descriptor, or -1. */
  int fd = -1;
  /** Owned by the io core; opaque to sockets. Null until an io_context registers the descriptor. */
  void* context_state = nullptr;
  /** Which operations try their system call in `start()` and complete there when they can
      (`eager_send`, `eager_receive`; set by `basic_socket::eager_send` / `eager_receive`). Kept
      across close and open, moved with the socket. */
  std::uint8_t eager = 0;
};

/** Called by a socket before it closes or releases `d.fd`: the io context that registered the
    descriptor forgets it, and completes every operation still waiting on it with
    `senet::error::operation_aborted`. Resets `d.context_state`. Safe to call when `context_state`
    is null.

    Thread safety: call it on the thread that runs the registering io_context, or while no thread
    runs that context (the usual case: a socket closed after `run()` returned).
*/
void release_descriptor(descriptor& d) noexcept;

}  // namespace senet::io::detail

#endif  // SENET_IO_DETAIL_DESCRIPTOR_HPP
