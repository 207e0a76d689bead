// SPDX-License-Identifier: BSL-1.0
// socket_transport on Windows: the thin internal layer over Winsock that async_socket_win32 calls
// (the functions async-socket-win32-requirements.txt names: socket_transport_send,
// socket_transport_receive, socket_transport_get_underlying_socket). Not part of the public API.
//
// A transport owns one connected, overlapped SOCKET from socket_transport_create_from_socket on;
// socket_transport_disconnect closes it (pending overlapped operations then complete with an
// error); socket_transport_destroy closes it if still open and frees the transport.
#ifndef SENET_SRC_C_WIN32_SOCKET_TRANSPORT_H
#define SENET_SRC_C_WIN32_SOCKET_TRANSPORT_H

#include <winsock2.h>

#include <cstdint>

#include <senet/c/socket_handle.h>

typedef struct SOCKET_TRANSPORT* SOCKET_TRANSPORT_HANDLE;

/** One buffer; laid out as a WSABUF, so that an array of them goes to WSASend / WSARecv as is. */
typedef struct SOCKET_BUFFER_TAG {
  ULONG length;
  CHAR* buffer;
} SOCKET_BUFFER;

typedef enum SOCKET_SEND_RESULT_TAG {
  SOCKET_SEND_OK,
  SOCKET_SEND_ERROR,        // WSASend failed (WSA_IO_PENDING included): WSAGetLastError tells why
  SOCKET_SEND_INVALID_ARG,  // a NULL transport or payload, or no buffers
  SOCKET_SEND_SHUTDOWN      // the transport was disconnected
} SOCKET_SEND_RESULT;

typedef enum SOCKET_RECEIVE_RESULT_TAG {
  SOCKET_RECEIVE_OK,
  SOCKET_RECEIVE_ERROR,        // WSARecv failed (WSA_IO_PENDING included): WSAGetLastError tells why
  SOCKET_RECEIVE_INVALID_ARG,  // a NULL transport or payload, or no buffers
  SOCKET_RECEIVE_SHUTDOWN      // the transport was disconnected
} SOCKET_RECEIVE_RESULT;

/** A transport over `socket`, which must be an open socket (SO_TYPE is readable); NULL otherwise or
    when memory is short (the socket is then left to the caller). Takes ownership on success. */
SOCKET_TRANSPORT_HANDLE socket_transport_create_from_socket(SOCKET_HANDLE socket);
/** Closes the socket (once; later calls do nothing). */
void socket_transport_disconnect(SOCKET_TRANSPORT_HANDLE socket_transport);
/** Closes the socket if still open, and frees the transport. NULL is ignored. */
void socket_transport_destroy(SOCKET_TRANSPORT_HANDLE socket_transport);

/** WSASend of `buffer_count` buffers with `flags` and `overlapped` (an OVERLAPPED*, or NULL for a
    blocking send); `bytes_sent` may be NULL (it must be, for an overlapped send that completes on a
    completion port, as Winsock advises). */
SOCKET_SEND_RESULT socket_transport_send(SOCKET_TRANSPORT_HANDLE socket_transport,
                                         const SOCKET_BUFFER* payload, uint32_t buffer_count,
                                         uint32_t* bytes_sent, uint32_t flags, void* overlapped);
/** WSARecv into `buffer_count` buffers, likewise. */
SOCKET_RECEIVE_RESULT socket_transport_receive(SOCKET_TRANSPORT_HANDLE socket_transport,
                                               SOCKET_BUFFER* payload, uint32_t buffer_count,
                                               uint32_t* bytes_received, uint32_t flags, void* overlapped);
/** The socket, or INVALID_SOCKET for a NULL or disconnected transport. */
SOCKET_HANDLE socket_transport_get_underlying_socket(SOCKET_TRANSPORT_HANDLE socket_transport);

#endif
