// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_DETAIL_MESSAGE_TRUNCATION_HPP
#define SENET_NET_DETAIL_MESSAGE_TRUNCATION_HPP

/* How a receive on a message socket (datagram, seqpacket) reports a message longer than its
   buffers, the same way on every backend and in the synchronous and asynchronous forms.

   The kernel always gets MSG_TRUNC for a receive on a message socket, so that its result is the
   message's real length: that is the one signal every path has (IORING_OP_RECV returns no
   msg_flags; recvmsg's msg_flags would need a second path). A result larger than the buffers then
   means "truncated": it is the error `std::errc::message_size` (EMSGSIZE, as Asio's
   `error::message_size`), unless the caller asked for `message_flags::truncate` itself, in which
   case the real length is the value, as recv(2) gives it. Stream sockets are never given
   MSG_TRUNC (there it means "discard the bytes"). */

#include <senet/net/message_flags.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdint>

#include <sys/socket.h>

namespace senet::net::detail {

/** Whether `socket` carries messages: its protocol's `type()` is not `SOCK_STREAM`. A socket type
    without `protocol()` counts as a stream. */
template <class Socket>
[[nodiscard]] bool is_message_socket(const Socket& socket) noexcept {
  if constexpr (requires { socket.protocol().type(); }) {
    return socket.protocol().type() != SOCK_STREAM;
  } else {
    return false;
  }
}

/** The flags the kernel gets for a receive with the caller's `flags`. */
[[nodiscard]] constexpr int kernel_receive_flags(message_flags flags, bool message_socket) noexcept {
  return message_socket ? static_cast<int>(flags) | MSG_TRUNC : static_cast<int>(flags);
}

/** The result of a receive as the caller sees it: `result` (bytes, or `-errno`) from the kernel
    into buffers of `capacity` bytes, or `-EMSGSIZE` when a message was cut and the caller did not
    ask for `message_flags::truncate`. */
[[nodiscard]] constexpr std::int64_t checked_receive_result(std::int64_t result, std::size_t capacity,
                                                            bool message_socket,
                                                            message_flags flags) noexcept {
  if (message_socket && result > 0 && static_cast<std::uint64_t>(result) > capacity &&
      (static_cast<int>(flags) & MSG_TRUNC) == 0) {
    return -EMSGSIZE;
  }
  return result;
}

}  // namespace senet::net::detail

#endif  // SENET_NET_DETAIL_MESSAGE_TRUNCATION_HPP
