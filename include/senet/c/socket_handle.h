/* SPDX-License-Identifier: BSL-1.0 */
#ifndef SENET_C_SOCKET_HANDLE_H
#define SENET_C_SOCKET_HANDLE_H

/** `SOCKET_HANDLE`: the platform's socket descriptor, as the C API takes it.

    On Linux a socket is a file descriptor, so `SOCKET_HANDLE` is an `int` and `INVALID_SOCKET`
    is -1, the value `socket(2)` and `accept(2)` return on failure. A program obtains the
    descriptor itself (socket + connect, or accept on a listening socket) and hands it to
    `async_socket_create`, which then owns it and closes it.

    The descriptor may be blocking or non-blocking: `async_socket_create` switches it to
    non-blocking mode (O_NONBLOCK), because every operation of the C API tries the system call
    first and waits for readiness only when it would block.

    On Windows a socket is a Winsock `SOCKET` (this header then includes `<winsock2.h>`, which
    defines `INVALID_SOCKET`); it must have been created overlapped (`socket()` and `accept()` make
    such sockets; `WSASocket` needs `WSA_FLAG_OVERLAPPED`), and the program calls `WSAStartup`
    before it makes one, as every Winsock program does.
*/
#ifdef _WIN32
#include <winsock2.h>
typedef SOCKET SOCKET_HANDLE;
#else
typedef int SOCKET_HANDLE;

/** The value of a `SOCKET_HANDLE` that names no socket (-1 on Linux). */
#ifndef INVALID_SOCKET
#define INVALID_SOCKET ((SOCKET_HANDLE)(-1))
#endif
#endif

#endif /* SENET_C_SOCKET_HANDLE_H */
