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

/** The operation state of `timed_io_sender<Kind, FromEnv>`. The I/O record is the base. */
template <class Kind, class Rcvr>
class timed_io_operation : public io::detail::io_operation {
  using clock = io::detail::clock;
  using token_type = ex::stop_token_of_t<ex::env_of_t<Rcvr>>;
  static constexpr bool stoppable = !ex::unstoppable_token<token_type>;

  struct timer_record : io::detail::timer_operation {
    timed_io_operation* owner_ = nullptr;
  };

  struct on_stop {
    timed_io_operation* self_;
    void operator()() const noexcept { self_->cancel_records(); }
  };
  using callback_type =
      std::conditional_t<stoppable, std::optional<ex::stop_callback_for_t<token_type, on_stop>>,
                         io::detail::no_callback>;

 public:
  using operation_state_concept = ex::operation_state_tag;

  timed_io_operation(io::io_context& ctx, Kind&& kind, clock::duration limit, Rcvr&& rcvr) noexcept(
      std::is_nothrow_move_constructible_v<Kind>&& std::is_nothrow_move_constructible_v<Rcvr>)
      : ctx_(&ctx), rcvr_(std::move(rcvr)), kind_(std::move(kind)), limit_(limit) {}
  timed_io_operation(const timed_io_operation&) = delete;
  timed_io_operation& operator=(const timed_io_operation&) = delete;

  void start() & noexcept {
    if (io::detail::start_here_or_post(*ctx_, *this, rcvr_, &timed_io_operation::start_trampoline)) {
      start_here();
    }
  }

 private:
  static void start_trampoline(io::detail::io_operation* op) noexcept {
    static_cast<timed_io_operation*>(op)->start_here();
  }

  void start_here() noexcept {
    if (!io::detail::prepare_or_fail(rcvr_,
                                     [this]() noexcept { return kind_.prepare(*this, storage_, *ctx_); })) {
      return;
    }
    this->complete_ = &timed_io_operation::on_io_complete;
    linked_ = io::detail::links_timeouts(*ctx_);
    // A limit <= 0 still lets the kernel try the operation once (the timeout is armed after).
    this->link_timeout_ns_ = linked_ ? (limit_.count() > 0 ? std::int64_t{limit_.count()} : 1) : 0;
    if (io::detail::start_operation(*ctx_, *this)) {
      // Completed at once (epoll with data there, a bad descriptor, shutdown): no timer needed.
      deliver();
      return;
    }
    remaining_ = 1;
    if (!linked_) {
      remaining_ = 2;
      timer_.owner_ = this;
      timer_.code_ = io::detail::op_code::timer;
      timer_.complete_ = &timed_io_operation::on_timer_complete;
      clock::time_point now = io::detail::now(*ctx_);
      timer_.deadline_ = limit_ >= clock::time_point::max() - now ? clock::time_point::max() : now + limit_;
      if (io::detail::start_operation(*ctx_, timer_)) {
        // Only while the context shuts down (which cancels the I/O record too).
        timer_done_ = true;
        --remaining_;
      }
    }
    if constexpr (stoppable) {
      // Constructed only while the records are pending: a stop already requested runs the
      // callback here, which cancels them through the ready queue (never inline).
      callback_.emplace(ex::get_stop_token(ex::get_env(rcvr_)), on_stop{this});
    }
  }

  // The stop callback (any thread): cancels both records; each completes with -ECANCELED unless it
  // completed first.
  void cancel_records() noexcept {
    io::detail::request_cancel(*ctx_, *this);
    if (!linked_) {
      io::detail::request_cancel(*ctx_, timer_);
    }
  }

  // Whichever record completes first destroys the stop callback (waiting for one running on
  // another thread), so that no cancel request is made afterwards; a record whose cancel request
  // is still queued waits for it (io_core.md, "Completion and cancellation").
  bool defer(io::detail::io_operation& record) noexcept {
    if constexpr (stoppable) {
      callback_.reset();
      return io::detail::defer_for_cancel(record);
    } else {
      (void)record;
      return false;
    }
  }

  static void on_io_complete(io::detail::io_operation* op) noexcept {
    auto& self = *static_cast<timed_io_operation*>(op);
    if (self.defer(self)) {
      return;
    }
    self.io_done_ = true;
    if (!self.linked_ && !self.timer_done_) {
      io::detail::request_cancel(*self.ctx_, self.timer_);  // on this thread: at once
    }
    self.arrive();
  }

  static void on_timer_complete(io::detail::io_operation* op) noexcept {
    auto& self = *static_cast<timer_record*>(op)->owner_;
    if (self.defer(self.timer_)) {
      return;
    }
    self.timer_done_ = true;
    if (self.timer_.result_ == 0 && !self.io_done_) {
      // The time is up. If the I/O has already completed (it waits in the ready queue) this does
      // nothing and its result stands.
      self.timed_out_ = true;
      io::detail::request_cancel(*self.ctx_, self);
    }
    self.arrive();
  }

  void arrive() noexcept {
    if (--remaining_ == 0) {
      deliver();
    }
  }

  void deliver() noexcept {
    std::int64_t result = this->result_;
    if (result == -ECANCELED) {
      if (timed_out_) {
        ex::set_error(std::move(rcvr_), std::make_error_code(std::errc::timed_out));
      } else {
        ex::set_stopped(std::move(rcvr_));
      }
    } else if (linked_ && result == -ETIMEDOUT) {
      ex::set_error(std::move(rcvr_), std::make_error_code(std::errc::timed_out));
    } else {
      kind_.deliver(rcvr_, *this, storage_);
    }
  }

  io::io_context* ctx_;
  Rcvr rcvr_;
  Kind kind_;
  typename Kind::storage storage_{};
  clock::duration limit_;
  timer_record timer_{};
  int remaining_ = 0;
  bool linked_ = false;
  bool io_done_ = false;
  bool timer_done_ = false;
  bool timed_out_ = false;
  [[no_unique_address]] callback_type callback_{};
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
