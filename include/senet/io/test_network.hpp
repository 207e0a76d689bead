// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_TEST_NETWORK_HPP
#define SENET_IO_TEST_NETWORK_HPP

#include <senet/io/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <limits>
#include <system_error>

#include <sys/socket.h>

namespace senet::io {

namespace detail {
class test_backend;
}  // namespace detail

/** The controls of an `io_context` running on the in-memory test backend
    (`io_context ctx{senet::io::test};` or `SENET_BACKEND=test`): a simulated network and a
    virtual clock, for deterministic unit tests of networking code (P2762 §3.4, "one allowing unit
    testing").

    The test backend is a testing tool, not part of libsenet: it is the library `senet::testing`
    (CMake: `target_link_libraries(my_tests PRIVATE senet::testing)` after
    `find_package(senet COMPONENTS testing)`; pkg-config: `senet-testing`), which a program's tests
    link and the program itself does not. Without it `io_context ctx{senet::io::test}` throws
    `std::system_error` (`function_not_supported`), `SENET_BACKEND=test` is refused, and the
    members of this class are not defined.

    What is simulated. Sockets are real descriptors: `open`, `bind`, `listen`, socket options and
    the other synchronous calls are the ordinary system calls, so every socket has a unique
    descriptor and a real local endpoint (port 0 gives a real port). The asynchronous operations
    are simulated in memory, between the sockets used with one test context:
    - `async_connect` on a stream socket connects at once to a socket listening on that endpoint
      (bound to that address or to the wildcard address, same port), or fails with
      `ECONNREFUSED` when there is none or connections to it are refused. An unbound connecting
      socket is first bound to port 0 of the address it connects to, so that its local endpoint
      is real and unique.
    - `async_accept` takes the connections made to the listener in order, and gives each a fresh
      descriptor of the same family (unconnected for the kernel, closed by its socket as usual);
      the peer endpoint is the connecting socket's local endpoint.
    - `async_send` / `async_receive` move bytes through one in-memory buffer per direction;
      `max_transfer()` bounds each transfer (partial transfers) and `send_buffer_limit()` bounds
      what a peer may leave unread (pending sends, backpressure).
    - A socket that is closed is noticed: its peer receives what was sent, then 0 (end of stream);
      its peer's sends fail with `EPIPE`. Closing with unread received data (or with
      `SO_LINGER` {on, 0}) resets the connection instead: the peer's next operation fails with
      `ECONNRESET`, later receives give 0 and sends `EPIPE`, as on Linux.
    - Datagram sockets exchange datagrams through per-socket queues; the peer endpoint of a
      received datagram is the sender's local endpoint (an unbound sender is bound to port 0 first,
      and a sender bound to the wildcard address appears with the address it sent to).
      `async_connect` on a datagram socket is the real `connect(2)`; a connected datagram socket
      only receives from its peer.
    - `async_wait` readiness follows the simulated state.
    - Any operation can be made to fail on purpose with an `errno` of your choice, as if its system
      call had failed (`fail_next`), to test a program's error paths; `reset_connection`,
      `shutdown`, `refuse_connections` and `set_latency` make the network itself misbehave.
    - What the simulation does not know goes to the kernel: a stream socket that is no end of a
      simulated connection (made by `socketpair`, a synchronous `connect`, or accepted from a real
      connection) performs its operations with the real system calls, and the loop polls it; a
      listener also accepts connections made to it through the kernel; a datagram to an endpoint
      where no socket of this process is bound is sent by the kernel (on loopback: dropped), and
      datagrams arriving through the kernel are received.

    Limits of the simulation: connected sockets are not connected for the kernel, so
    `getpeername(2)` and `shutdown(2)` fail with `ENOTCONN` on them. The socket classes'
    `remote_endpoint()` and `shutdown()` then fall back on the simulation (`simulated_peer`,
    `shutdown_simulated`) and behave as on a kernel connection; so do `remote_endpoint(sock)` and
    `shutdown(sock, how)` here. Code that calls those system calls on the descriptor itself sees
    `ENOTCONN`. The local endpoint of an accepted socket is not bound. Urgent data (`MSG_OOB`) is not
   simulated (`EOPNOTSUPP`). Both ends of a simulated connection, and every socket exchanging simulated
   datagrams, must be used with the same context. `max_transfer()`, `send_buffer_limit()` and the latency only
    apply to simulated traffic.

    Virtual clock. Timers of the context run on `now()`, which only moves forward when the context
    has nothing else to do: then the loop advances it at once to the next deadline (a ten-minute
    timeout completes in microseconds), or when `advance()` is called. Work done by other threads
    (a resolver, a thread that schedules onto the context) does not hold virtual time back. A
    context driven by a foreign loop (`poll()` on `wait_descriptor()`) moves virtual time only
    through `advance()`. Virtual time does not wait for the kernel either: with sockets outside
    the simulation, a timer may fire before real data arrives.

    Example:
    ```cpp
    senet::io::io_context ctx{senet::io::test};
    senet::io::test_network& net = senet::io::test_network::of(ctx);
    net.set_max_transfer(7);  // every send and receive moves at most 7 bytes
    ```

    Thread safety: the member functions must be called on the thread running the context, or while
    no thread runs it.
*/
class test_network {
 public:
  /** The clock of the context's timers. */
  using clock = std::chrono::steady_clock;

  /** No limit, for `set_max_transfer` and `set_send_buffer_limit`. */
  static constexpr std::size_t no_limit = std::numeric_limits<std::size_t>::max();

  /** The controls of `ctx`. Throws `std::system_error` (`std::errc::invalid_argument`) if `ctx`
      does not run on the test backend. The reference stays valid as long as `ctx`. */
  [[nodiscard]] static test_network& of(io_context& ctx);

  test_network(const test_network&) = delete;
  test_network& operator=(const test_network&) = delete;

  // ---- virtual clock ----

  /** The virtual time: the clock of the context's timers. It starts at the real
      `steady_clock::now()` of the context's creation. */
  [[nodiscard]] clock::time_point now() const noexcept;

  /** Moves virtual time forward by `d` (negative: no change), delivering latency-delayed
      connections and data due on the way. Timers due by then complete at the context's next turn. */
  void advance(clock::duration d) noexcept;

  // ---- transfers ----

  /** Every stream send and receive moves at most `n` bytes (`n > 0`; `no_limit`, the default,
      removes the bound), so that callers see partial transfers. Datagrams are never split.
      Throws `std::invalid_argument` for 0. */
  void set_max_transfer(std::size_t n);
  /** The current bound of `set_max_transfer`. */
  [[nodiscard]] std::size_t max_transfer() const noexcept;

  /** A stream send waits (stays pending) while the peer has `n` or more bytes unread, and moves
      at most the difference (`n > 0`; `no_limit`, the default, never waits). Throws
      `std::invalid_argument` for 0. */
  void set_send_buffer_limit(std::size_t n);
  /** The current bound of `set_send_buffer_limit`. */
  [[nodiscard]] std::size_t send_buffer_limit() const noexcept;

  /** Connections and data started from now on reach their peer after `d` of virtual time (a
      connect completes, and the listener sees the connection, after `d`; sent bytes and datagrams
      become readable after `d`). Zero, the default, delivers at once. Negative values are 0. */
  void set_latency(clock::duration d) noexcept;
  /** The current latency. */
  [[nodiscard]] clock::duration latency() const noexcept;

  // ---- connections ----

  /** Connects to `ep` (an endpoint: `data()` and `size()`) fail with `ECONNREFUSED`, even while
      a socket listens there. Throws `std::invalid_argument` for a malformed endpoint. */
  template <class Endpoint>
  void refuse_connections(const Endpoint& ep) {
    refuse_connections(static_cast<const ::sockaddr*>(static_cast<const void*>(ep.data())),
                       static_cast<::socklen_t>(ep.size()), true);
  }

  /** Undoes `refuse_connections(ep)`. */
  template <class Endpoint>
  void allow_connections(const Endpoint& ep) {
    refuse_connections(static_cast<const ::sockaddr*>(static_cast<const void*>(ep.data())),
                       static_cast<::socklen_t>(ep.size()), false);
  }

  /** While `on`, every connect fails with `ECONNREFUSED` (the default is off: connects to
      listening endpoints succeed, others are refused). */
  void refuse_all_connections(bool on) noexcept;

  /** Makes the operations of `sock` (a socket, or its descriptor, which the backend must know:
      one of its operations waited) ignore cancellation, as an io_uring request does whose
      cancellation the kernel cannot perform: stop requests, `cancel()` and the io_context's
      destructor leave them waiting (closing the socket still aborts them). For testing what the
      destructor does then. Throws `std::system_error` (`std::errc::bad_file_descriptor`) for an
      unknown descriptor. */
  void ignore_cancellation(int fd);
  template <class Socket>
  void ignore_cancellation(const Socket& sock) {
    ignore_cancellation(sock.native_handle());
  }

  /** Resets the simulated connection of `sock` (a socket, or its descriptor): the next operation
      on each end fails with `ECONNRESET`, unread data is discarded, later receives give 0 and
      sends `EPIPE`. Throws `std::system_error` (`std::errc::not_connected`) if `sock` is not an
      end of a simulated connection. */
  void reset_connection(int fd);
  template <class Socket>
  void reset_connection(const Socket& sock) {
    reset_connection(sock.native_handle());
  }

  /** Shuts down one or both directions of the simulated connection of `sock` (a socket, or its
      descriptor), like `shutdown(2)`: `SHUT_WR` makes the peer receive 0 after the data already
      sent, and this end's later sends fail with `EPIPE`; `SHUT_RD` makes this end's receives give
      0 once its buffered data is read. Throws `std::system_error` (`std::errc::not_connected` if
      `sock` is not an end of a simulated connection, `std::errc::invalid_argument` for a bad
      `how`). */
  void shutdown(int fd, int how);
  template <class Socket, class How>
  void shutdown(const Socket& sock, How how) {
    shutdown(sock.native_handle(), static_cast<int>(how));
  }

  /** The endpoint of the peer of `sock` in its simulated connection. Throws `std::system_error`
      (`std::errc::not_connected`) if there is none. */
  template <class Socket>
  [[nodiscard]] typename Socket::endpoint_type remote_endpoint(const Socket& sock) const {
    typename Socket::endpoint_type ep;
    std::size_t n = peer_address(sock.native_handle(),
                                 static_cast<::sockaddr*>(static_cast<void*>(ep.data())), ep.capacity());
    ep.resize(n);
    return ep;
  }

  /** Bytes sent to `sock` (a socket, or its descriptor) and not received yet (stream), or the
      payload bytes of its queued datagrams, including those still delayed by latency. 0 for a
      descriptor the test backend does not know. */
  [[nodiscard]] std::size_t buffered(int fd) const noexcept;
  template <class Socket>
  [[nodiscard]] std::size_t buffered(const Socket& sock) const noexcept {
    return buffered(sock.native_handle());
  }

  // ---- injected faults ----

  /** The kinds of operation `fail_next` can make fail. */
  enum class operation : unsigned char {
    /** `async_send`, `async_send_to` and the sends of `async_write` and the stream faces. */
    send,
    /** `async_receive`, `async_receive_from` and the receives of `async_read` and the stream faces. */
    receive,
    /** `async_accept`. */
    accept,
    /** `async_connect` (on stream and datagram sockets). */
    connect,
    /** Readiness waits: `net::async_wait`, `io::async_poll`. */
    wait,
  };

  /** Makes the next `times` operations of kind `op` on `sock` (a socket, or its descriptor) fail
      with `ec`, as if the system call that performs them had failed with that `errno`: each
      completes with `set_error({ec.value(), std::system_category()})`, the completion the epoll
      backend gives when its system call fails so (an `std::errc` value, whose category is
      generic, is accepted and reported in the system category, to which it compares equal).
      Then operations of that kind work normally again.

      What the fault does is exactly what the failed system call does: nothing else. A failed send
      sends nothing, a failed receive takes no bytes (they stay readable), a failed accept leaves
      the connection in the listener's backlog for the next accept, a failed connect leaves the
      socket unconnected and unbound (it may connect again), and the connection and its peer are
      not affected: to reset or shut down a connection, use `reset_connection` and `shutdown`.
      Operations of that kind that are already waiting take the fault first, at once, in the order
      they started (a receive waiting for data fails now; so does a connect delayed by
      `set_latency`, and its listener never sees the connection); each later one takes it when it
      is performed (when it starts, or, queued behind another, when it gets its turn). Calling
      `fail_next` again for the same socket and kind replaces the fault armed; `clear_faults`
      removes them. Faults apply to every operation of `sock`, simulated or passed through to the
      kernel (a socket outside the simulation); a socket closed, or its descriptor given to another
      socket, forgets them.

      ```cpp
      auto& net = senet::io::test_network::of(ctx);
      net.fail_next(sock, senet::io::test_network::operation::send,
                    std::make_error_code(std::errc::connection_reset));
      // The next send on sock completes with set_error(ECONNRESET); the one after it sends.
      ```

      Errors. Throws `std::invalid_argument` when `ec` is not an `errno` value (empty, or of a
      category other than the system and generic ones), when it is one that the operation never
      reports (`EAGAIN`/`EWOULDBLOCK`, except for a connect, and `EINPROGRESS`, which make a
      backend wait; `EINTR`, which it retries; `ECANCELED`, which it reports as `set_stopped()`;
      a connect does report `EAGAIN`: a Unix socket connecting to a full backlog), or when `times`
      is 0 or `op` not one of the enumerators. Throws
      `std::system_error` with `std::errc::bad_file_descriptor` when `sock` is not an open
      descriptor, `std::errc::not_a_socket` when it is not a socket. `sock` must be used with this
      context.

      Thread safety: as the other members. */
  void fail_next(int fd, operation op, std::error_code ec, unsigned times = 1);
  template <class Socket>
  void fail_next(const Socket& sock, operation op, std::error_code ec, unsigned times = 1) {
    fail_next(sock.native_handle(), op, ec, times);
  }

  /** How many operations of kind `op` on `sock` (a socket, or its descriptor) the fault armed by
      `fail_next` will still fail: 0 when none is armed, or for a descriptor the test backend does
      not know. */
  [[nodiscard]] unsigned faults_left(int fd, operation op) const noexcept;
  template <class Socket>
  [[nodiscard]] unsigned faults_left(const Socket& sock, operation op) const noexcept {
    return faults_left(sock.native_handle(), op);
  }

  /** Removes every fault armed on `sock` (a socket, or its descriptor) by `fail_next`; its next
      operations work normally. Does nothing for a descriptor without faults. */
  void clear_faults(int fd) noexcept;
  template <class Socket>
  void clear_faults(const Socket& sock) noexcept {
    clear_faults(sock.native_handle());
  }

  // ---- for socket implementations ----

  /** If `fd` is an end of a simulated connection of a live test context, shuts it down as
      `shutdown(fd, how)` would (see `shutdown`) and returns true; returns false otherwise. For
      the socket classes, whose `shutdown(2)` fails with `ENOTCONN` on simulated connections.
      Thread safety: as the other members, for the context that owns `fd`'s connection. */
  [[nodiscard]] static bool shutdown_simulated(int fd, int how) noexcept;

  /** If `fd` is an end of a simulated connection of a live test context, writes the endpoint of
      its peer to `out` (at most `capacity` bytes) and returns its size; returns 0 otherwise. For
      the socket classes, whose `getpeername(2)` fails with `ENOTCONN` on simulated connections.
      Thread safety: as `shutdown_simulated`. */
  [[nodiscard]] static std::size_t simulated_peer(int fd, ::sockaddr* out, std::size_t capacity) noexcept;

 private:
  friend class detail::test_backend;
  explicit test_network(detail::test_backend& backend) noexcept : backend_(&backend) {}
  ~test_network() = default;

  void refuse_connections(const ::sockaddr* addr, ::socklen_t size, bool refuse);
  std::size_t peer_address(int fd, ::sockaddr* out, std::size_t capacity) const;

  detail::test_backend* backend_;
};

}  // namespace senet::io

#endif  // SENET_IO_TEST_NETWORK_HPP
