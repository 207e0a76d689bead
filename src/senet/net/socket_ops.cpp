// SPDX-License-Identifier: BSL-1.0
#include <senet/net/detail/socket_ops.hpp>

#include <poll.h>
#include <sys/ioctl.h>
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
  if (!ec && level == SOL_SOCKET && name == SO_LINGER) {
    // The test backend learns it now: it may not see the socket again before it is closed.
    io::detail::test_backend_linger_set(fd);
  }
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

// ---- Synchronous operations ------------------------------------------------------------------

namespace {

bool would_block(int e) noexcept {
  return e == EAGAIN || e == EWOULDBLOCK;
}

/** Waits until `fd` is ready for `events` (or has an error or hang-up, which the caller's next
    system call reports). */
void wait_ready(int fd, short events, std::error_code& ec) noexcept {
  ::pollfd p{fd, events, 0};
  int r;
  do {
    r = ::poll(&p, 1, -1);
  } while (r < 0 && errno == EINTR);
  set_result(r, ec);
}

}  // namespace

std::size_t sync_receive(int fd, ::msghdr& msg, int flags, bool block, std::error_code& ec) noexcept {
  for (;;) {
    ::ssize_t n = ::recvmsg(fd, &msg, flags);
    if (n >= 0) {
      ec.clear();
      return static_cast<std::size_t>(n);
    }
    int e = errno;
    if (e == EINTR) {
      continue;
    }
    if (!block || !would_block(e)) {
      ec = senet::detail::errno_code(e);
      return 0;
    }
    wait_ready(fd, POLLIN, ec);
    if (ec) {
      return 0;
    }
  }
}

std::size_t sync_send(int fd, const ::msghdr& msg, int flags, bool block, std::error_code& ec) noexcept {
  for (;;) {
    // MSG_NOSIGNAL: a peer reset gives EPIPE, never SIGPIPE.
    ::ssize_t n = ::sendmsg(fd, &msg, flags | MSG_NOSIGNAL);
    if (n >= 0) {
      ec.clear();
      return static_cast<std::size_t>(n);
    }
    int e = errno;
    if (e == EINTR) {
      continue;
    }
    if (!block || !would_block(e)) {
      ec = senet::detail::errno_code(e);
      return 0;
    }
    wait_ready(fd, POLLOUT, ec);
    if (ec) {
      return 0;
    }
  }
}

int sync_accept(int fd, ::sockaddr* addr, std::size_t& size, bool block, std::error_code& ec) noexcept {
  for (;;) {
    auto len = static_cast<::socklen_t>(size);
    int peer = ::accept4(fd, addr, addr != nullptr ? &len : nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (peer >= 0) {
      size = addr != nullptr ? len : 0;
      ec.clear();
      return peer;
    }
    int e = errno;
    // A connection reset while it waited in the queue is not the listener's failure.
    if (e == EINTR || e == ECONNABORTED || e == EPROTO) {
      continue;
    }
    if (!block || !would_block(e)) {
      ec = senet::detail::errno_code(e);
      return -1;
    }
    wait_ready(fd, POLLIN, ec);
    if (ec) {
      return -1;
    }
  }
}

void sync_connect(int fd, const ::sockaddr* addr, std::size_t size, bool block,
                  std::error_code& ec) noexcept {
  for (;;) {
    if (::connect(fd, addr, static_cast<::socklen_t>(size)) == 0) {
      ec.clear();
      return;
    }
    int e = errno;
    // After EINTR the connection proceeds in the background, as after EINPROGRESS.
    bool in_progress = e == EINPROGRESS || e == EINTR;
    if (!in_progress && !would_block(e)) {
      ec = senet::detail::errno_code(e);
      return;
    }
    if (!block) {
      ec = senet::detail::errno_code(in_progress ? EINPROGRESS : EWOULDBLOCK);
      return;
    }
    wait_ready(fd, POLLOUT, ec);
    if (ec) {
      return;
    }
    if (in_progress) {
      int error = 0;
      ::socklen_t len = sizeof error;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0) {
        error = errno;
      }
      if (error != 0) {
        ec = senet::detail::errno_code(error);
      } else {
        ec.clear();
      }
      return;
    }
    // EAGAIN (a local socket whose listener's queue is full): try again once writable.
  }
}

std::size_t bytes_available(int fd, std::error_code& ec) noexcept {
  int n = 0;
  if (::ioctl(fd, FIONREAD, &n) < 0) {
    ec = senet::detail::last_error();
    return 0;
  }
  ec.clear();
  return static_cast<std::size_t>(n);
}

std::error_code not_open_error() noexcept {
  return senet::error::make_error_code(senet::error::not_open);
}

void throw_error(const std::error_code& ec, const char* what) {
  throw std::system_error(ec, what);
}

}  // namespace senet::net::detail
