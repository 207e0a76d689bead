// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_NET_SOCKET_HPP
#define SENET_CORO_NET_SOCKET_HPP

#include <senet/coro/net/detail/ip_socket.hpp>
#include <senet/coro/net/ip_address.hpp>
#include <senet/coro/poll.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/poll_events.hpp>
#include <senet/net/async_wait.hpp>

#include <cstdint>
#include <utility>

namespace senet::coro::net {

/** An owning socket, as libcoro 0.15's `coro::net::socket`: TCP (connected or listening) or UDP,
    IPv4 or IPv6, chosen at run time.

    Underneath is a senet socket (`senet::net::basic_socket`, reachable through `senet_socket()`):
    the descriptor is opened non-blocking and close-on-exec, readiness waits and the
    asynchronous operations of `tcp::client`, `tcp::server` and `udp::peer` are senet's, and
    closing the socket (or destroying it) completes any wait still pending on it, on its
    scheduler's thread, before the descriptor is closed.

    Differences from libcoro that code may notice:
    - `blocking(blocking_t::yes)` keeps the descriptor `O_NONBLOCK` (what lets a scheduler try a
      system call without blocking its thread) and makes this object's synchronous calls
      (`tcp::client::send` / `recv`, `tcp::server::accept`, `udp::peer::sendto` / `recvfrom`)
      wait for readiness with `poll(2)` instead, as `senet::net::basic_socket::non_blocking(false)`
      does: the same behaviour for the caller. `fcntl` on `native_handle()` therefore shows
      `O_NONBLOCK` whatever the mode.
    - Copying duplicates the descriptor (`F_DUPFD_CLOEXEC`, as libcoro's `dup`, but not inherited
      by child processes); the copy keeps the blocking mode. If that fails the copy is invalid.

    Thread safety: as `senet::net::basic_socket`: one object is used by one thread at a time,
    except that `close()` and the destructor may run on any thread while a wait is pending.
*/
class socket {
 public:
  /** The transport. */
  enum class type_t {
    /** UDP datagram socket. */
    udp,
    /** TCP stream socket. */
    tcp,
  };

  /** Whether the synchronous calls wait (see the class comment). */
  enum class blocking_t {
    /** Synchronous calls wait until they can complete. */
    yes,
    /** Synchronous calls fail with `would_block` instead of waiting (the default of every socket
        made by `make_socket`, `tcp::client`, `tcp::server` and `udp::peer`). */
    no,
  };

  /** What `make_socket` makes. */
  struct options {
    /** The address family. */
    domain_t domain;
    /** The transport. */
    type_t type;
    /** The mode of the synchronous calls. */
    blocking_t blocking;
  };

  /** `SOCK_DGRAM` or `SOCK_STREAM`; throws `std::logic_error` for any other value. */
  [[nodiscard]] static int type_to_os(type_t type);

  /** An invalid socket (no descriptor). */
  socket() = default;

  /** Takes ownership of the descriptor `fd` (a socket, as the kernel reports its family and type;
      -1 makes an invalid socket). The descriptor is used as it is: a blocking descriptor blocks in
      the synchronous calls. */
  explicit socket(int fd);

  /** A duplicate of `other`'s descriptor, or an invalid socket if `other` is invalid or the
      descriptor cannot be duplicated. */
  socket(const socket& other);

  /** Takes `other`'s descriptor; `other` becomes invalid. Waits pending on `other` complete (with
      `poll_status::closed`); the descriptor stays open. */
  socket(socket&& other) noexcept = default;

  /** Closes this socket, then duplicates `other`'s descriptor (invalid if that fails). */
  socket& operator=(const socket& other) noexcept;

  /** Closes this socket, then takes `other`'s descriptor. */
  socket& operator=(socket&& other) noexcept = default;

  /** Closes the socket. */
  ~socket() = default;

  /** True while the socket holds a descriptor; says nothing of the connection's state. */
  [[nodiscard]] bool is_valid() const noexcept { return sock_.is_open(); }

  /** Sets the mode of the synchronous calls (see the class comment); false on an invalid socket. */
  bool blocking(blocking_t block) noexcept;

  /** Shuts down the directions `how` names (`read`: `SHUT_RD`, `write`: `SHUT_WR`, `read_write`:
      both). True when the system call succeeded; false on an invalid or unconnected socket. */
  bool shutdown(poll_op how = poll_op::read_write) noexcept;

  /** Closes the descriptor; the socket becomes invalid. Waits pending on it complete with
      `poll_status::closed`. Closing an invalid socket does nothing. */
  void close() noexcept;

  /** The descriptor, or -1. The socket keeps owning it. */
  [[nodiscard]] int native_handle() const noexcept { return sock_.native_handle(); }

  /** The senet socket underneath, for senet's own operations (`senet::net::async_wait`, ...). */
  [[nodiscard]] detail::ip_socket& senet_socket() noexcept { return sock_; }
  /** As above. */
  [[nodiscard]] const detail::ip_socket& senet_socket() const noexcept { return sock_; }

  /** A socket that owns `sock`. */
  explicit socket(detail::ip_socket&& sock) noexcept : sock_(std::move(sock)) {}

  /** senet: the readiness wait `io_scheduler::poll(socket, op, timeout)` uses for this socket: a
      `net::async_wait` on `ctx` for `events` (`readable`, `writable`), so that a poll through the
      scheduler and one through a `tcp::client` share the socket's registration with the
      io_context (polling the descriptor as a foreign one would conflict with it). The socket is
      not changed in any way a user can see, hence `const`. */
  [[nodiscard]] auto wait_sender(io::io_context& ctx, io::poll_events events) const noexcept {
    // The wait registers the descriptor with `ctx`: io core state, not the socket's value.
    return senet::net::async_wait(ctx.get_scheduler(), const_cast<detail::ip_socket&>(sock_),
                                  detail::wait_type_of(events));
  }

 private:
  detail::ip_socket sock_;
};

/** Makes a socket with `opts` (for a `tcp::client` or a sending `udp::peer`). Throws
    `std::system_error` (a `std::runtime_error`, as libcoro throws) when the kernel refuses. */
[[nodiscard]] socket make_socket(const socket::options& opts);

/** Makes a socket with `opts` bound to `address`:`port` (port 0: the kernel picks one; read it
    with `getsockname` on `native_handle()`), and for TCP listening with `backlog`. It sets
    `SO_REUSEADDR` and `SO_REUSEPORT` before binding, as libcoro does, so that several servers
    (one per thread, libcoro's echo example) can listen on one port. Throws `std::system_error`
    when the kernel refuses (the port is taken, the address is not local) or when `address`'s
    domain is not `opts.domain` (`std::errc::address_family_not_supported`). */
[[nodiscard]] socket make_accept_socket(const socket::options& opts, const net::ip_address& address,
                                        std::uint16_t port, std::int32_t backlog = 128);

}  // namespace senet::coro::net

#endif  // SENET_CORO_NET_SOCKET_HPP
