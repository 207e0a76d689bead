// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_NET_TCP_CLIENT_HPP
#define SENET_CORO_NET_TCP_CLIENT_HPP

#include <senet/coro/io_scheduler.hpp>
#include <senet/coro/net/buffer_concepts.hpp>
#include <senet/coro/net/connect.hpp>
#include <senet/coro/net/io_result.hpp>
#include <senet/coro/net/ip_address.hpp>
#include <senet/coro/net/poll_awaitable.hpp>
#include <senet/coro/net/recv_status.hpp>
#include <senet/coro/net/send_status.hpp>
#include <senet/coro/net/socket.hpp>
#include <senet/coro/poll.hpp>
#include <senet/coro/task.hpp>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace senet::coro::net {

namespace detail {

/** What `tcp::client::send` accepts: a libcoro `const_buffer`, text (a string literal is sent
    without its terminating NUL), or anything that converts to `std::span<const char>`. */
template <class B>
concept send_buffer = concepts::const_buffer<B> || std::convertible_to<const B&, std::string_view> ||
    std::convertible_to<const B&, std::span<const char>>;

/** What `tcp::client::recv` accepts: a libcoro `mutable_buffer`, or anything that converts to
    `std::span<char>` (a `char` array). */
template <class B>
concept recv_buffer = concepts::mutable_buffer<B> || std::convertible_to<B, std::span<char>>;

template <send_buffer B>
[[nodiscard]] std::span<const char> send_span(const B& buffer) noexcept {
  if constexpr (concepts::const_buffer<B>) {
    return {buffer.data(), buffer.size()};
  } else if constexpr (std::convertible_to<const B&, std::string_view>) {
    std::string_view text = buffer;
    return {text.data(), text.size()};
  } else {
    return std::span<const char>(buffer);
  }
}

template <recv_buffer B>
[[nodiscard]] std::span<char> recv_span(B&& buffer) noexcept {
  if constexpr (concepts::mutable_buffer<B>) {
    return {buffer.data(), buffer.size()};
  } else {
    return std::span<char>(std::forward<B>(buffer));
  }
}

}  // namespace detail

namespace tcp {

class server;

/** A TCP connection, as libcoro 0.15's `coro::net::tcp::client`: made to connect to
    `options::address`:`options::port`, or given by `tcp::server::accept()`.

    The socket is non-blocking, and `send` / `recv` make one system call at once, as in libcoro:
    code written for libcoro polls (`co_await client.poll(poll_op::read)`) before `recv`, and after a
    send that did not send everything. The results can also be awaited, which finishes what the
    call could not do (the seed's `co_await client.recv(buf)`): see `recv_result`, `send_result`
    and `<senet/coro/net/io_result.hpp>`. Everything asynchronous (connect, poll, the awaited
    rest of a send or receive) is a senet operation on the scheduler's io_context, which
    `io_scheduler::shutdown()` ends, and nothing is allocated per operation except `connect`'s
    task.

    Both IPv4 and IPv6 addresses work; the socket's domain is the address's.

    Copying duplicates the socket (libcoro does the same), so that two coroutines can own one
    connection, say a reader and a writer; moving takes it. Thread safety: one client is used by
    one coroutine at a time; distinct copies may be used at once.
*/
class client {
 public:
  /** Where to connect. */
  struct options {
    /** The address to connect to (a `senet::ip::async_resolve` turns a name into addresses). */
    net::ip_address address{net::ip_address::from_string("127.0.0.1")};
    /** The port to connect to. */
    std::uint16_t port{8080};
  };

  /** A client of `scheduler` that will connect to `opts`. Its socket is made at once (the
      address's domain, non-blocking); throws `std::runtime_error` if `scheduler` is null and
      `std::system_error` if the socket cannot be made. */
  explicit client(std::shared_ptr<io_scheduler> scheduler,
                  options opts = options{.address = {net::ip_address::from_string("127.0.0.1")},
                                         .port = 8080});

  /** A copy owning a duplicate of `other`'s socket, with its scheduler, options and connect
      status. */
  client(const client& other);
  /** Takes `other`'s socket; `other` has none afterwards. */
  client(client&& other) noexcept;
  /** As the copy constructor, after closing this client's socket. */
  client& operator=(const client& other) noexcept;
  /** As the move constructor, after closing this client's socket. */
  client& operator=(client&& other) noexcept;
  /** Closes the socket (waits still pending on it end with `poll_status::closed`). */
  ~client();

  /** The socket. */
  [[nodiscard]] net::socket& socket() noexcept { return socket_; }
  /** The socket. */
  [[nodiscard]] const net::socket& socket() const noexcept { return socket_; }

  /** Connects to the options' address and port, waiting at most `timeout` (0: no limit), and
      gives `connected`, `timeout`, `error` (refused, unreachable... `connect_error()` says which;
      `errno` holds it too on the thread that resumes, as libcoro sets it) or
      `invalid_ip_address`. Once it has an outcome, calling it again gives that outcome without
      connecting again, as in libcoro. The connect is `net::async_connect` on the scheduler's
      io_context; `io_scheduler::shutdown()` ends it with `error` (`ECANCELED`).
      Allocation: the task's frame. */
  [[nodiscard]] task<net::connect_status> connect(
      std::chrono::milliseconds timeout = std::chrono::milliseconds{0});

  /** senet: the error behind a `connect_status::error` (empty otherwise). */
  [[nodiscard]] std::error_code connect_error() const noexcept { return connect_error_; }

  /** Waits until the socket is ready for `op`, or `timeout` passes (0: no limit); see
      `poll_awaitable` (which converts to libcoro's `task<poll_status>`). */
  [[nodiscard]] poll_awaitable poll(poll_op op,
                                    std::chrono::milliseconds timeout = std::chrono::milliseconds{0}) {
    return poll_awaitable(*scheduler_, socket_.senet_socket(), op, timeout);
  }

  /** Receives the bytes already there into `buffer` (one non-blocking `recvmsg`) and gives the
      status and the bytes received, at the start of `buffer`: `ok`; `closed` when the peer
      closed the connection; `would_block` when nothing had arrived (poll for `read`, or await the
      result); an errno status. An empty `buffer` gives `ok` without a system call.
      `co_await client.recv(buffer, timeout)` waits for data when there was none (`timeout` 0:
      no limit); see `recv_result`. The bytes in `buffer` belong to the caller. */
  template <detail::recv_buffer Buffer>
  recv_result recv(Buffer&& buffer, std::chrono::milliseconds timeout = std::chrono::milliseconds{0}) {
    std::span<char> span = detail::recv_span(std::forward<Buffer>(buffer));
    return recv_result(receive_now(span), span, target(), timeout);
  }

  /** Sends what it can of `buffer` at once (one non-blocking `sendmsg`, without `SIGPIPE`) and
      gives the status and the bytes not sent, the tail of `buffer`: `ok` with nothing left, `ok`
      with a tail after a partial send (poll for `write`, send the tail), `would_block` with all
      of `buffer` when there was no room, or an errno status (`pipe_closed`, `connection_reset`...)
      with all of `buffer`. An empty `buffer` gives `ok` without a system call.
      `co_await client.send(buffer, timeout)` sends the rest too (`timeout` 0: no limit); see
      `send_result`. A string literal is sent without its terminating NUL. */
  template <detail::send_buffer Buffer>
  send_result send(const Buffer& buffer, std::chrono::milliseconds timeout = std::chrono::milliseconds{0}) {
    return send_result(send_now(detail::send_span(buffer)), target(), timeout);
  }

 private:
  friend server;

  /** An accepted connection (tcp::server::accept). */
  client(std::shared_ptr<io_scheduler> scheduler, net::socket socket, options opts) noexcept;

  [[nodiscard]] detail::io_target target() noexcept {
    return {&detail::scheduler_core_of(*scheduler_), &socket_.senet_socket()};
  }
  [[nodiscard]] recv_result::pair_type receive_now(std::span<char> buffer) noexcept;
  [[nodiscard]] send_result::pair_type send_now(std::span<const char> buffer) noexcept;
  net::connect_status connect_outcome(net::connect_status status, std::error_code ec = {}) noexcept;

  std::shared_ptr<io_scheduler> scheduler_;
  options options_;
  net::socket socket_;
  std::optional<net::connect_status> connect_status_{};
  std::error_code connect_error_{};
};

}  // namespace tcp

}  // namespace senet::coro::net

#endif  // SENET_CORO_NET_TCP_CLIENT_HPP
