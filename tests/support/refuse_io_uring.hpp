// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_REFUSE_IO_URING_HPP
#define SENET_TEST_SUPPORT_REFUSE_IO_URING_HPP

/* Takes io_uring (or another system call) away from the calling process the way a container's
   seccomp profile does, for the tests of the fallback to epoll. Call it in a child process of its
   own (support/child_process.hpp; expect_refused_child below runs one): the filter cannot be
   removed. */

#include "support/child_process.hpp"

#include <gtest/gtest.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

namespace senet::test {

/** Installs a seccomp filter (a few BPF instructions, no libseccomp) that fails system call `nr`
    with `error` (EPERM, ENOSYS, ...) and allows every other one. Sets `no_new_privs` first, so no
    privilege is needed. False if the kernel does not let us. */
inline bool refuse_system_call(long nr, int error) {
  ::sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<std::uint32_t>(offsetof(::seccomp_data, nr))),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(nr), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<std::uint32_t>(error) & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  ::sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0;
}

/** `refuse_system_call(__NR_io_uring_setup, error)`: the ring cannot be created. */
inline bool refuse_io_uring_setup(int error) {
#if defined(__NR_io_uring_setup)
  return refuse_system_call(__NR_io_uring_setup, error);
#else
  static_cast<void>(error);
  return false;
#endif
}

/** The exit codes of a child function (support/child_process.hpp) that takes io_uring away and
    checks what follows: every check passed, or seccomp filters are not available here. Any other
    code is a failure, which the child describes. */
constexpr int refused_child_ok = 0;
constexpr int refused_child_no_seccomp = 77;

/** Runs the child function `name` with `args` in a process of its own (the seccomp filter cannot
    be removed) and checks its exit code: `refused_child_ok` passes, `refused_child_no_seccomp`
    skips the test (io_uring cannot be refused here), anything else fails it, with the code. */
inline void expect_refused_child(const std::string& name, const std::vector<std::string>& args = {}) {
  int status = run_child(name, args);
  ASSERT_NE(status, -1) << "the child process could not be started";
  ASSERT_TRUE(WIFEXITED(status)) << "the child died, status " << status;
  if (WEXITSTATUS(status) == refused_child_no_seccomp) {
    GTEST_SKIP() << "seccomp filters are not available here, io_uring cannot be refused";
  }
  EXPECT_EQ(WEXITSTATUS(status), refused_child_ok) << "the child's exit code (its failed checks)";
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_REFUSE_IO_URING_HPP
