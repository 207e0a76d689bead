// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_BUFFERED_WRITER_HPP
#define SENET_STREAM_BUFFERED_WRITER_HPP

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/detail/transfer_all.hpp>
#include <senet/stream/detail/cached_op.hpp>
#include <senet/stream/detail/sink_support.hpp>
#include <senet/stream/write_sink.hpp>
#include <senet/stream/write_stream.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace senet::stream {

/** A `write_sink` that collects small writes in a fixed buffer in front of any `write_stream`, so
    that many small writes cost few system calls.

    - `write(buffers)`: when the bytes fit in the free space of the buffer, they are copied there
      and the operation completes at once, without I/O. Otherwise they go out now, together with
      what is buffered, in gather writes of the buffer and `buffers` (`write_some` of both, no copy
      of `buffers`); the buffer is then empty. So a write larger than the buffer is never copied,
      and every write to the next layer carries at least a buffer's worth of bytes or everything
      there is.
    - `write_some(buffers)`: copies as much as fits (at least one byte) and completes at once; when
      the buffer is full, it first writes the buffer out.
    - `write_eof(buffers)`: writes the buffered bytes and `buffers` and ends the stream. When the
      next layer is a `write_sink`, the last of those bytes go to its `write_eof(buffers)` in one
      call (a chunked or deflate sink below then coalesces them with its end, as the seed wants);
      otherwise they are written and only this writer is finished (a raw socket below is not shut
      down: put a `socket_sink` below to have that).
    - `write_eof()`: the same with no new bytes.
    - `flush()`: writes the buffered bytes out; gives `(ec, n)`, `n` the bytes of the buffer written.
    Results follow `write_sink`; `n` counts the bytes of the call's own `buffers`. An error of the
    next layer may concern bytes that an earlier `write` buffered (and reported written): it is
    reported by the operation that tried to send them (a later write, `flush` or `write_eof`), and
    the bytes not sent stay in the buffer. After a successful `write_eof` every write fails with
    `senet::error::write_after_eof`.

    Suspension: an operation suspends only if a write of the next layer does.
    Allocation: the buffer is allocated by the constructor; operations that write to the next layer
    run in a coroutine whose frame is cached in the writer, allocated by the first of them (and
    grown once by a later one that needs a larger frame: another type of buffer sequence,
    `write_eof()`). There is no allocation per operation.
    Cancellation: the awaiting task's stop token reaches the next layer's operations; a cancelled
    one ends the operation with its error (`operation_aborted`).
    Buffer lifetime: the bytes of `buffers` stay valid until the `co_await` completes.
    Thread safety: one operation at a time. The next layer outlives the writer.

    Example:
    ```cpp
    senet::stream::socket_sink out(sock);
    senet::stream::buffered_writer w(out, 4096);
    co_await w.write(senet::buffer("key: ", 5));         // copied
    co_await w.write(senet::buffer("value\r\n", 7));     // copied
    auto [ec, n] = co_await w.write_eof(senet::buffer("end\r\n", 5));  // one write, then FIN
    ```
*/
template <write_stream Stream>
class buffered_writer {
 public:
  using next_layer_type = Stream;
  /** The buffer size when none is given. */
  static constexpr std::size_t default_capacity = 8192;

  /** A writer in front of `next` (borrowed: it must outlive the writer) with a buffer of
      `capacity` bytes; throws `std::invalid_argument` when `capacity` is 0. */
  explicit buffered_writer(Stream& next, std::size_t capacity = default_capacity)
      : next_(&next), data_(make_storage(capacity)), capacity_(capacity) {}
  buffered_writer(buffered_writer&&) noexcept = default;
  buffered_writer& operator=(buffered_writer&&) noexcept = default;
  buffered_writer(const buffered_writer&) = delete;
  buffered_writer& operator=(const buffered_writer&) = delete;
  ~buffered_writer() = default;

  /** The stream written to. */
  [[nodiscard]] Stream& next_layer() const noexcept { return *next_; }
  /** The buffer's size. */
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /** The bytes waiting in the buffer. */
  [[nodiscard]] std::size_t buffered() const noexcept { return size_; }
  /** Whether a `write_eof` succeeded. */
  [[nodiscard]] bool finished() const noexcept { return finished_; }

  /** Copies as much of `buffers` as fits (writing the buffer out first when it is full). */
  template <const_buffer_sequence Buffers>
  [[nodiscard]] detail::maybe_op<detail::size_result> write_some(Buffers&& buffers) {
    if (finished_) {
      return detail::rejected_write();
    }
    if (buffer_size(buffers) == 0) {
      return detail::size_result{};
    }
    if (size_ < capacity_) {
      return detail::size_result{std::error_code{}, copy_in(buffers)};
    }
    return run<detail::size_result>(std::forward<Buffers>(buffers), mode::flush_then_copy);
  }

  /** Writes all of `buffers`: into the buffer if they fit, else out with what is buffered. */
  template <const_buffer_sequence Buffers>
  [[nodiscard]] detail::maybe_op<detail::size_result> write(Buffers&& buffers) {
    if (finished_) {
      return detail::rejected_write();
    }
    std::size_t size = buffer_size(buffers);
    if (size <= capacity_ - size_) {
      copy_in(buffers);
      return detail::size_result{std::error_code{}, size};
    }
    return run<detail::size_result>(std::forward<Buffers>(buffers), mode::write);
  }

  /** Writes the buffered bytes and all of `buffers`, then ends the stream. */
  template <const_buffer_sequence Buffers>
  [[nodiscard]] detail::maybe_op<detail::size_result> write_eof(Buffers&& buffers) {
    if (finished_) {
      return detail::rejected_write();
    }
    if constexpr (!write_sink<Stream>) {
      if (size_ == 0 && buffer_size(buffers) == 0) {
        finished_ = true;
        return detail::size_result{};
      }
    }
    return run<detail::size_result>(std::forward<Buffers>(buffers), mode::eof);
  }

  /** Writes the buffered bytes, then ends the stream. */
  [[nodiscard]] detail::maybe_op<detail::eof_result> write_eof() {
    if (finished_) {
      return detail::eof_result{make_error_code(senet::error::write_after_eof)};
    }
    if constexpr (!write_sink<Stream>) {
      if (size_ == 0) {
        finished_ = true;
        return detail::eof_result{};
      }
    }
    return run<detail::eof_result>(const_buffer(), mode::eof);
  }

  /** Writes the buffered bytes out: `(ec, n)`, `n` the bytes of the buffer written. */
  [[nodiscard]] detail::maybe_op<detail::size_result> flush() {
    if (size_ == 0) {
      return detail::size_result{};
    }
    return run<detail::size_result>(const_buffer(), mode::flush);
  }

 private:
  enum class mode { write, eof, flush, flush_then_copy };

  static std::unique_ptr<char[]> make_storage(std::size_t capacity) {
    if (capacity == 0) {
      throw std::invalid_argument("senet::stream::buffered_writer: the capacity must not be 0");
    }
    return std::unique_ptr<char[]>(new char[capacity]);
  }

  // Copies as much of `buffers` as fits; returns how much.
  template <class Buffers>
  std::size_t copy_in(const Buffers& buffers) noexcept {
    std::size_t copied = 0;
    for (auto it = buffer_sequence_begin(buffers); it != buffer_sequence_end(buffers) && size_ < capacity_;
         ++it) {
      const_buffer b(*it);
      std::size_t take = std::min(b.size(), capacity_ - size_);
      std::memcpy(data_.get() + size_, b.data(), take);
      size_ += take;
      copied += take;
    }
    return copied;
  }

  template <class R, class Buffers>
  detail::maybe_op<R> run(Buffers&& buffers, mode m) {
    return detail::with_cache(cache_, [&] {
      return drain<R>(*this, net::detail::store_buffers(std::forward<Buffers>(buffers)), m);
    });
  }

  template <class R>
  static R result(std::error_code ec, std::size_t n) noexcept {
    if constexpr (std::tuple_size_v<R> == 1) {
      return R{ec};
    } else {
      return R{ec, n};
    }
  }

  // Drops the first `n` bytes of the buffer (they were written).
  void consume_buffered(std::size_t n) noexcept {
    std::memmove(data_.get(), data_.get() + n, size_ - n);
    size_ -= n;
  }

  // Writes the buffer (from `head` on) and `buffers` to the next layer, as the mode says.
  template <class R, class Buffers>
  static detail::cached_op<R> drain(buffered_writer& self, Buffers buffers, mode m) {
    constexpr std::size_t window_size = net::detail::transfer_window_size;
    const std::size_t user_total = m == mode::flush_then_copy ? 0 : buffer_size(buffers);
    std::size_t head = 0;  // bytes of the buffer written
    std::size_t user_done = 0;
    net::detail::consuming_buffers<const_buffer, Buffers> rest(buffers);
    std::array<const_buffer, window_size> window{};
    for (;;) {
      std::size_t k = 0;
      std::size_t window_bytes = 0;
      if (head < self.size_) {
        window[k++] = const_buffer(self.data_.get() + head, self.size_ - head);
        window_bytes += self.size_ - head;
      }
      if (user_total != 0) {
        for (const const_buffer& b : rest.prepare()) {
          if (k == window.size()) {
            break;
          }
          window[k++] = b;
          window_bytes += b.size();
        }
      }
      const std::size_t remaining = (self.size_ - head) + (user_total - user_done);
      if (remaining == 0) {
        break;
      }
      std::span<const const_buffer> out(window.data(), k);
      if constexpr (write_sink<Stream>) {
        if (m == mode::eof && window_bytes == remaining) {
          // The last bytes and the end in one operation of the sink below.
          auto [ec, n] = co_await self.next_->write_eof(out);
          std::size_t from_head = std::min(n, self.size_ - head);
          self.consume_buffered(head + from_head);
          if (ec) {
            co_return result<R>(ec, user_done + (n - from_head));
          }
          self.finished_ = true;
          co_return result<R>(std::error_code{}, user_total);
        }
      }
      auto [ec, n] = co_await self.next_->write_some(out);
      if (!ec && n == 0) {
        ec = detail::zero_transfer_error();
      }
      if (ec) {
        self.consume_buffered(head);
        co_return result<R>(ec, m == mode::flush ? head : user_done);
      }
      std::size_t from_head = std::min(n, self.size_ - head);
      head += from_head;
      user_done += n - from_head;
      rest.consume(n - from_head);
    }
    const std::size_t flushed = self.size_;
    self.size_ = 0;
    switch (m) {
      case mode::flush_then_copy:
        co_return result<R>(std::error_code{}, self.copy_in(buffers));
      case mode::flush:
        co_return result<R>(std::error_code{}, flushed);
      case mode::eof:
        if constexpr (write_sink<Stream>) {
          // Nothing was left to write with the end (an empty write_eof): end it bare.
          auto [ec] = co_await self.next_->write_eof();
          if (ec) {
            co_return result<R>(ec, user_done);
          }
        }
        self.finished_ = true;
        break;
      case mode::write:
        break;
    }
    co_return result<R>(std::error_code{}, user_done);
  }

  Stream* next_;
  std::unique_ptr<char[]> data_;
  std::size_t capacity_;
  std::size_t size_ = 0;
  bool finished_ = false;
  detail::frame_cache cache_;
};

template <class Stream>
buffered_writer(Stream&) -> buffered_writer<Stream>;
template <class Stream>
buffered_writer(Stream&, std::size_t) -> buffered_writer<Stream>;

}  // namespace senet::stream

#endif  // SENET_STREAM_BUFFERED_WRITER_HPP
