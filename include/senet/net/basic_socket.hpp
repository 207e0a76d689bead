// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_BASIC_SOCKET_HPP
#define SENET_NET_BASIC_SOCKET_HPP

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <system_error>
#include <type_traits>
#include <utility>

#include <senet/buffer.hpp>
#include <senet/detail/iovec_view.hpp>
#include <senet/error.hpp>
#include <senet/io/detail/descriptor.hpp>
#include <senet/net/detail/message_truncation.hpp>
#include <senet/net/detail/socket_ops.hpp>
#include <senet/net/message_flags.hpp>
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

    Besides the asynchronous senders (`net::async_*`), a socket has synchronous operations that
    make the system call at once on the calling thread, as Asio's do: `connect`, `available`, and
    in the derived classes `send` / `receive` (streams and datagrams), `send_to` / `receive_from`
    (datagrams) and `accept` (acceptors). When the kernel would block they fail with
    `std::errc::operation_would_block`, unless `non_blocking(false)` asked them to wait. `EINTR` is
    retried and sends never raise `SIGPIPE` (`MSG_NOSIGNAL`). They need no io_context; on the test
    backend's simulated connections they see what the kernel sees (the simulation is for the
    asynchronous operations).

    `Protocol` provides `family()`, `type()`, `protocol()` and the nested type `endpoint`, whose
    objects provide `data()`, `size()`, `capacity()` and `resize(n)`.

    Thread safety: distinct objects are independent; one object must not be used from two threads
    at once, except that asynchronous operations may be started from any thread and several may be
    pending at once (those of one direction, receives and accepts or sends and connects, complete
    in start order on every backend; one that is stopped, cancelled or times out completes then,
    having transferred nothing, also while earlier ones still wait), and that `close()`,
    `cancel()`, `release()`, the destructor and moving from the socket may be called from any
    thread while its asynchronous operations are pending, also while another thread runs their
    io_context: those operations then complete on the context's thread, each exactly once.
    Called on the context's thread (in a completion), they act at once; on another thread they
    hand the work to the context's thread and wait for it (or, if no thread runs the context at
    that moment, do it themselves), so they may block for as long as the context's thread needs to
    come round to it. An operation is pending once its `start()` has run on the context's thread
    (at once for one started there, in a completion). One started on another thread gets there
    through the context's queue, and reads the socket there when the loop takes it; until then
    `close()`, `release()`, `cancel()`, moving and the destructor may be called too, on the
    starting thread or one ordered after the start (a start must not race with them, as no two
    uses of one socket may), whether or not a thread runs the context: the operation then
    completes on the context's thread, exactly once and without touching the socket, as a pending
    one does (`operation_aborted`; `set_stopped()` after `cancel()`). A connect started on a closed
    socket is aborted by `close()` before the loop takes it, and does not open the socket; if the
    loop has taken it, `close()` waits for the loop and closes what the connect opened, so the
    socket is closed once `close()` returns. `cancel()` cancels such a connect as it cancels a
    pending operation: before the loop takes it (`set_stopped()`, the socket not opened), or
    afterwards on the socket it opened. This holds for every `net::async_*` sender of the socket,
    with or without a scheduler argument, also between the steps of one of several (`async_read`,
    `async_write`, `async_read_until`): such an operation whose step had completed when the
    socket was ended completes the same way, without starting its next step. The one exception is
    the range form of `net::async_connect` (`async_connect(socket, endpoints)`), which closes and
    opens the socket itself, on the context's thread, between its attempts: while it runs, the
    socket is closed, released, moved or destroyed only on the context's thread; another thread
    requests a stop instead and ends the socket after the completion. A socket operation inside a
    sender of the user's making (`ex::starts_on(sch, net::async_receive(socket, b))`,
    `ex::let_value`) is started only when that sender gets to it, on the loop, and reads the
    socket then: such a socket must outlive the whole sender (a close before it gets there makes
    the operation fail with `bad_file_descriptor`).
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

  /** Makes a send on this socket of at least `bytes` bytes in all (the sum of its buffers) go
      zero-copy where the backend can: 0, the default, turns it off.

      io_uring (a kernel with IORING_OP_SEND_ZC, Linux 6.0): such a send goes as IORING_OP_SEND_ZC
      (one buffer) or IORING_OP_SENDMSG_ZC, and the kernel sends from the caller's pages instead of
      copying them into the socket. Its completion waits for the kernel's notification that it no
      longer reads them, so the buffers may be reused as soon as the send completes, as always;
      until then the socket's next send waits too. Such a send is never tried first
      (`eager_send`) nor made directly by an awaitable: that would copy. epoll and the test backend
      accept the setting and copy as before (as does io_uring on a kernel without zero-copy
      sends); so do the synchronous `send`, `send_to` and `write_some`.

      The kernel lets go of a TCP send's pages only once their data has left the socket (been
      acknowledged; on loopback, copied to the peer), so a zero-copy send to a slow peer completes
      later than a copied one, and one to a peer that does not read completes only when it reads
      or the connection ends: also after a stop request (it then reports the bytes it sent) or a
      close (`operation_aborted`), and the io_context's destructor waits for it (within its
      bounded wait, like any operation the kernel still holds).

      Off by default because it does not pay on loopback, where the kernel copies the data for the
      receiving socket anyway: zero-copy was slower at every size from 4 KiB to 4 MiB there
      (docs/benchmarks.md, "Zero-copy send"). It is meant for large sends through a network
      interface whose driver sends from the pages (not measured: only loopback was at hand). A
      partial send (a stream socket whose buffer filled up) reports what it sent, as a copied one
      does.

      A member, like `eager_send`, and not a `set_option` type: it is not a kernel socket option
      (SO_ZEROCOPY is one, and the io_uring path does not need it), but a choice of how senet
      sends. Every value is valid: a threshold above 4 GiB - 1 is taken as 4 GiB - 1. Kept across
      `close()` and `open()`, moved with the socket. Thread safety: like the socket's other
      members; it takes effect for sends started afterwards. */
  void zero_copy_threshold(std::size_t bytes) noexcept {
    constexpr std::size_t max = std::numeric_limits<std::uint32_t>::max();
    desc_.zero_copy_threshold = static_cast<std::uint32_t>(bytes > max ? max : bytes);
  }
  /// The threshold of `zero_copy_threshold(bytes)`; 0 when off.
  [[nodiscard]] std::size_t zero_copy_threshold() const noexcept { return desc_.zero_copy_threshold; }

  /// Opens a new descriptor for `p`; fails with `std::errc::already_connected` if already open.
  void open(const protocol_type& p, std::error_code& ec) noexcept {
    if (is_open()) {
      ec = std::make_error_code(std::errc::already_connected);
      return;
    }
    int fd = detail::open_socket(p.family(), p.type(), p.protocol(), ec);
    if (!ec) {
      desc_.fd = fd;
      desc_.synchronous_blocking = false;
      protocol_ = p;
    }
  }
  void open(const protocol_type& p) {
    std::error_code ec;
    open(p, ec);
    detail::throw_on_error(ec, "senet::net::basic_socket::open");
  }

  /// Takes ownership of `fd`, an open socket of protocol `p`. The caller makes it non-blocking
  /// and close-on-exec if it wants the guarantees senet's own sockets have: asynchronous sends and
  /// receives never block the loop either way (their system calls say `MSG_DONTWAIT`), but on
  /// the epoll backend an accept or connect on a blocking descriptor would, and the synchronous
  /// operations follow the descriptor's mode.
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
    desc_.synchronous_blocking = false;
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

  // ---- Synchronous operations --------------------------------------------------------------
  //
  // They are the system calls themselves, done at once on the calling thread, and need no
  // io_context. The send and receive members are in the derived classes (`basic_stream_socket`,
  // `basic_datagram_socket`), `accept` in `basic_socket_acceptor`.

  /** Whether the synchronous operations are non-blocking: `true` (the default) when they fail
      with `std::errc::operation_would_block` (== `resource_unavailable_try_again`) instead of
      waiting, as a non-blocking socket's system calls do.

      The descriptor itself is always `O_NONBLOCK`, whatever this says: that is what lets the
      asynchronous operations (and every backend) try a system call without ever blocking the
      thread of an io_context. `non_blocking(false)` therefore changes only the synchronous
      members of this socket: when the kernel would block they wait for readiness with `poll(2)`
      on the calling thread and try again, as Asio's synchronous operations do on a socket that
      its asynchronous operations made non-blocking. The asynchronous operations are not affected
      and keep working in either mode. A socket adopted with `assign` keeps the mode of its
      descriptor for the system calls themselves (a blocking descriptor blocks in the call).

      Thread safety: as every member; the mode belongs to the socket and moves with it. */
  [[nodiscard]] bool non_blocking() const noexcept { return !desc_.synchronous_blocking; }

  /** Sets the mode of `non_blocking()`; fails with `senet::error::not_open` on a closed socket.
      Opening, assigning or accepting into a socket resets it to non-blocking. */
  void non_blocking(bool mode, std::error_code& ec) noexcept {
    if (check_open(ec)) {
      desc_.synchronous_blocking = !mode;
    }
  }
  void non_blocking(bool mode) {
    std::error_code ec;
    non_blocking(mode, ec);
    detail::throw_on_error(ec, "senet::net::basic_socket::non_blocking");
  }

  /** The number of bytes that can be received without blocking (`ioctl(FIONREAD)`): the bytes
      queued on a stream, the size of the next datagram on a datagram socket. Errors: `not_open`,
      and what the kernel reports (`std::errc::invalid_argument` on a listening socket). */
  [[nodiscard]] std::size_t available(std::error_code& ec) const noexcept {
    return check_open(ec) ? detail::bytes_available(desc_.fd, ec) : 0;
  }
  [[nodiscard]] std::size_t available() const {
    std::error_code ec;
    std::size_t n = available(ec);
    detail::throw_on_error(ec, "senet::net::basic_socket::available");
    return n;
  }

  /** Connects the socket to `peer` (connect(2)); a closed socket is first opened for
      `peer.protocol()`, as in Asio.

      Non-blocking (the default): a connection the kernel cannot complete at once fails with
      `std::errc::operation_in_progress` (`EINPROGRESS`; Asio's `error::in_progress`) and proceeds
      in the background: wait until the socket is writable (`net::async_wait(socket,
      wait_write)`, `poll(2)`), then read its outcome with `get_option` of `SO_ERROR`, or connect
      with `net::async_connect`, which does all of it. A local stream socket whose listener's queue
      is full fails with `std::errc::operation_would_block`. With `non_blocking(false)` the call
      waits until the connection is made or has failed, and reports that (e.g.
      `std::errc::connection_refused`). Other errors: `not_open` (only if opening failed), and
      what the kernel reports. */
  void connect(const endpoint_type& peer, std::error_code& ec) noexcept {
    if constexpr (requires { peer.protocol(); }) {
      if (!is_open()) {
        open(peer.protocol(), ec);
        if (ec) {
          return;
        }
      }
    }
    if (check_open(ec)) {
      detail::sync_connect(desc_.fd, detail::as_sockaddr(peer.data()), peer.size(),
                           desc_.synchronous_blocking, ec);
    }
  }
  void connect(const endpoint_type& peer) {
    std::error_code ec;
    connect(peer, ec);
    detail::throw_on_error(ec, "senet::net::basic_socket::connect");
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

 protected:
  /// sendmsg(2) of `buffers` (to `to`, if given) for the derived classes' synchronous sends;
  /// returns the bytes sent, 0 with `ec` set on failure.
  template <class Buffers>
  std::size_t send_message(const Buffers& buffers, message_flags flags, const endpoint_type* to,
                           std::error_code& ec) noexcept {
    if (!check_open(ec)) {
      return 0;
    }
    senet::detail::iovec_view<senet::detail::iovec_capacity_for<Buffers>> iov;
    if (!iov.try_assign(buffers)) {
      ec = iov.error();
      return 0;
    }
    ::msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = iov.size();
    if (to != nullptr) {
      msg.msg_name = const_cast<void*>(static_cast<const void*>(to->data()));
      msg.msg_namelen = static_cast<::socklen_t>(to->size());
    }
    return detail::sync_send(desc_.fd, msg, static_cast<int>(flags), desc_.synchronous_blocking, ec);
  }

  /// recvmsg(2) into `buffers` (and the source into `from`, if given) for the derived classes'
  /// synchronous receives; returns the bytes stored, 0 with `ec` set on failure. A message longer
  /// than `buffers` fails with `std::errc::message_size` (unless `flags` has `truncate`), and
  /// then returns the bytes stored (its start).
  template <class Buffers>
  std::size_t receive_message(const Buffers& buffers, message_flags flags, endpoint_type* from,
                              std::error_code& ec) noexcept {
    if (!check_open(ec)) {
      return 0;
    }
    senet::detail::iovec_view<senet::detail::iovec_capacity_for<Buffers>> iov;
    if (!iov.try_assign(buffers)) {
      ec = iov.error();
      return 0;
    }
    ::msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = iov.size();
    if (from != nullptr) {
      msg.msg_name = from->data();
      msg.msg_namelen = static_cast<::socklen_t>(from->capacity());
    }
    bool message_socket = detail::is_message_socket(*this);
    std::size_t n = detail::sync_receive(desc_.fd, msg, detail::kernel_receive_flags(flags, message_socket),
                                         desc_.synchronous_blocking, ec);
    if (ec) {
      return 0;
    }
    if (from != nullptr) {
      detail::resize_endpoint(*from, msg.msg_namelen, ec);
      if (ec) {
        return 0;
      }
    }
    if (detail::checked_receive_result(static_cast<std::int64_t>(n), iov.bytes(), message_socket, flags) <
        0) {
      ec = senet::detail::errno_code(EMSGSIZE);
      return iov.bytes();
    }
    return n;
  }

 public:
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
  /// `senet::error::operation_aborted`, whatever happens on the connection after `close()`
  /// returned (the peer closing or resetting it, data arriving: on io_uring the kernel may still
  /// hold such an operation for a moment, and its result is then replaced); only a completion the
  /// context had already collected before is delivered as it was. The socket is closed afterwards
  /// even if close(2) reports an error. Closing a closed socket is not an error.
  void close(std::error_code& ec) noexcept {
    // A connect of a closed socket on its way to the loop is abandoned, or has opened the socket.
    settle_starts_on_their_way();
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

  /// Cancels every asynchronous operation of the socket that is pending in an io_context: each
  /// completes with `set_stopped()` (an `-ECANCELED` result), on the context's thread, also when
  /// the peer closes or resets the connection right after `cancel()` returned. Only bytes, a
  /// connection or readiness that the operation had already obtained complete it with them (on
  /// io_uring, whose cancellation reaches the kernel at the loop's next turn, they may come until
  /// then), so that nothing is lost; an operation of several steps (`async_read`, `async_write`,
  /// `async_read_until`) whose step had obtained them completes with `set_stopped()` instead of
  /// starting its next step. The socket stays open and usable. An operation started on another
  /// thread and still on its way to the context's thread is cancelled too, also an
  /// `async_connect` of a closed socket (which opens the socket there: see Thread safety).
  /// `not_open` if the socket is closed and no operation of it is on its way. Any thread (see
  /// Thread safety).
  void cancel(std::error_code& ec) noexcept {
    if (desc_.on_its_way.count() != 0) [[unlikely]] {
      // The loop marks the starts on their way cancelled first (an async_connect of a closed
      // socket then never opens it), then cancels what is pending: a connect that had already
      // opened the socket among them. The descriptor, which such a connect writes on the loop,
      // is not read here.
      io::detail::cancel_descriptor(desc_);
      ec.clear();
      return;
    }
    if (check_open(ec)) {
      io::detail::cancel_descriptor(desc_);
    }
  }
  void cancel() {
    std::error_code ec;
    cancel(ec);
    detail::throw_on_error(ec, "senet::net::basic_socket::cancel");
  }

  /// Gives up ownership: returns the descriptor (or -1 when closed) and leaves the socket closed.
  /// Operations still waiting on it in an io_context complete with `senet::error::operation_aborted`
  /// (as for `close()`).
  [[nodiscard]] native_handle_type release() noexcept {
    settle_starts_on_their_way();  // as close()
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

  /// Takes the descriptor of `other`, which is left closed. Operations of `other` still pending in
  /// an io_context complete with `senet::error::operation_aborted` (their records refer to
  /// `other`), as if `other` had been closed; the descriptor itself stays open, and the new socket
  /// registers it afresh with the context of its next operation. Any thread (see Thread safety).
  basic_socket(basic_socket&& other) noexcept
      : desc_(take_descriptor(other)), protocol_(std::exchange(other.protocol_, protocol_type{})) {}

  /// Closes this socket (see `close()`), then takes the descriptor of `other` as the move
  /// constructor does: operations pending on either complete with `operation_aborted`.
  basic_socket& operator=(basic_socket&& other) noexcept {
    if (this != &other) {
      std::error_code ignored;
      close(ignored);
      desc_ = take_descriptor(other);
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
  // Before close() or release() reads the descriptor: a start on its way to the loop (handed over
  // from this thread or one ordered before it) is settled first. The loop then either has not
  // taken it (it is marked, and completes with operation_aborted without touching the socket) or
  // has run it: an async_connect of a closed socket opens the socket there, and what it opened is
  // seen here afterwards (the count is given back with a release, read with an acquire), to be
  // closed, instead of being read while the loop writes it and left open.
  void settle_starts_on_their_way() noexcept {
    if (desc_.on_its_way.count() != 0) [[unlikely]] {
      io::detail::release_descriptor(desc_);
    }
  }

  // Releases other's registration (aborting its pending operations, whose records point into
  // `other`) and takes its descriptor, leaving `other` closed.
  static io::detail::descriptor take_descriptor(basic_socket& other) noexcept {
    io::detail::release_descriptor(other.desc_);
    return std::exchange(other.desc_, io::detail::descriptor{});
  }

  void set_eager(std::uint8_t bit, bool on) noexcept {
    desc_.eager = static_cast<std::uint8_t>(on ? (desc_.eager | bit) : (desc_.eager & ~bit));
  }

  io::detail::descriptor desc_{};
  protocol_type protocol_{};
};

}  // namespace senet::net

#endif  // SENET_NET_BASIC_SOCKET_HPP
