// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_NET_TCP_SERVER_HPP
#define SENET_CORO_NET_TCP_SERVER_HPP

#include <senet/coro/io_scheduler.hpp>
#include <senet/coro/net/ip_address.hpp>
#include <senet/coro/net/poll_awaitable.hpp>
#include <senet/coro/net/socket.hpp>
#include <senet/coro/net/tcp/client.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace senet::coro::net::tcp {

/** A listening TCP socket, as libcoro 0.15's `coro::net::tcp::server`: `co_await server.poll()`
    waits for a connection, `server.accept()` takes it as a `tcp::client`.

    The socket is bound and listening when the constructor returns (`SO_REUSEADDR` and
    `SO_REUSEPORT` set, as libcoro does, so that one server per thread can share a port), on
    `options::address` (IPv4 or IPv6) and `options::port` (0: the kernel picks one; `socket()` then
    tells which, with `getsockname`). `poll` is senet's `net::async_wait` on the scheduler's
    io_context: `io_scheduler::shutdown()` ends a pending `poll` with `poll_status::closed`, so a
    server loop blocked in `co_await server.poll()` ends when its scheduler shuts down (libcoro's
    shutdown would wait for it forever).

    Thread safety: one server is used by one coroutine at a time. Move-only.
*/
class server {
 public:
  /** Where to listen. */
  struct options {
    /** The address to bind to (`0.0.0.0`: every IPv4 interface; `::`: every interface). */
    net::ip_address address{net::ip_address::from_string("0.0.0.0")};
    /** The port to bind to (0: the kernel picks one). */
    std::uint16_t port{8080};
    /** The length of the kernel's queue of connections not yet accepted. */
    std::int32_t backlog{128};
  };

  /** A server of `scheduler` listening on `opts`. Throws `std::runtime_error` if `scheduler` is
      null, `std::system_error` if the socket cannot be bound or listen (the port is taken). */
  explicit server(std::shared_ptr<io_scheduler> scheduler,
                  options opts = options{
                      .address = net::ip_address::from_string("0.0.0.0"), .port = 8080, .backlog = 128});

  server(const server&) = delete;
  server& operator=(const server&) = delete;
  /** Takes `other`'s socket; `other` has none afterwards. */
  server(server&& other) noexcept = default;
  /** Closes this server's socket, then takes `other`'s. */
  server& operator=(server&& other) noexcept = default;
  /** Closes the socket (a pending `poll` ends with `poll_status::closed`). */
  ~server() = default;

  /** Waits until a connection is waiting to be accepted (`event`), or `timeout` passes (0: no
      limit); see `poll_awaitable`. */
  [[nodiscard]] poll_awaitable poll(std::chrono::milliseconds timeout = std::chrono::milliseconds{0}) {
    return poll_awaitable(*scheduler_, accept_socket_.senet_socket(), poll_op::read, timeout);
  }

  /** Accepts a waiting connection (one non-blocking `accept4`): a client whose socket is
      connected, whose options hold the peer's address and port, and which belongs to this
      server's scheduler. When none is waiting or the kernel refuses (`EMFILE`...) the client's
      socket is invalid (`client.socket().is_valid()` is false) and `errno` says why, as in
      libcoro. */
  [[nodiscard]] client accept();

  /** senet: the listening socket (to read the port the kernel picked, say). */
  [[nodiscard]] const net::socket& socket() const noexcept { return accept_socket_; }

 private:
  std::shared_ptr<io_scheduler> scheduler_;
  options options_;
  net::socket accept_socket_;
};

}  // namespace senet::coro::net::tcp

#endif  // SENET_CORO_NET_TCP_SERVER_HPP
