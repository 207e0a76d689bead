// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_DETAIL_SPAWN_HPP
#define SENET_CORO_DETAIL_SPAWN_HPP

#include <senet/coro/task.hpp>
#include <senet/execution.hpp>

#include <exception>
#include <utility>

namespace senet::coro::detail {

/** Drops the exception of a detached task (libcoro does the same: nobody can receive it). */
struct drop_exception {
  void operator()(const std::exception_ptr&) const noexcept {}
};

/** Starts `owner` (a task that moves itself onto its executor, then runs the user's task) as work
    of `scope`, which owns it until it ends. Returns false if it could not be started (allocation
    failed, or the scope is closed: then `owner` is destroyed). */
[[nodiscard]] inline bool spawn_in(ex::counting_scope& scope, task<void>&& owner) noexcept {
  try {
    ex::spawn(ex::upon_error(std::move(owner), drop_exception{}), scope.get_token());
    return true;
  } catch (...) {
    return false;
  }
}

/** Waits, blocking the calling thread, until no work of `scope` is left; closes it. */
inline void join(ex::counting_scope& scope) noexcept {
  try {
    (void)ex::sync_wait(scope.join());
  } catch (...) {
    // sync_wait of join() cannot fail but for an allocation in its run_loop, which has none.
  }
}

}  // namespace senet::coro::detail

#endif  // SENET_CORO_DETAIL_SPAWN_HPP
