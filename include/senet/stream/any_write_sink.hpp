// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_ANY_WRITE_SINK_HPP
#define SENET_STREAM_ANY_WRITE_SINK_HPP

#include <senet/buffer.hpp>
#include <senet/stream/detail/cached_op.hpp>
#include <senet/stream/detail/erased_op.hpp>
#include <senet/stream/detail/sink_support.hpp>
#include <senet/stream/write_sink.hpp>

#include <concepts>
#include <cstddef>
#include <memory>
#include <span>
#include <system_error>
#include <tuple>
#include <type_traits>

namespace senet::stream {

/** Any `write_sink`, behind one type: what an HTTP handler writes a body to without knowing
    whether it is sent with a content length, chunked, or compressed.

    It refers to the sink it was made from (borrowed: the sink outlives it) and is itself a
    `write_sink` with the same operations and results: `write_some`, `write`, `write_eof(buffers)`,
    `write_eof()`, each forwarded to the sink's own (so `write_eof(buffers)` stays one operation of
    the sink: a chunked sink still coalesces the last chunk with its end).

    Allocation: none per operation. Each operation of the sink runs inside a coroutine whose frame
    (which holds the sink's own awaitable, whatever its size) is cached in the `any_write_sink`; the
    constructor allocates it once, at its final size, and every operation reuses it. (A second
    operation started while one is in flight, which the sink contract does not allow anyway, gets a
    frame of its own, from the heap.)
    Suspension: when the sink's operation completes without suspending, so does the erased one
    (the coroutine runs inside `await_ready()` when a `senet::task` awaits it).
    Buffers: a `const_buffer` or `mutable_buffer`, or a contiguous sized range of `const_buffer`
    (`std::span`, `std::vector`, `std::array`, a C array): the range is passed on as a
    `std::span<const const_buffer>`, so the sink sees one buffer or a span of them. Other sequences
    do not compile; copy them into an array of `const_buffer` first.
    Cancellation, buffer lifetime and results: those of the sink's operations.
    Thread safety: one operation at a time, as for the sink.

    Example (the seed's HTTP response body):
    ```cpp
    senet::task<void> send_response(senet::stream::any_write_sink& body, const response& resp) {
      if (auto [ec, n] = co_await body.write(senet::buffer(format_headers(resp))); ec) co_return;
      auto [ec, n] = co_await body.write_eof(senet::buffer(resp.body));
    }
    chunked_sink chunked(sock);                 // or a content-length sink, a deflate sink, ...
    senet::stream::any_write_sink body(chunked);
    co_await send_response(body, resp);
    ```
*/
class any_write_sink {
  enum class kind { write_some, write, write_eof_buffers, write_eof };
  using buffers_type = detail::erased_buffers<const_buffer>;

 public:
  /** Refers to `sink`, which must outlive this object (and every operation it starts). Allocates
      the operations' frame (throws `std::bad_alloc` if it cannot). */
  template <write_sink Sink>
  requires(!std::same_as<Sink, any_write_sink>) explicit any_write_sink(Sink& sink)
      : sink_(std::addressof(sink)), run_(&run<Sink>) {
    // Make (and at once destroy) an operation, so that the cache holds the frame from now on.
    (void)start(kind::write_eof, buffers_type{});
  }
  any_write_sink(any_write_sink&&) noexcept = default;
  any_write_sink& operator=(any_write_sink&&) noexcept = default;
  any_write_sink(const any_write_sink&) = delete;
  any_write_sink& operator=(const any_write_sink&) = delete;
  ~any_write_sink() = default;

  /** The sink's `write_some(buffers)`. */
  template <detail::erasable_buffers<const_buffer> Buffers>
  [[nodiscard]] detail::erased_op<detail::size_result> write_some(const Buffers& buffers) {
    return detail::erased_op<detail::size_result>(start(kind::write_some, buffers_type::from(buffers)));
  }
  /** The sink's `write(buffers)`. */
  template <detail::erasable_buffers<const_buffer> Buffers>
  [[nodiscard]] detail::erased_op<detail::size_result> write(const Buffers& buffers) {
    return detail::erased_op<detail::size_result>(start(kind::write, buffers_type::from(buffers)));
  }
  /** The sink's `write_eof(buffers)`. */
  template <detail::erasable_buffers<const_buffer> Buffers>
  [[nodiscard]] detail::erased_op<detail::size_result> write_eof(const Buffers& buffers) {
    return detail::erased_op<detail::size_result>(
        start(kind::write_eof_buffers, buffers_type::from(buffers)));
  }
  /** The sink's `write_eof()`. */
  [[nodiscard]] detail::erased_op<detail::eof_result> write_eof() {
    return detail::erased_op<detail::eof_result>(start(kind::write_eof, buffers_type{}));
  }

 private:
  using run_fn = detail::cached_op<detail::size_result> (*)(void* sink, kind k, buffers_type buffers);

  detail::cached_op<detail::size_result> start(kind k, buffers_type buffers) {
    return detail::with_cache(cache_, [&] { return run_(sink_, k, buffers); });
  }

  // One coroutine for the four operations, so that one frame size serves them all.
  template <class Sink>
  static detail::cached_op<detail::size_result> run(void* erased, kind k, buffers_type buffers) {
    Sink& sink = *static_cast<Sink*>(erased);
    switch (k) {
      case kind::write_some: {
        auto [ec, n] = co_await sink.write_some(buffers.view());
        co_return detail::size_result{ec, n};
      }
      case kind::write: {
        auto [ec, n] = co_await sink.write(buffers.view());
        co_return detail::size_result{ec, n};
      }
      case kind::write_eof_buffers: {
        auto [ec, n] = co_await sink.write_eof(buffers.view());
        co_return detail::size_result{ec, n};
      }
      case kind::write_eof: {
        auto [ec] = co_await sink.write_eof();
        co_return detail::size_result{ec, 0};
      }
    }
    co_return detail::size_result{};
  }

  void* sink_;
  run_fn run_;
  detail::frame_cache cache_;
};

}  // namespace senet::stream

#endif  // SENET_STREAM_ANY_WRITE_SINK_HPP
