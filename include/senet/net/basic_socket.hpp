// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_BASIC_SOCKET_HPP
#define SENET_NET_BASIC_SOCKET_HPP

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <system_error>
#include <type_traits>
#include <utility>

#include <senet/io/detail/descriptor.hpp>
#include <senet/net/detail/socket_ops.hpp>
#include <senet/net/socket_base.hpp>

namespace senet::net {

namespace detail {

// Endpoints expose their address through data(); accept both `sockaddr*` and `void*` spellings.
template <class T>
const ::sockaddr* as_sockaddr(const T* p) noexcept {
  return static_cast<const ::sockaddr*>(static_cast<const void*>(p));
}
template <class T>
::sockaddr* as_sockaddr(T* p) noexcept {
  return static_cast<::sockaddr*>(static_cast<void*>(p));
}

/// Records the address size the kernel wrote, through the non-throwing `resize` when there is one.
template <class Endpoint>
void resize_endpoint(Endpoint& ep, std::size_t size, std::error_code& ec) noexcept {
  if constexpr (requires { ep.resize(size, ec); }) {
    ep.resize(size, ec);
  } else if (size > ep.capacity()) {
    ec = std::make_error_code(std::errc::invalid_argument);
  } else {
    ep.resize(size);
  }
}

}  // namespace detail

/** The part every socket shares: it owns one descriptor, opened for one protocol.

    A socket is RAII: it closes its descriptor on destruction. It is move-only; a moved-from socket
    is closed. Descriptors senet opens are non-blocking and close-on-exec from birth
    (`SOCK_NONBLOCK | SOCK_CLOEXEC`), so that no operation blocks the thread of an `io_context` and
    no descriptor leaks into a child process.

    Sockets are not bound to an `io_context`: an asynchronous operation takes the I/O scheduler of
    the receiver it is connected to. The context that first waits on a socket keeps its per-socket
    state in the socket's `io_descriptor()`, and forgets it when the socket is closed or released.

    Every operation comes in two forms: one taking `std::error_code&` (noexcept; it clears the code
    on success) and one throwing `std::system_error`. Any operation on a closed socket fails with
    `senet::error::not_open`.

    `Protocol` provides `family()`, `type()`, `protocol()` and the nested type `endpoint`, whose
    objects provide `data()`, `size()`, `capacity()` and `resize(n)`.

    Thread safety: distinct objects are independent; one object must not be used from two threads
    at once, except that one asynchronous receive and one asynchronous send may be in flight.
*/
template <class Protocol>
class basic_socket : public socket_base {
  static_assert(std::is_nothrow_default_constructible_v<Protocol> &&
                    std::is_nothrow_copy_constructible_v<Protocol>,
                "a socket's Protocol must be nothrow default- and copy-constructible");

 public:
  using protocol_type = Protocol;
  using endpoint_type = typename Protocol::endpoint;
  using native_handle_type = int;

  basic_socket(const basic_socket&) = delete;
  basic_socket& operator=(const basic_socket&) = delete;

  /// Whether the socket owns an open descriptor.
  [[nodiscard]] bool is_open() const noexcept { return desc_.fd >= 0; }

  /// The descriptor, or -1 when closed. The socket keeps owning it.
  [[nodiscard]] native_handle_type native_handle() const noexcept { return desc_.fd; }

  /// The protocol the socket was opened with; a default-constructed `Protocol` while closed.
  [[nodiscard]] protocol_type protocol() const noexcept { return protocol_; }

  /// The descriptor and the io core's state for it, for senet's operations.
  [[nodiscard]] io::detail::descriptor& io_descriptor() noexcept { return desc_; }

  /** Asks that a send on this socket try its system call as soon as it starts, and complete inside
      `start()` when the socket takes the bytes at once (off by default; see `eager_receive`).

      Set it where a send should not wait for the loop: an awaitable or `write_now` that should
      finish without suspending, a latency-sensitive reply. On io_uring a send is otherwise handed
      to the ring, where the one `io_uring_enter` per loop turn submits every socket's sends: a
      server with many busy connections spends less CPU that way (docs/benchmarks.md, "Trying the
      system call first on io_uring"). epoll and the test backend try first anyway.
  */
  void eager_send(bool on) noexcept { set_eager(io::detail::eager_send, on); }
  /// Whether `eager_send(true)` is in force.
  [[nodiscard]] bool eager_send() const noexcept { return (desc_.eager & io::detail::eager_send) != 0; }

  /** Asks that a receive on this socket try its system call as soon as it starts, and complete
      inside `start()` when data is already waiting (off by default).

      Set it where data is usually there when a receive starts: reading the rest of a message that
      has begun to arrive, a parser that reads until the socket is drained, an awaitable that should
      not suspend. Leave it off where a receive usually waits (a server waiting for the next
      request): on io_uring the receive is then handed to the ring at once, where trying first
      would add a `recvmsg` that nearly always fails (docs/benchmarks.md has the figures). epoll and
      the test backend try first anyway; on epoll the setting also makes a receive try when the last
      one drained the socket and no readiness edge has been seen since.

      Both settings keep the order: an operation started while another of its direction (sends;
      receives) is pending waits behind it and is not tried first. They belong to the socket
      object: they move with the socket and stay across `close()` and `open()`. Thread safety: like
      the socket's other members; they take effect for operations started afterwards.
  */
  void eager_receive(bool on) noexcept { set_eager(io::detail::eager_receive, on); }
  /// Whether `eager_receive(true)` is in force.
  [[nodiscard]] bool eager_receive() const noexcept { return (desc_.eager & io::detail::eager_receive) != 0; }

  /// Opens a new descriptor for `p`; fails with `std::errc::already_connected` if already open.
  void open(const protocol_type& p, std::error_code& ec) noexcept {
    if (is_open()) {
      ec = std::make_error_code(std::errc::already_connected);
      return;
    }
    int fd = detail::open_socket(p.family(), p.type(), p.protocol(), ec);
    if (!ec) {
      desc_.fd = fd;
      protocol_ = p;
    }
  }
  void open(const protocol_type& p) {
    std::error_code ec;
    open(p, ec);
    detail::throw_on_error(ec, "senet::net::basic_socket::open");
  }

  /// Takes ownership of `fd`, an open socket of protocol `p`. The caller makes it non-blocking
  /// and close-on-exec if it wants the guarantees senet's own sockets have.
  void assign(const protocol_type& p, native_handle_type fd, std::error_code& ec) noexcept {
    if (is_open()) {
      ec = std::make_error_code(std::errc::already_connected);
      return;
    }
    if (fd < 0) {
      ec = std::make_error_code(std::errc::bad_file_descriptor);
      return;
    }
    ec.clear();
    desc_.fd = fd;
    desc_.context_state = nullptr;
    protocol_ = p;
  }
  void assign(const protocol_type& p, native_handle_type fd) {
    std::error_code ec;
    assign(p, fd, ec);
    detail::throw_on_error(ec, "senet::net::basic_socket::assign");
  }

  /// Binds the socket to the local endpoint `ep`.
  void bind(const endpoint_type& ep, std::error_code& ec) noexcept {
    if (check_open(ec)) {
      detail::bind(desc_.fd, detail::as_sockaddr(ep.data()), ep.size(), ec);
    }
  }
  void bind(const endpoint_type& ep) {
    std::error_code ec;
    bind(ep, ec);
    detail::throw_on_error(ec, "senet::net::basic_socket::bind");
  }

  /// Sets a socket option (see `socket_base` for the usual ones).
  template <class Option>
  void set_option(const Option& option, std::error_code& ec) noexcept {
    if (check_open(ec)) {
      const protocol_type& p = protocol_;
      detail::set_option(desc_.fd, option.level(p), option.name(p), option.data(p), option.size(p), ec);
    }
  }
  template <class Option>
  void set_option(const Option& option) {
    std::error_code ec;
    set_option(option, ec);
    detail::throw_on_error(ec, "senet::net::basic_socket::set_option");
  }

  /// Reads a socket option into `option`.
  template <class Option>
  void get_option(Option& option, std::error_code& ec) const noexcept {
    if (check_open(ec)) {
      const protocol_type& p = protocol_;
      std::size_t size = option.size(p);
      detail::get_option(desc_.fd, option.level(p), option.name(p), option.data(p), size, ec);
      if (!ec) {
        option.resize(p, size);
      }
    }
  }
  template <class Option>
  void get_option(Option& option) const {
    std::error_code ec;
    get_option(option, ec);
    detail::throw_on_error(ec, "senet::net::basic_socket::get_option");
  }
  /// Reads a socket option and returns it: `sock.get_option<socket_base::reuse_address>()`.
  template <class Option>
  [[nodiscard]] Option get_option() const {
    Option option;
    get_option(option);
    return option;
  }

  /// The local address the socket is bound to (getsockname(2)).
  [[nodiscard]] endpoint_type local_endpoint(std::error_code& ec) const noexcept {
    endpoint_type ep;
    if (check_open(ec)) {
      std::size_t size = ep.capacity();
      detail::local_address(desc_.fd, detail::as_sockaddr(ep.data()), size, ec);
      if (!ec) {
        detail::resize_endpoint(ep, size, ec);
      }
    }
    return ep;
  }
  [[nodiscard]] endpoint_type local_endpoint() const {
    std::error_code ec;
    endpoint_type ep = local_endpoint(ec);
    detail::throw_on_error(ec, "senet::net::basic_socket::local_endpoint");
    return ep;
  }

  /// The address of the connected peer (getpeername(2)); `std::errc::not_connected` if none.
  [[nodiscard]] endpoint_type remote_endpoint(std::error_code& ec) const noexcept {
    endpoint_type ep;
    if (check_open(ec)) {
      std::size_t size = ep.capacity();
      detail::remote_address(desc_.fd, detail::as_sockaddr(ep.data()), size, ec);
      if (!ec) {
        detail::resize_endpoint(ep, size, ec);
      }
    }
    return ep;
  }
  [[nodiscard]] endpoint_type remote_endpoint() const {
    std::error_code ec;
    endpoint_type ep = remote_endpoint(ec);
    detail::throw_on_error(ec, "senet::net::basic_socket::remote_endpoint");
    return ep;
  }

  /// Shuts down one or both directions of a connection (shutdown(2)).
  void shutdown(shutdown_type what, std::error_code& ec) noexcept {
    if (check_open(ec)) {
      detail::shutdown(desc_.fd, static_cast<int>(what), ec);
    }
  }
  void shutdown(shutdown_type what) {
    std::error_code ec;
    shutdown(what, ec);
    detail::throw_on_error(ec, "senet::net::basic_socket::shutdown");
  }

  /// Closes the descriptor. Operations still waiting on it in an io_context complete with
  /// `senet::error::operation_aborted`. The socket is closed afterwards even if close(2) reports
  /// an error. Closing a closed socket is not an error.
  void close(std::error_code& ec) noexcept {
    if (!is_open()) {
      ec.clear();
      return;
    }
    detail::close(desc_, ec);
    protocol_ = protocol_type{};
  }
  void close() {
    std::error_code ec;
    close(ec);
    detail::throw_on_error(ec, "senet::net::basic_socket::close");
  }

  /// Gives up ownership: returns the descriptor (or -1 when closed) and leaves the socket closed.
  /// Operations still waiting on it in an io_context complete with `senet::error::operation_aborted`.
  [[nodiscard]] native_handle_type release() noexcept {
    if (!is_open()) {
      return -1;
    }
    protocol_ = protocol_type{};
    return detail::release(desc_);
  }

 protected:
  /// A closed socket.
  basic_socket() noexcept = default;

  /// A socket opened for `p`.
  explicit basic_socket(const protocol_type& p) { open(p); }

  /// A socket owning `fd`, an open socket of protocol `p`.
  basic_socket(const protocol_type& p, native_handle_type fd) { assign(p, fd); }

  basic_socket(basic_socket&& other) noexcept
      : desc_(std::exchange(other.desc_, io::detail::descriptor{})),
        protocol_(std::exchange(other.protocol_, protocol_type{})) {}

  basic_socket& operator=(basic_socket&& other) noexcept {
    if (this != &other) {
      std::error_code ignored;
      close(ignored);
      desc_ = std::exchange(other.desc_, io::detail::descriptor{});
      protocol_ = std::exchange(other.protocol_, protocol_type{});
    }
    return *this;
  }

  ~basic_socket() {
    std::error_code ignored;
    close(ignored);
  }

  /// Sets `ec` to `not_open` and returns false when closed; clears `ec` and returns true otherwise.
  bool check_open(std::error_code& ec) const noexcept {
    if (!is_open()) {
      ec = detail::not_open_error();
      return false;
    }
    ec.clear();
    return true;
  }

 private:
  void set_eager(std::uint8_t bit, bool on) noexcept {
    desc_.eager = static_cast<std::uint8_t>(on ? (desc_.eager | bit) : (desc_.eager & ~bit));
  }

  io::detail::descriptor desc_{};
  protocol_type protocol_{};
};

}  // namespace senet::net

#endif  // SENET_NET_BASIC_SOCKET_HPP
