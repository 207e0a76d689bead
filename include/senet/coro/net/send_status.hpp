// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_NET_SEND_STATUS_HPP
#define SENET_CORO_NET_SEND_STATUS_HPP

#include <cerrno>
#include <cstdint>
#include <string>

namespace senet::coro::net {

/** The outcome of a send (`tcp::client::send`, `udp::peer::sendto`), with libcoro 0.15's
    enumerators and values (`operationg_not_supported` is spelt as libcoro spells it): `ok`,
    `closed`, and errno values.

    Any errno the system reports is passed through as `static_cast<send_status>(errno)`, named
    here or not, so a `switch` needs a `default:`. An awaited send whose time limit passes reports
    `would_block`; one whose wait was cancelled (the socket closed under it, or the scheduler shut
    down) reports `ECANCELED`. A send never raises `SIGPIPE`: a peer that is gone gives
    `pipe_closed` or `connection_reset`. `try_again` and `would_block` are the same value on Linux.
*/
enum class send_status : std::int64_t {
  /** All or some bytes were sent (the remaining span says which were not). */
  ok = 0,
  /** The connection is closed. */
  closed = -1,
  permission_denied = EACCES,
  /** No room in the socket's send buffer (`EAGAIN`). */
  try_again = EAGAIN,
  /** No room in the socket's send buffer: poll for `write` and send again. */
  would_block = EWOULDBLOCK,
  already_in_progress = EALREADY,
  bad_file_descriptor = EBADF,
  connection_reset = ECONNRESET,
  no_peer_address = EDESTADDRREQ,
  memory_fault = EFAULT,
  interrupted = EINTR,
  is_connection = EISCONN,
  message_size = EMSGSIZE,
  output_queue_full = ENOBUFS,
  no_memory = ENOMEM,
  not_connected = ENOTCONN,
  not_a_socket = ENOTSOCK,
  operationg_not_supported = EOPNOTSUPP,
  pipe_closed = EPIPE,
};

/** The enumerator's name ("ok", "closed", "would_block", ...), or "unknown" for an errno value
    that has no enumerator. The string is static. (libcoro 0.15 declares no `to_string` for
    `send_status`; senet adds it beside the others.) */
[[nodiscard]] const std::string& to_string(send_status status);

}  // namespace senet::coro::net

#endif  // SENET_CORO_NET_SEND_STATUS_HPP
