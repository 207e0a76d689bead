// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_ASYNC_READ_UNTIL_HPP
#define SENET_NET_ASYNC_READ_UNTIL_HPP

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/detail/stoppable_operation.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/detail/io_sender.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include <sys/uio.h>

namespace senet::net {

namespace detail {

/** A *DynamicBuffer_v1* whose readable bytes are one contiguous buffer (`dynamic_string_buffer`,
    `dynamic_vector_buffer`). */
template <class B>
concept contiguous_dynamic_buffer = std::copy_constructible<B> && requires(B& b, const B& cb, std::size_t n) {
  { cb.size() } -> std::convertible_to<std::size_t>;
  { cb.max_size() } -> std::convertible_to<std::size_t>;
  { cb.capacity() } -> std::convertible_to<std::size_t>;
  { cb.data() } -> std::convertible_to<const_buffer>;
  { b.prepare(n) } -> std::convertible_to<mutable_buffer>;
  b.commit(n);
  b.consume(n);
};

/** The receiver `read_until_operation` gives its base: on `set_stopped` it first drops the bytes
    prepared for the read that was cancelled, so that the buffer holds exactly what was read. */
template <class Rcvr, class DynamicBuffer>
struct commit_on_stop_receiver {
  using receiver_concept = ex::receiver_t;
  Rcvr rcvr_;
  DynamicBuffer* buffer_;
  bool* prepared_;

  void set_value(std::size_t n) && noexcept { ex::set_value(std::move(rcvr_), n); }
  void set_error(std::error_code ec) && noexcept { ex::set_error(std::move(rcvr_), ec); }
  void set_stopped() && noexcept {
    if (*prepared_) {
      buffer_->commit(0);
      *prepared_ = false;
    }
    ex::set_stopped(std::move(rcvr_));
  }
  [[nodiscard]] ex::env_of_t<Rcvr> get_env() const noexcept { return ex::get_env(rcvr_); }
};

/** The operation state of `async_read_until` on a senet socket: one receive record, started again
    into more of the buffer until the delimiter has arrived (stoppable_operation's multi-step form:
    reads that complete at once are looped over, not recursed into). */
template <class Socket, class DynamicBuffer, class Rcvr>
class read_until_operation
    : public io::detail::stoppable_operation<read_until_operation<Socket, DynamicBuffer, Rcvr>,
                                             commit_on_stop_receiver<Rcvr, DynamicBuffer>> {
  using base =
      io::detail::stoppable_operation<read_until_operation, commit_on_stop_receiver<Rcvr, DynamicBuffer>>;
  friend base;

 public:
  using operation_state_concept = ex::operation_state_t;

  // The receiver refers to `buffer_` and `prepared_` before they are constructed; it uses them
  // only once the operation runs.
  read_until_operation(io::io_context& ctx, Socket* socket, DynamicBuffer buffer, std::string delimiter,
                       Rcvr rcvr) noexcept(std::is_nothrow_move_constructible_v<DynamicBuffer>&&
                                               std::is_nothrow_move_constructible_v<Rcvr>)
      : base(ctx, commit_on_stop_receiver<Rcvr, DynamicBuffer>{std::move(rcvr), &buffer_, &prepared_}),
        socket_(socket),
        buffer_(std::move(buffer)),
        delimiter_(std::move(delimiter)) {}

  void start() & noexcept {
    if (delimiter_.empty()) {
      ex::set_error(std::move(this->receiver()), std::make_error_code(std::errc::invalid_argument));
      return;
    }
    // Data left in the buffer by an earlier call may hold the delimiter already.
    if (found_or_full() || !next_window()) {
      return;
    }
    base::start();
  }

 private:
  void prepare() noexcept {
    this->code_ = io::detail::op_code::receive;
    this->descriptor_ = &socket_->io_descriptor();
    this->msg_.msg_iov = &iov_;
    this->msg_.msg_iovlen = 1;
    this->flags_ = 0;
  }

  io::detail::descriptor* handoff_descriptor() noexcept { return &socket_->io_descriptor(); }

  // The socket was released before the loop took the start: deliver() with `aborted`, which gives
  // the prepared room back. (Not a hot path, so the second caller of deliver() costs nothing.)
  void deliver_abandoned() noexcept {
    this->result_ = io::detail::io_operation::aborted;
    deliver();
  }

  // Accounts for one read; true to read again.
  bool deliver() noexcept {
    std::int64_t r = this->result_;
    prepared_ = false;
    if (r <= 0) {
      buffer_.commit(0);
      ex::set_error(std::move(this->receiver()),
                    r < 0 ? io::detail::result_error(r) : make_error_code(senet::error::eof));
      return false;
    }
    buffer_.commit(static_cast<std::size_t>(r));
    return !found_or_full() && next_window();
  }

  // Searches the bytes not searched yet; completes the receiver (and returns true) when the
  // delimiter is there, or when the buffer is full without it.
  bool found_or_full() noexcept {
    const_buffer data = buffer_.data();
    std::string_view bytes(static_cast<const char*>(data.data()), data.size());
    std::size_t at = bytes.find(delimiter_, searched_);
    if (at != std::string_view::npos) {
      ex::set_value(std::move(this->receiver()), at + delimiter_.size());
      return true;
    }
    // A delimiter split across two reads starts in the last size() - 1 bytes: search them again.
    std::size_t keep = delimiter_.size() - 1;
    searched_ = bytes.size() > keep ? bytes.size() - keep : 0;
    if (buffer_.size() >= buffer_.max_size()) {
      ex::set_error(std::move(this->receiver()), make_error_code(senet::error::not_found));
      return true;
    }
    return false;
  }

  // Prepares the bytes the next read fills (as Asio sizes them: at least 512, at most 64 KiB, within
  // max_size()); false (and the receiver completed) when the buffer cannot grow.
  bool next_window() noexcept {
    std::size_t size = buffer_.size();
    std::size_t room = buffer_.capacity() > size ? buffer_.capacity() - size : 0;
    std::size_t n =
        std::min(std::max<std::size_t>(512, room), std::min<std::size_t>(65536, buffer_.max_size() - size));
    try {
      mutable_buffer b = buffer_.prepare(n);
      prepared_ = true;
      iov_.iov_base = b.data();
      iov_.iov_len = b.size();
      return true;
    } catch (const std::bad_alloc&) {
      ex::set_error(std::move(this->receiver()), std::make_error_code(std::errc::not_enough_memory));
    } catch (...) {
      ex::set_error(std::move(this->receiver()), make_error_code(senet::error::not_found));
    }
    return false;
  }

  Socket* socket_;
  DynamicBuffer buffer_;
  std::string delimiter_;
  std::size_t searched_ = 0;
  bool prepared_ = false;  // the buffer holds bytes prepared for a read that has not completed
  ::iovec iov_{};
};

template <class Socket, class DynamicBuffer, bool FromEnv>
class read_until_sender {
 public:
  using sender_concept = ex::sender_t;
  using completion_signatures = size_completions;

  read_until_sender(io::io_context* ctx, Socket* socket, DynamicBuffer buffer,
                    std::string delimiter) noexcept(std::is_nothrow_move_constructible_v<DynamicBuffer>)
      : ctx_(ctx), socket_(socket), buffer_(std::move(buffer)), delimiter_(std::move(delimiter)) {}

  template <class Rcvr>
  [[nodiscard]] read_until_operation<Socket, DynamicBuffer, Rcvr> connect(Rcvr rcvr) && noexcept(
      std::is_nothrow_move_constructible_v<DynamicBuffer>&& std::is_nothrow_move_constructible_v<Rcvr>) {
    io::io_context& ctx = context_for<FromEnv>(ctx_, rcvr);
    return {ctx, socket_, std::move(buffer_), std::move(delimiter_), std::move(rcvr)};
  }

  template <class Rcvr>
  [[nodiscard]] read_until_operation<Socket, DynamicBuffer, Rcvr> connect(Rcvr rcvr) const& {
    io::io_context& ctx = context_for<FromEnv>(ctx_, rcvr);
    return {ctx, socket_, buffer_, delimiter_, std::move(rcvr)};
  }

  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }

 private:
  io::io_context* ctx_;
  Socket* socket_;
  DynamicBuffer buffer_;
  std::string delimiter_;
};

}  // namespace detail

/** `net::async_read_until(socket, buffer, delimiter)`: a sender that reads from the stream socket
    `socket` into the dynamic buffer `buffer` (`net::dynamic_buffer(str)` over a `std::string` or
    `std::vector` of bytes) until its readable bytes contain `delimiter` (a `char` or a
    `std::string_view`), as Asio's `async_read_until`.

    The bytes already in the buffer are searched first, so the data a previous call left after its
    delimiter is found again without a read. Each read appends to the buffer (at least 512 bytes
    are prepared, at most 64 KiB, within `max_size()`), and may bring bytes past the delimiter:
    they stay in the buffer, after the value the sender completes with, for the next call. A
    delimiter split across two reads is found. Without a scheduler argument the io_context comes
    from the receiver's environment; `async_read_until(sch, socket, buffer, delimiter)` runs on
    `sch`'s context.

    Completion signatures: `set_value_t(std::size_t)` (the number of bytes up to and including
    the first delimiter: the line is the first that many bytes of the buffer),
    `set_error_t(std::error_code)`: `senet::error::eof` when the stream ends before a delimiter,
    `senet::error::not_found` when the buffer reached `max_size()` without one (Asio's errors),
    `std::errc::invalid_argument` for an empty delimiter, `std::errc::not_enough_memory` when the
    buffer cannot grow, and the errors of `async_receive`. On error or stop, every byte read so far
    stays in the buffer. `set_stopped_t()`.
    Cancellation: a stop request cancels the pending read; the operation completes with
    `set_stopped()`.
    Buffer lifetime: the caller keeps the buffer's container valid, and does not touch it, until
    completion; the buffer object (a reference to the container) and the delimiter are copied into
    the sender (a delimiter longer than `std::string`'s inline capacity, 15 bytes, allocates once
    per sender). The socket may be closed, moved or destroyed meanwhile, from any thread, as
    `basic_socket` says: the operation then completes with `operation_aborted`, the bytes read
    before in the buffer.
    Thread safety: one read at a time per socket.
    Allocation: none per read; the container grows as its `resize` does. Reads that complete at
    once are looped over, never recursed into; once the handler running the read has completed 16
    operations at once, the next step goes through the io_context's queue, so that a peer that
    keeps sending without a delimiter cannot keep the context's thread from its other work.
*/
struct async_read_until_t {
  template <detail::io_socket Socket, detail::contiguous_dynamic_buffer DynamicBuffer>
  [[nodiscard]] auto operator()(Socket& socket, DynamicBuffer buffer, char delimiter) const {
    return detail::read_until_sender<Socket, DynamicBuffer, true>(nullptr, &socket, std::move(buffer),
                                                                  std::string(1, delimiter));
  }
  template <detail::io_socket Socket, detail::contiguous_dynamic_buffer DynamicBuffer>
  [[nodiscard]] auto operator()(Socket& socket, DynamicBuffer buffer, std::string_view delimiter) const {
    return detail::read_until_sender<Socket, DynamicBuffer, true>(nullptr, &socket, std::move(buffer),
                                                                  std::string(delimiter));
  }
  template <io::detail::io_scheduler Sch, detail::io_socket Socket,
            detail::contiguous_dynamic_buffer DynamicBuffer>
  [[nodiscard]] auto operator()(const Sch& sch, Socket& socket, DynamicBuffer buffer, char delimiter) const {
    return detail::read_until_sender<Socket, DynamicBuffer, false>(&sch.context(), &socket, std::move(buffer),
                                                                   std::string(1, delimiter));
  }
  template <io::detail::io_scheduler Sch, detail::io_socket Socket,
            detail::contiguous_dynamic_buffer DynamicBuffer>
  [[nodiscard]] auto operator()(const Sch& sch, Socket& socket, DynamicBuffer buffer,
                                std::string_view delimiter) const {
    return detail::read_until_sender<Socket, DynamicBuffer, false>(&sch.context(), &socket, std::move(buffer),
                                                                   std::string(delimiter));
  }
};

/** The `async_read_until` customization point object. */
inline constexpr async_read_until_t async_read_until{};

}  // namespace senet::net

#endif  // SENET_NET_ASYNC_READ_UNTIL_HPP
