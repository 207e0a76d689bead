// SPDX-License-Identifier: BSL-1.0
// The shared stop registrations of an io_context (include/senet/io/detail/shared_stop.hpp).

#include <senet/io/detail/shared_stop.hpp>
#include <senet/io/io_context.hpp>

namespace senet::io::detail {

namespace {
void destroy_callback(shared_stop_entry& e) noexcept {
  using callback = shared_stop_entry::callback_type;
  std::launder(reinterpret_cast<callback*>(e.callback))->~callback();
}
}  // namespace

void shared_stop_entry::on_stop::operator()() const noexcept {
  shared_stop_entry& e = *self;
  if (running_in_this_thread(*e.ctx)) {
    // A stop requested by a handler (or racing the registration, which runs on this thread).
    e.cancel_all();
    return;
  }
  // The loop owns the list: it runs the sweep when it takes cross-thread cancel requests. `fired`
  // tells the last operation to leave that the sweep is on its way, so that the entry waits for
  // it before it is used again.
  e.fired.store(true, std::memory_order_release);
  queue_stop_sweep(*e.ctx, e.sweep);
}

void shared_stop_entry::cancel_all() noexcept {
  stopped = true;
  // A cancel request queues the operation's completion; none is delivered (and leaves) meanwhile.
  for (shared_stop_link* l = ring.next; l != &ring;) {
    shared_stop_link* next = l->next;
    auto& w = static_cast<shared_stop_waiter&>(*l);
    w.cancel(w);
    l = next;
  }
}

void shared_stop_entry::run_sweep(io_operation* op) noexcept {
  // The sweep is the entry's member `sweep`, which keeps the entry's address (no offsetof on a
  // type that is not standard-layout).
  auto* e = static_cast<shared_stop_entry*>(op->backend_link_);
  e->fired.store(false, std::memory_order_relaxed);
  if (!e->token.stop_possible()) {
    // Every operation left before the sweep came: nothing to cancel, and the entry is free now.
    return;
  }
  // Operations that completed since the stop left already; the ones linked now waited through it.
  e->cancel_all();
}

shared_stop_table::shared_stop_table(io_context& ctx) noexcept {
  for (shared_stop_entry& e : entries_) {
    e.ring.next = e.ring.prev = &e.ring;
    e.ctx = &ctx;
    e.sweep.complete_ = &shared_stop_entry::run_sweep;
    e.sweep.backend_link_ = &e;
  }
}

shared_stop_table::~shared_stop_table() {
  for (shared_stop_entry& e : entries_) {
    if (e.token.stop_possible()) {
      destroy_callback(e);
      for (shared_stop_link* l = e.ring.next; l != &e.ring; l = l->next) {
        static_cast<shared_stop_waiter*>(l)->entry = nullptr;
      }
    }
  }
}

shared_stop_table::joined shared_stop_table::join_new(const ex::inplace_stop_token& token,
                                                      shared_stop_waiter& w) noexcept {
  for (shared_stop_entry& e : entries_) {
    if (!e.in_use()) {
      e.token = token;
      e.stopped = false;
      link(e, w);
      // Linked first: a stop requested already runs the callback here, on this thread, and it
      // cancels `w`.
      ::new (static_cast<void*>(e.callback))
          shared_stop_entry::callback_type(token, shared_stop_entry::on_stop{&e});
      return joined::yes;
    }
  }
  return joined::full;
}

void shared_stop_table::retire(shared_stop_entry& e) noexcept {
  // Waits for a callback running on another thread; afterwards `fired` says whether it queued the
  // sweep, which then has not run: until it has, the entry is not free (join_new).
  destroy_callback(e);
  e.token = {};
  e.ring.next = e.ring.prev = &e.ring;
}

}  // namespace senet::io::detail
