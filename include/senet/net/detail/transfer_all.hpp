// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_DETAIL_TRANSFER_ALL_HPP
#define SENET_NET_DETAIL_TRANSFER_ALL_HPP

#include <array>
#include <atomic>
#include <cstddef>
#include <optional>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/detail/stoppable_operation.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/detail/sender_support.hpp>

#include <sys/uio.h>

// The loop behind net::async_read and net::async_write: issue `Step` (one async_read_some or
// async_write_some) on what is left of the buffers until all of it is transferred or a step fails.
//
// A `Step` provides `buffer_type`, `make(stream, window)` (the step's sender),
// `zero_bytes_error()`, and for senet's own sockets `native<Stream>` and `code`: when
// `native<Stream>` holds (a senet socket that does not customise the step), the whole transfer is
// one io_operation record that is restarted on what is left after each partial transfer
// (`io_transfer_all_operation`), instead of a step sender connected and started per step.
namespace senet::net::detail {

/// The most buffers one step hands to the kernel; longer sequences take more steps.
inline constexpr std::size_t transfer_window_size = 16;

/// The window a sequence of type `Buffers` needs: one entry for a single buffer.
template <class Buffers>
inline constexpr std::size_t transfer_window_for =
    senet::detail::single_buffer<Buffers> ? std::size_t{1} : transfer_window_size;

/// The part of a buffer sequence not yet transferred: an iterator, an offset into the buffer it
/// designates, and a window of at most `transfer_window_size` buffers for the next step.
template <class Buffer, class Buffers>
class consuming_buffers {
  using iterator = decltype(buffer_sequence_begin(std::declval<const Buffers&>()));
  using sentinel = decltype(buffer_sequence_end(std::declval<const Buffers&>()));

 public:
  explicit consuming_buffers(const Buffers& buffers) noexcept
      : it_(buffer_sequence_begin(buffers)), end_(buffer_sequence_end(buffers)) {}

  /// The next buffers to transfer, at most `transfer_window_size`; empty when all is done.
  std::span<const Buffer> prepare() noexcept {
    std::size_t count = 0;
    std::size_t offset = offset_;
    for (auto it = it_; it != end_ && count < window_.size(); ++it) {
      Buffer b = Buffer(*it) + offset;
      offset = 0;
      if (b.size() != 0) {
        window_[count++] = b;
      }
    }
    return {window_.data(), count};
  }

  /// Marks `n` more bytes as transferred.
  void consume(std::size_t n) noexcept {
    while (n != 0 && it_ != end_) {
      std::size_t left = Buffer(*it_).size() - offset_;
      if (n < left) {
        offset_ += n;
        return;
      }
      n -= left;
      offset_ = 0;
      ++it_;
    }
  }

 private:
  iterator it_;
  sentinel end_;
  std::size_t offset_ = 0;
  std::array<Buffer, transfer_window_for<Buffers>> window_;
};

/// What both transfer operations keep: the buffers, the part not yet transferred, the count so
/// far and the caller's progress counter (`async_read(stream, buffers, transferred)`).
template <class Buffer, class Buffers>
class transfer_progress {
 public:
  transfer_progress(Buffers buffers,
                    std::size_t* progress) noexcept(std::is_nothrow_move_constructible_v<Buffers>)
      : progress_(progress), buffers_(std::move(buffers)), rest_(buffers_) {}
  transfer_progress(const transfer_progress&) = delete;
  transfer_progress& operator=(const transfer_progress&) = delete;

  /// The next buffers to transfer; empty when all is done. (Computed anew at each call: the
  /// operations keep no span of them.)
  std::span<const Buffer> window() noexcept { return rest_.prepare(); }

  /// Stores the count so far in the caller's counter, if any.
  void report() noexcept {
    if (progress_ != nullptr) {
      *progress_ = total_;
    }
  }

  /// Accounts for `n` more bytes transferred, and reports them.
  void advance(std::size_t n) noexcept {
    total_ += n;
    rest_.consume(n);
    report();
  }

  [[nodiscard]] std::size_t total() const noexcept { return total_; }

 private:
  std::size_t* progress_;
  Buffers buffers_;
  consuming_buffers<Buffer, Buffers> rest_;
  std::size_t total_ = 0;
};

/// A single buffer needs no copy of the sequence and no window: what is left of it is the window.
template <class Buffer, class Buffers>
requires senet::detail::single_buffer<Buffers>
class transfer_progress<Buffer, Buffers> {
 public:
  transfer_progress(const Buffers& buffers, std::size_t* progress) noexcept
      : progress_(progress), rest_(Buffer(*buffer_sequence_begin(buffers))) {}
  transfer_progress(const transfer_progress&) = delete;
  transfer_progress& operator=(const transfer_progress&) = delete;

  [[nodiscard]] std::span<const Buffer> window() const noexcept {
    return {&rest_, rest_.size() != 0 ? std::size_t{1} : std::size_t{0}};
  }

  void report() noexcept {
    if (progress_ != nullptr) {
      *progress_ = total_;
    }
  }

  void advance(std::size_t n) noexcept {
    total_ += n;
    rest_ += n;
    report();
  }

  [[nodiscard]] std::size_t total() const noexcept { return total_; }

 private:
  std::size_t* progress_;
  Buffer rest_;
  std::size_t total_ = 0;
};

template <class Step, class Stream, class Buffers, class Rcvr>
class transfer_all_operation {
  using buffer_type = typename Step::buffer_type;
  using window_type = std::span<const buffer_type>;

  struct step_receiver {
    using receiver_concept = ex::receiver_tag;
    transfer_all_operation* op_;

    void set_value(std::size_t n) && noexcept { op_->step_done(outcome::value, n, {}); }
    void set_error(std::error_code ec) && noexcept { op_->step_done(outcome::error, 0, ec); }
    void set_stopped() && noexcept { op_->step_done(outcome::stopped, 0, {}); }
    [[nodiscard]] ex::env_of_t<Rcvr> get_env() const noexcept { return ex::get_env(op_->rcvr_); }
  };

  using step_sender = decltype(Step::make(std::declval<Stream&>(), std::declval<window_type>()));
  using step_operation = ex::connect_result_t<step_sender, step_receiver>;

  enum class outcome { value, error, stopped };
  // `phase_` tells whether a step completed inside `start()` of its operation (the loop in `run`
  // then continues) or later (the completion itself continues the loop).
  enum phase : int { starting, completed_inline, running };

 public:
  using operation_state_concept = ex::operation_state_tag;

  transfer_all_operation(Stream* stream, Buffers buffers, std::size_t* progress, Rcvr rcvr) noexcept(
      std::is_nothrow_move_constructible_v<Buffers>&& std::is_nothrow_move_constructible_v<Rcvr>)
      : stream_(stream), rcvr_(std::move(rcvr)), transfer_(std::move(buffers), progress) {}
  transfer_all_operation(const transfer_all_operation&) = delete;
  transfer_all_operation& operator=(const transfer_all_operation&) = delete;

  void start() & noexcept {
    transfer_.report();
    run();
  }

 private:
  // Issues steps until one is pending (its completion resumes the loop) or the transfer is over.
  // Steps that complete inline are handled here, by iteration, so that a stream with data always
  // available cannot grow the stack.
  void run() noexcept {
    for (;;) {
      window_type window = transfer_.window();
      if (window.empty()) {
        ex::set_value(std::move(rcvr_), transfer_.total());
        return;
      }
      phase_.store(starting, std::memory_order_relaxed);
      try {
        step_.emplace(
            emplace_from{[&] { return ex::connect(Step::make(*stream_, window), step_receiver{this}); }});
      } catch (...) {
        ex::set_error(std::move(rcvr_), std::make_error_code(std::errc::not_enough_memory));
        return;
      }
      ex::start(*step_);
      if (phase_.exchange(running, std::memory_order_acq_rel) != completed_inline) {
        return;
      }
      if (!finish_step()) {
        return;
      }
    }
  }

  void step_done(outcome o, std::size_t n, std::error_code ec) noexcept {
    outcome_ = o;
    bytes_ = n;
    error_ = ec;
    if (phase_.exchange(completed_inline, std::memory_order_acq_rel) == starting) {
      return;
    }
    if (finish_step()) {
      run();
    }
  }

  // Accounts for the step that just completed; returns true to go on, false once the receiver
  // has been completed.
  bool finish_step() noexcept {
    step_.reset();
    switch (outcome_) {
      case outcome::value:
        if (bytes_ == 0) {
          // The window was not empty, so zero bytes means the stream can move no more data.
          ex::set_error(std::move(rcvr_), Step::zero_bytes_error());
          return false;
        }
        transfer_.advance(bytes_);
        return true;
      case outcome::error:
        ex::set_error(std::move(rcvr_), error_);
        return false;
      case outcome::stopped:
        ex::set_stopped(std::move(rcvr_));
        return false;
    }
    return false;
  }

  Stream* stream_;
  Rcvr rcvr_;
  transfer_progress<buffer_type, Buffers> transfer_;
  outcome outcome_ = outcome::value;
  std::size_t bytes_ = 0;
  std::error_code error_{};
  std::atomic<int> phase_{running};
  std::optional<step_operation> step_{};
};

/// `transfer_all_operation` for a senet socket (`Step::native<Stream>`): one record, restarted on
/// the rest of the buffers after each partial transfer; no step sender, no nested operation state.
template <class Step, class Stream, class Buffers, class Rcvr>
class io_transfer_all_operation
    : public io::detail::stoppable_operation<io_transfer_all_operation<Step, Stream, Buffers, Rcvr>, Rcvr> {
  using base = io::detail::stoppable_operation<io_transfer_all_operation, Rcvr>;
  friend base;
  using buffer_type = typename Step::buffer_type;
  static_assert(sizeof(buffer_type) == sizeof(::iovec) && alignof(buffer_type) == alignof(::iovec),
                "senet: buffers must be layout-compatible with iovec");

 public:
  using operation_state_concept = ex::operation_state_tag;

  io_transfer_all_operation(io::io_context& ctx, Stream* stream, Buffers buffers, std::size_t* progress,
                            Rcvr rcvr) noexcept(std::is_nothrow_move_constructible_v<Buffers>&&
                                                    std::is_nothrow_move_constructible_v<Rcvr>)
      : base(ctx, std::move(rcvr)), stream_(stream), transfer_(std::move(buffers), progress) {}

  void start() & noexcept {
    transfer_.report();
    if (transfer_.window().empty()) {
      ex::set_value(std::move(this->receiver()), std::size_t{0});
      return;
    }
    base::start();
  }

 private:
  void prepare() noexcept {
    this->code_ = Step::code;
    this->descriptor_ = &stream_->io_descriptor();
    // The buffer types are layout-compatible with iovec (checked above and in buffer.hpp), so the
    // window is the array of iovec the kernel reads.
    std::span<const buffer_type> window = transfer_.window();
    this->msg_.msg_iov = reinterpret_cast<::iovec*>(const_cast<buffer_type*>(window.data()));
    this->msg_.msg_iovlen = window.size();
    this->flags_ = 0;
  }

  io::detail::descriptor* handoff_descriptor() noexcept { return &stream_->io_descriptor(); }

  // Accounts for the step that completed; true to start the record again on what is left.
  bool deliver() noexcept {
    std::int64_t r = this->result_;
    if (r <= 0) {
      // The window was not empty, so zero bytes means the stream can move no more data.
      ex::set_error(std::move(this->receiver()),
                    r < 0 ? io::detail::result_error(r) : Step::zero_bytes_error());
      return false;
    }
    transfer_.advance(static_cast<std::size_t>(r));
    if (transfer_.window().empty()) {
      ex::set_value(std::move(this->receiver()), transfer_.total());
      return false;
    }
    return true;
  }

  Stream* stream_;
  transfer_progress<buffer_type, Buffers> transfer_;
};

template <class Step, class Stream, class Buffers>
struct transfer_all_sender {
  using sender_concept = ex::sender_tag;
  using completion_signatures =
      ex::completion_signatures<ex::set_value_t(std::size_t), ex::set_error_t(std::error_code),
                                ex::set_stopped_t()>;

  Stream* stream_;
  Buffers buffers_;
  std::size_t* progress_;

  /// `upstream | net::async_read(stream, buffers)`: P2762 §3.1 option 2 (see io_sender.hpp).
  template <ex::sender Upstream>
  requires(!std::same_as<std::remove_cvref_t<Upstream>, transfer_all_sender>) [[nodiscard]] friend auto
  operator|(Upstream&& upstream, transfer_all_sender self) {
    return on_upstream_scheduler(std::forward<Upstream>(upstream), std::move(self));
  }

  template <class Rcvr>
  auto connect(Rcvr rcvr) && {
    if constexpr (Step::template native<Stream>) {
      io::io_context& ctx = context_for<true>(nullptr, rcvr);
      return io_transfer_all_operation<Step, Stream, Buffers, Rcvr>(ctx, stream_, std::move(buffers_),
                                                                    progress_, std::move(rcvr));
    } else {
      return transfer_all_operation<Step, Stream, Buffers, Rcvr>(stream_, std::move(buffers_), progress_,
                                                                 std::move(rcvr));
    }
  }
  template <class Rcvr>
  requires std::is_copy_constructible_v<Buffers>
  auto connect(Rcvr rcvr) const& {
    if constexpr (Step::template native<Stream>) {
      io::io_context& ctx = context_for<true>(nullptr, rcvr);
      return io_transfer_all_operation<Step, Stream, Buffers, Rcvr>(ctx, stream_, buffers_, progress_,
                                                                    std::move(rcvr));
    } else {
      return transfer_all_operation<Step, Stream, Buffers, Rcvr>(stream_, buffers_, progress_,
                                                                 std::move(rcvr));
    }
  }
};

/// The explicit-scheduler form (`net::async_write(sch, socket, buffers)`) of a transfer on a
/// senet socket (`Step::native<Stream>`): the operation of the environment form, on the given
/// context, started where `start()` is called (handed to the loop from another thread, counted on
/// the socket like any socket operation's start), instead of behind a hop to the scheduler.
template <class Step, class Stream, class Buffers>
struct transfer_all_on_sender {
  using sender_concept = ex::sender_tag;
  using completion_signatures = typename transfer_all_sender<Step, Stream, Buffers>::completion_signatures;

  transfer_all_sender<Step, Stream, Buffers> transfer_;
  io::io_context* ctx_;

  template <class Rcvr>
  auto connect(Rcvr rcvr) && {
    return io_transfer_all_operation<Step, Stream, Buffers, Rcvr>(
        *ctx_, transfer_.stream_, std::move(transfer_.buffers_), transfer_.progress_, std::move(rcvr));
  }
  template <class Rcvr>
  requires std::is_copy_constructible_v<Buffers>
  auto connect(Rcvr rcvr) const& {
    return io_transfer_all_operation<Step, Stream, Buffers, Rcvr>(
        *ctx_, transfer_.stream_, transfer_.buffers_, transfer_.progress_, std::move(rcvr));
  }
  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }
};

/// `net::async_read(sch, ...)` / `net::async_write(sch, ...)`: `transfer_all_on_sender` on a senet
/// socket with a senet I/O scheduler, `starts_on_io` otherwise (a stream of the user's, whose
/// steps find the scheduler in their environment).
template <class Step, class Sch, class Stream, class Buffers>
[[nodiscard]] auto transfer_all_on(Sch sch, transfer_all_sender<Step, Stream, Buffers> transfer) {
  if constexpr (Step::template native<Stream> && io::detail::io_scheduler<Sch>) {
    return transfer_all_on_sender<Step, Stream, Buffers>{std::move(transfer), &sch.context()};
  } else {
    return starts_on_io(std::move(sch), std::move(transfer));
  }
}

}  // namespace senet::net::detail

#endif  // SENET_NET_DETAIL_TRANSFER_ALL_HPP
