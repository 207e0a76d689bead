// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_TIME_HPP
#define SENET_CORO_TIME_HPP

#include <chrono>

namespace senet::coro {

/** The clock of `io_scheduler::schedule_at` and `yield_until` (libcoro 0.15's `coro::clock`): the
    steady clock, which is also the clock of senet's io_context timers. */
using clock = std::chrono::steady_clock;

/** A point on `coro::clock` (libcoro 0.15's `coro::time_point`). */
using time_point = clock::time_point;

}  // namespace senet::coro

#endif  // SENET_CORO_TIME_HPP
