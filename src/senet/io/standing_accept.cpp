// SPDX-License-Identifier: BSL-1.0
/* Queued accepts: an acceptor with `standing_accept(limit)` keeps one multishot accept armed
   (docs/design/io_core.md, "Buffer pools and standing operations"), and net::async_accept calls
   (op_code::accept_queued) take the connections it accepted, in order; connections that arrive
   while nobody waits are queued, up to the limit, after which the standing accept is paused and
   further connections wait in the kernel's listen backlog.

   Invariants (as for a pooled_socket in standing.cpp): accepts complete in start order, inline only
   when nobody waits and the queue has a connection, through the ready queue while an earlier
   completion is undelivered; the record is released only after its last completion; a released
   acceptor's queued and late connections are closed, never leaked. */
#include "senet/io/context_impl.hpp"
#include "senet/io/standing.hpp"

#include <cerrno>
#include <new>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

namespace senet::io::detail {

struct queued_acceptor {
  // First member: the record's address is the state's.
  multishot_operation record;
  context_impl* impl = nullptr;
  descriptor* d = nullptr;
  descriptor_state* state = nullptr;
  parked_operations waiters;
  // Accepted descriptors not yet taken, from fds[head]; the capacity is reserved once.
  std::vector<int> fds;
  std::size_t head = 0;
  std::size_t limit = 0;
  // An error of the standing accept, handed to the next accept.
  std::int64_t error = 0;
  bool armed = false;
  bool paused = false;
  bool detached = false;
  queued_acceptor* live_prev = nullptr;
  queued_acceptor* live_next = nullptr;
};

namespace {

queued_acceptor& acceptor_of(multishot_operation& op) noexcept {
  return *reinterpret_cast<queued_acceptor*>(&op);
}

std::size_t queued(const queued_acceptor& qa) noexcept {
  return qa.fds.size() - qa.head;
}

int pop(queued_acceptor& qa) noexcept {
  int fd = qa.fds[qa.head++];
  if (qa.head == qa.fds.size()) {
    qa.fds.clear();  // keeps the capacity
    qa.head = 0;
  }
  return fd;
}

// Hands an accepted descriptor (or the error) to `op`, with the peer's address.
void fill(queued_acceptor& qa, io_operation& op) noexcept {
  if (queued(qa) != 0) {
    int fd = pop(qa);
    op.result_ = fd;
    if (op.msg_.msg_name != nullptr &&
        ::getpeername(fd, static_cast<::sockaddr*>(op.msg_.msg_name), &op.msg_.msg_namelen) < 0) {
      // Reset before it was taken: the address is gone, the socket still reports the reset.
      op.msg_.msg_namelen = 0;
    }
  } else {
    op.result_ = qa.error;
    qa.error = 0;
  }
}

bool has_result(const queued_acceptor& qa) noexcept {
  return queued(qa) != 0 || qa.error < 0;
}

void serve(queued_acceptor& qa) noexcept {
  context_impl& impl = *qa.impl;
  while (!qa.waiters.empty() && has_result(qa)) {
    io_operation& op = qa.waiters.take_first();
    fill(qa, op);
    qa.waiters.complete(impl, op);
  }
}

void arm(queued_acceptor& qa) noexcept;

void maybe_resume(queued_acceptor& qa) noexcept {
  if (qa.paused && !qa.armed && queued(qa) <= qa.limit / 2) {
    qa.paused = false;
    arm(qa);
  }
}

void take_connection(queued_acceptor& qa, std::int64_t fd) noexcept {
  if (fd < 0) {
    return;
  }
  if (qa.detached) {
    ::close(static_cast<int>(fd));
    return;
  }
  qa.fds.push_back(static_cast<int>(fd));  // within the reserved capacity but for a late burst
  serve(qa);
  if (qa.armed && !qa.paused && queued(qa) >= qa.limit) {
    // Further connections wait in the kernel's listen backlog.
    qa.paused = true;
    qa.impl->get_backend().cancel(qa.record);
  }
}

void on_shot(multishot_operation& op, std::int64_t result, std::uint8_t, std::uint32_t) noexcept {
  take_connection(acceptor_of(op), result);
}

void free_acceptor(queued_acceptor& qa) noexcept {
  context_impl& impl = *qa.impl;
  while (queued(qa) != 0) {
    ::close(pop(qa));
  }
  if (qa.live_prev == nullptr) {
    impl.acceptors_live_ = qa.live_next;
  } else {
    qa.live_prev->live_next = qa.live_next;
  }
  if (qa.live_next != nullptr) {
    qa.live_next->live_prev = qa.live_prev;
  }
  delete &qa;
}

void on_last(queued_acceptor& qa) noexcept {
  multishot_operation& r = qa.record;
  qa.armed = false;
  std::int64_t result = r.result_;
  take_connection(qa, result);
  if (qa.detached) {
    free_acceptor(qa);
    return;
  }
  bool rearm = result >= 0;
  if (result == -ECANCELED || result == io_operation::aborted) {
    rearm = !qa.paused && !qa.waiters.empty();
  } else if (result < 0) {
    // EMFILE and the like: the next accept reports it; it arms the standing accept again.
    qa.error = result;
  }
  serve(qa);
  if (qa.paused) {
    maybe_resume(qa);
  } else if (rearm) {
    arm(qa);
  }
}

void on_last_delivered(io_operation* op) noexcept {
  on_last(acceptor_of(*static_cast<multishot_operation*>(op)));
}

void arm(queued_acceptor& qa) noexcept {
  if (qa.armed || qa.detached || qa.impl->shutting_down()) {
    return;
  }
  multishot_operation& r = qa.record;
  r.code_ = op_code::accept_multishot;
  r.descriptor_ = qa.d;
  r.on_shot_ = &on_shot;
  r.complete_ = &on_last_delivered;
  r.result_ = 0;
  r.flags_ = 0;
  r.link_timeout_ns_ = 0;
  r.completion_flags_ = 0;
  qa.armed = true;
  if (qa.impl->start(r)) {
    on_last(qa);
  }
}

}  // namespace

bool context_impl::queued_accept_start(io_operation& op) noexcept {
  descriptor& d = *op.descriptor_;
  queued_acceptor* qa = nullptr;
  if (multishot_operation* record = standing_record(*this, d)) {
    if (record->code_ != op_code::accept_multishot) {
      op.result_ = -EINVAL;
      return true;
    }
    qa = &acceptor_of(*record);
  } else {
    qa = new (std::nothrow) queued_acceptor;
    if (qa == nullptr) {
      op.result_ = -ENOMEM;
      return true;
    }
    try {
      qa->fds.reserve(d.accept_queue);
    } catch (...) {
      delete qa;
      op.result_ = -ENOMEM;
      return true;
    }
    qa->impl = this;
    qa->d = &d;
    qa->limit = d.accept_queue;
    qa->record.code_ = op_code::accept_multishot;
    qa->live_next = acceptors_live_;
    if (acceptors_live_ != nullptr) {
      acceptors_live_->live_prev = qa;
    }
    acceptors_live_ = qa;
    arm(*qa);
    auto* state = static_cast<descriptor_state*>(d.context_state);
    if (!qa->armed && (state == nullptr || state->owner != backend_.get() || state->standing != nullptr)) {
      // Refused at once: not this context's descriptor, or no multishot accept here.
      op.result_ = qa->error < 0 ? qa->error : -EOPNOTSUPP;
      qa->detached = true;
      free_acceptor(*qa);
      return true;
    }
    state->standing = &qa->record;
    state->direct &= static_cast<std::uint8_t>(~direct_receive);
    qa->state = state;
  }
  if (qa->waiters.empty() && has_result(*qa)) {
    fill(*qa, op);
    maybe_resume(*qa);
    if (!qa->armed && !qa->paused && qa->error == 0) {
      arm(*qa);
    }
    return qa->waiters.complete_at_start(*this, op);
  }
  qa->waiters.park(op);
  if (!qa->paused) {
    arm(*qa);
  }
  return false;
}

void context_impl::queued_accept_release(multishot_operation& record, bool release) noexcept {
  queued_acceptor& qa = acceptor_of(record);
  qa.waiters.complete_all(*this, release ? io_operation::aborted : -ECANCELED);
  if (!release) {
    return;
  }
  qa.state->standing = nullptr;
  qa.state = nullptr;
  qa.d = nullptr;
  qa.detached = true;
  while (queued(qa) != 0) {
    ::close(pop(qa));
  }
  if (!qa.armed) {
    free_acceptor(qa);
  }
}

void context_impl::queued_accept_cancel_all() noexcept {
  for (queued_acceptor* qa = acceptors_live_; qa != nullptr; qa = qa->live_next) {
    qa->waiters.complete_all(*this, -ECANCELED);
  }
}

void context_impl::queued_accept_destroy_all() noexcept {
  while (queued_acceptor* qa = acceptors_live_) {
    if (qa->state != nullptr) {
      qa->state->standing = nullptr;
    }
    qa->detached = true;
    free_acceptor(*qa);
  }
}

}  // namespace senet::io::detail
