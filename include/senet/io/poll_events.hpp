// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_POLL_EVENTS_HPP
#define SENET_IO_POLL_EVENTS_HPP

#include <cstdint>
#include <string>

namespace senet::io {

/** A set of readiness events: what a readiness wait asks for, and what it completes with.

    `net::async_wait(socket, w)` and `io::async_poll(sch, fd, events)` complete with the events
    that occurred (at least one), from this list:

    | event         | meaning                                                   | poll(2)     |
    |---------------|-----------------------------------------------------------|-------------|
    | `readable`    | a read (receive, accept) would not block                  | `POLLIN`    |
    | `writable`    | a write (send) would not block                            | `POLLOUT`   |
    | `priority`    | urgent (out-of-band) data or an exceptional condition     | `POLLPRI`   |
    | `error`       | an error is pending on the descriptor (reset, refused...) | `POLLERR`   |
    | `hangup`      | both directions are closed (a peer that closed or reset)  | `POLLHUP`   |
    | `peer_closed` | the peer shut down its sending side (end of stream)       | `POLLRDHUP` |

    `error` and `hangup` are always reported, whatever was asked for; `peer_closed` is reported to
    a wait that asks for `readable` (an end of stream also makes the descriptor readable). Asking
    for `error`, `hangup` or `peer_closed` alone waits for nothing more than that. A bitmask type:
    combine with `|`, test with `&` or `has`, print with `to_string`.
*/
enum class poll_events : std::uint8_t {
  none = 0,
  readable = 1U << 0,
  writable = 1U << 1,
  priority = 1U << 2,
  error = 1U << 3,
  hangup = 1U << 4,
  peer_closed = 1U << 5,
};

[[nodiscard]] constexpr poll_events operator|(poll_events a, poll_events b) noexcept {
  return static_cast<poll_events>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
[[nodiscard]] constexpr poll_events operator&(poll_events a, poll_events b) noexcept {
  return static_cast<poll_events>(static_cast<std::uint8_t>(a) & static_cast<std::uint8_t>(b));
}
[[nodiscard]] constexpr poll_events operator^(poll_events a, poll_events b) noexcept {
  return static_cast<poll_events>(static_cast<std::uint8_t>(a) ^ static_cast<std::uint8_t>(b));
}
[[nodiscard]] constexpr poll_events operator~(poll_events a) noexcept {
  return static_cast<poll_events>(~static_cast<std::uint8_t>(a) & 0x3FU);
}
constexpr poll_events& operator|=(poll_events& a, poll_events b) noexcept {
  return a = a | b;
}
constexpr poll_events& operator&=(poll_events& a, poll_events b) noexcept {
  return a = a & b;
}
constexpr poll_events& operator^=(poll_events& a, poll_events b) noexcept {
  return a = a ^ b;
}

/** True when `set` holds every event of `events` (and `events` is not `none`). */
[[nodiscard]] constexpr bool has(poll_events set, poll_events events) noexcept {
  return events != poll_events::none && (set & events) == events;
}

/** The events of `set` by name, joined by `|` ("readable|peer_closed"), or "none"; for
    diagnostics and test messages. */
[[nodiscard]] inline std::string to_string(poll_events set) {
  constexpr const char* names[] = {"readable", "writable", "priority", "error", "hangup", "peer_closed"};
  std::string s;
  for (unsigned i = 0; i < 6; ++i) {
    if ((static_cast<unsigned>(set) & (1U << i)) != 0) {
      if (!s.empty()) {
        s += '|';
      }
      s += names[i];
    }
  }
  return s.empty() ? std::string("none") : s;
}

}  // namespace senet::io

#endif  // SENET_IO_POLL_EVENTS_HPP
