// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_BACKEND_INFO_HPP
#define SENET_IO_BACKEND_INFO_HPP

#include <senet/io/backend_kind.hpp>

#include <chrono>
#include <cstdint>
#include <system_error>

namespace senet::io {

/** What an `io_context` found when it set up its backend: `ctx.backend_info()`.

    io_uring is set up by a ladder of steps, each of which may refuse it, and a context that was
    free to choose (`io_context()`, or `context_options` without a backend) then falls back to
    epoll and says here why:

    1. **setup**: `io_uring_setup` creates the ring, with the most capable setup flags the kernel
       accepts (see `uring_setup_flags`). Refusals: `EPERM` (a seccomp profile, as container
       runtimes install by default, or `kernel.io_uring_disabled=2`, or `=1` for a process outside
       `kernel.io_uring_group`), `ENOSYS` (a kernel built without io_uring, or a seccomp profile
       that answers so), `ENOMEM` (the locked-memory limit, `RLIMIT_MEMLOCK`, on kernels before 5.12),
       `EINVAL` (none of the setup variants is known to the kernel).
    2. **opcode probe**: `IORING_REGISTER_PROBE` must report every request the backend sends
       (receive, send, accept, connect, poll, cancel, timeouts); `ENOTSUP` otherwise.
    3. **features**: the kernel must report `IORING_FEAT_NODROP`, `IORING_FEAT_FAST_POLL` and
       `IORING_FEAT_EXT_ARG` (Linux 5.11); `ENOTSUP` otherwise.

    The member names say which backend they describe; members of a backend that is not in use are
    zero. Thread safety: the object does not change after construction; any thread may read it.

    Example:
    ```cpp
    senet::io::io_context ctx;
    const senet::io::backend_info& info = ctx.backend_info();
    if (info.kind != senet::io::uring && info.uring_error) {
      std::fprintf(stderr, "io_uring refused at %s: %s; running on epoll\n",
                   info.uring_failed_step, info.uring_error.message().c_str());
    }
    ```
*/
struct backend_info {
  /** The backend the context runs on. */
  backend_kind kind = backend_kind::epoll;

  /** Why io_uring is not used, as a `std::system_category()` error (`EPERM`, `ENOSYS`, `ENOMEM`,
      `EINVAL`, `ENOTSUP`, ...); empty when io_uring is in use, or was not tried (another backend
      was asked for, by the constructor or `SENET_BACKEND`, or io_uring is not built in). */
  std::error_code uring_error;

  /** The step of the ladder that refused io_uring: `"setup"`, `"opcode probe"` or `"features"`
      (a static string); null when `uring_error` is empty. */
  const char* uring_failed_step = nullptr;

  /** io_uring: the `IORING_SETUP_*` flags the ring was created with (`<linux/io_uring.h>`). */
  std::uint32_t uring_setup_flags = 0;

  /** io_uring: the `IORING_FEAT_*` flags the kernel reported (`io_uring_params::features`). */
  std::uint32_t uring_features = 0;

  /** io_uring: the sizes of the submission and completion queues, in entries. */
  unsigned submission_queue_entries = 0;
  unsigned completion_queue_entries = 0;

  /** io_uring: `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN` are in effect (only
      with `context_options::single_thread`, on Linux 6.1 or later). */
  bool defer_taskrun = false;

  /** io_uring: `IORING_SETUP_COOP_TASKRUN` is in effect (completions are not signalled to the
      loop thread by an interrupt; the default where the kernel has it, Linux 5.19). */
  bool coop_taskrun = false;

  /** io_uring: the ring descriptor is registered with the loop thread (`io_uring_register_ring_fd`;
      only with `context_options::single_thread`). */
  bool registered_ring_fd = false;

  /** io_uring: the completion batch wait in effect (`context_options::completion_batch_wait`, where
      the kernel has `IORING_FEAT_MIN_TIMEOUT`); 0 when off. */
  std::chrono::microseconds completion_batch_wait{0};
};

}  // namespace senet::io

#endif  // SENET_IO_BACKEND_INFO_HPP
