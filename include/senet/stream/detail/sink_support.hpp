// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_DETAIL_SINK_SUPPORT_HPP
#define SENET_STREAM_DETAIL_SINK_SUPPORT_HPP

/* What the concrete sinks and sources share: the result types, an awaitable whose result is known
   at once, one that is either that or a composed operation (a fast path that needs no coroutine,
   a slow one that does), a guard that rejects writes to a finished sink without starting the
   operation it wraps, and the loops that write or read a whole buffer sequence. */

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/detail/transfer_all.hpp>
#include <senet/stream/detail/cached_op.hpp>

#include <coroutine>
#include <cstddef>
#include <new>
#include <optional>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace senet::stream::detail {

/** The result of `read_some`, `read`, `write_some`, `write` and `write_eof(buffers)`. */
using size_result = std::tuple<std::error_code, std::size_t>;
/** The result of `write_eof()`. */
using eof_result = std::tuple<std::error_code>;

[[nodiscard]] inline size_result rejected_write() noexcept {
  return {make_error_code(senet::error::write_after_eof), 0};
}

/** An awaitable whose result is known when it is made: ready at once. */
template <class R>
struct ready_result {
  R result_;
  [[nodiscard]] bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  [[nodiscard]] R await_resume() noexcept { return std::move(result_); }
};

/** Either a result known at once, or a composed operation that finds it. */
template <class R>
class [[nodiscard]] maybe_op {
 public:
  maybe_op(R result) noexcept(std::is_nothrow_move_constructible_v<R>)  // NOLINT(google-explicit-constructor)
      : result_(std::move(result)) {}
  maybe_op(cached_op<R>&& op) noexcept : op_(std::move(op)) {}  // NOLINT(google-explicit-constructor)

  void bind_io_environment(io::io_context* io, ex::inplace_stop_token token) noexcept {
    if (op_) {
      op_->bind_io_environment(io, token);
    }
  }
  [[nodiscard]] bool await_ready() { return !op_ || op_->await_ready(); }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    return op_->await_suspend(h);
  }
  R await_resume() { return op_ ? op_->await_resume() : std::move(result_); }

 private:
  std::optional<cached_op<R>> op_{};
  R result_{};
};

/** `Inner` (an awaitable of `size_result`, made in place from `args`), or, when the sink is
    finished, `write_after_eof` without making it. */
template <class Inner>
class [[nodiscard]] unless_finished {
 public:
  template <class... Args>
  explicit unless_finished(bool finished, Args&&... args) : finished_(finished) {
    if (!finished_) {
      ::new (static_cast<void*>(&storage_)) Inner(std::forward<Args>(args)...);
    }
  }
  unless_finished(const unless_finished&) = delete;
  unless_finished& operator=(const unless_finished&) = delete;
  ~unless_finished() {
    if (!finished_) {
      inner().~Inner();
    }
  }

  void bind_io_environment(io::io_context* io, ex::inplace_stop_token token) noexcept {
    if (!finished_) {
      inner().bind_io_environment(io, token);
    }
  }
  [[nodiscard]] bool await_ready() { return finished_ || inner().await_ready(); }
  template <class Promise>
  auto await_suspend(std::coroutine_handle<Promise> h) {
    return inner().await_suspend(h);
  }
  [[nodiscard]] size_result await_resume() { return finished_ ? rejected_write() : inner().await_resume(); }

 private:
  Inner& inner() noexcept { return *std::launder(reinterpret_cast<Inner*>(&storage_)); }

  bool finished_;
  alignas(Inner) unsigned char storage_[sizeof(Inner)];
};

/** A `write_some` or `read_some` that reported success with 0 bytes for non-empty buffers (which
    the stream concepts forbid): the loops stop with this instead of spinning. */
[[nodiscard]] inline std::error_code zero_transfer_error() noexcept {
  return std::make_error_code(std::errc::io_error);
}

/** Writes all of `buffers` with `stream.write_some`, then, if everything was written, returns
    `finish()`'s error (the end of stream of a socket sink: shutdown) with the count. */
template <class Stream, class Buffers, class Finish>
cached_op<size_result> write_all_then(Stream& stream, Buffers buffers, Finish finish) {
  const std::size_t total = buffer_size(buffers);
  std::size_t done = 0;
  net::detail::consuming_buffers<const_buffer, Buffers> rest(buffers);
  while (done < total) {
    auto [ec, n] = co_await stream.write_some(rest.prepare());
    if (ec) {
      co_return size_result{ec, done};
    }
    if (n == 0) {
      co_return size_result{zero_transfer_error(), done};
    }
    done += n;
    rest.consume(n);
  }
  co_return size_result{finish(), done};
}

/** Reads until `buffers` are full with `stream.read_some`: `(no error, size)`, or the error (eof
    included) with the bytes read before it. */
template <class Stream, class Buffers>
cached_op<size_result> read_all(Stream& stream, Buffers buffers) {
  const std::size_t total = buffer_size(buffers);
  std::size_t done = 0;
  net::detail::consuming_buffers<mutable_buffer, Buffers> rest(buffers);
  while (done < total) {
    auto [ec, n] = co_await stream.read_some(rest.prepare());
    if (ec) {
      co_return size_result{ec, done};
    }
    if (n == 0) {
      co_return size_result{zero_transfer_error(), done};
    }
    done += n;
    rest.consume(n);
  }
  co_return size_result{std::error_code{}, done};
}

}  // namespace senet::stream::detail

#endif  // SENET_STREAM_DETAIL_SINK_SUPPORT_HPP
