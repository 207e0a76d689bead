// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_ANY_READ_SOURCE_HPP
#define SENET_STREAM_ANY_READ_SOURCE_HPP

#include <senet/buffer.hpp>
#include <senet/stream/detail/cached_op.hpp>
#include <senet/stream/detail/erased_op.hpp>
#include <senet/stream/detail/sink_support.hpp>
#include <senet/stream/read_source.hpp>

#include <concepts>
#include <cstddef>
#include <memory>
#include <span>
#include <system_error>
#include <tuple>
#include <type_traits>

namespace senet::stream {

/** Any `read_source`, behind one type: a request body, a file, a decompressor, read by code that
    does not know which.

    It refers to the source it was made from (borrowed: the source outlives it) and is itself a
    `read_source`: `read_some(buffers)` and `read(buffers)` are forwarded to the source's own, with
    their results.

    Allocation: none per operation: each runs inside a coroutine whose frame is cached in the
    `any_read_source`, allocated once by the constructor (see `any_write_sink`).
    Suspension: when the source's operation completes without suspending, so does the erased one.
    Buffers: a `mutable_buffer`, or a contiguous sized range of `mutable_buffer`, passed on as a
    `std::span<const mutable_buffer>`. Other sequences do not compile.
    Cancellation, buffer lifetime and results: those of the source's operations.
    Thread safety: one operation at a time.

    Example:
    ```cpp
    senet::stream::file_source file("index.html");
    senet::stream::any_read_source body(file);
    auto [ec, n] = co_await senet::stream::relay(body, sink);
    ```
*/
class any_read_source {
  enum class kind { read_some, read };
  using buffers_type = detail::erased_buffers<mutable_buffer>;

 public:
  /** Refers to `source`, which must outlive this object. Allocates the operations' frame. */
  template <read_source Source>
  requires(!std::same_as<Source, any_read_source>) explicit any_read_source(Source& source)
      : source_(std::addressof(source)), run_(&run<Source>) {
    (void)start(kind::read, buffers_type{});
  }
  any_read_source(any_read_source&&) noexcept = default;
  any_read_source& operator=(any_read_source&&) noexcept = default;
  any_read_source(const any_read_source&) = delete;
  any_read_source& operator=(const any_read_source&) = delete;
  ~any_read_source() = default;

  /** The source's `read_some(buffers)`. */
  template <detail::erasable_buffers<mutable_buffer> Buffers>
  [[nodiscard]] detail::erased_op<detail::size_result> read_some(const Buffers& buffers) {
    return detail::erased_op<detail::size_result>(start(kind::read_some, buffers_type::from(buffers)));
  }
  /** The source's `read(buffers)`. */
  template <detail::erasable_buffers<mutable_buffer> Buffers>
  [[nodiscard]] detail::erased_op<detail::size_result> read(const Buffers& buffers) {
    return detail::erased_op<detail::size_result>(start(kind::read, buffers_type::from(buffers)));
  }

 private:
  using run_fn = detail::cached_op<detail::size_result> (*)(void* source, kind k, buffers_type buffers);

  detail::cached_op<detail::size_result> start(kind k, buffers_type buffers) {
    return detail::with_cache(cache_, [&] { return run_(source_, k, buffers); });
  }

  template <class Source>
  static detail::cached_op<detail::size_result> run(void* erased, kind k, buffers_type buffers) {
    Source& source = *static_cast<Source*>(erased);
    if (k == kind::read_some) {
      auto [ec, n] = co_await source.read_some(buffers.view());
      co_return detail::size_result{ec, n};
    }
    auto [ec, n] = co_await source.read(buffers.view());
    co_return detail::size_result{ec, n};
  }

  void* source_;
  run_fn run_;
  detail::frame_cache cache_;
};

}  // namespace senet::stream

#endif  // SENET_STREAM_ANY_READ_SOURCE_HPP
