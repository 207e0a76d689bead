// SPDX-License-Identifier: BSL-1.0
// What ~io_context cancels, and how long it waits for it (docs/design/io_core.md, "Shutdown").
#include "senet/io/context_impl.hpp"

#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>

namespace senet::io::detail {

namespace {

// How long ~io_context waits for operations whose cancellation it requested before it gives up on
// them (measured on the backend's clock: the test backend's is virtual). io_uring cancels a
// socket operation within microseconds; only a request the kernel cannot interrupt takes longer.
constexpr std::chrono::seconds shutdown_patience{5};

}  // namespace

// Shutdown gave up on operations whose cancellation did not finish (io_uring: the kernel
// neither completed nor cancelled them). They are never delivered: delivering them would let
// their owners free records and buffers that the kernel may still write into. The backend is
// destroyed all the same (its ring memory is the kernel's; closing the ring makes the kernel
// cancel what it can); the operation states stay the user's, and must stay alive.
void context_impl::abandon_pending() noexcept {
  struct tally {
    std::size_t count = 0;
    std::string names;
  } t;
  backend_->visit_pending(
      [](const io_operation& op, void* arg) noexcept {
        auto& t = *static_cast<tally*>(arg);
        if (++t.count <= 8) {
          char line[96];
          std::snprintf(line, sizeof line, "%s%s (record %p)", t.count == 1 ? "" : ", ", op_name(op.code_),
                        static_cast<const void*>(&op));
          try {
            t.names += line;
          } catch (...) {
          }
        }
      },
      &t);
  std::fprintf(stderr,
               "senet: ~io_context (%s backend): %zu operation(s) still pending %lld ms after their "
               "cancellation was requested: %s%s. They are abandoned: never completed; their operation "
               "states and buffers must stay alive, as the kernel may still write into them.\n",
               std::string(to_string(kind())).c_str(), outstanding_,
               static_cast<long long>(
                   std::chrono::duration_cast<std::chrono::milliseconds>(shutdown_patience).count()),
               t.names.empty() ? "(the backend does not list them)" : t.names.c_str(),
               t.count > 8 ? ", ..." : "");
  outstanding_ = 0;
}

const char* context_impl::op_name(op_code code) noexcept {
  switch (code) {
    case op_code::none:
      return "internal";
    case op_code::schedule:
      return "schedule";
    case op_code::timer:
      return "timer";
    case op_code::accept:
      return "accept";
    case op_code::connect:
      return "connect";
    case op_code::receive:
      return "receive";
    case op_code::send:
      return "send";
    case op_code::poll:
      return "poll";
    case op_code::receive_multishot:
      return "multishot receive";
    case op_code::accept_multishot:
      return "multishot accept";
    case op_code::receive_pooled:
      return "pooled receive";
    case op_code::accept_queued:
      return "queued accept";
  }
  return "unknown";
}

void context_impl::shutdown() noexcept {
  std::optional<clock::time_point> waiting_since;
  if (issuer_ != std::thread::id{} && std::this_thread::get_id() != issuer_) [[unlikely]] {
    // The kernel refuses this thread's submissions to a SINGLE_ISSUER ring: the cancellations
    // below cannot reach it, and pending operations will be abandoned after shutdown_patience.
    std::fputs(
        "senet: an io_context made with context_options::single_thread is destroyed on a thread "
        "other than the one that constructed it; its pending io_uring operations cannot be "
        "cancelled\n",
        stderr);
  }
  shutting_down_ = true;
  io_context* previous = current_context;
  current_context = owner_;
  // Before any completion runs user code here: the backend withdraws its descriptors' direct bits
  // (descriptor_state_head::direct), so that an operation started from such a completion goes to
  // the core, which cancels it, instead of being made directly (it would reach the wire).
  backend_->cancel_all();
  // Operations waiting for a result from another thread (ip::async_resolve) complete stopped;
  // a result handed back before this is in remote_ and delivered below.
  handoff_->detach();
  for (;;) {
    drain_remote();
    while (!timers_.empty()) {
      complete(*timers_.pop(), -ECANCELED);
    }
    standing_cancel_all();
    backend_->cancel_all();
    if (ready_.empty()) {
      if (outstanding_ == 0 && remote_.empty() && remote_cancel_.empty()) {
        break;
      }
      if (!waiting_since) {
        waiting_since = now();
      } else if (now() - *waiting_since >= shutdown_patience) {
        abandon_pending();
        break;
      }
      // Operations a backend cannot cancel at once (io_uring) are reaped as they finish.
      backend_->run_once(std::chrono::milliseconds(10), 0);
      continue;
    }
    while (io_operation* op = ready_.pop_front()) {
      ++ready_left_;
      --outstanding_;
      op->state_ = op_state::idle;
      if (op->code_ == op_code::schedule) {
        op->result_ = -ECANCELED;
      }
      op->complete_(op);
    }
  }
  current_context = previous;
}

}  // namespace senet::io::detail
