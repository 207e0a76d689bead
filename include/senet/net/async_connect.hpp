// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_ASYNC_CONNECT_HPP
#define SENET_NET_ASYNC_CONNECT_HPP

#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/detail/io_sender.hpp>

#include <atomic>
#include <concepts>
#include <iterator>
#include <optional>
#include <ranges>
#include <system_error>
#include <type_traits>
#include <utility>

namespace senet::net {

namespace detail {

/** A non-blocking connect: EINPROGRESS, then writability, then SO_ERROR. */
template <class Socket>
struct connect_kind {
  using endpoint_type = typename Socket::endpoint_type;
  using record_type = io::detail::io_operation;
  using completion_signatures =
      ex::completion_signatures<ex::set_value_t(), ex::set_error_t(std::error_code), ex::set_stopped_t()>;
  struct storage {};

  Socket* socket_;
  endpoint_type peer_;
  // The range form: close the socket first, so that each endpoint gets a fresh descriptor of its
  // own protocol (done here, on the context's thread).
  bool reopen_ = false;

  std::error_code prepare(record_type& op, storage&, io::io_context&) noexcept {
    if constexpr (requires(std::error_code & ec) {
                    socket_->is_open();
                    socket_->open(peer_.protocol(), ec);
                  }) {
      if (reopen_ && socket_->is_open()) {
        std::error_code ignored;
        socket_->close(ignored);
      }
      // Like the Networking TS: a closed socket is opened for the endpoint's protocol.
      if (!socket_->is_open()) {
        std::error_code ec;
        socket_->open(peer_.protocol(), ec);
        if (ec) {
          return ec;
        }
      }
    }
    op.code_ = io::detail::op_code::connect;
    op.descriptor_ = &socket_->io_descriptor();
    op.msg_.msg_name = const_cast<void*>(static_cast<const void*>(peer_.data()));
    op.msg_.msg_namelen = static_cast<::socklen_t>(peer_.size());
    return {};
  }

  template <class Rcvr>
  void deliver(Rcvr& rcvr, record_type& op, storage&) noexcept {
    if (op.result_ < 0) {
      ex::set_error(std::move(rcvr), io::detail::result_error(op.result_));
    } else {
      ex::set_value(std::move(rcvr));
    }
  }
};

/** A range of endpoints that `async_connect(socket, endpoints)` accepts: its elements convert to
    the socket's endpoint type (and it is not itself an endpoint). */
template <class Range, class Socket>
concept endpoint_range_for =
    std::ranges::input_range<Range> && std::convertible_to < std::ranges::range_reference_t<Range>,
typename Socket::endpoint_type > &&!std::convertible_to<Range, typename Socket::endpoint_type>;

/** How the range form keeps its range: an lvalue by pointer (no copy), an rvalue by value. */
template <class Range>
class held_range {
 public:
  explicit held_range(Range&& r) noexcept(std::is_nothrow_move_constructible_v<Range>)
      : range_(std::move(r)) {}
  [[nodiscard]] Range& get() noexcept { return range_; }

 private:
  Range range_;
};
template <class Range>
class held_range<Range&> {
 public:
  explicit held_range(Range& r) noexcept : range_(&r) {}
  [[nodiscard]] Range& get() noexcept { return *range_; }

 private:
  Range* range_;
};

/** The operation state of the range form: one `connect_kind` operation per endpoint, rebuilt in
    place, until one connects; attempts that complete inside `start()` are looped over, not
    recursed into. */
template <class Socket, class Range, bool FromEnv, class Rcvr>
class range_connect_operation {
  using endpoint_type = typename Socket::endpoint_type;
  using range_type = std::remove_reference_t<Range>;
  using iterator = std::ranges::iterator_t<range_type>;

  struct attempt_receiver {
    using receiver_concept = ex::receiver_t;
    range_connect_operation* op_;
    void set_value() && noexcept { op_->attempt_done(outcome::connected, {}); }
    void set_error(std::error_code ec) && noexcept { op_->attempt_done(outcome::failed, ec); }
    void set_stopped() && noexcept { op_->attempt_done(outcome::stopped, {}); }
    [[nodiscard]] ex::env_of_t<Rcvr> get_env() const noexcept { return ex::get_env(op_->rcvr_); }
  };
  using attempt_sender = io_sender<connect_kind<Socket>, FromEnv>;
  using attempt_operation = ex::connect_result_t<attempt_sender, attempt_receiver>;

  // Builds the attempt's operation state in place (operation states cannot be moved).
  struct connect_attempt {
    range_connect_operation* op_;
    // NOLINTNEXTLINE(google-explicit-constructor)
    operator attempt_operation() const {
      return ex::connect(attempt_sender(op_->ctx_, connect_kind<Socket>{op_->socket_, op_->peer_, true}),
                         attempt_receiver{op_});
    }
  };

  enum class outcome { connected, failed, stopped };
  enum phase : int { starting, finished_inline, waiting };

 public:
  using operation_state_concept = ex::operation_state_t;

  range_connect_operation(io::io_context* ctx, Socket* socket, held_range<Range> range, Rcvr rcvr) noexcept(
      std::is_nothrow_move_constructible_v<held_range<Range>>&& std::is_nothrow_move_constructible_v<Rcvr>)
      : ctx_(ctx), socket_(socket), range_(std::move(range)), rcvr_(std::move(rcvr)) {}
  range_connect_operation(const range_connect_operation&) = delete;
  range_connect_operation& operator=(const range_connect_operation&) = delete;

  void start() & noexcept {
    it_ = std::ranges::begin(range_.get());
    if (it_ == std::ranges::end(range_.get())) {
      ex::set_error(std::move(rcvr_), make_error_code(senet::error::not_found));
      return;
    }
    loop();
  }

 private:
  void loop() noexcept {
    for (;;) {
      if (ex::get_stop_token(ex::get_env(rcvr_)).stop_requested()) {
        ex::set_stopped(std::move(rcvr_));
        return;
      }
      phase_.store(starting, std::memory_order_relaxed);
      peer_ = static_cast<endpoint_type>(*it_);
      attempt_.emplace(connect_attempt{this});
      ex::start(*attempt_);
      // Still connecting: its completion goes on. Completed in start(): go on here.
      if (phase_.exchange(waiting, std::memory_order_acq_rel) != finished_inline || !finish_attempt()) {
        return;
      }
    }
  }

  void attempt_done(outcome o, std::error_code ec) noexcept {
    outcome_ = o;
    error_ = ec;
    // A start() from another thread may still be returning while the attempt completes on the
    // context's thread: whichever of the two comes second goes on.
    if (phase_.exchange(finished_inline, std::memory_order_acq_rel) == waiting && finish_attempt()) {
      loop();
    }
  }

  // Returns true when the next endpoint is to be tried; otherwise completes the receiver.
  bool finish_attempt() noexcept {
    attempt_.reset();
    switch (outcome_) {
      case outcome::connected:
        ex::set_value(std::move(rcvr_), std::move(peer_));
        return false;
      case outcome::stopped:
        ex::set_stopped(std::move(rcvr_));
        return false;
      case outcome::failed:
        break;
    }
    // The socket was closed under the operation: no other endpoint can help.
    if (error_ == senet::error::operation_aborted || ++it_ == std::ranges::end(range_.get())) {
      ex::set_error(std::move(rcvr_), error_);
      return false;
    }
    return true;
  }

  io::io_context* ctx_;
  Socket* socket_;
  held_range<Range> range_;
  Rcvr rcvr_;
  iterator it_{};
  endpoint_type peer_{};
  outcome outcome_ = outcome::failed;
  std::error_code error_{};
  std::atomic<int> phase_{waiting};
  std::optional<attempt_operation> attempt_{};
};

/** The sender of the range form. */
template <class Socket, class Range, bool FromEnv>
class range_connect_sender {
 public:
  using sender_concept = ex::sender_t;
  using completion_signatures =
      ex::completion_signatures<ex::set_value_t(typename Socket::endpoint_type),
                                ex::set_error_t(std::error_code), ex::set_stopped_t()>;

  range_connect_sender(io::io_context* ctx, Socket* socket, held_range<Range> range) noexcept(
      std::is_nothrow_move_constructible_v<held_range<Range>>)
      : ctx_(ctx), socket_(socket), range_(std::move(range)) {}

  template <class Rcvr>
  [[nodiscard]] range_connect_operation<Socket, Range, FromEnv, Rcvr> connect(Rcvr rcvr) && noexcept(
      std::is_nothrow_move_constructible_v<held_range<Range>>&& std::is_nothrow_move_constructible_v<Rcvr>) {
    return {ctx_, socket_, std::move(range_), std::move(rcvr)};
  }

  template <class Rcvr>
  requires std::copy_constructible<held_range<Range>>
  [[nodiscard]] range_connect_operation<Socket, Range, FromEnv, Rcvr> connect(Rcvr rcvr) const& {
    return {ctx_, socket_, held_range<Range>(range_), std::move(rcvr)};
  }

  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }

 private:
  io::io_context* ctx_;
  Socket* socket_;
  held_range<Range> range_;
};

}  // namespace detail

/** `net::async_connect(socket, endpoint)`: a sender that connects `socket` to `endpoint`
    (P2762 [net.sender.async.connect]).

    A socket that is not open is first opened for the endpoint's protocol. The connection is made
    without blocking (`connect` returning `EINPROGRESS`, then writability and `SO_ERROR`). Without a
    scheduler argument the io_context comes from the receiver's environment;
    `async_connect(sch, socket, endpoint)` runs on `sch`'s context.

    Completion signatures: `set_value_t()`, `set_error_t(std::error_code)` (`errno` values in
    `std::system_category()`, e.g. `std::errc::connection_refused`;
    `senet::error::operation_aborted` if the socket was closed while the operation waited),
    `set_stopped_t()`.
    Cancellation: a stop request cancels the pending connect; it then completes with
    `set_stopped()` unless it completed first. The connection attempt may still be in progress in
    the kernel: close the socket (or open a new one) before connecting again.
    Buffer lifetime: `endpoint` is copied. The socket may be closed, released, moved or destroyed
    on any thread while the connect runs, as `basic_socket` says (Thread safety): the connect then
    completes with `operation_aborted` (unless it had completed before), and one that opens a
    closed socket leaves nothing open once `close()` has returned.
    Thread safety: one connect at a time per socket.
    See P2762 [net.sender.async.connect].
*/
struct async_connect_t {
  template <detail::io_socket Socket>
  [[nodiscard]] auto operator()(Socket& socket, const typename Socket::endpoint_type& endpoint) const {
    return detail::make_sender(detail::connect_kind<Socket>{&socket, endpoint});
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Socket>
  [[nodiscard]] auto operator()(const Sch& sch, Socket& socket,
                                const typename Socket::endpoint_type& endpoint) const {
    return detail::make_sender(sch, detail::connect_kind<Socket>{&socket, endpoint});
  }

  /** `net::async_connect(socket, endpoints)`: a sender that tries the endpoints of a range in
      order (the result of `ip::async_resolve` or `ip::resolve`, a `std::vector` or array of
      endpoints, any input range whose elements convert to `Socket::endpoint_type`) and completes
      with the first that connects, as Asio's range `async_connect`.

      For each endpoint the socket is closed (if open) and opened again for that endpoint's
      protocol, so an IPv4 endpoint after an IPv6 one gets an IPv4 descriptor and a failed attempt
      leaves nothing behind; options set on the socket before the call are therefore not kept (set
      them once it is connected). An lvalue range is referred to, not copied; an rvalue range is
      moved into the sender. Without a scheduler argument the io_context comes from the receiver's
      environment; `async_connect(sch, socket, endpoints)` runs on `sch`'s context.

      Completion signatures: `set_value_t(typename Socket::endpoint_type)` (the endpoint it
      connected to), `set_error_t(std::error_code)` (the error of the last endpoint tried, e.g.
      `std::errc::connection_refused`; `senet::error::not_found` for an empty range, as Asio;
      `senet::error::operation_aborted` if the socket was closed during an attempt, which ends the
      operation at once), `set_stopped_t()`.
      Cancellation: a stop request cancels the pending attempt and tries no further endpoint; the
      operation completes with `set_stopped()`, and the socket is left open but not connected.
      Buffer lifetime: the caller keeps `socket`, and an lvalue `endpoints`, valid until
      completion.
      Thread safety: one connect at a time per socket. Unlike the other operations of a socket
      (`basic_socket`, Thread safety), this one closes and opens the socket on the context's
      thread between its attempts, so while it runs the socket may be closed, released, moved or
      destroyed only on the context's thread (in a completion there); from another thread, request
      a stop (the operation completes with `set_stopped()`) and end the socket after the
      completion. A stop request is safe from any thread. */
  template <detail::io_socket Socket, detail::endpoint_range_for<Socket> Range>
  [[nodiscard]] auto operator()(Socket& socket, Range&& endpoints) const {
    return detail::range_connect_sender<Socket, Range, true>(
        nullptr, &socket, detail::held_range<Range>(std::forward<Range>(endpoints)));
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Socket, detail::endpoint_range_for<Socket> Range>
  [[nodiscard]] auto operator()(const Sch& sch, Socket& socket, Range&& endpoints) const {
    return detail::range_connect_sender<Socket, Range, false>(
        &sch.context(), &socket, detail::held_range<Range>(std::forward<Range>(endpoints)));
  }
};

/** The `async_connect` customization point object. */
inline constexpr async_connect_t async_connect{};

}  // namespace senet::net

#endif  // SENET_NET_ASYNC_CONNECT_HPP
