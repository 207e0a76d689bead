// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_DETAIL_SOCKET_OPS_HPP
#define SENET_NET_DETAIL_SOCKET_OPS_HPP

#include <sys/socket.h>

#include <cstddef>
#include <system_error>

#include <senet/io/detail/descriptor.hpp>

// The system calls behind the socket class templates, compiled once in src/senet/net/socket_ops.cpp.
// Each reports failure through `ec` (set to the errno value, or `error::not_open` for a closed
// descriptor) and clears `ec` on success.
namespace senet::net::detail {

/// socket(2) with SOCK_NONBLOCK | SOCK_CLOEXEC; returns the descriptor or -1.
int open_socket(int family, int type, int protocol, std::error_code& ec) noexcept;

void bind(int fd, const ::sockaddr* addr, std::size_t size, std::error_code& ec) noexcept;
void listen(int fd, int backlog, std::error_code& ec) noexcept;
void shutdown(int fd, int how, std::error_code& ec) noexcept;
void set_option(int fd, int level, int name, const void* data, std::size_t size,
                std::error_code& ec) noexcept;
/// On success `size` is the size the kernel wrote.
void get_option(int fd, int level, int name, void* data, std::size_t& size, std::error_code& ec) noexcept;
/// getsockname(2) / getpeername(2); `size` is the capacity on entry and the address size on return.
void local_address(int fd, ::sockaddr* addr, std::size_t& size, std::error_code& ec) noexcept;
void remote_address(int fd, ::sockaddr* addr, std::size_t& size, std::error_code& ec) noexcept;

/// Tells the io core to forget `d`, then closes it; `d` is closed afterwards even on error.
void close(io::detail::descriptor& d, std::error_code& ec) noexcept;
/// Tells the io core to forget `d` and returns its descriptor without closing it.
int release(io::detail::descriptor& d) noexcept;

// ---- Synchronous operations (basic_socket::connect, available; the send / receive / accept
// members of the derived classes). Each retries EINTR. When the kernel would block, `block`
// false reports `std::errc::operation_would_block` (connect: `std::errc::operation_in_progress`),
// and `block` true waits with poll(2) for readiness and tries again.

/// recvmsg(2) of `msg` with `flags`; returns the kernel's byte count (with MSG_TRUNC on a datagram
/// socket: the datagram's real length), 0 on error.
std::size_t sync_receive(int fd, ::msghdr& msg, int flags, bool block, std::error_code& ec) noexcept;
/// sendmsg(2) of `msg` with `flags | MSG_NOSIGNAL`; returns the bytes sent, 0 on error.
std::size_t sync_send(int fd, const ::msghdr& msg, int flags, bool block, std::error_code& ec) noexcept;
/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC, retrying ECONNABORTED and EPROTO (a connection
/// that died in the queue) as Asio does; `size` is the capacity of `addr` on entry and the
/// address size on return. Returns the new descriptor, or -1.
int sync_accept(int fd, ::sockaddr* addr, std::size_t& size, bool block, std::error_code& ec) noexcept;
/// connect(2); with `block`, an EINPROGRESS connection is waited for and its SO_ERROR reported.
void sync_connect(int fd, const ::sockaddr* addr, std::size_t size, bool block, std::error_code& ec) noexcept;
/// The bytes that can be read without blocking (ioctl FIONREAD); 0 on error.
std::size_t bytes_available(int fd, std::error_code& ec) noexcept;

/// The error every operation on a closed socket reports.
std::error_code not_open_error() noexcept;

/// Throws `std::system_error(ec, what)`.
[[noreturn]] void throw_error(const std::error_code& ec, const char* what);

/// Throws when `ec` holds an error.
inline void throw_on_error(const std::error_code& ec, const char* what) {
  if (ec) {
    throw_error(ec, what);
  }
}

}  // namespace senet::net::detail

#endif  // SENET_NET_DETAIL_SOCKET_OPS_HPP
