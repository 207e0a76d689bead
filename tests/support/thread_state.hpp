// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_THREAD_STATE_HPP
#define SENET_TEST_SUPPORT_THREAD_STATE_HPP

/* Hand-offs on another thread's scheduling state, instead of sleeps: `wait_until_blocked(tid)`
   waits (bounded, support/deadline.hpp) until the thread `tid` (from `this_thread_id()` on that
   thread) is blocked in the kernel (state S in /proc: e.g. a context's loop waiting in
   io_uring_enter or epoll_wait), so that a test can make "the loop is asleep" a fact rather than
   the likely outcome of a sleep. */

#include <support/deadline.hpp>

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

namespace senet::test {

/** The kernel's id of the calling thread. */
inline ::pid_t this_thread_id() noexcept {
  return static_cast<::pid_t>(::syscall(SYS_gettid));
}

/** Whether thread `tid` of this process is blocked in the kernel (interruptible sleep). */
inline bool is_blocked(::pid_t tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) {
    return false;
  }
  // "tid (comm) S ...": the state follows the last ')'.
  auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'S';
}

/** Waits until thread `tid` is blocked in the kernel; fails the test naming `what` after `limit`. */
inline bool wait_until_blocked(::pid_t tid, char const* what,
                               std::chrono::steady_clock::duration limit = wait_limit) {
  return spin_until([tid] { return is_blocked(tid); }, what, limit);
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_THREAD_STATE_HPP
