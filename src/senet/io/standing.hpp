// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_STANDING_HPP
#define SENET_IO_STANDING_HPP

/* What the standing states of src/senet/io/standing.cpp (a socket's pooled receives) and
   standing_accept.cpp (an acceptor's queued accepts) share: the operations that wait for what
   the standing operation brings, completed in start order. */

#include "senet/backend/op_list.hpp"
#include "senet/io/context_impl.hpp"

#include <cerrno>
#include <cstdint>

namespace senet::io::detail {

/** Operations parked in a standing state (each one's `backend_link_` points here), in start
    order. Context's thread only. */
/** The standing record of `d` in `impl`'s backend (a pooled_socket's or queued_acceptor's first
    member), or null. */
inline multishot_operation* standing_record(const context_impl& impl, descriptor& d) noexcept {
  auto* state = static_cast<descriptor_state*>(d.context_state);
  if (state == nullptr || state->owner != impl.backend_address()) {
    return nullptr;
  }
  return static_cast<multishot_operation*>(state->standing);
}

struct parked_operations {
  op_list list;
  // The ready-queue number (completion_sink::ready_entered_) of the last completion through the
  // ready queue: until it has been delivered, a new operation must not complete inline.
  std::uint64_t ticket = 0;

  [[nodiscard]] bool empty() const noexcept { return list.empty(); }

  void park(io_operation& op) noexcept {
    list.push_back(op);
    op.backend_link_ = this;
  }

  io_operation& take_first() noexcept {
    io_operation& op = *list.front();
    list.erase(op);
    op.backend_link_ = nullptr;
    return op;
  }

  /** Completes `op` (its `result_` filled) through the ready queue. */
  void complete(context_impl& impl, io_operation& op) noexcept {
    impl.complete(op, op.result_);
    ticket = impl.ready_entered_;
  }

  /** `op` (its `result_` filled) starts with its result at hand: true when it may complete inline;
      otherwise it is completed through the ready queue, behind the earlier completion. */
  bool complete_at_start(context_impl& impl, io_operation& op) noexcept {
    if (ticket > impl.ready_left_) {
      complete(impl, op);
      return false;
    }
    return true;
  }

  /** Completes every parked operation with `result`. */
  void complete_all(context_impl& impl, std::int64_t result) noexcept {
    while (!empty()) {
      impl.complete(take_first(), result);
    }
  }

  /** A stop request for `op`: if it is still parked, it completes with -ECANCELED. */
  static void cancel(context_impl& impl, io_operation& op) noexcept {
    auto* parked = static_cast<parked_operations*>(op.backend_link_);
    if (parked == nullptr) {
      return;
    }
    parked->list.erase(op);
    op.backend_link_ = nullptr;
    impl.complete(op, -ECANCELED);
  }
};

}  // namespace senet::io::detail

#endif  // SENET_IO_STANDING_HPP
