// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_DETAIL_TIMED_IO_SENDER_HPP
#define SENET_NET_DETAIL_TIMED_IO_SENDER_HPP

/* `net::timeout` of one socket operation: what `io_sender<Kind, FromEnv>::timeout(d)` returns for a
   kind whose record is a plain `io_operation` (receive, send, receive_from, send_to, accept,
   connect, readiness waits; not timers).

   At start, on the context's thread, the operation state asks the core whether the backend links
   timeouts (`io::detail::links_timeouts`, io_uring with IORING_OP_LINK_TIMEOUT):
   - linked: the limit goes into the record (`link_timeout_ns_`), the kernel enforces it, and the
     record comes back -ETIMEDOUT when it passed first. One record, no timer, no second completion.
   - otherwise (epoll, the test backend): a timer record inside the same operation state races the
     I/O record. The timer firing first cancels the I/O (which then comes back -ECANCELED and is
     reported as timed out); the I/O completing first cancels the timer. The receiver is completed
     only after both records are delivered.
   An I/O that did complete is reported as such even if the timer fired meanwhile (its bytes or its
   accepted socket are never dropped). A limit <= 0 tries the operation once without waiting: it
   succeeds if it can complete at once, otherwise it times out. Nothing is allocated. */

#include <senet/execution.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/detail/stoppable_operation.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/detail/sender_support.hpp>
#include <senet/net/detail/wait_kind.hpp>

#include <cerrno>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

namespace senet::net::detail {

/** The operation state of `timed_io_sender<Kind, FromEnv>`: a `stoppable_operation` whose record
    is the I/O record, with the timer record beside it. */
template <class Kind, class Rcvr>
class timed_io_operation : public io::detail::stoppable_operation<timed_io_operation<Kind, Rcvr>, Rcvr> {
  using base = io::detail::stoppable_operation<timed_io_operation<Kind, Rcvr>, Rcvr>;
  friend base;
  using clock = io::detail::clock;

  struct timer_record : io::detail::timer_operation {
    timed_io_operation* owner_ = nullptr;
  };

 public:
  using operation_state_concept = ex::operation_state_tag;

  timed_io_operation(io::io_context& ctx, Kind&& kind, clock::duration limit, Rcvr&& rcvr) noexcept(
      std::is_nothrow_move_constructible_v<Kind>&& std::is_nothrow_move_constructible_v<Rcvr>)
      : base(ctx, std::move(rcvr)), kind_(std::move(kind)), limit_(limit) {}

 private:
  // ---- stoppable_operation's hooks ----

  // On the context's thread, before the I/O record starts.
  decltype(auto) prepare() noexcept {
    if constexpr (std::is_void_v<decltype(kind_.prepare(*this, storage_, this->context()))>) {
      kind_.prepare(*this, storage_, this->context());
      choose_timing();
    } else {
      auto r = kind_.prepare(*this, storage_, this->context());
      choose_timing();
      return r;
    }
  }

  // After the kind filled the record: linked where the backend links timeouts and gets the
  // record. The core serves an accept from the acceptor's standing accept itself
  // (`op_code::accept_queued`, `is_served_by_core`), never handing it to the backend, which would
  // have linked the timeout: the timer record times it, as on epoll. (It never timed out on
  // io_uring before.)
  void choose_timing() noexcept {
    linked_ = !io::detail::is_served_by_core(this->code_) && io::detail::links_timeouts(this->context());
    // A limit <= 0 still lets the kernel try the operation once (the timeout is armed after).
    this->link_timeout_ns_ = linked_ ? (limit_.count() > 0 ? std::int64_t{limit_.count()} : 1) : 0;
  }

  auto handoff_descriptor() noexcept { return kind_descriptor(kind_); }

  // The I/O record waits (it did not complete at once: epoll with data there, a bad descriptor,
  // shutdown need no timer). Unless the kernel enforces the limit, start the timer.
  void on_pending() noexcept {
    remaining_ = 1;
    if (linked_) {
      return;
    }
    remaining_ = 2;
    timer_.owner_ = this;
    timer_.code_ = io::detail::op_code::timer;
    timer_.complete_ = &timed_io_operation::on_timer_complete;
    clock::time_point now = io::detail::now(this->context());
    timer_.deadline_ = limit_ >= clock::time_point::max() - now ? clock::time_point::max() : now + limit_;
    if (io::detail::start_operation(this->context(), timer_)) {
      // Only while the context shuts down (which cancels the I/O record too).
      timer_done_ = true;
      --remaining_;
    }
  }

  // The stop callback (any thread): cancels both records; each completes with -ECANCELED unless it
  // completed first.
  void cancel_records() noexcept {
    io::detail::request_cancel(this->context(), *this);
    if (!linked_) {
      io::detail::request_cancel(this->context(), timer_);
    }
  }

  // The I/O record completed (the stop callback is gone): cancel the timer, and complete once
  // both records are delivered.
  bool record_completed() noexcept {
    io_done_ = true;
    if (!linked_ && !timer_done_) {
      io::detail::request_cancel(this->context(), timer_);  // on this thread: at once
    }
    return --remaining_ == 0;
  }

  void deliver() noexcept {
    if (linked_ && this->result_ == -ETIMEDOUT) {
      ex::set_error(std::move(this->receiver()), std::make_error_code(std::errc::timed_out));
    } else {
      kind_.deliver(this->receiver(), *this, storage_);
    }
  }

  // The I/O record came back -ECANCELED: cancelled by the timer, or by a stop request.
  void deliver_cancelled() noexcept {
    if (timed_out_) {
      ex::set_error(std::move(this->receiver()), std::make_error_code(std::errc::timed_out));
    } else {
      ex::set_stopped(std::move(this->receiver()));
    }
  }

  // ---- the timer record ----

  static void on_timer_complete(io::detail::io_operation* op) noexcept {
    auto& self = *static_cast<timer_record*>(op)->owner_;
    self.release_stop_callback(self.timer_);
    self.timer_done_ = true;
    if (self.timer_.result_ == 0 && !self.io_done_) {
      // The time is up. If the I/O has already completed (it waits in the ready queue) this does
      // nothing and its result stands.
      self.timed_out_ = true;
      io::detail::request_cancel(self.context(), self);
    }
    if (--self.remaining_ == 0) {
      self.finish();
    }
  }

  Kind kind_;
  typename Kind::storage storage_{};
  clock::duration limit_;
  timer_record timer_{};
  int remaining_ = 0;
  bool linked_ = false;
  bool io_done_ = false;
  bool timer_done_ = false;
  bool timed_out_ = false;
};

/** What `net::timeout(io_sender, d)` returns for one socket operation (see the top of this file).

    Completion signatures: those of the generic `net::timeout` of the same sender (the operation's
    own, `set_error_t(std::error_code)`, `set_stopped_t()`); `std::errc::timed_out` when the limit
    passed first. */
template <class Kind, bool FromEnv>
class timed_io_sender {
 public:
  using sender_concept = ex::sender_t;
  using completion_signatures = timeout_signatures_from<typename Kind::completion_signatures>;

  /** `limit` is saturated to the clock's range; a negative one counts as zero. */
  template <class Rep, class Period>
  timed_io_sender(io::io_context* ctx, Kind kind, std::chrono::duration<Rep, Period> limit) noexcept(
      std::is_nothrow_move_constructible_v<Kind>)
      : ctx_(ctx), kind_(std::move(kind)), limit_(wait_kind::for_(limit).relative_) {}

  template <class Rcvr>
  [[nodiscard]] timed_io_operation<Kind, Rcvr> connect(Rcvr rcvr) && noexcept(
      std::is_nothrow_move_constructible_v<Kind>&& std::is_nothrow_move_constructible_v<Rcvr>) {
    io::io_context& ctx = context_for<FromEnv>(ctx_, rcvr);
    return timed_io_operation<Kind, Rcvr>(ctx, std::move(kind_), limit_, std::move(rcvr));
  }

  template <class Rcvr>
  requires std::copy_constructible<Kind>
  [[nodiscard]] timed_io_operation<Kind, Rcvr> connect(Rcvr rcvr) const& noexcept(
      std::is_nothrow_copy_constructible_v<Kind>&& std::is_nothrow_move_constructible_v<Rcvr>) {
    io::io_context& ctx = context_for<FromEnv>(ctx_, rcvr);
    return timed_io_operation<Kind, Rcvr>(ctx, Kind(kind_), limit_, std::move(rcvr));
  }

  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }

 private:
  io::io_context* ctx_;
  Kind kind_;
  io::detail::clock::duration limit_;
};

}  // namespace senet::net::detail

#endif  // SENET_NET_DETAIL_TIMED_IO_SENDER_HPP
