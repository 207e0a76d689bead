// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_MESSAGE_FLAGS_HPP
#define SENET_NET_MESSAGE_FLAGS_HPP

#include <sys/socket.h>

namespace senet::net {

/** Flags of `async_receive`, `async_receive_from`, `async_send` and `async_send_to`: a bitmask
    type whose values are the POSIX `MSG_*` flags (`static_cast<int>(flags)` is what the system
    call gets). `message_flags{}` is no flag. `MSG_NOSIGNAL` is always added to sends and need not
    be given.
*/
enum class message_flags : int {
  none = 0,
  /** Receive: leave the data in the queue (`MSG_PEEK`). */
  peek = MSG_PEEK,
  /** Out-of-band data (`MSG_OOB`). */
  out_of_band = MSG_OOB,
  /** Send: bypass routing, send to directly connected hosts only (`MSG_DONTROUTE`). */
  do_not_route = MSG_DONTROUTE,
  /** Receive: on a datagram socket, a datagram longer than the buffers completes with its real
      length (`MSG_TRUNC`), instead of failing with `std::errc::message_size` as it does
      without this flag. */
  truncate = MSG_TRUNC,
  /** Send: more data follows, delay sending a partial frame (`MSG_MORE`). */
  more = MSG_MORE,
};

[[nodiscard]] constexpr message_flags operator|(message_flags a, message_flags b) noexcept {
  return static_cast<message_flags>(static_cast<int>(a) | static_cast<int>(b));
}
[[nodiscard]] constexpr message_flags operator&(message_flags a, message_flags b) noexcept {
  return static_cast<message_flags>(static_cast<int>(a) & static_cast<int>(b));
}
[[nodiscard]] constexpr message_flags operator^(message_flags a, message_flags b) noexcept {
  return static_cast<message_flags>(static_cast<int>(a) ^ static_cast<int>(b));
}
[[nodiscard]] constexpr message_flags operator~(message_flags a) noexcept {
  return static_cast<message_flags>(~static_cast<int>(a));
}
constexpr message_flags& operator|=(message_flags& a, message_flags b) noexcept {
  return a = a | b;
}
constexpr message_flags& operator&=(message_flags& a, message_flags b) noexcept {
  return a = a & b;
}
constexpr message_flags& operator^=(message_flags& a, message_flags b) noexcept {
  return a = a ^ b;
}

}  // namespace senet::net

#endif  // SENET_NET_MESSAGE_FLAGS_HPP
