// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_DEFLATE_SINK_HPP
#define SENET_STREAM_DEFLATE_SINK_HPP

/* Needs zlib (Debian: zlib1g-dev): link the CMake target senet::deflate (senet's targets plus
   ZLIB::ZLIB), or with pkg-config `senet-deflate`. libsenet itself does not depend on zlib. */

#include <senet/buffer.hpp>
#include <senet/detail/task_promise.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/detail/socket_awaitable.hpp>
#include <senet/net/detail/transfer_all.hpp>
#include <senet/stream/write_now.hpp>
#include <senet/stream/write_sink.hpp>
#include <senet/stream/write_stream.hpp>

#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace senet::stream {

/** The container a `deflate_sink` writes (RFC 1951 raw deflate, RFC 1950 zlib, RFC 1952 gzip).
    HTTP's `Content-Encoding: gzip` is `gzip`; `Content-Encoding: deflate` is `zlib` (RFC 9110
    §8.4.1.2), not `raw`. */
enum class deflate_format { raw, zlib, gzip };

/** When a `deflate_sink` hands compressed bytes to the stream below.
    - `none`: when its output buffer is full, and at `write_eof`: the best compression, but the
      peer sees nothing of a small write until later.
    - `sync`: also at the end of each `write` (`Z_SYNC_FLUSH`): everything written so far can be
      decoded by the peer at once (a streamed response), at some cost in size. */
enum class deflate_flush { none, sync };

/** The settings of a `deflate_sink`. */
struct deflate_options {
  /** The container of the compressed stream. */
  deflate_format format = deflate_format::gzip;
  /** zlib's compression level: 0 (none) to 9 (best), or -1 for zlib's default (6). */
  int level = -1;
  /** When compressed bytes are written (see `deflate_flush`). */
  deflate_flush flush = deflate_flush::none;
  /** The size of the output buffer, allocated once at construction (at least 64 bytes); each
      write to the stream below carries at most this many bytes. */
  std::size_t buffer_size = 16 * 1024;
};

namespace detail {

class zlib_category_impl final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "zlib"; }
  [[nodiscard]] std::string message(int rc) const override {
    switch (rc) {
      case Z_STREAM_ERROR:
        return "zlib: inconsistent stream state or invalid parameter (Z_STREAM_ERROR)";
      case Z_DATA_ERROR:
        return "zlib: invalid or incomplete data (Z_DATA_ERROR)";
      case Z_MEM_ERROR:
        return "zlib: out of memory (Z_MEM_ERROR)";
      case Z_BUF_ERROR:
        return "zlib: no progress possible (Z_BUF_ERROR)";
      case Z_VERSION_ERROR:
        return "zlib: the library is incompatible with the zlib.h it was compiled with (Z_VERSION_ERROR)";
      case Z_ERRNO:
        return "zlib: system error (Z_ERRNO)";
      default:
        return "zlib: unknown error " + std::to_string(rc);
    }
  }
  [[nodiscard]] std::error_condition default_error_condition(int rc) const noexcept override {
    switch (rc) {
      case Z_MEM_ERROR:
        return std::errc::not_enough_memory;
      case Z_STREAM_ERROR:
        return std::errc::invalid_argument;
      default:
        return {rc, *this};
    }
  }
};

}  // namespace detail

/** The category of zlib's return codes (`Z_STREAM_ERROR`, `Z_MEM_ERROR`, ...): its `name()` is
    "zlib", its messages name the code. `Z_MEM_ERROR` compares equal to
    `std::errc::not_enough_memory`, `Z_STREAM_ERROR` to `std::errc::invalid_argument`. */
[[nodiscard]] inline const std::error_category& zlib_category() noexcept {
  static const detail::zlib_category_impl category;
  return category;
}

/** `std::error_code(rc, zlib_category())` for a zlib return code `rc` (negative: an error). */
[[nodiscard]] inline std::error_code make_zlib_error(int rc) noexcept {
  return {rc, zlib_category()};
}

namespace detail {

/** The awaitables a `deflate_sink` writes its output with: `next.write` / `next.write_eof` on a
    `write_sink`, `next.write_some` (looped) on a plain `write_stream`. */
template <class Next>
struct deflate_next_ops {
  static constexpr bool sink = false;
  using write_type = decltype(std::declval<Next&>().write_some(std::declval<const_buffer>()));
  using eof_type = write_type;
};
template <write_sink Next>
struct deflate_next_ops<Next> {
  static constexpr bool sink = true;
  using write_type = decltype(std::declval<Next&>().write(std::declval<const_buffer>()));
  using eof_type = decltype(std::declval<Next&>().write_eof(std::declval<const_buffer>()));
};

inline constexpr int deflate_window_bits(deflate_format format) noexcept {
  switch (format) {
    case deflate_format::raw:
      return -MAX_WBITS;
    case deflate_format::zlib:
      return MAX_WBITS;
    default:
      return MAX_WBITS + 16;
  }
}

}  // namespace detail

/** A `write_sink` that compresses what is written to it with zlib's `deflate` and writes the
    compressed bytes to `Next`, a `write_stream` or (better) a `write_sink`, such as a
    `chunked_sink` for an HTTP response with `Content-Encoding: gzip`.

    Operations (each returns an `io_awaitable`; `auto [ec, n] = co_await ...`):
    - `write(buffers)`: compresses all of `buffers`. Compressed bytes are written to `Next` when
      the output buffer fills, and at the end of the call when `options.flush` is `sync`;
      otherwise zlib keeps them until later. `n`: the bytes of `buffers` compressed
      (`buffer_size(buffers)` on success). Empty `buffers` complete at once with `(no error, 0)`.
    - `write_some(buffers)`: the same as `write`, but on error `n` is 0, as the `write_stream`
      contract says.
    - `write_eof(buffers)`: compresses `buffers` and finishes the stream (`Z_FINISH`) in the same
      call, so that the last compressed block and the format's trailer leave together: on a
      `write_sink` `Next` they are passed to `next.write_eof(...)` (a `chunked_sink` then writes
      them and the last chunk in one system call); on a plain `write_stream` they are written and
      the stream is not told of the end (it has no way to be).
    - `write_eof()`: finishes the stream; `auto [ec] = co_await sink.write_eof();`.
    Writing to `Next`: `write` / `write_eof(buffers)` on a `write_sink`, a loop of `write_some` on a
    `write_stream`.

    Errors: the stream's errors, and zlib's as `zlib_category()` codes (`make_zlib_error`); `n` is
    then the bytes of `buffers` that zlib consumed before the error. After an error the compressed
    stream is cut, and every later operation fails with the same error until `reset()`. After a
    successful `write_eof`, every write and `write_eof` (empty ones too) fails with
    `senet::error::write_after_eof` and writes nothing.
    Construction throws `std::system_error` with a zlib code when `deflateInit2` fails (an invalid
    `level`, `Z_MEM_ERROR`), `std::invalid_argument` for a `buffer_size` under 64, `std::bad_alloc`.
    Allocation: zlib's state (about 256 KiB at the default settings) and the output buffer at
    construction; nothing per operation, except one coroutine frame, the first time a write has to
    wait for `Next`, which the sink keeps and reuses.
    Completion: when every write to `Next` completes at once, the operation completes inside
    `await_ready()`.
    Cancellation: as `Next`'s operations (a socket's: the awaiting task's stop token); the sink is
    then failed.
    Buffer lifetime: `buffers` (and an lvalue range itself) stay valid until the `co_await`
    completes.
    Thread safety: one operation at a time per sink; `Next` outlives the sink. Neither copyable nor
    movable (zlib's state points to the sink).

    Example (a gzip-compressed, chunked HTTP body):
    ```cpp
    senet::stream::chunked_sink chunked(sock);
    senet::stream::deflate_sink gz(chunked, {.format = senet::stream::deflate_format::gzip});
    if (auto [ec, n] = co_await gz.write(senet::buffer(part)); ec) co_return;
    auto [ec, n] = co_await gz.write_eof(senet::buffer(last));  // Z_FINISH, last chunk, 0\r\n\r\n
    ```
*/
template <write_stream Next>
class deflate_sink {
 public:
  using result_type = std::tuple<std::error_code, std::size_t>;
  using eof_result_type = std::tuple<std::error_code>;

  /** A sink that writes the compressed stream to `next`, which must outlive it. */
  explicit deflate_sink(Next& next, deflate_options options = {})
      : next_(&next), options_(options), out_size_(options.buffer_size) {
    if (options.buffer_size < 64) {
      throw std::invalid_argument("senet::stream::deflate_sink: buffer_size must be at least 64");
    }
    out_.reset(new unsigned char[out_size_]);
    int rc = deflateInit2(&zs_, options.level, Z_DEFLATED, detail::deflate_window_bits(options.format), 8,
                          Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) {
      throw std::system_error(make_zlib_error(rc), "senet::stream::deflate_sink: deflateInit2");
    }
  }
  deflate_sink(const deflate_sink&) = delete;
  deflate_sink& operator=(const deflate_sink&) = delete;
  ~deflate_sink() { deflateEnd(&zs_); }

  /** The stream the compressed bytes are written to. */
  [[nodiscard]] Next& next_layer() noexcept { return *next_; }

  /** The settings given at construction. */
  [[nodiscard]] const deflate_options& options() const noexcept { return options_; }

  /** Whether a `write_eof` has succeeded (the compressed stream is complete). */
  [[nodiscard]] bool finished() const noexcept { return finished_; }

  /** Starts a new compressed stream with the same settings, keeping zlib's state and the buffers
      (`deflateReset`): no allocation. Output not yet written is dropped. (A `Next` that is a sink
      has its own state: reset it too.) */
  void reset() noexcept {
    deflateReset(&zs_);
    begin_ = end_ = 0;
    finished_ = false;
    error_ = {};
  }

  template <class Buffers, bool Bare>
  class operation;

  /** Compresses `buffers` (see the class). */
  template <const_buffer_sequence Buffers>
  [[nodiscard]] operation<net::detail::stored_buffers_t<Buffers>, false> write(Buffers&& buffers) {
    return {*this, net::detail::store_buffers(std::forward<Buffers>(buffers)), false};
  }

  /** The same as `write(buffers)` (`n` is 0 on error). */
  template <const_buffer_sequence Buffers>
  [[nodiscard]] operation<net::detail::stored_buffers_t<Buffers>, false> write_some(Buffers&& buffers) {
    return {*this, net::detail::store_buffers(std::forward<Buffers>(buffers)), false, true};
  }

  /** Compresses `buffers` and finishes the compressed stream, in one operation. */
  template <const_buffer_sequence Buffers>
  [[nodiscard]] operation<net::detail::stored_buffers_t<Buffers>, false> write_eof(Buffers&& buffers) {
    return {*this, net::detail::store_buffers(std::forward<Buffers>(buffers)), true};
  }

  /** Finishes the compressed stream. */
  [[nodiscard]] operation<const_buffer, true> write_eof() { return {*this, const_buffer(), true}; }

 private:
  Next* next_;
  deflate_options options_;
  z_stream zs_{};
  std::unique_ptr<unsigned char[]> out_;
  std::size_t out_size_;
  std::size_t begin_ = 0;  // out_[begin_, end_) is compressed output not written yet
  std::size_t end_ = 0;
  bool finished_ = false;
  std::error_code error_{};
  detail::write_now_frame_cache cache_;
};

/** The awaitable of a `deflate_sink` operation: compresses while the writes to `Next` complete at
    once (in `await_ready()`), and goes on in a coroutine whose frame the sink caches when one has
    to wait. */
template <write_stream Next>
template <class Buffers, bool Bare>
class deflate_sink<Next>::operation {
  using ops = detail::deflate_next_ops<Next>;
  using write_type = typename ops::write_type;
  using eof_type = typename ops::eof_type;
  static constexpr bool bindable =
      senet::detail::binds_io_environment<write_type> || senet::detail::binds_io_environment<eof_type>;
  enum inner_kind : int { no_inner, inner_write, inner_eof };

 public:
  using result_type = std::conditional_t<Bare, eof_result_type, deflate_sink::result_type>;

  operation(deflate_sink& sink, Buffers&& data, bool eof,
            bool some = false) noexcept(std::is_nothrow_move_constructible_v<Buffers>)
      : sink_(&sink),
        buffers_(std::move(data)),
        rest_(buffers_),
        total_(buffer_size(buffers_)),
        eof_(eof),
        some_(some) {
    if (sink.finished_) {
      ec_ = make_error_code(senet::error::write_after_eof);
      immediate_ = true;
    } else if (sink.error_) {
      ec_ = sink.error_;
      immediate_ = true;
    } else {
      immediate_ = total_ == 0 && !eof;
    }
  }
  operation(const operation&) = delete;
  operation& operator=(const operation&) = delete;
  ~operation() {
    if (loop_) {
      loop_.destroy();
    }
    destroy_inner();
  }

  /** The I/O context and stop token of the awaiting task (before `await_ready()`). */
  void bind_io_environment(io::io_context* io, ex::inplace_stop_token token) noexcept {
    ctx_.io = io;
    ctx_.token = token;
    bound_ = true;
  }

  [[nodiscard]] bool await_ready() {
    if (immediate_) {
      return true;
    }
    if (bindable && !bound_) {
      return false;  // the I/O context comes from the promise in await_suspend
    }
    return run_ready();
  }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    if constexpr (bindable) {
      if (!bound_) {
        using env_type = ex::env_of_t<Promise>;
        static_assert(io::detail::env_with_io_scheduler<env_type>,
                      "senet: co_await of a deflate_sink operation on a socket needs an I/O scheduler in the "
                      "awaiting coroutine's environment: await it in a senet::task started on an io_context");
        if constexpr (io::detail::env_with_io_scheduler<env_type>) {
          const auto& env = ex::get_env(h.promise());
          bind_io_environment(&io::get_io_scheduler(env).context(), net::detail::awaitable_stop_token(env));
        }
        if (run_ready()) {
          return false;
        }
      }
    }
    // A write to Next is pending in the inner storage: the rest runs in the cached coroutine.
    detail::current_write_now_cache = &sink_->cache_;
    detail::write_now_loop loop = run_loop();
    detail::current_write_now_cache = nullptr;
    loop_ = loop.handle_;
    loop_.promise().ctx_ = &ctx_;
    loop_.promise().continuation_ = h;
    loop_.promise().state_ = &loop_state_;
    loop_state_.store(detail::loop_started, std::memory_order_relaxed);
    loop_.resume();
    // The loop usually waits; when the pending write completed meanwhile (on the context's thread,
    // this coroutine running on another) it may have ended already: go on here.
    return loop_state_.exchange(detail::loop_suspended, std::memory_order_acq_rel) != detail::loop_done;
  }

  [[nodiscard]] result_type await_resume() noexcept {
    if (!immediate_) {
      if (ec_) {
        sink_->error_ = ec_;
      } else if (eof_) {
        sink_->finished_ = true;
      }
    }
    if constexpr (Bare) {
      return {ec_};
    } else {
      return {ec_, ec_ && some_ ? 0 : consumed_};
    }
  }

 private:
  struct await_inner {
    operation* self_;
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    template <class Promise>
    auto await_suspend(std::coroutine_handle<Promise> h) {
      if (self_->inner_kind_ == inner_write) {
        return self_->template inner<write_type>().await_suspend(h);
      }
      return self_->template inner<eof_type>().await_suspend(h);
    }
    void await_resume() const noexcept {}
  };

  detail::write_now_loop run_loop() {
    do {
      co_await await_inner{this};
    } while (!take_inner_result() && !run_ready());
  }

  [[nodiscard]] bool pending() const noexcept { return sink_->begin_ != sink_->end_; }

  // Whether the pending output must be written now: the buffer is full, or the flush or finish
  // of this operation is complete.
  [[nodiscard]] bool must_drain() const noexcept {
    return pending() && (sink_->end_ == sink_->out_size_ || flushed_ || finished_);
  }

  // Compresses and writes while every write to Next completes at once; true when the operation is
  // over (done or failed), false when a write is pending in the inner storage.
  bool run_ready() {
    for (;;) {
      if (must_drain()) {
        if (!start_write()) {
          return false;
        }
        if (take_inner_result()) {
          return true;
        }
        continue;
      }
      if (finished_ || flushed_) {
        return true;  // everything is written
      }
      if (!input_done_) {
        std::span<const const_buffer> window = rest_.prepare();
        if (window.empty()) {
          input_done_ = true;
        } else if (!compress(window[0], Z_NO_FLUSH)) {
          return true;
        }
        continue;
      }
      if (!eof_ && sink_->options_.flush == deflate_flush::none) {
        return true;  // the output stays in zlib and the buffer until later
      }
      if (!compress(const_buffer(), eof_ ? Z_FINISH : Z_SYNC_FLUSH)) {
        return true;
      }
    }
  }

  // One call of deflate on `in` (at most UINT_MAX bytes of it) into the free part of the output
  // buffer; false when zlib failed (the operation is over).
  bool compress(const_buffer in, int flush) noexcept {
    z_stream& zs = sink_->zs_;
    std::size_t in_size = std::min<std::size_t>(in.size(), UINT_MAX);
    zs.next_in = static_cast<Bytef*>(const_cast<void*>(in.data()));
    zs.avail_in = static_cast<uInt>(in_size);
    zs.next_out = sink_->out_.get() + sink_->end_;
    zs.avail_out = static_cast<uInt>(std::min<std::size_t>(sink_->out_size_ - sink_->end_, UINT_MAX));
    uInt out_before = zs.avail_out;
    int rc = deflate(&zs, flush);
    std::size_t used = in_size - zs.avail_in;
    consumed_ += used;
    rest_.consume(used);
    sink_->end_ += out_before - zs.avail_out;
    zs.next_in = nullptr;
    zs.avail_in = 0;
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      ec_ = make_zlib_error(rc);
      return false;
    }
    if (flush == Z_FINISH && rc == Z_STREAM_END) {
      finished_ = true;
    } else if (flush == Z_SYNC_FLUSH && zs.avail_out != 0) {
      flushed_ = true;  // (Z_BUF_ERROR here: there was nothing to flush)
    } else if (rc == Z_BUF_ERROR && zs.avail_out != 0) {
      ec_ = make_zlib_error(rc);  // no progress with room to write: calling again would loop
      return false;
    }
    return true;
  }

  // Starts writing the pending output to Next; true when that completed at once.
  bool start_write() {
    const_buffer out(sink_->out_.get() + sink_->begin_, sink_->end_ - sink_->begin_);
    Next& next = *sink_->next_;
    if constexpr (ops::sink) {
      if (finished_) {
        auto* aw = ::new (static_cast<void*>(&storage_)) eof_type(next.write_eof(out));
        inner_kind_ = inner_eof;
        return begin(*aw);
      }
      auto* aw = ::new (static_cast<void*>(&storage_)) write_type(next.write(out));
      inner_kind_ = inner_write;
      return begin(*aw);
    } else {
      auto* aw = ::new (static_cast<void*>(&storage_)) write_type(next.write_some(out));
      inner_kind_ = inner_write;
      return begin(*aw);
    }
  }

  template <class A>
  bool begin(A& aw) {
    if constexpr (senet::detail::binds_io_environment<A>) {
      aw.bind_io_environment(ctx_.io, ctx_.token);
    }
    return aw.await_ready();
  }

  // Takes the result of the write in the inner storage and destroys it; true when the operation
  // is over.
  bool take_inner_result() noexcept {
    std::error_code ec;
    std::size_t n = 0;
    bool was_eof = inner_kind_ == inner_eof;
    if (was_eof) {
      std::tie(ec, n) = inner<eof_type>().await_resume();
    } else {
      std::tie(ec, n) = inner<write_type>().await_resume();
    }
    destroy_inner();
    if (ec) {
      ec_ = ec;
      return true;
    }
    if (n == 0) {  // a write_some that wrote nothing, which the write_stream contract forbids
      ec_ = std::make_error_code(std::errc::io_error);
      return true;
    }
    sink_->begin_ += ops::sink ? sink_->end_ - sink_->begin_ : std::min(n, sink_->end_ - sink_->begin_);
    if (sink_->begin_ == sink_->end_) {
      sink_->begin_ = sink_->end_ = 0;
    }
    return was_eof;
  }

  template <class A>
  A& inner() noexcept {
    return *std::launder(reinterpret_cast<A*>(&storage_));
  }
  void destroy_inner() noexcept {
    if (inner_kind_ == inner_write) {
      inner<write_type>().~write_type();
    } else if (inner_kind_ == inner_eof) {
      inner<eof_type>().~eof_type();
    }
    inner_kind_ = no_inner;
  }

  deflate_sink* sink_;
  Buffers buffers_;
  net::detail::consuming_buffers<const_buffer, Buffers> rest_;
  std::size_t total_;
  std::size_t consumed_ = 0;
  bool eof_;
  bool some_;  // write_some: n is 0 on error
  bool immediate_ = false;
  bool input_done_ = false;
  bool flushed_ = false;   // this operation's Z_SYNC_FLUSH is complete
  bool finished_ = false;  // deflate returned Z_STREAM_END
  bool bound_ = false;
  std::error_code ec_{};
  senet::detail::task_context ctx_{};
  int inner_kind_ = no_inner;
  std::coroutine_handle<detail::write_now_loop::promise_type> loop_{};
  std::atomic<int> loop_state_{detail::loop_started};
  alignas(write_type) alignas(
      eof_type) unsigned char storage_[std::max(sizeof(write_type), sizeof(eof_type))];
};

}  // namespace senet::stream

#endif  // SENET_STREAM_DEFLATE_SINK_HPP
