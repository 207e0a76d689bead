// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_NET_RECV_STATUS_HPP
#define SENET_CORO_NET_RECV_STATUS_HPP

#include <cerrno>
#include <cstdint>
#include <string>

namespace senet::coro::net {

/** The outcome of a receive (`tcp::client::recv`, `udp::peer::recvfrom`), with libcoro 0.15's
    enumerators and values: `ok`, two facade conditions (negative), and errno values.

    Any errno the system reports is passed through as `static_cast<recv_status>(errno)`, named
    here or not (libcoro does the same), so a `switch` needs a `default:`. Two values are senet's
    and worth knowing: an awaited receive whose time limit passes reports `would_block` (it would
    still block); one whose wait was cancelled (the socket closed under it, or the scheduler shut
    down) reports `ECANCELED`. `try_again` and `would_block` are the same value on Linux.
*/
enum class recv_status : std::int64_t {
  /** Bytes were received. */
  ok = 0,
  /** The peer closed the connection (a stream read returned 0 bytes). */
  closed = -1,
  /** `udp::peer::recvfrom` on a peer that was not bound to a local address. */
  udp_not_bound = -2,
  /** No data yet (`EAGAIN`). */
  try_again = EAGAIN,
  /** No data yet (`EWOULDBLOCK`, the same value as `try_again`): poll for `read` and receive again. */
  would_block = EWOULDBLOCK,
  bad_file_descriptor = EBADF,
  connection_refused = ECONNREFUSED,
  memory_fault = EFAULT,
  interrupted = EINTR,
  invalid_argument = EINVAL,
  no_memory = ENOMEM,
  not_connected = ENOTCONN,
  not_a_socket = ENOTSOCK,
  connection_reset_by_peer = ECONNRESET,
};

/** The enumerator's name ("ok", "closed", "would_block", ...), or "unknown" for an errno value
    that has no enumerator. The string is static. */
[[nodiscard]] const std::string& to_string(recv_status status);

}  // namespace senet::coro::net

#endif  // SENET_CORO_NET_RECV_STATUS_HPP
