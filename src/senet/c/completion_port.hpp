// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_C_COMPLETION_PORT_HPP
#define SENET_C_COMPLETION_PORT_HPP

/* The C API's completion port: one process-wide object, reference counted, that owns one thread
   running a senet io_context. Every async_socket and execution engine holds a reference; the
   first acquire creates it and starts the thread, the last release stops the thread and frees it.
   async_socket itself creates no threads (async-socket-linux-requirements.md, "Threading"). */

#include <senet/io/io_context.hpp>

#include <optional>
#include <thread>

namespace senet::c_api {

class completion_port {
 public:
  /** Takes a reference on the process-wide port, creating it (and its loop thread) if there is
      none. Returns null if the io_context or the thread cannot be created. Any thread. */
  static completion_port* acquire() noexcept;

  /** Drops a reference taken by `acquire`; the last one stops the loop thread and frees the port.
      On the loop thread itself (a callback releasing the last reference), the thread is detached
      and frees the port when its loop returns. Any thread. */
  void release() noexcept;

  [[nodiscard]] io::io_context& context() noexcept { return ctx_; }
  [[nodiscard]] io::io_context::scheduler_type scheduler() noexcept { return ctx_.get_scheduler(); }

  /** Whether the calling thread is the port's loop thread (inside a completion). */
  [[nodiscard]] bool on_loop_thread() const noexcept;

  completion_port(const completion_port&) = delete;
  completion_port& operator=(const completion_port&) = delete;

 private:
  completion_port();
  ~completion_port();
  void start();
  void run() noexcept;

  io::io_context ctx_;
  std::optional<io::io_context::work_guard> guard_;
  std::thread thread_;
  bool delete_when_done_ = false;  // set on the loop thread, read by it
};

}  // namespace senet::c_api

#endif  // SENET_C_COMPLETION_PORT_HPP
