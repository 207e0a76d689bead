// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_NET_IO_RESULT_HPP
#define SENET_CORO_NET_IO_RESULT_HPP

/* send_result and recv_result: what tcp::client::send and recv return.

   Design. libcoro 0.15's `send` / `recv` are synchronous: they make the system call at once and
   return `std::pair<status, span>`, and code written for libcoro polls before calling them
   (`co_await client.poll(poll_op::read); auto [st, data] = client.recv(buf);`). The seed's examples
   instead write `auto [st, rest] = co_await client.send(buf);`, expecting the coroutine to wait
   until the bytes went out. One return type serves both:

   - The call itself is libcoro's: one non-blocking system call, made before `send` / `recv`
     returns, whose outcome the result holds. It derives from that `std::pair` (`.first`,
     `.second`, conversion to the pair) and destructures into the same two names, so libcoro code
     sees exactly libcoro's behaviour, including `would_block` and partial sends.
   - `co_await` on the result finishes what the call could not: a receive that found no data
     (`would_block`) waits for data with senet's `net::async_receive`; a send that found no room or
     went out in part sends the rest with `net::async_send` until all of it is sent. Nothing is
     waited for when the call already completed (data received, everything sent, end of stream,
     an error): the coroutine goes on without suspending. The awaited value is the final
     `std::pair`, with the same meaning as the call's.
   - The optional time limit (`send(buf, timeout)`, `recv(buf, timeout)`) bounds the awaited part;
     0 means none. The synchronous call ignores it. When it passes, the status is `would_block`
     (the operation would still block) and the span says what was done: the bytes received so far
     (none) or the bytes still to send.
   - While waiting, the operation belongs to the client's scheduler: `io_scheduler::shutdown()`
     ends it with the status `ECANCELED`, and the coroutine resumes by the scheduler's execution
     strategy. The socket and the buffer must outlive the `co_await`.
   Nothing is allocated: the operation state lives in the awaiting coroutine's frame. */

#include <senet/buffer.hpp>
#include <senet/coro/net/detail/io_awaiter.hpp>
#include <senet/coro/net/detail/ip_socket.hpp>
#include <senet/coro/net/recv_status.hpp>
#include <senet/coro/net/send_status.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>

#include <chrono>
#include <cstddef>
#include <span>
#include <tuple>
#include <utility>

namespace senet::coro::net {

namespace detail {

/** The socket and scheduler an awaited result continues on. */
struct io_target {
  coro::detail::scheduler_core* scheduler = nullptr;
  ip_socket* socket = nullptr;
};

/** The rest of a receive that found no data: one `net::async_receive`. */
class recv_policy {
 public:
  using result_type = std::pair<recv_status, std::span<char>>;

  /** Goes on from `first`, the result of the synchronous receive into `buffer`. */
  recv_policy(ip_socket* socket, std::span<char> buffer, const result_type& first) noexcept
      : socket_(socket), buffer_(buffer), status_(first.first), received_(first.second.size()) {}

  [[nodiscard]] auto make_sender(io::io_context::scheduler_type sch) const {
    return senet::net::async_receive(sch, *socket_, senet::mutable_buffer(buffer_.data(), buffer_.size()));
  }
  io_step on_value(std::size_t n) noexcept {
    // Zero bytes into a buffer that is not empty: the end of the stream.
    status_ = n == 0 ? recv_status::closed : recv_status::ok;
    received_ = n;
    return io_step::done;
  }
  io_step on_error(const std::error_code& ec) noexcept {
    status_ = is_timeout(ec) ? recv_status::would_block : static_cast<recv_status>(errno_of(ec));
    return io_step::done;
  }
  void on_stopped() noexcept { status_ = static_cast<recv_status>(ECANCELED); }
  void on_timeout() noexcept { status_ = recv_status::would_block; }
  [[nodiscard]] result_type result() const noexcept { return {status_, buffer_.first(received_)}; }

 private:
  ip_socket* socket_;
  std::span<char> buffer_;
  recv_status status_;
  std::size_t received_;
};

/** The rest of a send: `net::async_send` of what is left, again until nothing is. */
class send_policy {
 public:
  using result_type = std::pair<send_status, std::span<const char>>;

  /** Goes on from `first`, the result of the synchronous send. */
  send_policy(ip_socket* socket, const result_type& first) noexcept
      : socket_(socket), remaining_(first.second), status_(first.first) {}

  [[nodiscard]] auto make_sender(io::io_context::scheduler_type sch) const {
    return senet::net::async_send(sch, *socket_, senet::const_buffer(remaining_.data(), remaining_.size()));
  }
  io_step on_value(std::size_t n) noexcept {
    remaining_ = remaining_.subspan(n);
    status_ = send_status::ok;
    return remaining_.empty() ? io_step::done : io_step::again;
  }
  io_step on_error(const std::error_code& ec) noexcept {
    status_ = is_timeout(ec) ? send_status::would_block : static_cast<send_status>(errno_of(ec));
    return io_step::done;
  }
  void on_stopped() noexcept { status_ = static_cast<send_status>(ECANCELED); }
  void on_timeout() noexcept { status_ = send_status::would_block; }
  [[nodiscard]] result_type result() const noexcept { return {status_, remaining_}; }

 private:
  ip_socket* socket_;
  std::span<const char> remaining_;
  send_status status_;
};

/** The awaiter of a `send_result` / `recv_result`: ready at once, or an `io_awaiter`. */
template <class Policy>
class result_awaiter {
 public:
  result_awaiter(bool ready, coro::detail::scheduler_core* scheduler, Policy policy,
                 std::chrono::milliseconds timeout) noexcept
      : ready_(ready), io_(scheduler, std::move(policy), timeout) {}

  [[nodiscard]] bool await_ready() const noexcept { return ready_; }
  bool await_suspend(std::coroutine_handle<> h) noexcept { return io_.await_suspend(h); }
  typename Policy::result_type await_resume() noexcept { return io_.await_resume(); }

 private:
  bool ready_;
  io_awaiter<Policy> io_;
};

/** libcoro's result pair `Pair`, with the `get` that structured bindings use (the tuple protocol is
    specialised for the derived results, which have members of their own). */
template <class Pair>
class pair_result : public Pair {
 public:
  /** libcoro's result type. */
  using pair_type = Pair;

  explicit pair_result(const Pair& p) noexcept : Pair(p) {}

  /** For structured bindings: the status (0) or the span (1). */
  template <std::size_t I>
  [[nodiscard]] const std::tuple_element_t<I, Pair>& get() const& noexcept {
    return std::get<I>(static_cast<const Pair&>(*this));
  }
  template <std::size_t I>
  [[nodiscard]] std::tuple_element_t<I, Pair>& get() & noexcept {
    return std::get<I>(static_cast<Pair&>(*this));
  }
  template <std::size_t I>
  [[nodiscard]] std::tuple_element_t<I, Pair>&& get() && noexcept {
    return std::get<I>(static_cast<Pair&&>(*this));
  }
};

}  // namespace detail

/** What `tcp::client::send` returns: libcoro's `std::pair<send_status, std::span<const char>>`
    (the status of the system call made at once, and the bytes it did not send), which can also be
    awaited to send the rest.

    `auto [status, remaining] = client.send(buf);` is libcoro's call: `ok` with `remaining` empty
    when everything went out, `ok` with the unsent tail after a partial send, `would_block` with
    all of `buf` when the socket had no room, or an errno status.

    `auto [status, remaining] = co_await client.send(buf);` goes on from there: unless the call
    sent everything or failed, the coroutine waits until the rest is sent (`ok`, `remaining`
    empty), an error ends it (that status, `remaining` the bytes not known to be sent), the
    time limit passes (`would_block`, `remaining` the bytes not sent) or the scheduler shuts down
    (`ECANCELED`). See the comment at the top of `<senet/coro/net/io_result.hpp>`.

    Thread safety: as the client it came from. The client and the buffer must outlive a
    `co_await`; nothing is allocated.
*/
class send_result : public detail::pair_result<std::pair<send_status, std::span<const char>>> {
 public:
  /** `result`, which can be continued on `target` with the time limit `timeout`. */
  send_result(pair_type result, detail::io_target target, std::chrono::milliseconds timeout) noexcept
      : pair_result(result), target_(target), timeout_(timeout) {}

  /** True when `co_await` has something left to do: nothing could be sent yet (`would_block`),
      or only part of it. */
  [[nodiscard]] bool would_block() const noexcept {
    return first == send_status::would_block || (first == send_status::ok && !second.empty());
  }

  /** Finishes the send (see the class comment); gives `pair_type`. */
  [[nodiscard]] detail::result_awaiter<detail::send_policy> operator co_await() const noexcept {
    bool ready = !would_block() || target_.scheduler == nullptr;
    return {ready, target_.scheduler, detail::send_policy(target_.socket, *this), timeout_};
  }

 private:
  detail::io_target target_;
  std::chrono::milliseconds timeout_;
};

/** What `tcp::client::recv` returns: libcoro's `std::pair<recv_status, std::span<char>>` (the
    status of the system call made at once, and the bytes it received, at the start of the
    buffer), which can also be awaited to wait for data.

    `auto [status, data] = client.recv(buf);` is libcoro's call: `ok` with the bytes received,
    `closed` at the end of the stream, `would_block` (and no bytes) when nothing had arrived, or an
    errno status.

    `auto [status, data] = co_await client.recv(buf);` goes on from there: after `would_block` the
    coroutine waits until data arrives (`ok` and the bytes), the stream ends (`closed`), an error
    ends it, the time limit passes (`would_block`, no bytes) or the scheduler shuts down
    (`ECANCELED`). See the comment at the top of `<senet/coro/net/io_result.hpp>`.

    Thread safety: as the client it came from. The client and the buffer must outlive a
    `co_await`; nothing is allocated.
*/
class recv_result : public detail::pair_result<std::pair<recv_status, std::span<char>>> {
 public:
  /** `result` of a receive into `buffer`, which can be continued on `target` with the time limit
      `timeout`. */
  recv_result(pair_type result, std::span<char> buffer, detail::io_target target,
              std::chrono::milliseconds timeout) noexcept
      : pair_result(result), buffer_(buffer), target_(target), timeout_(timeout) {}

  /** True when `co_await` has something left to do: nothing had arrived (`would_block`). */
  [[nodiscard]] bool would_block() const noexcept { return first == recv_status::would_block; }

  /** Waits for data if none had arrived (see the class comment); gives `pair_type`. */
  [[nodiscard]] detail::result_awaiter<detail::recv_policy> operator co_await() const noexcept {
    bool ready = !would_block() || target_.scheduler == nullptr;
    return {ready, target_.scheduler, detail::recv_policy(target_.socket, buffer_, *this), timeout_};
  }

 private:
  std::span<char> buffer_;
  detail::io_target target_;
  std::chrono::milliseconds timeout_;
};

}  // namespace senet::coro::net

// The tuple protocol, so that structured bindings use `get` above and not the pair's members.
template <>
struct std::tuple_size<senet::coro::net::send_result> : std::integral_constant<std::size_t, 2> {};
template <std::size_t I>
struct std::tuple_element<I, senet::coro::net::send_result>
    : std::tuple_element<I, senet::coro::net::send_result::pair_type> {};
template <>
struct std::tuple_size<senet::coro::net::recv_result> : std::integral_constant<std::size_t, 2> {};
template <std::size_t I>
struct std::tuple_element<I, senet::coro::net::recv_result>
    : std::tuple_element<I, senet::coro::net::recv_result::pair_type> {};

#endif  // SENET_CORO_NET_IO_RESULT_HPP
