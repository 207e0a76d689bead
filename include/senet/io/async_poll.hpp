// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_ASYNC_POLL_HPP
#define SENET_IO_ASYNC_POLL_HPP

#include <senet/execution.hpp>
#include <senet/io/detail/foreign_descriptor.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/detail/poll_operation.hpp>
#include <senet/io/detail/stoppable_operation.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/poll_events.hpp>

#include <system_error>
#include <type_traits>
#include <utility>

namespace senet::io {

namespace detail {

/** The operation state of `io::async_poll`: a readiness wait on the registry's descriptor. */
template <class Rcvr>
class foreign_poll_operation : public stoppable_operation<foreign_poll_operation<Rcvr>, Rcvr> {
  using base = stoppable_operation<foreign_poll_operation<Rcvr>, Rcvr>;
  friend base;

 public:
  foreign_poll_operation(io_context& ctx, int fd, poll_events events,
                         Rcvr&& rcvr) noexcept(std::is_nothrow_move_constructible_v<Rcvr>)
      : base(ctx, std::move(rcvr)), fd_(fd), events_(events) {}

 private:
  // On the context's thread (the registry is only touched there).
  int prepare() noexcept {
    if (!valid_poll_events(events_)) [[unlikely]] {
      return static_cast<int>(std::errc::invalid_argument);
    }
    int error = 0;
    descriptor* d = foreign_descriptor(this->context(), fd_, error);
    if (d == nullptr) [[unlikely]] {
      return error;
    }
    prepare_poll(*this, *d, events_);
    return 0;
  }

  void deliver() noexcept { deliver_poll(this->receiver(), *this); }

  int fd_;
  poll_events events_;
};

/** The sender of `io::async_poll`. */
class foreign_poll_sender {
 public:
  using sender_concept = ex::sender_t;
  using completion_signatures = poll_completions;

  foreign_poll_sender(io_context& ctx, int fd, poll_events events) noexcept
      : ctx_(&ctx), fd_(fd), events_(events) {}

  template <class Rcvr>
  [[nodiscard]] foreign_poll_operation<Rcvr> connect(Rcvr rcvr) const
      noexcept(std::is_nothrow_move_constructible_v<Rcvr>) {
    return foreign_poll_operation<Rcvr>(*ctx_, fd_, events_, std::move(rcvr));
  }

  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }

 private:
  io_context* ctx_;
  int fd_;
  poll_events events_;
};

}  // namespace detail

/** `io::async_poll(sch, fd, events)`: a sender that completes when the descriptor `fd`, which no
    senet socket owns (a pipe, an eventfd, a timerfd, another library's socket), has one of
    `events`, with the events that occurred.

    It completes with the `io::poll_events` that occurred, at least one: those asked for, plus
    `error` and `hangup`, which are always reported (the write end of a pipe whose reader closed
    reports `error`, the read end of a pipe whose writer closed `hangup`), and `peer_closed` when
    `readable` was asked for. Nothing is read or written. Several waits on one descriptor may be
    pending at once, for the same or for different events; each completes on its own.

    The context keeps a registry of such descriptors by fd: the first wait registers `fd` with the
    backend, later ones reuse that registration. Before the owner closes `fd`, it calls
    `io::forget_descriptor(ctx, fd)`, which completes the waits still pending with
    `senet::error::operation_aborted` and forgets the registration; a descriptor closed without it
    may leave a stale registration for the next descriptor that gets the same number. A senet
    socket's own descriptor is waited for with `net::async_wait`, not here (on epoll and the test
    backend, a poll of it on the socket's context fails: `std::errc::file_exists`,
    `device_or_resource_busy`).

    Completion signatures: `set_value_t(io::poll_events)`, `set_error_t(std::error_code)`,
    `set_stopped_t()`. Errors: `std::errc::bad_file_descriptor` for a negative or closed `fd`,
    `std::errc::invalid_argument` for `events` outside `io::poll_events`, `std::errc::
    not_enough_memory`, `senet::error::operation_aborted` (forgotten while pending), and what the
    backend reports for a descriptor it cannot wait on (epoll: `operation_not_permitted` for a
    regular file that is not ready).
    Cancellation: a stop request removes the pending wait; it then completes with `set_stopped()`
    unless it completed first.
    Thread safety: may be started from any thread; completes on the context's thread, never inline
    in `start()`, even when the descriptor is ready already (a stop already requested completes it
    there with `set_stopped()`).
    Not in P2762; senet's readiness primitive for the libcoro facade's `poll` and the C API.
*/
struct async_poll_t {
  template <detail::io_scheduler Sch>
  [[nodiscard]] detail::foreign_poll_sender operator()(const Sch& sch, int fd,
                                                       poll_events events) const noexcept {
    return {sch.context(), fd, events};
  }
};

/** The `async_poll` customization point object. */
inline constexpr async_poll_t async_poll{};

}  // namespace senet::io

#endif  // SENET_IO_ASYNC_POLL_HPP
