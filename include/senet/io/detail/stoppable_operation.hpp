// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_DETAIL_STOPPABLE_OPERATION_HPP
#define SENET_IO_DETAIL_STOPPABLE_OPERATION_HPP

/* The part every senet operation state shares: starting on the context's thread, the stop
   callback, and the completion/cancellation handshake of docs/design/io_core.md ("Completion and
   cancellation"). */

#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/detail/shared_stop.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <new>
#include <system_error>
#include <type_traits>
#include <utility>

namespace senet::io::detail {

/** The `std::error_code` of a negative `io_operation::result_` (not -ECANCELED). */
[[nodiscard]] inline std::error_code result_error(std::int64_t result) noexcept {
  if (result == io_operation::aborted) {
    return make_error_code(senet::error::operation_aborted);
  }
  return {static_cast<int>(-result), std::system_category()};
}

/** The environment `Env` provides a senet I/O scheduler (`io::get_io_scheduler`, which falls back
    to `ex::get_scheduler`). */
template <class Env>
concept env_with_io_scheduler = requires(const Env& env) {
  { io::get_io_scheduler(env) } -> io_scheduler;
};

/** The io_context of the senet I/O scheduler found in `env`. */
template <class Env>
[[nodiscard]] io_context& context_from_env(const Env& env) noexcept {
  return io::get_io_scheduler(env).context();
}

struct no_callback {};

/** Calls `prepare()`, which fills an operation record and returns `void` (cannot fail), `int` (0,
    or a `std::errc` value) or `std::error_code`; on failure completes `rcvr` with
    `set_error(std::error_code)` and returns false. */
template <class Rcvr, class Prepare>
bool prepare_or_fail(Rcvr& rcvr, Prepare&& prepare) noexcept {
  using result_type = decltype(prepare());
  if constexpr (std::is_void_v<result_type>) {
    prepare();
  } else if constexpr (std::is_same_v<result_type, int>) {
    if (int e = prepare(); e != 0) [[unlikely]] {
      ex::set_error(std::move(rcvr), std::make_error_code(static_cast<std::errc>(e)));
      return false;
    }
  } else if (std::error_code ec = prepare()) {
    ex::set_error(std::move(rcvr), ec);
    return false;
  }
  return true;
}

/** Counts `op`, a start on its way to `ctx`'s loop that reads `d` there, on `d`
    (`descriptor::on_its_way`, `handed_to`) and marks it (`io_operation::handoff_`), so that a
    release or cancel of `d` before the loop takes it has the loop mark it abandoned or cancelled.
    A start handed over from another thread (`start_here_or_hand_off`) and a restart deferred to a
    later turn (`stoppable_operation`) are both such starts. */
inline void count_on_its_way(io_context& ctx, io_operation& op, descriptor& d) noexcept {
  op.descriptor_ = &d;
  op.handoff_ = handoff_state::on_its_way;
  d.handed_to = &ctx;
  d.on_its_way.add();
}

/** The second step of an operation state's `start()`, after its stop token was checked: moves
    the start to the context's thread when called on another one (`trampoline(&op)` runs there),
    and through the loop when called on that thread while earlier starts handed to it wait. True
    when the caller goes on starting here.

    `d`: the descriptor of the socket the start reads when the loop takes it, if any. A start
    handed over with it is counted on `d` (`descriptor::on_its_way`) and marked
    (`io_operation::handoff_`), so that a release or cancel of `d` before the loop takes it has the
    loop mark it abandoned or cancelled; the trampoline then completes it without reading the
    socket, and otherwise holds the count while it runs the start (`counted_start`;
    `stoppable_operation` does both). */
inline bool start_here_or_hand_off(io_context& ctx, io_operation& op, io_operation::complete_fn trampoline,
                                   descriptor* d = nullptr) noexcept {
  std::atomic<std::size_t>& handed_off = handed_off_starts(ctx);
  if (!running_in_this_thread(ctx) || handed_off.load(std::memory_order_relaxed) != 0) [[unlikely]] {
    // Backends are touched only by the context's thread: start there. A start on that thread
    // while earlier ones handed to it wait goes behind them, or it would overtake them (a send
    // started before run_until would go on the wire after one started inside it).
    // `trampoline` calls `started_handed_off` first.
    if (running_in_this_thread(ctx)) {
      // Its trampoline then counts as a handler (a turn that ran it returns), so that run_until
      // sees a completion it delivers inline. prepare() sets the real code.
      op.code_ = op_code::schedule;
    }
    handed_off.fetch_add(1, std::memory_order_relaxed);
    op.complete_ = trampoline;
    if (d != nullptr) {
      count_on_its_way(ctx, op, *d);
    }
    post_remote(ctx, op);
    return false;
  }
  return true;
}

/** On the context's thread, once `start_here_or_hand_off` let the start go on there: whether an
    operation state's start that reads `d` is deferred to a later turn of the loop instead: the
    handler running has no inline completions left (`inline_completions_left`: a user's loop over
    operations that complete at once, such as reads of a socket that a fast peer keeps ready, then
    lets the loop go round), or a start of `d` deferred or handed over before it has not run yet
    (`descriptor::on_its_way`, less the starts of `d` running now, whose completions make this
    one: `starts_wait_on_their_way`; this one would overtake it). Starts of other sockets are not
    held back. */
[[gnu::always_inline]] inline bool defer_start_here(io_context& ctx, const descriptor& d) noexcept {
  return inline_completions_left(ctx) <= 0 ||
         (deferred_starts(ctx) != 0 && d.on_its_way.count() != 0 && starts_wait_on_their_way(ctx, d));
}

/** The first step of an operation state's `start()`: completes `rcvr` with `set_stopped()` when a
    stop was already requested, and moves the start to the context's thread when called on another
    one (`start_here_or_hand_off`). True when the caller goes on starting here. */
template <class Rcvr>
bool start_here_or_post(io_context& ctx, io_operation& op, Rcvr& rcvr,
                        io_operation::complete_fn trampoline) noexcept {
  if constexpr (!ex::unstoppable_token<ex::stop_token_of_t<ex::env_of_t<Rcvr>>>) {
    if (ex::get_stop_token(ex::get_env(rcvr)).stop_requested()) {
      ex::set_stopped(std::move(rcvr));
      return false;
    }
  }
  return start_here_or_hand_off(ctx, op, trampoline);
}

/** A send (`op.code_` is send, the record filled) made by its operation state on the context's
    thread instead of by the backend, where the backend would make it at once anyway: the
    descriptor's backend allows it (`may_perform_directly`: nothing of the direction pending or
    waiting for delivery) and tries sends whatever the socket's eager bit
    (`descriptor_state_head::tries`) or the socket has `eager_send`, no start handed to the loop
    waits to run (this send would overtake it), and the socket has no zero-copy threshold (a
    send above it is never made directly; one below goes to the backend, which may try it). The result
    is the one the backend would have set; only the calls into the core and the backend are
    saved. Not when the record already carries `start_would_block`. True when the call finished
    the send (`op.result_`: bytes or -errno); false when the record is to be started, then with
    `start_would_block` when the call would have blocked. The context's thread only (it is called
    by `stoppable_operation::start_here`, which runs there). */
[[gnu::always_inline]] inline bool start_directly(io_context& ctx, io_operation& op) noexcept {
  const descriptor& d = *op.descriptor_;
  // Called by start_here, which runs on the context's thread only: a head of this context is this
  // thread's to read. The test that fails for every send of a backend that does not try sends
  // (io_uring without eager_send) comes first.
  const auto* head = static_cast<const descriptor_state_head*>(d.context_state.load());
  if (head == nullptr || head->context != &ctx ||
      ((head->tries & direct_send) == 0 && (d.eager & eager_send) == 0)) {
    return false;
  }
  // start_would_block: the caller (a write awaitable) has just made this call and it would have
  // blocked; the record waits without a second try.
  if (d.zero_copy_threshold != 0 || (op.start_hints_ & start_would_block) != 0 ||
      (head->direct & direct_send) == 0 || head->tickets[direct_index(direct_send)] > *head->delivered ||
      handed_off_starts(ctx).load(std::memory_order_relaxed) != 0) {
    return false;
  }
  std::int64_t r = perform_directly(d, true, op.msg_, op.flags_);
  if (r == -EAGAIN || r == -EWOULDBLOCK) {
    op.start_hints_ |= start_would_block;
    return false;
  }
  op.result_ = r;
  return true;
}

/** The first step of the trampoline of `start_here_or_hand_off` (and so of `start_here_or_post`),
    on the context's thread. */
inline void started_handed_off(io_context& ctx) noexcept {
  handed_off_starts(ctx).fetch_sub(1, std::memory_order_relaxed);
}

/** CRTP base of an operation state on an io_context. `Record` is `io_operation` or
    `timer_operation`.

    `Derived` provides:
    - `prepare() noexcept`: fills the record (on the context's thread, at the final address) and
      returns `void` (cannot fail), `int` (0, or a `std::errc` value) or `std::error_code`; an
      error completes the operation with `set_error` at once. (`int` spares the hot path the
      out-of-line `std::system_category()` call that every `std::error_code()` makes.)
    - `deliver() noexcept`: completes the receiver from `result_`, which is not -ECANCELED
      (`result_error` maps negative results); returns `void`, or `bool`: `true` when it did not
      complete the receiver but wants the record started again (a multi-step operation such as
      `async_write`), which calls `prepare()` again. Restarts that complete at once are looped
      over, never recursed into (once the handler has no inline completions left, the next one
      starts in a later turn of the loop, as a first start then does: `defer_start_here`, so that
      the loop goes round), and a stop request between steps completes with `set_stopped`. A
      release of the socket while a step's completion waits in the ready queue
      completes the operation with `deliver_abandoned()` instead of starting the next step (a
      cancel with `deliver_cancelled()`), so that no step reads a socket that is gone.

    `Derived` may also hide these members of the base (an operation with a second record, such as
    `net::timeout`'s timer, does; the defaults cost nothing):
    - `on_pending() noexcept`: the record was started and waits; called before the stop callback
      is registered.
    - `cancel_records() noexcept`: what a stop request does (any thread); by default it cancels
      the record (`request_cancel`).
    - `record_completed() noexcept -> bool`: the record completed (on the context's thread, after
      the stop callback was destroyed); false when `Derived` completes the operation later itself,
      with `finish()`.
    - `deliver_cancelled() noexcept`: completes the receiver when `result_` is -ECANCELED; by
      default `set_stopped()`.
    - `handoff_descriptor() noexcept`: the descriptor of the socket that `prepare()` reads, as a
      `descriptor*` (by default none: `std::nullptr_t`). A start handed to the loop from another
      thread is then counted on it (`start_here_or_hand_off`), so that the socket may be closed,
      cancelled, moved or destroyed before the loop takes the start: the start then completes with
      `deliver_abandoned()` (released) or `deliver_cancelled()` (cancelled), without calling
      `prepare()`; neither may read the socket.
    - `deliver_abandoned() noexcept`: completes the receiver of a start whose socket was released
      before the loop took it, or of a multi-step operation whose socket was released between two
      steps (after `deliver()` returned true); by default
      `set_error(senet::error::operation_aborted)`, what `deliver()` reports for a waiting record
      released. (Not `deliver()` itself: a second caller
      of the receiver's value path would cost the common completion its inlining.)
    A second record's completion calls `release_stop_callback(record)` first, exactly as the
    record's own completion does.
*/
template <class Derived, class Rcvr, class Record = io_operation>
class stoppable_operation : public Record {
 public:
  stoppable_operation(io_context& ctx, Rcvr&& rcvr) noexcept(std::is_nothrow_move_constructible_v<Rcvr>)
      : ctx_(&ctx), rcvr_(std::move(rcvr)) {}

  stoppable_operation(const stoppable_operation&) = delete;
  stoppable_operation& operator=(const stoppable_operation&) = delete;
  ~stoppable_operation() { reset_callback(); }

  void start() & noexcept {
    // The receiver's stop token is looked up once: for the check here and, when the operation
    // waits, for its stop callback (each lookup walks the receivers' environments).
    callback_token token = current_token();
    if constexpr (stoppable) {
      if (token.stop_requested()) {
        ex::set_stopped(std::move(rcvr_));
        return;
      }
    }
    // A `Derived` that names no descriptor passes the default's null.
    if (!start_here_or_hand_off(*ctx_, *this, &stoppable_operation::start_trampoline,
                                derived().handoff_descriptor())) {
      return;
    }
    if constexpr (counts_handoffs()) {
      if (defer_start_here(*ctx_, *derived().handoff_descriptor())) [[unlikely]] {
        // Through the loop, counted on the descriptor as a deferred restart is. A handler
        // then: a turn that runs it returns (prepare() sets the real code).
        this->code_ = op_code::schedule;
        defer_restart();
        return;
      }
    }
    start_here(token);
  }

 protected:
  using token_type = ex::stop_token_of_t<ex::env_of_t<Rcvr>>;
  static constexpr bool stoppable = !ex::unstoppable_token<token_type>;
  // What start_here needs of the token: the token itself when a stop callback can be registered,
  // nothing otherwise (an unstoppable receiver's environment is never looked into).
  using callback_token = std::conditional_t<stoppable, token_type, no_callback>;

  [[nodiscard]] io_context& context() const noexcept { return *ctx_; }
  [[nodiscard]] Rcvr& receiver() noexcept { return rcvr_; }

  /** Completes with `set_error(result_error(result_))`. */
  void deliver_result_error() noexcept { ex::set_error(std::move(rcvr_), result_error(this->result_)); }

  // The defaults of the hooks `Derived` may hide (see above).
  void on_pending() noexcept {}
  void cancel_records() noexcept { request_cancel(*ctx_, *this); }
  bool record_completed() noexcept { return true; }
  void deliver_cancelled() noexcept { ex::set_stopped(std::move(rcvr_)); }
  static constexpr std::nullptr_t handoff_descriptor() noexcept { return nullptr; }
  void deliver_abandoned() noexcept {
    ex::set_error(std::move(rcvr_), make_error_code(senet::error::operation_aborted));
  }

  /** Destroys the stop callback (waiting for one running on another thread), so that no cancel
      request is made afterwards, then performs a cancel request for `record` that another thread
      queued and the loop has not taken yet (`take_queued_cancel`): afterwards the core no longer
      refers to `record`, and its completion is delivered now, in start order
      (docs/design/io_core.md, "Completion and cancellation"). The first thing a record's
      completion does. */
  void release_stop_callback(io_operation& record) noexcept {
    if constexpr (stoppable) {
      reset_callback();
      take_queued_cancel(*ctx_, record);
    } else {
      (void)record;
    }
  }

  /** Completes the operation from `result_` (after `record_completed()` returned false). */
  void finish() noexcept {
    if (finish_step()) {
      start_here(current_token());
    }
  }

 private:
  struct on_stop {
    stoppable_operation* self_;
    void operator()() const noexcept { self_->derived().cancel_records(); }
  };
  using callback_type = ex::stop_callback_for_t<token_type, on_stop>;
  // Whether `deliver()` returns bool: the operation may start its record again. A function, as
  // the next: `Derived` is complete only in member function bodies.
  static constexpr bool multi_step() noexcept {
    return std::is_same_v<decltype(std::declval<Derived&>().deliver()), bool>;
  }
  // Whether `Derived` names the descriptor its starts read (`handoff_descriptor`). A function:
  // `Derived` is complete only in member function bodies.
  static constexpr bool counts_handoffs() noexcept {
    return !std::is_same_v<decltype(std::declval<Derived&>().handoff_descriptor()), std::nullptr_t>;
  }
  // An inplace_stop_token's source (a scope's, when_all's, a task's) is registered with the
  // context once for all the operations waiting under it (detail/shared_stop.hpp), where there
  // is room; other tokens, and a source that finds no room, get a callback of the operation's own.
  static constexpr bool shares = std::is_same_v<token_type, ex::inplace_stop_token>;
  // Which of the two is made (`callback_`): only while the operation waits.
  enum class registration : std::uint8_t { none, own, shared };
  static constexpr std::size_t slot_size = shares && sizeof(shared_stop_waiter) > sizeof(callback_type)
                                               ? sizeof(shared_stop_waiter)
                                               : sizeof(callback_type);
  static constexpr std::size_t slot_align = shares && alignof(shared_stop_waiter) > alignof(callback_type)
                                                ? alignof(shared_stop_waiter)
                                                : alignof(callback_type);
  // Room for the callback or the place in the shared registration: an optional whose flag
  // (`registered_`) sits in the record's tail padding instead of 8 more bytes.
  struct callback_slot {
    alignas(slot_align) unsigned char bytes[slot_size];
  };

  Derived& derived() noexcept { return static_cast<Derived&>(*this); }

  // The receiver's stop token, where a stop callback can be registered with it.
  callback_token current_token() const noexcept {
    if constexpr (stoppable) {
      return ex::get_stop_token(ex::get_env(rcvr_));
    } else {
      return {};
    }
  }

  void reset_callback() noexcept {
    if constexpr (stoppable) {
      if (registered_ == registration::shared) {
        registered_ = registration::none;
        shared_stop_table::leave(*std::launder(reinterpret_cast<shared_stop_waiter*>(callback_.bytes)));
      } else if (registered_ == registration::own) {
        registered_ = registration::none;
        std::launder(reinterpret_cast<callback_type*>(callback_.bytes))->~callback_type();
      }
    }
  }

  // What a stop request of the shared registration does for this operation.
  static void cancel_shared(shared_stop_waiter& w) noexcept {
    static_cast<stoppable_operation*>(w.owner)->derived().cancel_records();
  }

  // The operation waits: registers for a stop request. A stop already requested cancels it.
  void register_stop([[maybe_unused]] const callback_token& token) noexcept {
    if constexpr (shares) {
      if (!token.stop_possible()) {
        return;
      }
      auto* w = ::new (static_cast<void*>(callback_.bytes)) shared_stop_waiter;
      w->cancel = &stoppable_operation::cancel_shared;
      w->owner = this;
      switch (shared_stops(*ctx_).join(token, *w)) {
        case shared_stop_table::joined::yes:
          registered_ = registration::shared;
          return;
        case shared_stop_table::joined::stopped:
          // What the callback would do, constructed now: cancel through the ready queue.
          derived().cancel_records();
          return;
        case shared_stop_table::joined::full:
          break;
      }
    }
    // Constructed only when the operation is pending: a stop already requested runs the callback
    // here, which cancels it through the ready queue.
    ::new (static_cast<void*>(callback_.bytes)) callback_type(token, on_stop{this});
    registered_ = registration::own;
  }

  static void start_trampoline(io_operation* op) noexcept {
    auto& self = *static_cast<stoppable_operation*>(op);
    started_handed_off(*self.ctx_);
    if constexpr (counts_handoffs()) {
      // Every start of such an operation state is handed over counted.
      self.start_counted_here();
    } else {
      self.start_here(self.current_token());
    }
  }

  // The trampoline of a start counted on its descriptor (`start_here_or_hand_off`). A start
  // abandoned or cancelled meanwhile was given back by the releasing thread, and its socket may be
  // gone: it completes without reading it. Otherwise the start runs as any does, holding the count
  // until it is done (`counted_start`: through completions delivered at once and restarts).
  void start_counted_here() noexcept {
    if (end_if_marked()) {
      return;
    }
    io_context& ctx = *ctx_;  // `*this` may be gone once the receiver is completed
    counted_start running{this->descriptor_};
    enter_counted_start(ctx, running);
    start_here(current_token());
    leave_counted_start(ctx, running);
  }

  // A record marked abandoned or cancelled (its socket released or cancelled while its start was
  // on its way to the loop, or while the completion of a step waited in the ready queue:
  // `context_impl::descriptor_action_here`) completes the operation without reading the socket,
  // which may be gone: true when it did.
  bool end_if_marked() noexcept {
    handoff_state mark = std::exchange(this->handoff_, handoff_state::none);
    if (mark == handoff_state::abandoned) {
      derived().deliver_abandoned();
      return true;
    }
    if (mark == handoff_state::cancelled) {
      derived().deliver_cancelled();
      return true;
    }
    return false;
  }

  // Fills the record; false when that failed and the receiver got the error.
  bool prepare_record() noexcept {
    return prepare_or_fail(rcvr_, [this]() noexcept { return derived().prepare(); });
  }

  // `token`: the receiver's stop token, for the stop callback when the operation waits.
  void start_here([[maybe_unused]] callback_token token) noexcept {
    if (!start_step()) {
      return;
    }
    wait(token);
  }

  // Fills and starts the record, looping over steps that complete at once (delivered); true
  // when the record waits.
  bool start_step() noexcept {
    if (!prepare_record()) {
      return false;
    }
    if (!start_filled()) {
      return true;
    }
    return finish_and_restart();
  }

  // Starts the filled record (or makes its send here, `start_send_directly`); true when it
  // completed at once.
  bool start_filled() noexcept {
    this->complete_ = &stoppable_operation::on_complete;
    return start_send_directly() || start_operation(*ctx_, *this);
  }

  // A step completed at once: delivers it, and starts the next one while the operation goes on
  // (an `async_write` of what is left); true when a step waits. Each such step takes one of the
  // handler's inline completions (`inline_completions_left`); once none is left, the next step is
  // deferred to a later turn of the loop, and so is any start of a socket the receiver makes
  // (`defer_start_here`). Out of line: the delivery inlines the receivers' completions,
  // whose register saves would otherwise be made by every start, also by those of operations that
  // wait (every receive).
  [[gnu::noinline]] bool finish_and_restart() noexcept {
    for (;;) {
      // Before the delivery, which may end `*this`. (Looked up each time: a reference kept across
      // the delivery would cost the common completion a register save.)
      --inline_completions_left(*ctx_);
      if (!finish_step()) {
        return false;
      }
      if constexpr (multi_step()) {
        if (inline_completions_left(*ctx_) <= 0) [[unlikely]] {
          defer_restart();
          return true;
        }
      }
      if (!prepare_record()) {
        return false;
      }
      if (!start_filled()) {
        return true;
      }
    }
  }

  // A restart after a step completed at once, once the handler has no inline completions left,
  // starts in a later turn of the loop (`restart_deferred`, below), as a first
  // start does then (`start()`, `defer_start_here`; no stop callback is registered yet, and
  // `release_stop_callback` finds none), so that an operation whose peer keeps
  // the socket ready (an `async_read_until` that finds no delimiter in what a fast sender
  // streams) cannot keep the loop from its other work, such as a close handed to it. Meanwhile the
  // restart is on its way as a start handed over from another thread is: counted on the
  // socket's descriptor (`start_here_or_hand_off`), so that a close, release, move or destruction
  // of the socket on any thread has the loop mark it (the descriptor may be unknown to the
  // backend, whose calls all completed at once: then nothing else would make the release go to
  // the loop), and with the stop callback registered (a stop request finds the record completed
  // and leaves it; `restart_deferred` then completes with `set_stopped()`).
  // It goes through the cross-thread queue, which the loop takes at its next gather, with the I/O
  // and the timers: not the ready queue, whose handlers would run it again before the loop
  // gathers (up to 64 of them: a close handed to the loop waited behind 1,024 steps of an
  // async_read_until a fast peer fed, each growing its buffer).
  void defer_restart() noexcept {
    ++deferred_starts(*ctx_);
    this->complete_ = &stoppable_operation::restart_deferred;
    if constexpr (counts_handoffs()) {
      count_on_its_way(*ctx_, *this, *derived().handoff_descriptor());
    }
    post_remote(*ctx_, *this);
  }

  static void restart_deferred(io_operation* op) noexcept {
    auto& self = *static_cast<stoppable_operation*>(op);
    --deferred_starts(*self.ctx_);
    self.release_stop_callback(self);
    if constexpr (stoppable) {
      if (self.current_token().stop_requested()) {
        if constexpr (counts_handoffs()) {
          if (self.end_if_marked()) {
            return;  // released or cancelled too: the release gave the count back
          }
          self.descriptor_->on_its_way.remove();
        }
        ex::set_stopped(std::move(self.rcvr_));
        return;
      }
    }
    if constexpr (counts_handoffs()) {
      self.start_counted_here();
    } else {
      self.start_here(self.current_token());
    }
  }

  // The record waits: registers for a stop request.
  void wait([[maybe_unused]] const callback_token& token) noexcept {
    derived().on_pending();
    if constexpr (stoppable) {
      register_stop(token);
    }
  }

  // A send that the backend would make at once is made here (`start_directly`).
  bool start_send_directly() noexcept {
    if constexpr (std::is_same_v<Record, io_operation>) {
      return this->code_ == op_code::send && start_directly(*ctx_, *this);
    } else {
      return false;
    }
  }

  static void on_complete(io_operation* op) noexcept {
    auto& self = *static_cast<stoppable_operation*>(op);
    self.release_stop_callback(self);
    if (self.derived().record_completed()) {
      self.finish();
    }
  }

  // Delivers the result of the step that completed; true when the record is to be started again
  // (the receiver has not been completed).
  bool finish_step() noexcept {
    if (this->result_ == -ECANCELED) {
      derived().deliver_cancelled();
      return false;
    }
    if constexpr (multi_step()) {
      if (!derived().deliver()) {
        return false;
      }
      if constexpr (counts_handoffs()) {
        if (this->handoff_ != handoff_state::none && end_if_marked()) [[unlikely]] {
          return false;
        }
      }
      if constexpr (stoppable) {
        if (ex::get_stop_token(ex::get_env(rcvr_)).stop_requested()) {
          ex::set_stopped(std::move(rcvr_));
          return false;
        }
      }
      return true;
    } else {
      derived().deliver();
      return false;
    }
  }

  // First: a small member goes into the record's tail padding.
  registration registered_ = registration::none;
  io_context* ctx_;
  Rcvr rcvr_;
  [[no_unique_address]] std::conditional_t<stoppable, callback_slot, no_callback> callback_;
};

}  // namespace senet::io::detail

#endif  // SENET_IO_DETAIL_STOPPABLE_OPERATION_HPP
