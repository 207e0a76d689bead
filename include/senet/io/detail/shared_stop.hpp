// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_DETAIL_SHARED_STOP_HPP
#define SENET_IO_DETAIL_SHARED_STOP_HPP

/* One stop callback per stop source and io_context, shared by the operations of that context that
   wait under the source: what an operation state registers while it waits, where the source is an
   `ex::inplace_stop_source` (the scopes', `when_all`'s and `task`'s tokens), instead of a stop
   callback of its own. Sessions spawned into one scope all wait under the scope's source; per wait
   the operation joins the context's registration of that source (a few loads and stores on the
   context's thread) and leaves it at its completion, where a callback of its own was a
   registration and a deregistration, each a lock, a list update and an unlock of the source.

   A registration lives while at least one operation waits under it: it is made when the first
   one joins and removed when the last one leaves (a source may be destroyed once no operation
   uses its token). The context keeps `shared_stop_table::capacity` of them; an operation whose
   source finds no room registers a callback of its own, as before.

   Threads. `join` and `leave` run on the context's thread only (an operation state waits and
   completes there). The callback runs on the thread that requests the stop: on the context's
   thread it asks every waiting operation of the registration to cancel at once; on another one it
   queues the registration's sweep with the context's cross-thread cancel requests, and the loop
   asks them when it takes those (`take_cancel_requests`), so an operation that completes before
   is never touched. An operation that joins after that cancellation ran is not linked: `join`
   says `stopped` and the caller cancels it itself; one that joins while it is on its way is
   linked, and cancelled with the rest. docs/design/io_core.md, "Shared stop
   registrations". */

#include <senet/execution.hpp>
#include <senet/io/detail/operation.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

namespace senet::io {
class io_context;
}  // namespace senet::io

namespace senet::io::detail {

/** A place in a registration's ring of waiting operations: a circular list through the entry's
    `ring`, so that joining and leaving store their links without a test for the ends. */
struct shared_stop_link {
  shared_stop_link* next;
  shared_stop_link* prev;
};

/** A waiting operation's place in a shared registration (room for it is in the operation state).
    Left uninitialised: the caller sets `cancel` and `owner`, and `join` the rest. */
struct shared_stop_waiter : shared_stop_link {
  /** The context's thread: asks the operation to cancel (its `cancel_records`). */
  void (*cancel)(shared_stop_waiter& self) noexcept;
  /** The operation state, for `cancel`. */
  void* owner;
  struct shared_stop_entry* entry;
};

/** One registration: the source (by its token), the operations waiting under it, the callback. */
struct shared_stop_entry {
  struct on_stop {
    shared_stop_entry* self;
    void operator()() const noexcept;  // src/senet/io/shared_stop.cpp
  };
  using callback_type = ex::stop_callback_for_t<ex::inplace_stop_token, on_stop>;

  /** Asks every linked operation to cancel (the context's thread). */
  void cancel_all() noexcept;
  /** Not free for a source: its callback is made, or its sweep is still on the way (`fired`,
      this thread's to clear once the sweep ran). */
  [[nodiscard]] bool in_use() const noexcept {
    return token.stop_possible() || fired.load(std::memory_order_acquire);
  }
  /** The sweep's `complete_`, run by `take_cancel_requests` (never through the ready queue). */
  static void run_sweep(io_operation* op) noexcept;

  // The source's token while the callback is constructed (between the first join and the last
  // leave); no source otherwise. An entry without one is free unless `fired` (its sweep is still
  // on the way, and the entry waits for it).
  ex::inplace_stop_token token{};
  // The waiting operations, in join order: the ring's `next` is the first, its `prev` the last;
  // empty, it points at itself (the table's constructor and `retire` make it so).
  shared_stop_link ring{};
  std::size_t waiters = 0;
  io_context* ctx = nullptr;
  // The stop's cancellation ran (`cancel_all`): an operation that joins now is not linked, as
  // nothing would cancel it. (Every join of a stop requested earlier comes after it: the
  // operation's start checked the token, and a stop on another thread is cancelled by the sweep,
  // which the loop runs after every start it took before.)
  bool stopped = false;
  // Set by the callback on another thread before it queues the sweep; cleared by the sweep.
  std::atomic<bool> fired{false};
  alignas(callback_type) unsigned char callback[sizeof(callback_type)];
  // Queued with the context's cross-thread cancel requests by a callback on another thread.
  io_operation sweep;
};

/** The shared registrations of one io_context (a member of it; the context's thread only, but
    for the callbacks). */
class shared_stop_table {
 public:
  /** How many sources may have a registration at once. */
  static constexpr std::size_t capacity = 4;

  /** What `join` did. */
  enum class joined : unsigned char {
    yes,      ///< linked: a stop request cancels the operation until `leave`
    stopped,  ///< the stop's cancellation has gone by: the caller cancels the operation now
    full      ///< no room: the caller registers a stop callback of its own
  };

  explicit shared_stop_table(io_context& ctx) noexcept;
  shared_stop_table(const shared_stop_table&) = delete;
  shared_stop_table& operator=(const shared_stop_table&) = delete;
  /** Removes the callbacks of registrations still made (operations the context gave up on, whose
      states may be destroyed later: they find no entry). */
  ~shared_stop_table();

  /** How many registrations are made or wait for their sweep (for tests; the context's thread). */
  [[nodiscard]] std::size_t in_use() const noexcept {
    std::size_t n = 0;
    for (const shared_stop_entry& e : entries_) {
      n += e.in_use() ? 1 : 0;
    }
    return n;
  }

  /** The context's thread, `token.stop_possible()`: links `w` (its `cancel` and `owner` set) to
      the registration of `token`'s source, making it when there is none. */
  joined join(const ex::inplace_stop_token& token, shared_stop_waiter& w) noexcept {
    for (shared_stop_entry& e : entries_) {
      if (e.token == token) {
        if (e.stopped) [[unlikely]] {
          // The stop's cancellation has gone by (its start checked the token before the stop).
          return joined::stopped;
        }
        link(e, w);
        return joined::yes;
      }
    }
    return join_new(token, w);
  }

  /** The context's thread: unlinks `w` (after `join` said `yes`); the last one out removes the
      registration's callback. */
  static void leave(shared_stop_waiter& w) noexcept {
    if (w.entry == nullptr) [[unlikely]] {
      return;  // the context went first, giving up on the operation (~shared_stop_table)
    }
    shared_stop_entry& e = *w.entry;
    w.prev->next = w.next;
    w.next->prev = w.prev;
    if (--e.waiters == 0) {
      retire(e);
    }
  }

 private:
  static void link(shared_stop_entry& e, shared_stop_waiter& w) noexcept {
    w.entry = &e;
    w.next = &e.ring;
    w.prev = e.ring.prev;
    e.ring.prev->next = &w;
    e.ring.prev = &w;
    ++e.waiters;
  }

  joined join_new(const ex::inplace_stop_token& token, shared_stop_waiter& w) noexcept;
  static void retire(shared_stop_entry& e) noexcept;

  shared_stop_entry entries_[capacity];
};

/** From the stop callback on another thread: queues `sweep` with the context's cross-thread cancel
    requests and wakes the loop (src/senet/io/context_loop.cpp). */
void queue_stop_sweep(io_context& ctx, io_operation& sweep) noexcept;

}  // namespace senet::io::detail

#endif  // SENET_IO_DETAIL_SHARED_STOP_HPP
