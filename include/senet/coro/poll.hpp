// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_POLL_HPP
#define SENET_CORO_POLL_HPP

#include <senet/io/poll_events.hpp>

#include <cstdint>
#include <string>
#include <system_error>

namespace senet::coro {

/** What `io_scheduler::poll` waits for (libcoro 0.15's `coro::poll_op`).

    The values are libcoro's on Linux, epoll's `EPOLLIN` (1) and `EPOLLOUT` (4), so that code that
    casts them keeps its meaning; senet translates them to `io::poll_events` (`to_poll_events`)
    and never hands them to a kernel itself. */
enum class poll_op : std::uint64_t {
  /** Wait until a read (receive, accept) would not block. */
  read = 0x001,
  /** Wait until a write (send, a finished connect) would not block. */
  write = 0x004,
  /** Wait until either would not block. */
  read_write = 0x001 | 0x004,
};

/** Whether `op` includes reading (libcoro 0.15's `coro::poll_op_readable`). */
[[nodiscard]] inline bool poll_op_readable(poll_op op) noexcept {
  return (static_cast<std::uint64_t>(op) & static_cast<std::uint64_t>(poll_op::read)) != 0;
}

/** Whether `op` includes writing (libcoro 0.15's `coro::poll_op_writeable`). */
[[nodiscard]] inline bool poll_op_writeable(poll_op op) noexcept {
  return (static_cast<std::uint64_t>(op) & static_cast<std::uint64_t>(poll_op::write)) != 0;
}

/** "read", "write", "read_write", or "unknown" for any other value (libcoro 0.15's
    `coro::to_string(poll_op)`; the reference stays valid for the whole program). */
[[nodiscard]] const std::string& to_string(poll_op op);

/** How a poll ended (libcoro 0.15's `coro::poll_status`).

    senet derives it from the `io::poll_events` the wait completed with, in libcoro's order:
    `readable` or `writable` gives `event`; else `error` gives `error`; else `hangup` or
    `peer_closed` gives `closed`. A peer that closed its side therefore gives `event` for a read
    poll (the descriptor is readable: the next `recv` reports the end of the stream), as in
    libcoro. senet adds two causes libcoro does not have: a poll cancelled by
    `io_scheduler::shutdown()` ends with `closed`, and a poll the backend refuses (a descriptor that
    is not open, or that cannot be polled) ends with `error`. */
enum class poll_status {
  /** The descriptor is ready for what was asked. */
  event,
  /** The timeout passed first. */
  timeout,
  /** An error is pending on the descriptor, or it could not be polled. */
  error,
  /** The descriptor was closed (by the peer, or the scheduler shut down). */
  closed,
};

/** "event", "timeout", "error", "closed", or "unknown" (libcoro 0.15's
    `coro::to_string(poll_status)`; the reference stays valid for the whole program). */
[[nodiscard]] const std::string& to_string(poll_status status);

/** senet extension: the readiness events that `op` asks for (`readable`, `writable`, or both). */
[[nodiscard]] constexpr io::poll_events to_poll_events(poll_op op) noexcept {
  io::poll_events e = io::poll_events::none;
  if ((static_cast<std::uint64_t>(op) & static_cast<std::uint64_t>(poll_op::read)) != 0) {
    e |= io::poll_events::readable;
  }
  if ((static_cast<std::uint64_t>(op) & static_cast<std::uint64_t>(poll_op::write)) != 0) {
    e |= io::poll_events::writable;
  }
  return e;
}

/** senet extension: the `poll_status` of a readiness wait that completed with `events` (see
    `poll_status` for the order). */
[[nodiscard]] constexpr poll_status to_poll_status(io::poll_events events) noexcept {
  if ((events & (io::poll_events::readable | io::poll_events::writable)) != io::poll_events::none) {
    return poll_status::event;
  }
  if ((events & io::poll_events::error) != io::poll_events::none) {
    return poll_status::error;
  }
  if ((events & (io::poll_events::hangup | io::poll_events::peer_closed)) != io::poll_events::none) {
    return poll_status::closed;
  }
  // A priority event alone (urgent data), which libcoro's poll never asks for.
  return poll_status::event;
}

/** senet extension: what was polled, for `to_poll_status(const std::error_code&, poll_target)`. */
enum class poll_target {
  /** A descriptor no senet socket owns (`io_scheduler::poll(fd, ...)`, `poll_sender`). */
  descriptor,
  /** A socket object of the facade (`client.poll`, `server.poll`, `peer.poll`,
      `io_scheduler::poll(socket, ...)`). */
  socket,
};

/** senet extension: the `poll_status` of a readiness wait that failed with `ec`, the same for
    every kind of poll: `timeout` when the poll's time limit passed (`std::errc::timed_out`);
    `closed` when the wait was cancelled because what it waited on was closed under it
    (`senet::error::operation_aborted`), or when a socket object is polled after it was closed
    (`std::errc::bad_file_descriptor` with `poll_target::socket`); `error` for anything else, such as
    a descriptor that is not open or cannot be polled. */
[[nodiscard]] poll_status to_poll_status(const std::error_code& ec, poll_target target) noexcept;

}  // namespace senet::coro

#endif  // SENET_CORO_POLL_HPP
