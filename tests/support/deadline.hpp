// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_DEADLINE_HPP
#define SENET_TEST_SUPPORT_DEADLINE_HPP

/* Deadlines for every wait in a test, so that a regression fails with a message instead of hanging
   until ctest's timeout.

   - `wait_limit` (30 s): how long one wait may take (one operation, one hand-off, one spin loop).
     Far above what any wait takes on a loaded machine under a sanitizer, far below ctest's 120 s.
   - `deadline_guard`: a scope that must end within its limit. When the limit passes, a watchdog
     thread marks it expired and stops the context it names (`io_context::stop()`, which
     `run_until` passes on to its sender as a stop request); the guard's destructor then fails the
     test. If the scope still has not ended `abort_grace` (10 s) later, the watchdog prints what
     hung and aborts the process, so that ctest shows the message.
   - `spin_until(pred, what)`: a bounded spin over an atomic (yields between tries); false, with a
     test failure naming `what`, once the limit passed.

   Guards allocate nothing (they link themselves into the watchdog's list), so they may be used
   inside allocation scopes. The main() of the test executables (support/main.cpp) guards every
   test with `test_limit`, which also starts the watchdog thread before the first test. Do not use
   guards in a forked child: it has no watchdog thread. */

#include <senet/io/io_context.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace senet::test {

/** How long a single wait in a test may take before it fails. */
inline constexpr std::chrono::seconds wait_limit{30};

/** How long the watchdog waits after a guard expired before it aborts the process. */
inline constexpr std::chrono::seconds abort_grace{10};

/** How long one test may run in all (support/main.cpp guards every test with it): with
    `abort_grace`, a test that hangs anywhere, even outside the support's helpers, ends with a
    message naming it after 100 s, before ctest's timeout of 120 s. */
inline constexpr std::chrono::seconds test_limit{90};

/** A scope that must end within `limit`: see the file comment. `what` (a string literal) names the
    wait in the failure message. Use on one thread (the one that waits). */
class deadline_guard {
 public:
  explicit deadline_guard(char const* what, io::io_context* ctx = nullptr,
                          std::chrono::steady_clock::duration limit = wait_limit);
  deadline_guard(deadline_guard const&) = delete;
  deadline_guard& operator=(deadline_guard const&) = delete;
  /** Fails the test if the limit passed while the guard lived. */
  ~deadline_guard();

  /** Whether the limit has passed (set by the watchdog; the context, if any, was stopped). */
  [[nodiscard]] bool expired() const noexcept { return expired_.load(std::memory_order_acquire); }

  /** Sets the context the watchdog stops at the deadline (none: nothing is stopped). */
  void watch(io::io_context* ctx) noexcept;

 private:
  friend struct watchdog;
  char const* what_;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::steady_clock::duration limit_;
  io::io_context* ctx_;
  std::atomic<bool> expired_{false};
  deadline_guard* prev_ = nullptr;
  deadline_guard* next_ = nullptr;
};

/** Spins (yielding) until `pred()` is true; fails the test naming `what` and returns false when
    `limit` passes first. */
template <class Pred>
bool spin_until(Pred pred, char const* what, std::chrono::steady_clock::duration limit = wait_limit) {
  auto const deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ADD_FAILURE() << "spin_until: " << what << ": not within "
                    << std::chrono::duration_cast<std::chrono::milliseconds>(limit).count() << " ms";
      return false;
    }
    std::this_thread::yield();
  }
  return true;
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_DEADLINE_HPP
