// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_BACKEND_POLL_MASK_HPP
#define SENET_BACKEND_POLL_MASK_HPP

/* op_code::poll records between senet's io::poll_events bits (flags_ asks, result_ answers) and the
   kernel's poll(2) / epoll / IORING_OP_POLL_ADD masks, which share their values (EPOLLIN ==
   POLLIN, EPOLLRDHUP == POLLRDHUP, ...). One mapping for every backend, so that they report the
   same events for the same state. */

#include <senet/io/detail/operation.hpp>
#include <senet/io/poll_events.hpp>

#include <cerrno>
#include <cstdint>

#include <poll.h>

namespace senet::io::detail {

/** The events an op_code::poll record asks for. */
[[nodiscard]] inline poll_events requested_events(const io_operation& op) noexcept {
  return static_cast<poll_events>(static_cast<std::uint8_t>(op.flags_) & 0x3FU);
}

/** The poll(2) mask to wait for `wanted`: POLLRDHUP goes with POLLIN (an end of stream is
    readable too, and the mask says which it was); POLLERR and POLLHUP are always reported. */
[[nodiscard]] inline unsigned native_poll_mask(poll_events wanted) noexcept {
  unsigned m = 0;
  if (has(wanted, poll_events::readable)) {
    m |= POLLIN | POLLRDHUP;
  }
  if (has(wanted, poll_events::writable)) {
    m |= POLLOUT;
  }
  if (has(wanted, poll_events::priority)) {
    m |= POLLPRI;
  }
  return m;
}

/** The result of a poll record for the kernel's `revents`: the events that occurred and that
    `wanted` lets through (error and hang-up always), 0 when none did; -EBADF for POLLNVAL. */
[[nodiscard]] inline std::int64_t poll_result(unsigned revents, poll_events wanted) noexcept {
  if ((revents & POLLNVAL) != 0) {
    return -EBADF;
  }
  poll_events e = poll_events::none;
  if ((revents & POLLIN) != 0) {
    e |= poll_events::readable;
  }
  if ((revents & POLLOUT) != 0) {
    e |= poll_events::writable;
  }
  if ((revents & POLLPRI) != 0) {
    e |= poll_events::priority;
  }
  if ((revents & POLLERR) != 0) {
    e |= poll_events::error;
  }
  if ((revents & POLLHUP) != 0) {
    e |= poll_events::hangup;
  }
  if ((revents & POLLRDHUP) != 0) {
    e |= poll_events::peer_closed;
  }
  poll_events pass = wanted | poll_events::error | poll_events::hangup;
  if (has(wanted, poll_events::readable)) {
    pass |= poll_events::peer_closed;
  }
  return static_cast<std::int64_t>(static_cast<std::uint8_t>(e & pass));
}

/** The events that occurred on `fd` now, for `wanted` (poll(2) with a zero timeout): 0 when none
    did, -errno if poll failed. */
[[nodiscard]] inline std::int64_t poll_now(int fd, poll_events wanted) noexcept {
  ::pollfd p{fd, static_cast<short>(native_poll_mask(wanted)), 0};
  int r;
  do {
    r = ::poll(&p, 1, 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    return -static_cast<std::int64_t>(errno);
  }
  return r == 0 ? 0 : poll_result(static_cast<unsigned short>(p.revents), wanted);
}

}  // namespace senet::io::detail

#endif  // SENET_BACKEND_POLL_MASK_HPP
