// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_DESCRIPTOR_PAIR_HPP
#define SENET_TEST_SUPPORT_DESCRIPTOR_PAIR_HPP

/* Descriptors for the backend tests that drive raw operation records (support/operation_record.hpp):
   a descriptor the test owns, a connected pair of Unix sockets, and a socket bound to 127.0.0.1
   port 0. */

#include <senet/io/detail/descriptor.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace senet::test {

/** A descriptor owned by the test: released (as a socket would) and closed on destruction. */
struct test_fd {
  io::detail::descriptor d;

  explicit test_fd(int fd = -1) noexcept { d.fd = fd; }
  test_fd(const test_fd&) = delete;
  test_fd& operator=(const test_fd&) = delete;
  ~test_fd() { close(); }

  void close() noexcept {
    io::detail::release_descriptor(d);
    if (d.fd >= 0) {
      ::close(d.fd);
      d.fd = -1;
    }
  }
};

/** A connected pair of non-blocking Unix stream (or datagram) sockets, `a.d` and `b.d`. */
struct socket_pair {
  test_fd a;
  test_fd b;

  explicit socket_pair(int type = SOCK_STREAM) {
    int fds[2];
    if (::socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
      throw std::system_error(errno, std::system_category(), "socketpair");
    }
    a.d.fd = fds[0];
    b.d.fd = fds[1];
  }
};

/** 127.0.0.1 with `port`. */
inline ::sockaddr_in loopback_v4(std::uint16_t port = 0) {
  ::sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

/** A non-blocking socket bound to 127.0.0.1, port 0 (`addr` receives its address); `listening`
    makes it a TCP listener. */
inline int bound_socket(int type, bool listening, ::sockaddr_in& addr) {
  int fd = ::socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw std::system_error(errno, std::system_category(), "socket");
  }
  addr = loopback_v4();
  ::socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<::sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<::sockaddr*>(&addr), &len) != 0 ||
      (listening && ::listen(fd, 64) != 0)) {
    int e = errno;
    ::close(fd);
    throw std::system_error(e, std::system_category(), "bind/listen");
  }
  return fd;
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_DESCRIPTOR_PAIR_HPP
