// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_DETAIL_SOCKET_AWAITABLE_HPP
#define SENET_NET_DETAIL_SOCKET_AWAITABLE_HPP

/* The awaitables of a stream socket's `read_some` / `write_some`: `net::async_receive` /
   `net::async_send` connected to a receiver that stores `(std::error_code, std::size_t)` and
   resumes the awaiting coroutine, so nothing of the operation is written twice.

   Completing without suspending. The operation is started as early as its I/O context is known:
   in `await_ready()` when a `senet::task` gave it (`bind_io_environment`, from the task's
   await_transform), else in `await_suspend()` from the promise's environment. It is started with
   the socket's `descriptor::eager` bit of its direction set for the duration of `start()` when the
   caller runs on the context's thread, so that every backend tries the system call first (io_uring
   too) and completes inside `start()` when the kernel has the data or the room; the backend keeps
   the per-direction order (it tries only when nothing of that direction is pending). The socket's
   own setting is restored at once.

   The direct path. Before it builds an operation state, the awaitable asks the core whether it may
   make the system call itself (`io::detail::may_perform_directly`: on the context's thread, the
   socket registered with that context, and its backend said that nothing of that direction is
   pending, so that a record started now would be tried at once anyway), and no start handed to
   the loop from outside it waits to run there (it would be overtaken). Then it makes the system
   call itself (`recv` / `send` for one buffer, `recvmsg` / `sendmsg` for a sequence) and
   completes with what a record would have delivered; when the
   call would block, the record it starts carries `start_would_block`, so that the backend waits
   without trying again. The order of the socket's operations, the stop token (a stop already
   requested takes the record's path, which completes with `operation_aborted`) and the results
   are those of the record's path; only the instructions are fewer.

   The wait after a direct attempt. When that call would block, the awaitable starts a record of
   its own (`wait_record`), not the sender's operation state: it is on the context's thread, the
   checks of `start()`'s path are already made, and so nothing of the sender layer (connect, the
   start-or-post decision, `prepare`, the restart loop, the receiver chain) is needed. The record
   goes to the core with `start_would_block` like the operation state's would, and its completion
   maps the result as the sender's receiver would (`-ECANCELED`: `operation_aborted`). Only when
   the awaiting coroutine's token can be stopped (`stop_possible()`) is a stop arranged for: in a
   `senet::task` by arming the task's stop slot (execution/detail/stop_slot.hpp: one callback per
   task, two atomic exchanges per wait), otherwise by a stop callback of the record's own.

   Completion and resumption race when the operation completes on the context's thread while the
   coroutine runs on another: `state_` decides, as in the task's sender awaiter. */

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/execution/detail/stop_slot.hpp>
#include <senet/io/detail/descriptor.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/detail/stoppable_operation.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/detail/message_truncation.hpp>
#include <senet/net/message_flags.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

#include <sys/socket.h>

namespace senet::net::detail {

/** A success `std::error_code`, copied where one is needed on the hot path: constructing one calls
    the out-of-line `std::system_category()` each time. */
inline const std::error_code no_error{};

/** What the socket awaitables' wait path (the `wait_record` after a direct attempt that would
    have blocked) did on the calling thread: for tests, which check that the path is taken and that
    it registers a stop callback only when the awaiting coroutine's token can be stopped. Plain
    increments of a thread-local on the context's thread. */
struct awaitable_wait_counts {
  std::uint64_t waits = 0;           ///< wait records started
  std::uint64_t stop_callbacks = 0;  ///< stop callbacks those registered (no stop slot)
  std::uint64_t slot_arms = 0;       ///< of the task's stop slot instead (execution/detail/stop_slot.hpp)
};
inline thread_local constinit awaitable_wait_counts wait_counts{};

/** The stop token a socket awaitable gives its operation, from an awaiting coroutine's
    environment. */
template <class Env>
[[nodiscard]] ex::inplace_stop_token awaitable_stop_token(const Env& env) noexcept {
  using token_type = ex::stop_token_of_t<Env>;
  if constexpr (std::is_same_v<token_type, ex::inplace_stop_token>) {
    return ex::get_stop_token(env);
  } else {
    static_assert(ex::unstoppable_token<token_type>,
                  "senet: a socket awaitable honours an ex::inplace_stop_token (or none); await it in "
                  "a senet::task, which gives one");
    return {};
  }
}

/** `co_await` of `read_some` (`Write` false) or `write_some` (`Write` true) on a stream socket:
    gives `std::tuple<std::error_code, std::size_t>`. */
template <class Socket, class Buffers, bool Write>
class socket_awaitable {
  struct receiver;
  [[nodiscard]] static auto make_sender(io::io_context& ctx, Socket& socket, const Buffers& buffers) {
    if constexpr (Write) {
      return net::async_send(ctx.get_scheduler(), socket, message_flags{}, buffers);
    } else {
      return net::async_receive(ctx.get_scheduler(), socket, message_flags{}, buffers);
    }
  }
  using sender_type = decltype(make_sender(std::declval<io::io_context&>(), std::declval<Socket&>(),
                                           std::declval<const Buffers&>()));
  using operation_type = ex::connect_result_t<sender_type, receiver>;

 public:
  using result_type = std::tuple<std::error_code, std::size_t>;

  template <class B>
  socket_awaitable(Socket& socket, B&& buffers) noexcept(std::is_nothrow_constructible_v<Buffers, B&&>)
      : socket_(&socket), buffers_(std::forward<B>(buffers)) {}
  socket_awaitable(const socket_awaitable&) = delete;
  socket_awaitable& operator=(const socket_awaitable&) = delete;
  ~socket_awaitable() {
    if (started_ == started_operation) {
      std::launder(reinterpret_cast<operation_type*>(&storage_))->~operation_type();
    } else if (started_ == started_wait) {
      std::launder(reinterpret_cast<wait_record*>(&storage_))->~wait_record();
    }
  }

  /** The I/O context and stop token of the awaiting task (called before `await_ready()`). */
  void bind_io_environment(io::io_context* ctx, ex::inplace_stop_token token) noexcept {
    ctx_ = ctx;
    token_ = token;
  }
  /** The same, with the task's stop slot (execution/detail/stop_slot.hpp, bound to `token`; may be
      null), which a wait then arms instead of registering a stop callback of its own. */
  void bind_io_environment(io::io_context* ctx, ex::inplace_stop_token token,
                           execution_detail::stop_slot* slot) noexcept {
    ctx_ = ctx;
    token_ = token;
    slot_ = slot;
  }

  [[nodiscard]] bool await_ready() noexcept {
    if (buffer_size(buffers_) == 0) {
      result_ = {no_error, 0};
      return true;
    }
    if (ctx_ == nullptr) {
      return false;  // the context comes from the promise in await_suspend
    }
    if (try_directly()) {
      return true;
    }
    if (would_block_) {
      return start_wait();
    }
    start();
    return state_.load(std::memory_order_acquire) == done;
  }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
    handle_ = h;
    if (started_ != not_started) [[likely]] {
      // Started in await_ready (inside a senet::task): what is left is small enough to inline.
      return state_.exchange(suspended, std::memory_order_acq_rel) != done;
    }
    return start_in_await_suspend(h);
  }

  [[nodiscard]] result_type await_resume() noexcept { return result_; }

 private:
  template <class Promise>
  bool start_in_await_suspend(std::coroutine_handle<Promise> h) noexcept {
    using env_type = ex::env_of_t<Promise>;
    static_assert(io::detail::env_with_io_scheduler<env_type>,
                  "senet: co_await sock.read_some / write_some needs an I/O scheduler in the awaiting "
                  "coroutine's environment: await it in a senet::task started on an io_context");
    if constexpr (io::detail::env_with_io_scheduler<env_type>) {
      const auto& env = ex::get_env(h.promise());
      ctx_ = &io::get_io_scheduler(env).context();
      token_ = awaitable_stop_token(env);
      if (try_directly()) {
        return false;
      }
      if (would_block_) {
        if (start_wait()) {
          return false;
        }
      } else {
        start();
      }
    }
    // Completed inside start(), or later, maybe on another thread before this exchange.
    return state_.exchange(suspended, std::memory_order_acq_rel) != done;
  }

  enum : int { idle = 0, suspended = 1, done = 2 };
  enum : std::uint8_t { not_started = 0, started_operation = 1, started_wait = 2 };

  // The record of the wait after a direct attempt that would have blocked (see the top of the
  // file): what the sender's operation state would hand to the core, and no more.
  struct wait_record : io::detail::io_operation, execution_detail::stop_target {
    // What a stop does, through the task's slot (execution_detail::stop_target::run) or the
    // record's own callback (on_stop).
    static void cancel(execution_detail::stop_target& target) noexcept {
      auto& w = static_cast<wait_record&>(target);
      io::detail::request_cancel(*w.self_->ctx_, w);
    }
    struct on_stop {
      wait_record* record_;
      void operator()() const noexcept { cancel(*record_); }
    };
    // One buffer: its iovec (no view to clear and fill); a sequence: its view.
    using iov_type =
        std::conditional_t<senet::detail::single_buffer<Buffers>, ::iovec, iovec_view_for<Buffers>>;
    socket_awaitable* self_;
    iov_type iov_;
    bool message_socket_ = false;
    execution_detail::stop_slot* slot_ = nullptr;  // armed: the task's slot cancels it on a stop
    std::optional<ex::stop_callback_for_t<ex::inplace_stop_token, on_stop>> callback_;
  };

  struct receiver {
    using receiver_concept = ex::receiver_t;
    socket_awaitable* self_;

    struct env {
      ex::inplace_stop_token token_;
      [[nodiscard]] ex::inplace_stop_token query(ex::get_stop_token_t) const noexcept { return token_; }
    };

    void set_value(std::size_t n) && noexcept {
      if constexpr (Write) {
        self_->finish(no_error, n);
      } else if (n == 0) {
        self_->finish(make_error_code(senet::error::eof), 0);  // buffers are not empty here
      } else {
        self_->finish(no_error, n);
      }
    }
    void set_error(std::error_code ec) && noexcept { self_->finish(ec, 0); }
    void set_stopped() && noexcept { self_->finish(make_error_code(senet::error::operation_aborted), 0); }
    [[nodiscard]] env get_env() const noexcept { return {self_->token_}; }
  };

  // The system call made here, without a record, when the backend allows it
  // (io::detail::may_perform_directly): true when that completed the operation (result_ set, as
  // the receiver would set it); false when a record must be started (it then does not try again
  // when the call would have blocked).
  bool try_directly() noexcept {
    constexpr std::uint8_t direction = Write ? io::detail::direct_send : io::detail::direct_receive;
    io::detail::descriptor& d = socket_->io_descriptor();
    // Not while starts handed to the loop wait to run there, or a start of this socket deferred
    // to a later turn: this call would overtake them. Not once the handler running the coroutine
    // has no inline completions left: the operation then starts in a later turn
    // (`io::detail::defer_start_here`), so that a coroutine reading a socket that a fast peer
    // keeps ready lets the loop go round.
    if (!io::detail::may_perform_directly(*ctx_, d, direction) ||
        handed_off_starts(*ctx_).load(std::memory_order_relaxed) != 0 ||
        io::detail::defer_start_here(*ctx_, d) || token_.stop_requested()) {
      return false;
    }
    std::int64_t r;
    if constexpr (senet::detail::single_buffer<Buffers>) {
      // send / recv: no iovec, no msghdr.
      if constexpr (Write) {
        if (io::detail::wants_zero_copy(d, buffers_.size())) [[unlikely]] {
          return false;
        }
        r = io::detail::perform_directly(d, true, const_cast<void*>(buffers_.data()), buffers_.size(), 0);
      } else {
        bool message_socket = is_message_socket(*socket_);
        r = io::detail::perform_directly(d, false, buffers_.data(), buffers_.size(),
                                         kernel_receive_flags(message_flags{}, message_socket));
        r = checked_receive_result(r, buffers_.size(), message_socket, message_flags{});
      }
    } else {
      iovec_view_for<Buffers> iov;
      if (!iov.try_assign(buffers_)) [[unlikely]] {
        return false;  // the record reports it
      }
      ::msghdr msg{};
      msg.msg_iov = iov.data();
      msg.msg_iovlen = iov.size();
      if constexpr (Write) {
        if (io::detail::wants_zero_copy(d, iov.bytes())) [[unlikely]] {
          return false;
        }
        r = io::detail::perform_directly(d, true, msg, 0);
      } else {
        bool message_socket = is_message_socket(*socket_);
        r = io::detail::perform_directly(d, false, msg,
                                         kernel_receive_flags(message_flags{}, message_socket));
        r = checked_receive_result(r, iov.bytes(), message_socket, message_flags{});
      }
    }
    if (r > 0 || (Write && r == 0)) {
      result_ = {no_error, static_cast<std::size_t>(r)};
    } else if (r == 0) {
      result_ = {make_error_code(senet::error::eof), 0};  // buffers are not empty here
    } else if (r == -EAGAIN || r == -EWOULDBLOCK) {
      would_block_ = true;
      return false;
    } else {
      result_ = {io::detail::result_error(r), 0};
    }
    --inline_completions_left(*ctx_);
    return true;
  }

  // After try_directly found that the call would block (so: on the context's thread, the socket
  // registered there, nothing of the direction pending, no handed-off start waiting, no stop
  // requested): starts a `wait_record`. True when it completed at once (`result_` set).
  bool start_wait() noexcept {
    // Default-initialised: the record's fields have their initialisers, the iovec is filled here.
    auto* w = ::new (static_cast<void*>(&storage_)) wait_record;
    started_ = started_wait;
    w->self_ = this;
    if constexpr (senet::detail::single_buffer<Buffers>) {
      w->iov_.iov_base = const_cast<void*>(static_cast<const void*>(buffers_.data()));
      w->iov_.iov_len = buffers_.size();
      w->msg_.msg_iov = &w->iov_;
      w->msg_.msg_iovlen = 1;
    } else {
      if (!w->iov_.try_assign(buffers_)) [[unlikely]] {
        // (try_directly made no call then, so this is not reached: the operation state reports it.)
        result_ = {std::make_error_code(std::errc::argument_list_too_long), 0};
        return true;
      }
      w->msg_.msg_iov = w->iov_.data();
      w->msg_.msg_iovlen = w->iov_.size();
    }
    w->code_ = Write ? io::detail::op_code::send : io::detail::op_code::receive;
    w->descriptor_ = &socket_->io_descriptor();
    if constexpr (!Write) {
      w->message_socket_ = is_message_socket(*socket_);
      w->flags_ = kernel_receive_flags(message_flags{}, w->message_socket_);
    }
    w->start_hints_ = io::detail::start_would_block;
    w->complete_ = &wait_record_completed;
    ++wait_counts.waits;
    if (io::detail::start_operation(*ctx_, *w)) {
      --inline_completions_left(*ctx_);
      set_wait_result(*w);
      return true;
    }
    if (token_.stop_possible()) {
      // After the start, as an operation state does: a stop requested meanwhile (from another
      // thread) cancels the record through the ready queue.
      if (slot_ != nullptr && slot_->token() == token_) {
        w->run = &wait_record::cancel;
        switch (slot_->arm(*w)) {
          case execution_detail::stop_slot::armed::yes:
            ++wait_counts.slot_arms;
            w->slot_ = slot_;
            return false;
          case execution_detail::stop_slot::armed::stopped:
            io::detail::request_cancel(*ctx_, *w);
            return false;
          case execution_detail::stop_slot::armed::busy:
            break;
        }
      }
      ++wait_counts.stop_callbacks;
      w->callback_.emplace(token_, typename wait_record::on_stop{w});
    }
    return false;
  }

  // The record's `result_` as the receiver of the sender's path would give it.
  void set_wait_result(wait_record& w) noexcept {
    std::int64_t r = w.result_;
    if constexpr (!Write) {
      if (w.message_socket_) [[unlikely]] {
        r = checked_receive_result(r, buffer_size(buffers_), true, message_flags{});
      }
    }
    if (r > 0 || (Write && r == 0)) {
      result_ = {no_error, static_cast<std::size_t>(r)};
    } else if (r == 0) {
      result_ = {make_error_code(senet::error::eof), 0};  // buffers are not empty here
    } else if (r == -ECANCELED) {
      result_ = {make_error_code(senet::error::operation_aborted), 0};
    } else {
      result_ = {io::detail::result_error(r), 0};
    }
  }

  // The record's completion (context's thread): the stop callback goes first (waiting for one
  // running on another thread), then a cancel request of another thread still queued is taken, as
  // `stoppable_operation::release_stop_callback` does; then the coroutine resumes.
  static void wait_record_completed(io::detail::io_operation* op) noexcept {
    auto& w = static_cast<wait_record&>(*op);
    socket_awaitable& self = *w.self_;
    if (w.slot_ != nullptr) {
      if (!w.slot_->disarm(w)) {
        io::detail::take_queued_cancel(*self.ctx_, w);
      }
    } else if (w.callback_) {
      w.callback_.reset();
      io::detail::take_queued_cancel(*self.ctx_, w);
    }
    self.set_wait_result(w);
    if (self.state_.exchange(done, std::memory_order_acq_rel) == suspended) {
      self.handle_.resume();
    }
  }

  void start() noexcept {
    auto* op = ::new (static_cast<void*>(&storage_))
        operation_type(ex::connect(make_sender(*ctx_, *socket_, buffers_), receiver{this}));
    started_ = started_operation;
    if constexpr (std::is_base_of_v<io::detail::io_operation, operation_type>) {
      if (would_block_) {
        static_cast<io::detail::io_operation&>(*op).start_hints_ = io::detail::start_would_block;
      }
    }
    io::detail::descriptor& d = socket_->io_descriptor();
    constexpr std::uint8_t bit = Write ? io::detail::eager_send : io::detail::eager_receive;
    if (!would_block_ && (d.eager & bit) == 0 && io::detail::running_in_this_thread(*ctx_)) {
      // (After try_directly found that the call would block, the record does not try it again:
      // the eager bit would change nothing.)
      d.eager = static_cast<std::uint8_t>(d.eager | bit);
      ex::start(*op);
      d.eager = static_cast<std::uint8_t>(d.eager & ~bit);
    } else {
      ex::start(*op);
    }
  }

  void finish(const std::error_code& ec, std::size_t n) noexcept {
    result_ = {ec, n};
    if (state_.exchange(done, std::memory_order_acq_rel) == suspended) {
      handle_.resume();
    }
  }

  Socket* socket_;
  Buffers buffers_;
  io::io_context* ctx_ = nullptr;
  ex::inplace_stop_token token_{};
  execution_detail::stop_slot* slot_ = nullptr;
  std::coroutine_handle<> handle_{};
  std::atomic<int> state_{idle};
  std::uint8_t started_ = not_started;  // what storage_ holds
  bool would_block_ = false;            // try_directly found that the call would block
  result_type result_{no_error, 0};
  alignas(operation_type) alignas(
      wait_record) unsigned char storage_[std::max(sizeof(operation_type), sizeof(wait_record))];
};

/** The awaitable of `socket.read_some(buffers)` / `write_some(buffers)`. */
template <bool Write, class Socket, class Buffers>
[[nodiscard]] socket_awaitable<Socket, stored_buffers_t<Buffers>, Write> make_socket_awaitable(
    Socket& socket, Buffers&& buffers) {
  return {socket, store_buffers(std::forward<Buffers>(buffers))};
}

}  // namespace senet::net::detail

#endif  // SENET_NET_DETAIL_SOCKET_AWAITABLE_HPP
