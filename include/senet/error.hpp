// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_ERROR_HPP
#define SENET_ERROR_HPP

/** senet's error codes: `senet::error::eof`, `senet::error::operation_aborted`, ... in the
    `std::error_category` named "senet", and helpers for errno and getaddrinfo codes.

    Errors that the operating system reports through `errno` are `std::error_code(errno,
    std::system_category())` and are compared with `std::errc` values (`ec == std::errc::timed_out`).
    The senet category holds only the conditions that have no errno value: end of stream, an
    operation aborted by its object's closing, a name-resolution failure, ...

    On Windows `std::system_category()` holds Windows error codes (`GetLastError`,
    `WSAGetLastError`), not errno values: there the errno values of this header are in
    `std::generic_category()` (`senet::detail::errno_category()`), and compare with `std::errc`
    values all the same.
*/

#include <cerrno>
#include <system_error>
#include <type_traits>

namespace senet::error {

/** The error values of the "senet" category. Each enumerator is also reachable as
    `senet::error::<name>` (`using enum`). Value 0 is not used: it means success. */
enum class net_errc : int {
  /** The peer closed its end of the stream (no more bytes will arrive). */
  eof = 1,
  /** The operation was aborted because its socket or context was closed or stopped. */
  operation_aborted,
  /** The object is already open. */
  already_open,
  /** The object is not open (closed, moved from or released). */
  not_open,
  /** A looked-up element was not found. */
  not_found,
  /** Name resolution: the host is not known (`EAI_NONAME`). */
  host_not_found,
  /** Name resolution: a temporary failure, try again later (`EAI_AGAIN`). */
  host_not_found_try_again,
  /** Name resolution: the host exists but has no address (`EAI_NODATA`). */
  no_data,
  /** Name resolution: a non-recoverable failure (`EAI_FAIL`, and unknown `EAI_*` values). */
  no_recovery,
  /** Name resolution: the service is not known for the socket type (`EAI_SERVICE`). */
  service_not_found,
  /** Name resolution: the socket type is not supported (`EAI_SOCKTYPE`). */
  socket_type_not_supported,
  /** The address family is not supported (`EAI_FAMILY`, `EAI_ADDRFAMILY`, or a wrong endpoint). */
  address_family_not_supported,
  /** A write to a `stream::write_sink` that is already finished: `write_eof` succeeded on it, so
      every later `write_some`, `write` or `write_eof` fails with this and writes nothing. (Not the
      kernel's `std::errc::broken_pipe`, which means the peer is gone, nor `not_open`: the sink is
      open, and a socket under it can still read.) */
  write_after_eof,
};

using enum net_errc;

/** The category of `net_errc` values; its `name()` is "senet". `default_error_condition` maps
    `operation_aborted` to `std::errc::operation_canceled`, `not_open` to
    `std::errc::bad_file_descriptor` and `address_family_not_supported` to
    `std::errc::address_family_not_supported`, so that those compare equal to the `std::errc`. */
[[nodiscard]] const std::error_category& category() noexcept;

/** `std::error_code(static_cast<int>(e), senet::error::category())`. */
[[nodiscard]] inline std::error_code make_error_code(net_errc e) noexcept {
  return {static_cast<int>(e), category()};
}

/** The `std::error_code` for a `getaddrinfo`/`getnameinfo` result `eai_code` (`EAI_*`).

    0 gives no error; `EAI_NONAME` `host_not_found`; `EAI_AGAIN` `host_not_found_try_again`;
    `EAI_FAIL` `no_recovery`; `EAI_NODATA` `no_data`; `EAI_SERVICE` `service_not_found`;
    `EAI_SOCKTYPE` `socket_type_not_supported`; `EAI_FAMILY` and `EAI_ADDRFAMILY`
    `address_family_not_supported`; `EAI_CANCELED` `operation_aborted`; `EAI_BADFLAGS`
    `std::errc::invalid_argument`; `EAI_MEMORY` `std::errc::not_enough_memory`; `EAI_OVERFLOW`
    `std::errc::no_buffer_space` (those three in `detail::errno_category()`); `EAI_SYSTEM` the system
    error `errno_value` (`no_recovery` if it is 0); any other value `no_recovery`.

    On Windows the `EAI_*` values are Winsock's (`EAI_NONAME` is `WSAHOST_NOT_FOUND`, ...) and there
    is no `EAI_OVERFLOW`, `EAI_SYSTEM`, `EAI_ADDRFAMILY` nor `EAI_CANCELED`: `errno_value` is unused.
*/
[[nodiscard]] std::error_code make_gai_error(int eai_code, int errno_value) noexcept;

/** `make_gai_error(eai_code, errno)`: call it right after `getaddrinfo` failed, before anything
    else can change `errno`. */
[[nodiscard]] inline std::error_code make_gai_error(int eai_code) noexcept {
  return make_gai_error(eai_code, errno);
}

}  // namespace senet::error

template <>
struct std::is_error_code_enum<senet::error::net_errc> : std::true_type {};

namespace senet::detail {

/** The category of errno values: `std::system_category()` on Linux; `std::generic_category()` on
    Windows, whose `std::system_category()` holds Windows error codes. */
[[nodiscard]] inline const std::error_category& errno_category() noexcept {
#ifdef _WIN32
  return std::generic_category();
#else
  return std::system_category();
#endif
}

/** `std::error_code(value, errno_category())`: an errno value as an error code
    (`std::system_category()` on Linux). */
[[nodiscard]] inline std::error_code errno_code(int value) noexcept {
  return {value, errno_category()};
}

/** The current `errno` as an error code in `errno_category()` (`std::system_category()` on Linux). */
[[nodiscard]] inline std::error_code last_error() noexcept {
  return errno_code(errno);
}

}  // namespace senet::detail

#endif  // SENET_ERROR_HPP
