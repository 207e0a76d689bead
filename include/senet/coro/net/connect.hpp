// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_NET_CONNECT_HPP
#define SENET_CORO_NET_CONNECT_HPP

#include <string>

namespace senet::coro::net {

/** The outcome of `tcp::client::connect`, with libcoro 0.15's enumerators. */
enum class connect_status {
  /** The connection is established. */
  connected,
  /** The client's address could not be used (its domain is not IPv4 or IPv6). */
  invalid_ip_address,
  /** The connection was not established within the time limit given to `connect`. */
  timeout,
  /** The connection failed: refused, unreachable, reset, or the socket could not be made. `errno`
      holds the reason (as with libcoro), and so does `tcp::client::connect_error()`. */
  error,
};

/** "connected", "invalid_ip_address", "timeout" or "error"; throws `std::logic_error` for any
    other value, as libcoro documents. */
[[nodiscard]] const std::string& to_string(const connect_status& status);

}  // namespace senet::coro::net

#endif  // SENET_CORO_NET_CONNECT_HPP
