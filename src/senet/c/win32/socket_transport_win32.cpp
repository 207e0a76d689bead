// SPDX-License-Identifier: BSL-1.0
// socket_transport over Winsock (see socket_transport.h).
#include "senet/c/win32/socket_transport.h"

#include <atomic>
#include <cstddef>
#include <new>

struct SOCKET_TRANSPORT {
  std::atomic<SOCKET> socket{INVALID_SOCKET};
};

static_assert(sizeof(SOCKET_BUFFER) == sizeof(WSABUF));
static_assert(offsetof(SOCKET_BUFFER, length) == offsetof(WSABUF, len));
static_assert(offsetof(SOCKET_BUFFER, buffer) == offsetof(WSABUF, buf));

SOCKET_TRANSPORT_HANDLE socket_transport_create_from_socket(SOCKET_HANDLE socket) {
  if (socket == INVALID_SOCKET) {
    return nullptr;
  }
  int type = 0;
  int len = sizeof(type);
  if (::getsockopt(socket, SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &len) != 0) {
    return nullptr;  // not a socket, or a closed one (WSAENOTSOCK)
  }
  auto* t = new (std::nothrow) SOCKET_TRANSPORT;
  if (t != nullptr) {
    t->socket.store(socket, std::memory_order_relaxed);
  }
  return t;
}

void socket_transport_disconnect(SOCKET_TRANSPORT_HANDLE socket_transport) {
  if (socket_transport == nullptr) {
    return;
  }
  SOCKET s = socket_transport->socket.exchange(INVALID_SOCKET, std::memory_order_acq_rel);
  if (s != INVALID_SOCKET) {
    ::closesocket(s);
  }
}

void socket_transport_destroy(SOCKET_TRANSPORT_HANDLE socket_transport) {
  socket_transport_disconnect(socket_transport);
  delete socket_transport;
}

SOCKET_SEND_RESULT socket_transport_send(SOCKET_TRANSPORT_HANDLE socket_transport,
                                         const SOCKET_BUFFER* payload, uint32_t buffer_count,
                                         uint32_t* bytes_sent, uint32_t flags, void* overlapped) {
  if (socket_transport == nullptr || payload == nullptr || buffer_count == 0) {
    return SOCKET_SEND_INVALID_ARG;
  }
  SOCKET s = socket_transport->socket.load(std::memory_order_acquire);
  if (s == INVALID_SOCKET) {
    return SOCKET_SEND_SHUTDOWN;
  }
  DWORD sent = 0;
  // WSASend does not write to the buffers: the cast only matches its WSABUF* parameter.
  int rc = ::WSASend(s, reinterpret_cast<WSABUF*>(const_cast<SOCKET_BUFFER*>(payload)), buffer_count,
                     bytes_sent != nullptr ? &sent : nullptr, flags, static_cast<OVERLAPPED*>(overlapped),
                     nullptr);
  if (rc != 0) {
    return SOCKET_SEND_ERROR;
  }
  if (bytes_sent != nullptr) {
    *bytes_sent = sent;
  }
  return SOCKET_SEND_OK;
}

SOCKET_RECEIVE_RESULT socket_transport_receive(SOCKET_TRANSPORT_HANDLE socket_transport,
                                               SOCKET_BUFFER* payload, uint32_t buffer_count,
                                               uint32_t* bytes_received, uint32_t flags, void* overlapped) {
  if (socket_transport == nullptr || payload == nullptr || buffer_count == 0) {
    return SOCKET_RECEIVE_INVALID_ARG;
  }
  SOCKET s = socket_transport->socket.load(std::memory_order_acquire);
  if (s == INVALID_SOCKET) {
    return SOCKET_RECEIVE_SHUTDOWN;
  }
  DWORD received = 0;
  DWORD wsa_flags = flags;
  int rc = ::WSARecv(s, reinterpret_cast<WSABUF*>(payload), buffer_count,
                     bytes_received != nullptr ? &received : nullptr, &wsa_flags,
                     static_cast<OVERLAPPED*>(overlapped), nullptr);
  if (rc != 0) {
    return SOCKET_RECEIVE_ERROR;
  }
  if (bytes_received != nullptr) {
    *bytes_received = received;
  }
  return SOCKET_RECEIVE_OK;
}

SOCKET_HANDLE socket_transport_get_underlying_socket(SOCKET_TRANSPORT_HANDLE socket_transport) {
  return socket_transport == nullptr ? INVALID_SOCKET
                                     : socket_transport->socket.load(std::memory_order_acquire);
}
