// SPDX-License-Identifier: BSL-1.0
#include "senet/c/completion_port.hpp"

#include <senet/io/detail/operation.hpp>

#include <pthread.h>
#include <signal.h>

#include <cstddef>
#include <mutex>

namespace senet::c_api {

namespace {

// The process-wide port and its reference count. The mutex is constant-initialised, so it is
// usable from any static initialiser or destructor of the program.
constinit std::mutex port_mutex;
constinit completion_port* the_port = nullptr;
constinit std::size_t port_references = 0;

}  // namespace

completion_port::completion_port() = default;

completion_port::~completion_port() = default;

void completion_port::start() {
  guard_.emplace(ctx_);
  // The loop thread blocks every signal, so that the program's signals go to its own threads,
  // as they did before it used the C API. The thread inherits the mask in force when it starts.
  ::sigset_t all;
  ::sigset_t previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  try {
    thread_ = std::thread([this] { run(); });
  } catch (...) {
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    guard_.reset();
    throw;
  }
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  ::pthread_setname_np(thread_.native_handle(), "senet-c-port");
}

void completion_port::run() noexcept {
  try {
    ctx_.run();
  } catch (...) {
    // run() throws only for misuse (a second thread running the context), which cannot happen:
    // only this thread runs it.
  }
  if (delete_when_done_) {
    delete this;
  }
}

bool completion_port::on_loop_thread() const noexcept {
  return io::detail::running_in_this_thread(ctx_);
}

completion_port* completion_port::acquire() noexcept {
  std::lock_guard lock(port_mutex);
  if (the_port == nullptr) {
    completion_port* port = nullptr;
    try {
      port = new completion_port();
      port->start();
    } catch (...) {
      delete port;
      return nullptr;
    }
    the_port = port;
  }
  ++port_references;
  return the_port;
}

void completion_port::release() noexcept {
  {
    std::lock_guard lock(port_mutex);
    if (--port_references != 0) {
      return;
    }
    the_port = nullptr;
  }
  // Nothing refers to the port any more: no socket is open on it, so its loop has no work but
  // the guard. Stop it and wait for the thread, unless this is that thread.
  guard_.reset();
  if (on_loop_thread()) {
    delete_when_done_ = true;
    thread_.detach();
    ctx_.stop();
    return;
  }
  ctx_.stop();
  thread_.join();
  delete this;
}

}  // namespace senet::c_api
