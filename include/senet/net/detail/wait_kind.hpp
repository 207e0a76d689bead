// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_DETAIL_WAIT_KIND_HPP
#define SENET_NET_DETAIL_WAIT_KIND_HPP

#include <senet/execution.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/io_context.hpp>

#include <chrono>

namespace senet::net::detail {

/** The timer operation: completes at a deadline, absolute or relative to its start. */
struct wait_kind {
  using record_type = io::detail::timer_operation;
  using completion_signatures = ex::completion_signatures<ex::set_value_t(), ex::set_stopped_t()>;
  using clock = io::detail::clock;
  struct storage {};

  /** A wait until `deadline`. */
  static wait_kind until(clock::time_point deadline) noexcept { return {deadline, {}, false}; }

  /** A wait for `duration` after start (saturating: a huge duration waits until the clock's end). */
  template <class Rep, class Period>
  static wait_kind for_(std::chrono::duration<Rep, Period> duration) noexcept {
    using limit = std::chrono::duration<long double, clock::period>;
    auto d = std::chrono::duration_cast<limit>(duration);
    clock::duration relative;
    if (d >= limit(clock::duration::max())) {
      relative = clock::duration::max();
    } else if (d <= limit(0)) {
      relative = clock::duration::zero();
    } else {
      relative = std::chrono::ceil<clock::duration>(duration);
    }
    return {{}, relative, true};
  }

  clock::time_point deadline_;
  clock::duration relative_;
  bool is_relative_;

  void prepare(record_type& op, storage&, io::io_context& ctx) const noexcept {
    op.code_ = io::detail::op_code::timer;
    if (is_relative_) {
      clock::time_point now = io::detail::now(ctx);
      op.deadline_ = relative_ >= clock::time_point::max() - now ? clock::time_point::max() : now + relative_;
    } else {
      op.deadline_ = deadline_;
    }
  }

  template <class Rcvr>
  void deliver(Rcvr& rcvr, record_type&, storage&) const noexcept {
    ex::set_value(std::move(rcvr));
  }
};

}  // namespace senet::net::detail

#endif  // SENET_NET_DETAIL_WAIT_KIND_HPP
