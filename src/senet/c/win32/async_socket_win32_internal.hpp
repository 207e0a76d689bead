// SPDX-License-Identifier: BSL-1.0
// What async_socket_win32.cpp decides from an I/O completion, as functions of their own, so that the
// tests can check the cases a loopback socket cannot produce (a completion with more bytes than
// the buffers hold, a send that wrote fewer bytes than asked). Internal: not part of the public API.
#ifndef SENET_SRC_C_WIN32_ASYNC_SOCKET_WIN32_INTERNAL_HPP
#define SENET_SRC_C_WIN32_ASYNC_SOCKET_WIN32_INTERNAL_HPP

#include <windows.h>

#include <cstdint>

#include <senet/c/async_socket.h>

namespace senet::c_api::win32 {

/** The result of a send that completed with `io_result` after `bytes` of `total` bytes were sent
    (SRS_ASYNC_SOCKET_WIN32_01_066, 01_067, 01_102). */
ASYNC_SOCKET_SEND_RESULT send_result_of(ULONG io_result, ULONG_PTR bytes, std::uint64_t total) noexcept;

struct receive_outcome {
  ASYNC_SOCKET_RECEIVE_RESULT result;
  std::uint32_t bytes;
};

/** The result and byte count of a receive into buffers of `total` bytes that completed with
    `io_result` and `bytes` (SRS_ASYNC_SOCKET_WIN32_01_069, 42_001, 01_070, 01_095, 42_003). */
receive_outcome receive_result_of(ULONG io_result, ULONG_PTR bytes, std::uint64_t total) noexcept;

/** The thread pool I/O callback of every async socket (SRS_ASYNC_SOCKET_WIN32_01_063 .. 01_072). */
VOID CALLBACK on_io_complete(PTP_CALLBACK_INSTANCE instance, PVOID context, PVOID overlapped, ULONG io_result,
                             ULONG_PTR number_of_bytes_transferred, PTP_IO io);

}  // namespace senet::c_api::win32

#endif
