// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_OPERATION_STATE_HPP
#define SENET_EXECUTION_OPERATION_STATE_HPP

#include <concepts>
#include <type_traits>

namespace senet::execution {

// [exec.opstate]

/** The concept tag of operation states: `using operation_state_concept = operation_state_tag;`. */
struct operation_state_tag {
  using operation_state_concept = operation_state_tag;
};

/// The P2300 spelling of `operation_state_tag`.
using operation_state_t = operation_state_tag;

// [exec.opstate.start]

/** `start(op)`: starts the asynchronous operation `op` by calling `op.start()`, which must be noexcept.
    `op` must stay alive (and not move) until the operation completes. */
struct start_t {
  template <class Op>
  requires requires(Op& op) { op.start(); }
  constexpr void operator()(Op& op) const noexcept {
    static_assert(noexcept(op.start()), "senet::execution::start: start() members must be noexcept");
    static_assert(std::is_void_v<decltype(op.start())>, "senet::execution::start: start() must return void");
    op.start();
  }
  template <class Op>
  void operator()(Op&& op) const noexcept = delete;
};

/// The start function object.
inline constexpr start_t start{};

/** The state of one asynchronous operation, produced by `connect`: an object that can be started once
    (`start(op)`), usually immovable. Like stdexec, the `operation_state_concept` tag is optional. */
template <class Op>
concept operation_state = std::destructible<Op> && std::is_object_v<Op> && requires(Op& op) {
  start_t{}(op);
};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_OPERATION_STATE_HPP
