// SPDX-License-Identifier: BSL-1.0
#include <senet/net/detail/socket_ops.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <senet/error.hpp>

#include "senet/backend/test_hooks.hpp"

namespace senet::net::detail {

namespace {

void set_result(int rc, std::error_code& ec) noexcept {
  if (rc < 0) {
    ec = senet::detail::last_error();
  } else {
    ec.clear();
  }
}

}  // namespace

int open_socket(int family, int type, int protocol, std::error_code& ec) noexcept {
  int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  set_result(fd, ec);
  return fd;
}

void bind(int fd, const ::sockaddr* addr, std::size_t size, std::error_code& ec) noexcept {
  set_result(::bind(fd, addr, static_cast<::socklen_t>(size)), ec);
}

void listen(int fd, int backlog, std::error_code& ec) noexcept {
  set_result(::listen(fd, backlog), ec);
}

// Sockets connected by the in-memory test backend are not connected for the kernel, which answers
// ENOTCONN; only then is the backend asked, so the kernel path pays for nothing but that branch.

void shutdown(int fd, int how, std::error_code& ec) noexcept {
  if (::shutdown(fd, how) == 0) {
    ec.clear();
    return;
  }
  ec = senet::detail::last_error();
  if (ec == std::errc::not_connected && io::detail::test_backend_shutdown(fd, how)) {
    ec.clear();
  }
}

void set_option(int fd, int level, int name, const void* data, std::size_t size,
                std::error_code& ec) noexcept {
  set_result(::setsockopt(fd, level, name, data, static_cast<::socklen_t>(size)), ec);
}

void get_option(int fd, int level, int name, void* data, std::size_t& size, std::error_code& ec) noexcept {
  auto len = static_cast<::socklen_t>(size);
  int rc = ::getsockopt(fd, level, name, data, &len);
  set_result(rc, ec);
  if (rc == 0) {
    size = len;
  }
}

void local_address(int fd, ::sockaddr* addr, std::size_t& size, std::error_code& ec) noexcept {
  auto len = static_cast<::socklen_t>(size);
  int rc = ::getsockname(fd, addr, &len);
  set_result(rc, ec);
  if (rc == 0) {
    size = len;
  }
}

void remote_address(int fd, ::sockaddr* addr, std::size_t& size, std::error_code& ec) noexcept {
  auto len = static_cast<::socklen_t>(size);
  int rc = ::getpeername(fd, addr, &len);
  set_result(rc, ec);
  if (rc == 0) {
    size = len;
  } else if (ec == std::errc::not_connected) {
    if (std::size_t n = io::detail::test_backend_peer(fd, addr, size); n != 0) {
      size = n;
      ec.clear();
    }
  }
}

void close(io::detail::descriptor& d, std::error_code& ec) noexcept {
  io::detail::release_descriptor(d);
  int fd = d.fd;
  d.fd = -1;
  // On Linux the descriptor is freed even when close(2) fails (EINTR included), so it must never
  // be closed again; the error is only reported.
  if (::close(fd) < 0 && errno != EINTR) {
    ec = senet::detail::last_error();
  } else {
    ec.clear();
  }
}

int release(io::detail::descriptor& d) noexcept {
  io::detail::release_descriptor(d);
  int fd = d.fd;
  d.fd = -1;
  return fd;
}

std::error_code not_open_error() noexcept {
  return senet::error::make_error_code(senet::error::not_open);
}

void throw_error(const std::error_code& ec, const char* what) {
  throw std::system_error(ec, what);
}

}  // namespace senet::net::detail
