// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_RING_BUFFER_HPP
#define SENET_STREAM_RING_BUFFER_HPP

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/detail/stoppable_operation.hpp>
#include <senet/io/io_context.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

namespace senet::stream {

/** Up to two contiguous regions of a `ring_buffer`: the free space (`ring_mutable_buffers`) or the
    bytes to read (`ring_const_buffers`), in order. There are two when the region wraps around the
    end of the storage, one when it does not, none when it is empty.

    A buffer sequence (`mutable_buffer_sequence` / `const_buffer_sequence`): pass it as it is to
    `net::async_receive`, `net::async_send`, `buffer_copy`... It is a contiguous range of
    `mutable_buffer` / `const_buffer`, so the socket senders use it as their `iovec` array without
    copying it. `size()` is the number of buffers (0, 1 or 2); `bytes()` (or `buffer_size(b)`) the
    number of bytes. Cheap to copy; it refers to the ring's storage and does not own it.
*/
template <class Buffer>
class ring_buffers {
 public:
  using value_type = Buffer;
  using const_iterator = const Buffer*;
  using iterator = const Buffer*;

  /** No buffer. */
  constexpr ring_buffers() noexcept = default;
  /** `first`, then `second` unless it is empty (`first` may be empty only if `second` is). */
  constexpr ring_buffers(Buffer first, Buffer second) noexcept
      : buffers_{first, second},
        count_(first.size() == 0    ? 0
               : second.size() == 0 ? 1
                                    : 2) {}

  [[nodiscard]] constexpr const Buffer* begin() const noexcept { return buffers_.data(); }
  [[nodiscard]] constexpr const Buffer* end() const noexcept { return buffers_.data() + count_; }
  /** The number of buffers: 0, 1 or 2. */
  [[nodiscard]] constexpr std::size_t size() const noexcept { return count_; }
  [[nodiscard]] constexpr bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] constexpr const Buffer& operator[](std::size_t i) const noexcept { return buffers_[i]; }
  /** The number of bytes in the buffers. */
  [[nodiscard]] constexpr std::size_t bytes() const noexcept {
    return buffers_[0].size() + (count_ == 2 ? buffers_[1].size() : 0);
  }

 private:
  std::array<Buffer, 2> buffers_{};
  std::size_t count_ = 0;
};

/** The free space of a `ring_buffer`, as `async_prepare` and `prepare()` give it. */
using ring_mutable_buffers = ring_buffers<mutable_buffer>;
/** The readable bytes of a `ring_buffer`, as `async_data` and `data()` give them. */
using ring_const_buffers = ring_buffers<const_buffer>;

class ring_buffer;

namespace detail {

/** The record a waiting `async_prepare` / `async_data` parks in its ring: an io_context operation
    record, so that the side that makes it ready posts it to the waiting operation's context. */
struct ring_waiter : io::detail::io_operation {
  io::io_context* ctx_ = nullptr;
  /** Set by the stop callback that took the record (before it posts it). */
  bool stopped_ = false;

  /** Runs `complete_` on `ctx_`'s thread in a later turn (from any thread); `result_` is then
      negative only if the context is being destroyed. */
  void wake() noexcept {
    code_ = io::detail::op_code::schedule;
    if (io::detail::running_in_this_thread(*ctx_)) {
      io::detail::post(*ctx_, *this);
    } else {
      io::detail::post_remote(*ctx_, *this);
    }
  }
};

struct ring_prepare_side;
struct ring_data_side;

template <class Side, class Rcvr>
class ring_operation;

template <class Side>
class ring_sender;

}  // namespace detail

/** A fixed-capacity byte ring buffer with sender interfaces to produce and consume its bytes, for
    full-duplex operation of a socket: one side fills it (e.g. receiving from a socket) while the
    other drains it (sending to another socket), each waiting only for the other (P2762 §3.6).

    The producer asks for free space, writes into it and commits what it wrote:
    ```cpp
    ring_mutable_buffers free = co_await stream::async_prepare(ring);  // waits for space
    std::size_t n = co_await net::async_receive(from, free);
    if (n == 0) { ring.close(); co_return; }                           // end of stream
    ring.commit(n);
    ```
    The consumer asks for the readable bytes, uses them and consumes what it used:
    ```cpp
    ring_const_buffers data = co_await stream::async_data(ring);       // waits for bytes
    std::size_t n = co_await net::async_send(to, data);                // throws eof at the end
    ring.consume(n);
    ```
    The regions are `ring_buffers`: two buffers where they wrap around the end of the storage.

    Capacity: fixed at construction, the only allocation (none when the caller gives the storage);
    no operation allocates.

    End of stream: the producer's `close()`; the consumer then gets what remains, and then
    `senet::error::eof`. A consumer that gives up calls `close_read()`; the producer's
    `async_prepare` then fails with `std::errc::broken_pipe`, as writing to a pipe without a reader
    does.

    Thread safety: one producer and one consumer. The producer's members (`prepare`, `commit`,
    `close`, `async_prepare`) are used by one thread at a time, and so are the consumer's (`data`,
    `consume`, `close_read`, `async_data`); the producer and the consumer may run on different
    threads, and their senders on different io_contexts, without any other synchronisation.
    `capacity()`, `size()` and `closed()` are safe from any thread. At most one `async_prepare`
    and one `async_data` may be pending at a time (a second fails with
    `std::errc::operation_in_progress`).

    Lifetime: the ring must outlive its pending operations. An operation waiting for the other
    side counts as work of its io_context (`run()` does not return for lack of work meanwhile),
    and is not something the context can cancel when it is destroyed: end the wait first, with a
    stop request, `close()` or `close_read()`.

    The names follow Asio's dynamic buffers (`prepare` / `commit`, `data` / `consume`); the
    difference is that a ring never grows, so its senders wait for room instead.
*/
class ring_buffer {
 public:
  /** A ring of `capacity` bytes, allocated here. Throws `std::invalid_argument` for a capacity of
      0, `std::bad_alloc` if the storage cannot be allocated. */
  explicit ring_buffer(std::size_t capacity)
      : owned_(capacity == 0 ? throw std::invalid_argument("senet::stream::ring_buffer: capacity 0")
                             : std::make_unique_for_overwrite<std::byte[]>(capacity)),
        data_(owned_.get()),
        capacity_(capacity) {}

  /** A ring on the caller's `storage`, which must outlive the ring (nothing is allocated). Throws
      `std::invalid_argument` for an empty `storage`. */
  explicit ring_buffer(mutable_buffer storage)
      : data_(storage.size() == 0 ? throw std::invalid_argument("senet::stream::ring_buffer: empty storage")
                                  : static_cast<std::byte*>(storage.data())),
        capacity_(storage.size()) {}

  ring_buffer(const ring_buffer&) = delete;
  ring_buffer& operator=(const ring_buffer&) = delete;
  ~ring_buffer() = default;

  /** The number of bytes the ring holds when full. */
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

  /** The number of bytes committed and not yet consumed (a snapshot when the other side runs on
      another thread). */
  [[nodiscard]] std::size_t size() const noexcept { return size_.load(std::memory_order_acquire); }

  /** Whether the producer called `close()`. */
  [[nodiscard]] bool closed() const noexcept { return write_closed_.load(std::memory_order_acquire); }

  // ---- producer ------------------------------------------------------------------------------

  /** The free space now, where the producer writes the next bytes (empty when the ring is full).
      Producer only. */
  [[nodiscard]] ring_mutable_buffers prepare() const noexcept {
    std::size_t free = capacity_ - size_.load(std::memory_order_acquire);
    std::size_t first = std::min(free, capacity_ - write_pos_);
    return {mutable_buffer(data_ + write_pos_, first), mutable_buffer(data_, free - first)};
  }

  /** Makes the first `n` bytes of the free space (as `prepare()` or `async_prepare` gave it)
      readable by the consumer, and wakes its pending `async_data` if that now has enough.
      Producer only. Throws `std::length_error` if `n` exceeds the free space, `std::logic_error`
      after `close()`. */
  void commit(std::size_t n) {
    if (write_closed_.load(std::memory_order_relaxed)) {
      throw std::logic_error("senet::stream::ring_buffer::commit: the ring was closed");
    }
    if (n > capacity_ - size_.load(std::memory_order_acquire)) {
      throw std::length_error("senet::stream::ring_buffer::commit: more bytes than the free space");
    }
    if (n == 0) {
      return;
    }
    write_pos_ = advance(write_pos_, n);
    // seq_cst: against a consumer parking its async_data (it publishes, then reads size_).
    std::size_t size = size_.fetch_add(n, std::memory_order_seq_cst) + n;
    wake_if(data_waiter_, [&]() noexcept { return size >= data_want_.load(std::memory_order_relaxed); });
  }

  /** Ends the stream: the consumer reads what remains, then gets `senet::error::eof`; the
      producer's pending and later `async_prepare` fail with `std::errc::broken_pipe`.
      Idempotent. Producer only. */
  void close() noexcept {
    write_closed_.store(true, std::memory_order_seq_cst);
    wake_if(data_waiter_, always);
    wake_if(prepare_waiter_, always);
  }

  /** A sender of the free space, once at least `min_free` bytes of it are free.

      Completion signatures: `set_value_t(ring_mutable_buffers)` (all the free space, at least
      `min_free` bytes), `set_error_t(std::error_code)` (`std::errc::broken_pipe` once `close()` or
      `close_read()` was called; `std::errc::invalid_argument` if `min_free` is 0 or exceeds the
      capacity; `std::errc::operation_in_progress` if another `async_prepare` is pending),
      `set_stopped_t()`.
      Cancellation: a stop request ends the wait with `set_stopped()` unless the space came first.
      Buffer lifetime: the buffers stay valid and free until the producer commits them.
      Thread safety: producer only; may be started from any thread. It completes inside `start()`
      when the space is already free and `start()` runs on the thread of the io_context found in
      the receiver's environment (`io::get_io_scheduler`, else `ex::get_scheduler`), and otherwise
      on that context's thread, however the consumer runs. */
  [[nodiscard]] detail::ring_sender<detail::ring_prepare_side> async_prepare(
      std::size_t min_free = 1) noexcept;

  // ---- consumer ------------------------------------------------------------------------------

  /** The bytes readable now, oldest first (empty when the ring is empty). Consumer only. */
  [[nodiscard]] ring_const_buffers data() const noexcept {
    std::size_t size = size_.load(std::memory_order_acquire);
    std::size_t first = std::min(size, capacity_ - read_pos_);
    return {const_buffer(data_ + read_pos_, first), const_buffer(data_, size - first)};
  }

  /** Frees the first `n` readable bytes, and wakes the producer's pending `async_prepare` if it
      now has enough space. Consumer only. Throws `std::length_error` if `n` exceeds `size()`. */
  void consume(std::size_t n) {
    if (n > size_.load(std::memory_order_acquire)) {
      throw std::length_error("senet::stream::ring_buffer::consume: more bytes than the ring holds");
    }
    if (n == 0) {
      return;
    }
    read_pos_ = advance(read_pos_, n);
    std::size_t size = size_.fetch_sub(n, std::memory_order_seq_cst) - n;
    wake_if(prepare_waiter_,
            [&]() noexcept { return capacity_ - size >= prepare_want_.load(std::memory_order_relaxed); });
  }

  /** The consumer gives up: the producer's pending and later `async_prepare` fail with
      `std::errc::broken_pipe`; a pending `async_data` (and any later one) fails with
      `senet::error::operation_aborted`. Idempotent. Consumer only. */
  void close_read() noexcept {
    read_closed_.store(true, std::memory_order_seq_cst);
    wake_if(prepare_waiter_, always);
    wake_if(data_waiter_, always);
  }

  /** A sender of the readable bytes, once at least `min_size` of them are there, or fewer after
      `close()`.

      Completion signatures: `set_value_t(ring_const_buffers)` (every readable byte: at least
      `min_size`, or, after `close()`, at least one), `set_error_t(std::error_code)`
      (`senet::error::eof` once the producer closed the ring and every byte was consumed;
      `senet::error::operation_aborted` after `close_read()`; `std::errc::invalid_argument` if
      `min_size` is 0 or exceeds the capacity; `std::errc::operation_in_progress` if another
      `async_data` is pending), `set_stopped_t()`.
      Cancellation: a stop request ends the wait with `set_stopped()` unless the bytes came first.
      Buffer lifetime: the bytes stay valid and unchanged until the consumer consumes them.
      Thread safety: consumer only; otherwise as `async_prepare`. */
  [[nodiscard]] detail::ring_sender<detail::ring_data_side> async_data(std::size_t min_size = 1) noexcept;

 private:
  template <class Side, class Rcvr>
  friend class detail::ring_operation;
  friend struct detail::ring_prepare_side;
  friend struct detail::ring_data_side;

  [[nodiscard]] std::size_t advance(std::size_t pos, std::size_t n) const noexcept {
    pos += n;
    return pos >= capacity_ ? pos - capacity_ : pos;
  }

  static constexpr bool always() noexcept { return true; }

  // Takes the waiter parked in `slot` and wakes it, when `ready()`. `ready()` runs after the
  // waiter was seen, so that it reads the amount that waiter stored before parking.
  template <class Ready>
  static void wake_if(std::atomic<detail::ring_waiter*>& slot, Ready ready) noexcept {
    // seq_cst: the other half of the parking side's "publish, then look again".
    if (slot.load(std::memory_order_seq_cst) != nullptr && ready()) {
      if (detail::ring_waiter* w = slot.exchange(nullptr, std::memory_order_acq_rel)) {
        w->wake();
      }
    }
  }

  std::unique_ptr<std::byte[]> owned_;
  std::byte* data_;
  std::size_t capacity_;
  std::atomic<std::size_t> size_{0};
  std::atomic<bool> write_closed_{false};
  std::atomic<bool> read_closed_{false};
  // Each side's own state on its own cache line, away from the other side's.
  alignas(64) std::size_t write_pos_ = 0;
  std::atomic<detail::ring_waiter*> prepare_waiter_{nullptr};
  std::atomic<std::size_t> prepare_want_{0};
  alignas(64) std::size_t read_pos_ = 0;
  std::atomic<detail::ring_waiter*> data_waiter_{nullptr};
  std::atomic<std::size_t> data_want_{0};
};

namespace detail {

/** The producer's side: waits for free space. */
struct ring_prepare_side {
  using value_type = ring_mutable_buffers;
  static std::atomic<ring_waiter*>& slot(ring_buffer& r) noexcept { return r.prepare_waiter_; }
  static std::atomic<std::size_t>& want(ring_buffer& r) noexcept { return r.prepare_want_; }
  static bool ready(const ring_buffer& r, std::size_t want) noexcept {
    return r.write_closed_.load(std::memory_order_seq_cst) ||
           r.read_closed_.load(std::memory_order_seq_cst) ||
           r.capacity_ - r.size_.load(std::memory_order_seq_cst) >= want;
  }
  template <class Rcvr>
  static void deliver(ring_buffer& r, Rcvr& rcvr) noexcept {
    if (r.write_closed_.load(std::memory_order_acquire) || r.read_closed_.load(std::memory_order_acquire)) {
      ex::set_error(std::move(rcvr), std::make_error_code(std::errc::broken_pipe));
    } else {
      ex::set_value(std::move(rcvr), r.prepare());
    }
  }
};

/** The consumer's side: waits for bytes. */
struct ring_data_side {
  using value_type = ring_const_buffers;
  static std::atomic<ring_waiter*>& slot(ring_buffer& r) noexcept { return r.data_waiter_; }
  static std::atomic<std::size_t>& want(ring_buffer& r) noexcept { return r.data_want_; }
  static bool ready(const ring_buffer& r, std::size_t want) noexcept {
    return r.write_closed_.load(std::memory_order_seq_cst) ||
           r.read_closed_.load(std::memory_order_seq_cst) || r.size_.load(std::memory_order_seq_cst) >= want;
  }
  template <class Rcvr>
  static void deliver(ring_buffer& r, Rcvr& rcvr) noexcept {
    if (r.read_closed_.load(std::memory_order_acquire)) {
      ex::set_error(std::move(rcvr), make_error_code(senet::error::operation_aborted));
      return;
    }
    // closed_ first: once it is seen, size_ holds every byte the producer committed.
    bool closed = r.write_closed_.load(std::memory_order_acquire);
    if (r.data().empty() && closed) {
      ex::set_error(std::move(rcvr), make_error_code(senet::error::eof));
    } else {
      ex::set_value(std::move(rcvr), r.data());
    }
  }
};

/** The operation state of `async_prepare` / `async_data`. */
template <class Side, class Rcvr>
class ring_operation : ring_waiter {
 public:
  using operation_state_concept = ex::operation_state_tag;

  ring_operation(ring_buffer& ring, std::size_t want,
                 Rcvr&& rcvr) noexcept(std::is_nothrow_move_constructible_v<Rcvr>)
      : ring_(&ring), want_(want), rcvr_(std::move(rcvr)) {
    static_assert(io::detail::env_with_io_scheduler<ex::env_of_t<Rcvr>>,
                  "senet: ring_buffer's async_prepare / async_data need a senet I/O scheduler to complete "
                  "on, but the receiver's environment has none (neither senet::io::get_io_scheduler nor "
                  "ex::get_scheduler gives an io_context::scheduler_type)");
    ctx_ = &io::detail::context_from_env(ex::get_env(rcvr_));
  }
  ring_operation(const ring_operation&) = delete;
  ring_operation& operator=(const ring_operation&) = delete;

  void start() & noexcept {
    if (io::detail::start_here_or_post(*ctx_, *this, rcvr_, &ring_operation::start_posted)) {
      start_here();
    }
  }

 private:
  using token_type = ex::stop_token_of_t<ex::env_of_t<Rcvr>>;
  static constexpr bool stoppable = !ex::unstoppable_token<token_type>;

  struct on_stop {
    ring_operation* self_;
    void operator()() const noexcept {
      ring_operation& self = *self_;
      // Whoever takes the record out of its slot completes it: the other side (ready) or this
      // callback (stopped), never both.
      ring_waiter* expected = &self;
      if (Side::slot(*self.ring_).compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel)) {
        self.stopped_ = true;
        self.wake();
      }
    }
  };
  using callback_type =
      std::conditional_t<stoppable, std::optional<ex::stop_callback_for_t<token_type, on_stop>>,
                         io::detail::no_callback>;

  static void start_posted(io::detail::io_operation* op) noexcept {
    auto& self = *static_cast<ring_operation*>(op);
    io::detail::started_handed_off(*self.ctx_);
    if (self.result_ < 0) {  // the context is being destroyed
      ex::set_stopped(std::move(self.rcvr_));
      return;
    }
    self.start_here();
  }

  // A start deferred to a later turn (`start_here`), from the cross-thread queue.
  static void start_deferred(io::detail::io_operation* op) noexcept {
    auto& self = *static_cast<ring_operation*>(op);
    if (self.result_ < 0) {  // the context is being destroyed
      ex::set_stopped(std::move(self.rcvr_));
      return;
    }
    if constexpr (stoppable) {
      if (ex::get_stop_token(ex::get_env(self.rcvr_)).stop_requested()) {
        ex::set_stopped(std::move(self.rcvr_));
        return;
      }
    }
    self.start_here();
  }

  // On the context's thread.
  void start_here() noexcept {
    ring_buffer& ring = *ring_;
    if (want_ == 0 || want_ > ring.capacity()) {
      ex::set_error(std::move(rcvr_), std::make_error_code(std::errc::invalid_argument));
      return;
    }
    if (Side::ready(ring, want_)) {
      // Completing at once takes one of the handler's inline completions, as a socket operation's
      // does; once none is left the start goes round the loop first (through the cross-thread
      // queue, taken at the loop's next gather), so that a loop over a ring that another thread
      // keeps ready lets the context's other work run (io_context's "Fairness").
      if (inline_completions_left(*ctx_) <= 0) {
        code_ = io::detail::op_code::schedule;  // a handler: a turn that runs it returns
        result_ = 0;
        complete_ = &ring_operation::start_deferred;
        io::detail::post_remote(*ctx_, *this);
        return;
      }
      --inline_completions_left(*ctx_);
      Side::deliver(ring, rcvr_);
      return;
    }
    // Only this side parks in its slot, so a record seen there is another pending operation of
    // this side, whose wanted amount must not be overwritten.
    ring_waiter* expected = nullptr;
    if (Side::slot(ring).load(std::memory_order_relaxed) != nullptr) {
      ex::set_error(std::move(rcvr_), std::make_error_code(std::errc::operation_in_progress));
      return;
    }
    Side::want(ring).store(want_, std::memory_order_relaxed);
    complete_ = &ring_operation::on_wake;
    if (!Side::slot(ring).compare_exchange_strong(expected, this, std::memory_order_seq_cst)) {
      ex::set_error(std::move(rcvr_), std::make_error_code(std::errc::operation_in_progress));
      return;
    }
    // Parked. Look again: the other side may have made it ready before it could see the record.
    if (Side::ready(ring, want_)) {
      expected = this;
      if (Side::slot(ring).compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel)) {
        Side::deliver(ring, rcvr_);
        return;
      }
      // The other side took it and posted it: its completion comes in a later turn.
    }
    // Keeps run() going while the operation waits for the other side, as a pending socket
    // operation does.
    work_.emplace(*ctx_);
    if constexpr (stoppable) {
      callback_.emplace(ex::get_stop_token(ex::get_env(rcvr_)), on_stop{this});
    }
  }

  static void on_wake(io::detail::io_operation* op) noexcept {
    auto& self = *static_cast<ring_operation*>(op);
    if constexpr (stoppable) {
      // Waits for a callback still running on another thread.
      self.callback_.reset();
    }
    self.work_.reset();
    if (self.stopped_ || self.result_ < 0) {  // stopped, or the context is being destroyed
      ex::set_stopped(std::move(self.rcvr_));
    } else {
      Side::deliver(*self.ring_, self.rcvr_);
    }
  }

  ring_buffer* ring_;
  std::size_t want_;
  Rcvr rcvr_;
  std::optional<io::io_context::work_guard> work_;
  [[no_unique_address]] callback_type callback_{};
};

/** The sender of `async_prepare` / `async_data`. */
template <class Side>
class ring_sender {
 public:
  using sender_concept = ex::sender_t;
  using completion_signatures =
      ex::completion_signatures<ex::set_value_t(typename Side::value_type), ex::set_error_t(std::error_code),
                                ex::set_stopped_t()>;

  ring_sender(ring_buffer& ring, std::size_t want) noexcept : ring_(&ring), want_(want) {}

  template <class Rcvr>
  [[nodiscard]] ring_operation<Side, Rcvr> connect(Rcvr rcvr) const
      noexcept(std::is_nothrow_move_constructible_v<Rcvr>) {
    return ring_operation<Side, Rcvr>(*ring_, want_, std::move(rcvr));
  }

 private:
  ring_buffer* ring_;
  std::size_t want_;
};

}  // namespace detail

inline detail::ring_sender<detail::ring_prepare_side> ring_buffer::async_prepare(
    std::size_t min_free) noexcept {
  return {*this, min_free};
}

inline detail::ring_sender<detail::ring_data_side> ring_buffer::async_data(std::size_t min_size) noexcept {
  return {*this, min_size};
}

/** `stream::async_prepare(ring[, min_free])`: `ring.async_prepare(min_free)`, a sender of the
    ring's free space once `min_free` bytes (default 1) are free (see `ring_buffer::async_prepare`
    for its completions, cancellation and thread safety). */
struct async_prepare_t {
  [[nodiscard]] auto operator()(ring_buffer& ring, std::size_t min_free = 1) const noexcept {
    return ring.async_prepare(min_free);
  }
};

/** The `async_prepare` customization point object. */
inline constexpr async_prepare_t async_prepare{};

/** `stream::async_data(ring[, min_size])`: `ring.async_data(min_size)`, a sender of the ring's
    readable bytes once `min_size` (default 1) are there, and of `senet::error::eof` at the end of
    the stream (see `ring_buffer::async_data`). */
struct async_data_t {
  [[nodiscard]] auto operator()(ring_buffer& ring, std::size_t min_size = 1) const noexcept {
    return ring.async_data(min_size);
  }
};

/** The `async_data` customization point object. */
inline constexpr async_data_t async_data{};

}  // namespace senet::stream

#endif  // SENET_STREAM_RING_BUFFER_HPP
