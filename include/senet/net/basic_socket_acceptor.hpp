// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_BASIC_SOCKET_ACCEPTOR_HPP
#define SENET_NET_BASIC_SOCKET_ACCEPTOR_HPP

#include <cstddef>
#include <system_error>
#include <utility>

#include <senet/error.hpp>
#include <senet/net/basic_socket.hpp>
#include <senet/net/basic_stream_socket.hpp>

namespace senet::net {

/** A listening socket: `net::async_accept(acceptor)` completes with a `socket_type` and the peer's
    `endpoint_type`; the synchronous `accept` takes a connection that is already waiting.

    Several acceptors, each with its own io_context and thread, can listen on one port when each
    sets `socket_base::reuse_port` before binding (the constructor's `reuse_port` argument): the
    kernel then spreads incoming connections over them (examples/echo_server_reuseport.cpp).

    See `basic_socket` for ownership, errors and thread safety.
*/
template <class Protocol>
class basic_socket_acceptor : public basic_socket<Protocol> {
  using base = basic_socket<Protocol>;

 public:
  using typename base::endpoint_type;
  using typename base::native_handle_type;
  using typename base::protocol_type;
  /// What `async_accept` produces.
  using socket_type = basic_stream_socket<Protocol>;

  /// A closed acceptor.
  basic_socket_acceptor() noexcept = default;

  /// An acceptor opened for `p`, neither bound nor listening; throws on failure.
  explicit basic_socket_acceptor(const protocol_type& p) : base(p) {}

  /** An acceptor listening on `ep`: open, set `reuse_address` (if asked), bind, listen.

      Bind to port 0 and read `local_endpoint().port()` to let the kernel pick a free port.
      Throws `std::system_error` on failure (for example `std::errc::address_in_use`).
  */
  explicit basic_socket_acceptor(const endpoint_type& ep, bool reuse_address = true,
                                 int backlog = socket_base::max_listen_connections)
      : base(ep.protocol()) {
    if (reuse_address) {
      this->set_option(socket_base::reuse_address{true});
    }
    this->bind(ep);
    listen(backlog);
  }

  /** As the constructor above, and `reuse_port` sets `socket_base::reuse_port` (`SO_REUSEPORT`)
      before binding, so that other acceptors that set it too (of the same user) can bind the same
      endpoint: one acceptor per io_context and thread, the kernel balancing connections between
      them. `acceptor(ep, true, true)` picks this constructor; `acceptor(ep, true, 128)` the one
      above (128 is the backlog). */
  basic_socket_acceptor(const endpoint_type& ep, bool reuse_address, bool reuse_port,
                        int backlog = socket_base::max_listen_connections)
      : base(ep.protocol()) {
    if (reuse_address) {
      this->set_option(socket_base::reuse_address{true});
    }
    if (reuse_port) {
      this->set_option(socket_base::reuse_port{true});
    }
    this->bind(ep);
    listen(backlog);
  }

  /// Takes ownership of `native_fd`, a socket of protocol `p` (listening or not).
  basic_socket_acceptor(const protocol_type& p, native_handle_type native_fd) : base(p, native_fd) {}

  basic_socket_acceptor(basic_socket_acceptor&&) noexcept = default;
  basic_socket_acceptor& operator=(basic_socket_acceptor&&) noexcept = default;
  ~basic_socket_acceptor() = default;

  /// Starts listening for connections (listen(2)); `backlog` defaults to the system's maximum.
  void listen(int backlog, std::error_code& ec) noexcept {
    if (this->check_open(ec)) {
      detail::listen(this->native_handle(), backlog, ec);
    }
  }
  void listen(std::error_code& ec) noexcept { listen(socket_base::max_listen_connections, ec); }
  void listen(int backlog = socket_base::max_listen_connections) {
    std::error_code ec;
    listen(backlog, ec);
    detail::throw_on_error(ec, "senet::net::basic_socket_acceptor::listen");
  }

  /** Keeps one standing accept armed on this acceptor (io_uring: a multishot `IORING_OP_ACCEPT`;
      epoll: `accept4` on each readiness edge) from its next `net::async_accept` on, instead of
      one accept request per call: `net::async_accept` calls then take the connections it
      accepted, in order, and connections that arrive while nobody waits are accepted and queued,
      up to `queue_limit` (after which the standing accept pauses and they wait in the kernel's
      listen backlog until the queue is half empty). `queue_limit` 0 turns it off again for
      accepts started later. A queued connection reset by its peer before it was taken is
      delivered all the same (its first operation reports the reset), or its accept fails.
      Closing the acceptor closes the connections still queued. On the test backend an accept
      then fails with `std::errc::operation_not_supported`.
      Thread safety: call it before starting accepts, not while one is pending. */
  void standing_accept(std::size_t queue_limit) noexcept {
    this->io_descriptor().accept_queue =
        static_cast<std::uint32_t>(queue_limit > 0xffffffU ? 0xffffffU : queue_limit);
  }
  /// The queue limit of `standing_accept`, 0 when off.
  [[nodiscard]] std::size_t standing_accept() noexcept { return this->io_descriptor().accept_queue; }

  // ---- Synchronous accept (see basic_socket::non_blocking) ----

  /** Accepts a connection that is waiting (accept4(2), non-blocking and close-on-exec like every
      senet socket) into the closed socket `peer`, and its address into `peer_endpoint`.

      Errors (the `std::error_code&` forms set `ec` and leave `peer` closed, the others throw
      `std::system_error`): `senet::error::not_open` if the acceptor is closed;
      `senet::error::already_open` if `peer` is open; `std::errc::operation_would_block` when no
      connection is waiting and the acceptor is `non_blocking()` (the default; otherwise the call
      waits for one); `std::errc::too_many_files_open` (`EMFILE`) and others as the kernel reports
      them (`std::errc::invalid_argument` when not listening). A connection reset while it waited
      (`ECONNABORTED`, `EPROTO`) is skipped, as Asio does, and `EINTR` retried.
      Thread safety: see `basic_socket`. */
  void accept(socket_type& peer, endpoint_type& peer_endpoint, std::error_code& ec) noexcept {
    accept_into(peer, &peer_endpoint, ec);
  }
  void accept(socket_type& peer, endpoint_type& peer_endpoint) {
    std::error_code ec;
    accept(peer, peer_endpoint, ec);
    detail::throw_on_error(ec, "senet::net::basic_socket_acceptor::accept");
  }
  /** As above, without the peer's address. */
  void accept(socket_type& peer, std::error_code& ec) noexcept { accept_into(peer, nullptr, ec); }
  void accept(socket_type& peer) {
    std::error_code ec;
    accept(peer, ec);
    detail::throw_on_error(ec, "senet::net::basic_socket_acceptor::accept");
  }

  /** As above, returning the new socket (closed on error). */
  [[nodiscard]] socket_type accept(endpoint_type& peer_endpoint, std::error_code& ec) noexcept {
    socket_type peer;
    accept_into(peer, &peer_endpoint, ec);
    return peer;
  }
  [[nodiscard]] socket_type accept(endpoint_type& peer_endpoint) {
    std::error_code ec;
    socket_type peer = accept(peer_endpoint, ec);
    detail::throw_on_error(ec, "senet::net::basic_socket_acceptor::accept");
    return peer;
  }
  [[nodiscard]] socket_type accept(std::error_code& ec) noexcept {
    socket_type peer;
    accept_into(peer, nullptr, ec);
    return peer;
  }
  [[nodiscard]] socket_type accept() {
    std::error_code ec;
    socket_type peer = accept(ec);
    detail::throw_on_error(ec, "senet::net::basic_socket_acceptor::accept");
    return peer;
  }

 private:
  void accept_into(socket_type& peer, endpoint_type* peer_endpoint, std::error_code& ec) noexcept {
    if (!this->check_open(ec)) {
      return;
    }
    if (peer.is_open()) {
      ec = senet::error::already_open;
      return;
    }
    endpoint_type ep;
    std::size_t size = ep.capacity();
    int fd = detail::sync_accept(this->native_handle(), detail::as_sockaddr(ep.data()), size,
                                 !this->non_blocking(), ec);
    if (ec) {
      return;
    }
    detail::resize_endpoint(ep, size, ec);
    if (!ec) {
      peer.assign(this->protocol(), fd, ec);
    }
    if (ec) {
      io::detail::descriptor orphan;
      orphan.fd = fd;
      std::error_code ignored;
      detail::close(orphan, ignored);
      return;
    }
    if (peer_endpoint != nullptr) {
      *peer_endpoint = std::move(ep);
    }
  }
};

}  // namespace senet::net

#endif  // SENET_NET_BASIC_SOCKET_ACCEPTOR_HPP
