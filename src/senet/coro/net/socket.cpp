// SPDX-License-Identifier: BSL-1.0
#include <senet/coro/net/socket.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <system_error>

#include <senet/error.hpp>
#include <senet/net/detail/socket_ops.hpp>
#include <senet/net/socket_base.hpp>

namespace senet::coro::net {

namespace detail {

ip_protocol ip_protocol::of(int fd) noexcept {
  int family = 0;
  int type = 0;
  ::socklen_t len = sizeof(int);
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) != 0 ||
      (family != AF_INET && family != AF_INET6)) {
    return {};
  }
  len = sizeof(int);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
    return {};
  }
  return {family, type};
}

void ip_socket::accept(ip_socket& peer, ip_protocol::endpoint* from, std::error_code& ec) noexcept {
  if (!check_open(ec)) {
    return;
  }
  if (peer.is_open()) {
    ec = senet::error::already_open;
    return;
  }
  ip_protocol::endpoint ep;
  std::size_t size = ip_protocol::endpoint::capacity();
  int fd = senet::net::detail::sync_accept(native_handle(), ep.data(), size, !non_blocking(), ec);
  if (ec) {
    return;
  }
  peer.assign(protocol(), fd, ec);  // cannot fail: peer is closed and fd is open
  ep.resize(size, ec);
  if (from != nullptr && !ec) {
    *from = ep;
  }
}

}  // namespace detail

namespace {

// A duplicate of `from`'s descriptor with its protocol and mode; closed if dup fails.
detail::ip_socket duplicate(const detail::ip_socket& from) noexcept {
  detail::ip_socket copy;
  if (!from.is_open()) {
    return copy;
  }
  int fd = ::fcntl(from.native_handle(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    return copy;
  }
  std::error_code ec;
  copy.assign(from.protocol(), fd, ec);
  copy.non_blocking(from.non_blocking(), ec);
  return copy;
}

}  // namespace

int socket::type_to_os(type_t type) {
  switch (type) {
    case type_t::udp:
      return SOCK_DGRAM;
    case type_t::tcp:
      return SOCK_STREAM;
  }
  throw std::logic_error("senet::coro::net::socket::type_to_os: unknown type_t " +
                         std::to_string(static_cast<int>(type)));
}

socket::socket(int fd) {
  if (fd >= 0) {
    sock_.assign(detail::ip_protocol::of(fd), fd);
  }
}

socket::socket(const socket& other) : sock_(duplicate(other.sock_)) {}

socket& socket::operator=(const socket& other) noexcept {
  if (this != &other) {
    close();
    sock_ = duplicate(other.sock_);
  }
  return *this;
}

bool socket::blocking(blocking_t block) noexcept {
  std::error_code ec;
  sock_.non_blocking(block == blocking_t::no, ec);
  return !ec;
}

bool socket::shutdown(poll_op how) noexcept {
  senet::net::socket_base::shutdown_type what = senet::net::socket_base::shutdown_both;
  if (how == poll_op::read) {
    what = senet::net::socket_base::shutdown_receive;
  } else if (how == poll_op::write) {
    what = senet::net::socket_base::shutdown_send;
  }
  std::error_code ec;
  sock_.shutdown(what, ec);
  return !ec;
}

void socket::close() noexcept {
  std::error_code ignored;
  sock_.close(ignored);
}

socket make_socket(const socket::options& opts) {
  if (opts.domain != domain_t::ipv4 && opts.domain != domain_t::ipv6) {
    throw std::system_error(std::make_error_code(std::errc::address_family_not_supported),
                            "senet::coro::net::make_socket: unknown domain_t");
  }
  detail::ip_socket sock;
  std::error_code ec;
  sock.open(detail::ip_protocol(static_cast<int>(opts.domain), socket::type_to_os(opts.type)), ec);
  senet::net::detail::throw_on_error(ec, "senet::coro::net::make_socket");
  socket s(std::move(sock));
  s.blocking(opts.blocking);
  return s;
}

socket make_accept_socket(const socket::options& opts, const net::ip_address& address, std::uint16_t port,
                          std::int32_t backlog) {
  if (address.domain() != opts.domain) {
    throw std::system_error(std::make_error_code(std::errc::address_family_not_supported),
                            "senet::coro::net::make_accept_socket: " + address.to_string() +
                                " is not an address of the socket's domain " + to_string(opts.domain));
  }
  socket s = make_socket(opts);
  detail::ip_socket& sock = s.senet_socket();
  sock.set_option(senet::net::socket_base::reuse_address{true});
  sock.set_option(senet::net::socket_base::reuse_port{true});
  std::error_code ec;
  sock.bind(detail::ip_protocol::endpoint(address.to_address(), port), ec);
  if (ec) {
    throw std::system_error(ec, "senet::coro::net::make_accept_socket: bind to " + address.to_string() +
                                    " port " + std::to_string(port));
  }
  if (opts.type == socket::type_t::tcp) {
    senet::net::detail::listen(sock.native_handle(), backlog, ec);
    senet::net::detail::throw_on_error(ec, "senet::coro::net::make_accept_socket: listen");
  }
  return s;
}

}  // namespace senet::coro::net
