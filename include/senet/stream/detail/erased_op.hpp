// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_DETAIL_ERASED_OP_HPP
#define SENET_STREAM_DETAIL_ERASED_OP_HPP

/* What any_write_sink and any_read_source share: the buffers an erased operation takes (one buffer
   by value, or a span of the caller's contiguous buffers), and the awaitable of an erased
   operation, a cached_op of (error_code, size) converted to the operation's own result. */

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/stream/detail/cached_op.hpp>
#include <senet/stream/detail/sink_support.hpp>

#include <coroutine>
#include <cstddef>
#include <ranges>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>

namespace senet::stream::detail {

/** A buffer sequence that an erased operation accepts: a single buffer, or a contiguous sized
    range of exactly `Buffer` (`std::span`, `std::vector`, `std::array`, a C array of them). */
template <class B, class Buffer>
concept erasable_buffers =
    std::derived_from<std::remove_cvref_t<B>, Buffer> ||
    (std::is_same_v<Buffer, const_buffer>&& std::derived_from<std::remove_cvref_t<B>, mutable_buffer>) ||
    (std::ranges::contiguous_range<const std::remove_cvref_t<B>> &&
     std::ranges::sized_range<const std::remove_cvref_t<B>> &&
     std::is_same_v<std::remove_cv_t<std::ranges::range_value_t<const std::remove_cvref_t<B>>>, Buffer>);

/** The buffers of an erased operation, copied into its frame: one buffer by value, or a span of
    the caller's. */
template <class Buffer>
struct erased_buffers {
  Buffer one_{};
  std::span<const Buffer> many_{};
  bool single_ = true;

  template <class B>
  static erased_buffers from(const B& b) noexcept {
    if constexpr (std::derived_from<B, const_buffer> || std::derived_from<B, mutable_buffer>) {
      return {Buffer(b), {}, true};
    } else {
      return {Buffer(), std::span<const Buffer>(std::ranges::data(b), std::ranges::size(b)), false};
    }
  }

  /** The sequence, valid while this object is (it may point into it). */
  [[nodiscard]] std::span<const Buffer> view() const noexcept {
    return single_ ? std::span<const Buffer>(&one_, 1) : many_;
  }
};

/** The awaitable of an erased operation: gives `R`, `(ec, n)` or `(ec)`. */
template <class R>
class [[nodiscard]] erased_op {
 public:
  explicit erased_op(cached_op<size_result>&& op) noexcept : op_(std::move(op)) {}

  void bind_io_environment(io::io_context* io, ex::inplace_stop_token token) noexcept {
    op_.bind_io_environment(io, token);
  }
  [[nodiscard]] bool await_ready() { return op_.await_ready(); }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    return op_.await_suspend(h);
  }
  R await_resume() {
    auto [ec, n] = op_.await_resume();
    if constexpr (std::tuple_size_v<R> == 1) {
      return R{ec};
    } else {
      return R{ec, n};
    }
  }

 private:
  cached_op<size_result> op_;
};

}  // namespace senet::stream::detail

#endif  // SENET_STREAM_DETAIL_ERASED_OP_HPP
