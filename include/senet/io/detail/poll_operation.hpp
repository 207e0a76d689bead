// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_DETAIL_POLL_OPERATION_HPP
#define SENET_IO_DETAIL_POLL_OPERATION_HPP

/* The readiness operation (op_code::poll) as operation states fill and deliver it: one
   implementation behind net::async_wait on a socket, io::async_poll on a foreign descriptor and
   net::detail::wait_ready. docs/design/io_core.md, "Readiness". */

#include <senet/execution.hpp>
#include <senet/io/detail/descriptor.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/detail/stoppable_operation.hpp>
#include <senet/io/poll_events.hpp>

#include <cstdint>
#include <system_error>
#include <utility>

namespace senet::io::detail {

/** The completions of a readiness wait. */
using poll_completions = ex::completion_signatures<ex::set_value_t(poll_events),
                                                   ex::set_error_t(std::error_code), ex::set_stopped_t()>;

/** Whether `events` names only events of `poll_events` (no other bit). */
[[nodiscard]] constexpr bool valid_poll_events(poll_events events) noexcept {
  return (static_cast<unsigned>(events) & ~0x3FU) == 0;
}

/** Fills `op` to wait for `wanted` on `d`. */
inline void prepare_poll(io_operation& op, descriptor& d, poll_events wanted) noexcept {
  op.code_ = op_code::poll;
  op.descriptor_ = &d;
  op.flags_ = static_cast<int>(static_cast<std::uint8_t>(wanted));
}

/** Completes `rcvr` with the events in `op.result_` (> 0), or its error. */
template <class Rcvr>
void deliver_poll(Rcvr& rcvr, const io_operation& op) noexcept {
  if (op.result_ < 0) {
    ex::set_error(std::move(rcvr), result_error(op.result_));
  } else {
    ex::set_value(std::move(rcvr), static_cast<poll_events>(static_cast<std::uint8_t>(op.result_)));
  }
}

}  // namespace senet::io::detail

#endif  // SENET_IO_DETAIL_POLL_OPERATION_HPP
