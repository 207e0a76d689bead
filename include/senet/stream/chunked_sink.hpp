// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_CHUNKED_SINK_HPP
#define SENET_STREAM_CHUNKED_SINK_HPP

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/stream/write_now.hpp>
#include <senet/stream/write_stream.hpp>

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <iterator>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace senet::stream {

namespace detail {

/** The framing of one chunk around the bytes of a `Buffers` sequence: `header`, the data, then
    `trailer`, as one buffer sequence (nothing is copied, nothing allocated), so that a chunk is one
    gather write. */
template <class Buffers>
class chunk_sequence {
  using data_iterator = decltype(buffer_sequence_begin(std::declval<const Buffers&>()));

 public:
  chunk_sequence(const_buffer header, Buffers data,
                 const_buffer trailer) noexcept(std::is_nothrow_move_constructible_v<Buffers>)
      : header_(header), data_(std::move(data)), trailer_(trailer) {}

  class iterator {
   public:
    using value_type = const_buffer;
    using difference_type = std::ptrdiff_t;
    using reference = const_buffer;
    using iterator_category = std::forward_iterator_tag;

    iterator() = default;
    iterator(const chunk_sequence* seq, int part, data_iterator it) noexcept
        : seq_(seq), part_(part), it_(it) {
      skip_empty_data();
    }

    [[nodiscard]] const_buffer operator*() const noexcept {
      switch (part_) {
        case 0:
          return seq_->header_;
        case 1:
          return const_buffer(*it_);
        default:
          return seq_->trailer_;
      }
    }
    iterator& operator++() noexcept {
      if (part_ == 1) {
        ++it_;
      } else {
        ++part_;
      }
      skip_empty_data();
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    [[nodiscard]] bool operator==(const iterator& other) const noexcept {
      return part_ == other.part_ && (part_ != 1 || it_ == other.it_);
    }

   private:
    // In the data part, at its end: go on to the trailer.
    void skip_empty_data() noexcept {
      if (part_ == 1 && it_ == buffer_sequence_end(seq_->data_)) {
        part_ = 2;
      }
    }

    const chunk_sequence* seq_ = nullptr;
    int part_ = 3;
    data_iterator it_{};
  };

  [[nodiscard]] iterator begin() const noexcept { return iterator(this, 0, buffer_sequence_begin(data_)); }
  [[nodiscard]] iterator end() const noexcept { return iterator(this, 3, data_iterator{}); }

 private:
  const_buffer header_;
  Buffers data_;
  const_buffer trailer_;
};

inline constexpr char chunk_end[] = "\r\n";
inline constexpr char last_chunk_after_data[] = "\r\n0\r\n\r\n";
inline constexpr char last_chunk[] = "0\r\n\r\n";

/** Writes `size` as a chunk-size line (lower-case hex, CRLF) into `out`; returns its length. */
inline std::size_t format_chunk_header(char (&out)[20], std::size_t size) noexcept {
  char digits[16];
  std::size_t count = 0;
  do {
    digits[count++] = "0123456789abcdef"[size & 0xf];
    size >>= 4;
  } while (size != 0);
  std::size_t len = 0;
  while (count != 0) {
    out[len++] = digits[--count];
  }
  out[len++] = '\r';
  out[len++] = '\n';
  return len;
}

}  // namespace detail

/** A `write_sink` that writes HTTP/1.1 chunked transfer coding (RFC 9112 §7.1) on a
    `write_stream`: each non-empty write becomes one chunk, `write_eof` writes the last chunk.

    Each chunk (`<size in hex>\r\n<data>\r\n`) is written as one gather write of the chunk-size
    line, the caller's buffers and the CRLF: no byte is copied and, when the stream takes it all,
    one `write_some` (one system call on a socket) carries the whole chunk.
    `write_eof(buffers)` appends the last chunk to the same gather write (`<size>\r\n<data>\r\n0\r\n\r\n`):
    the end of the body leaves with the last data in one system call, as the `write_sink` concept
    intends. (A sequence of more than 14 non-empty buffers takes more than one `write_some`, since
    one write takes at most 16 buffers.)

    Operations (each returns an `io_awaitable`; `auto [ec, n] = co_await ...`):
    - `write(buffers)`: writes `buffers` as one chunk. `n` counts the caller's bytes (not the
      framing): `buffer_size(buffers)` on success; on error the data bytes that reached the stream.
      Empty `buffers` write nothing (a zero-size chunk would end the body) and complete at once
      with `(no error, 0)`.
    - `write_some(buffers)`: the same as `write` (a chunk cannot be cut by the sink: its size is
      announced before its data), so it writes all of `buffers`; but on error `n` is 0, as the
      `write_stream` contract says.
    - `write_eof(buffers)`: writes `buffers` as a chunk (none if empty) and the last chunk
      `0\r\n\r\n`, in one gather write. `n` as for `write`.
    - `write_eof()`: writes the last chunk alone; `auto [ec] = co_await sink.write_eof();`.
    It writes no trailer fields, and it does not end the stream below: an HTTP connection stays
    open for the next response (call `reset()` before writing the next body).

    Errors: those of the stream's `write_some` (the chunk was cut, so the body cannot be parsed
    any more; the sink then rejects every write with that error until `reset()`). After a
    successful `write_eof`, every write and `write_eof` (empty ones too) fails with
    `senet::error::write_after_eof` and writes nothing.
    Cancellation: as the stream's `write_some` (a socket's: the awaiting task's stop token; the
    operation then ends with `operation_aborted` and the sink is failed).
    Allocation: none per operation; the stream's `write_some` is awaited through a `write_now`
    kept in the sink, which allocates one coroutine frame the first time a write must wait and
    reuses it after.
    Buffer lifetime: `buffers` (and an lvalue range itself) stay valid until the `co_await`
    completes; the awaitable must be awaited in the full expression that created it (it keeps
    the chunk-size line).
    Thread safety: one operation at a time per sink; the stream outlives the sink. The sink is
    neither copyable nor movable.

    Example (a streamed HTTP response body):
    ```cpp
    senet::stream::chunked_sink body(sock);
    for (std::string_view part : parts) {
      if (auto [ec, n] = co_await body.write(senet::buffer(part)); ec) co_return;
    }
    auto [ec, n] = co_await body.write_eof(senet::buffer(last_part));  // last data + 0\r\n\r\n
    ```
*/
template <write_stream Stream>
class chunked_sink {
 public:
  using result_type = std::tuple<std::error_code, std::size_t>;
  using eof_result_type = std::tuple<std::error_code>;

  /** A sink that writes chunks on `stream`, which must outlive it. */
  explicit chunked_sink(Stream& stream) noexcept : stream_(&stream), wn_(stream) {}
  chunked_sink(const chunked_sink&) = delete;
  chunked_sink& operator=(const chunked_sink&) = delete;
  ~chunked_sink() = default;

  /** The stream the chunks are written to. */
  [[nodiscard]] Stream& next_layer() noexcept { return *stream_; }

  /** Whether a `write_eof` has succeeded (the body is complete). */
  [[nodiscard]] bool finished() const noexcept { return finished_; }

  /** Makes the sink ready for a new body (after `write_eof`, or after an error). */
  void reset() noexcept {
    finished_ = false;
    error_ = {};
  }

  template <class Buffers, bool Bare>
  class operation;

  /** Writes `buffers` as one chunk (see the class). */
  template <const_buffer_sequence Buffers>
  [[nodiscard]] operation<net::detail::stored_buffers_t<Buffers>, false> write(Buffers&& buffers) {
    return {*this, net::detail::store_buffers(std::forward<Buffers>(buffers)), false};
  }

  /** The same as `write(buffers)`: a chunk is written whole (`n` is 0 on error). */
  template <const_buffer_sequence Buffers>
  [[nodiscard]] operation<net::detail::stored_buffers_t<Buffers>, false> write_some(Buffers&& buffers) {
    return {*this, net::detail::store_buffers(std::forward<Buffers>(buffers)), false, true};
  }

  /** Writes `buffers` as a chunk and the last chunk, in one gather write. */
  template <const_buffer_sequence Buffers>
  [[nodiscard]] operation<net::detail::stored_buffers_t<Buffers>, false> write_eof(Buffers&& buffers) {
    return {*this, net::detail::store_buffers(std::forward<Buffers>(buffers)), true};
  }

  /** Writes the last chunk, `0\r\n\r\n`. */
  [[nodiscard]] operation<const_buffer, true> write_eof() { return {*this, const_buffer(), true}; }

 private:
  Stream* stream_;
  write_now<Stream> wn_;
  bool finished_ = false;
  std::error_code error_{};
};

/** The awaitable of a `chunked_sink` operation: a `write_now` of the framed chunk, whose result
    it translates to the caller's bytes. */
template <write_stream Stream>
template <class Buffers, bool Bare>
class chunked_sink<Stream>::operation {
  using sequence_type = detail::chunk_sequence<Buffers>;
  using inner_type = typename write_now<Stream>::template operation<sequence_type>;

 public:
  using result_type = std::conditional_t<Bare, eof_result_type, chunked_sink::result_type>;

  operation(chunked_sink& sink, Buffers&& data, bool eof, bool some = false)
      : sink_(&sink),
        some_(some),
        size_(buffer_size(data)),
        eof_(eof),
        immediate_(decide(sink, size_, eof)),
        header_size_(immediate_ || size_ == 0 ? 0 : detail::format_chunk_header(header_, size_)),
        inner_(sink.wn_(sequence_type(const_buffer(header_, header_size_), std::move(data), trailer()))) {}
  operation(const operation&) = delete;
  operation& operator=(const operation&) = delete;
  ~operation() = default;

  /** The I/O context and stop token of the awaiting task (before `await_ready()`). */
  void bind_io_environment(io::io_context* io, ex::inplace_stop_token token) noexcept {
    if constexpr (senet::detail::binds_io_environment<inner_type>) {
      inner_.bind_io_environment(io, token);
    }
  }

  [[nodiscard]] bool await_ready() {
    if (immediate_) {
      return true;
    }
    return inner_.await_ready();
  }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    return inner_.await_suspend(h);
  }

  [[nodiscard]] result_type await_resume() noexcept {
    std::error_code ec = ec_;
    std::size_t n = 0;
    if (!immediate_) {
      auto [inner_ec, written] = inner_.await_resume();
      ec = inner_ec;
      n = written <= header_size_ ? 0 : std::min(written - header_size_, size_);
      if (ec) {
        sink_->error_ = ec;
        if (some_) {
          n = 0;
        }
      } else if (eof_) {
        sink_->finished_ = true;
      }
    }
    if constexpr (Bare) {
      return {ec};
    } else {
      return {ec, n};
    }
  }

 private:
  // Whether the operation completes without writing: an empty write, or a sink that is done.
  bool decide(const chunked_sink& sink, std::size_t size, bool eof) noexcept {
    if (sink.finished_) {
      ec_ = make_error_code(senet::error::write_after_eof);
      return true;
    }
    if (sink.error_) {
      ec_ = sink.error_;
      return true;
    }
    return size == 0 && !eof;
  }

  [[nodiscard]] const_buffer trailer() const noexcept {
    if (immediate_) {
      return {};
    }
    if (eof_) {
      return size_ == 0
                 ? const_buffer(detail::last_chunk, sizeof detail::last_chunk - 1)
                 : const_buffer(detail::last_chunk_after_data, sizeof detail::last_chunk_after_data - 1);
    }
    return const_buffer(detail::chunk_end, sizeof detail::chunk_end - 1);
  }

  chunked_sink* sink_;
  bool some_;  // write_some: n is 0 on error
  std::size_t size_;
  bool eof_;
  std::error_code ec_{};
  bool immediate_;
  char header_[20]{};
  std::size_t header_size_;
  inner_type inner_;
};

}  // namespace senet::stream

#endif  // SENET_STREAM_CHUNKED_SINK_HPP
