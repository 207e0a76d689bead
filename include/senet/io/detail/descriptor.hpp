// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_DETAIL_DESCRIPTOR_HPP
#define SENET_IO_DETAIL_DESCRIPTOR_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace senet::io {
class io_context;
}  // namespace senet::io

namespace senet::io::detail {

/** Bits of `descriptor::eager`. */
inline constexpr std::uint8_t eager_send = 1;
inline constexpr std::uint8_t eager_receive = 2;

/** `descriptor::context_state`: a pointer that the thread running an io_context writes (when an
    operation registers the descriptor, when the descriptor is released) and that the thread
    closing the socket reads, possibly at the same time. It reads and converts like a `void*`;
    every access is atomic (an acquire load / release store: a plain load or store on x86-64 and
    AArch64's ldar/stlr), so the io core's code on the loop thread stays as it was. */
class state_pointer {
 public:
  state_pointer() noexcept = default;
  state_pointer(void* p) noexcept : p_(p) {}  // NOLINT(google-explicit-constructor): a pointer
  state_pointer(const state_pointer& other) noexcept : p_(other.load()) {}
  state_pointer& operator=(const state_pointer& other) noexcept {
    store(other.load());
    return *this;
  }
  state_pointer& operator=(void* p) noexcept {
    store(p);
    return *this;
  }

  /** The pointer, as any object pointer type: `static_cast<my_state*>(d.context_state)`. */
  template <class T>
  operator T*() const noexcept {  // NOLINT(google-explicit-constructor)
    return static_cast<T*>(load());
  }

  [[nodiscard]] void* load() const noexcept { return p_.load(std::memory_order_acquire); }
  void store(void* p) noexcept { p_.store(p, std::memory_order_release); }

  friend bool operator==(const state_pointer& a, std::nullptr_t) noexcept { return a.load() == nullptr; }

 private:
  std::atomic<void*> p_{nullptr};
};

/** `descriptor::on_its_way`: how many starts of operations on a descriptor were handed to an
    io_context's loop (`start_here_or_hand_off`: started on another thread, or behind such starts)
    that the loop has not finished taking (`descriptor::handed_to` names that context). Such a start
    reads the socket when the loop takes it, so the socket's release (`release_descriptor`: close,
    release, move, the destructor) or cancel (`cancel_descriptor`) cannot just return while one is
    on its way: it has the loop mark them, and they then complete without reading the socket
    (`io_operation::handoff_`).

    The thread that hands a start over adds it; the loop's thread removes it once its trampoline
    is done with the socket (`counted_start`); the thread that releases reads it, and has the loop
    settle it (any thread, under the rules of a socket: a start must not race with its release).
    16 bits, in what would be padding: at 65,535 starts on their way the count sticks there
    (`saturated`), adds and removes do nothing, and the next release settles it to 0 (the loop then
    finds every start still on its way by walking its queues, as it always does). Copied like a
    value (a descriptor moves by copy and reset). */
class start_tally {
 public:
  static constexpr std::uint16_t saturated = 0xffff;

  start_tally() noexcept = default;
  start_tally(const start_tally& other) noexcept : n_(other.n_.load(std::memory_order_relaxed)) {}
  start_tally& operator=(const start_tally& other) noexcept {
    n_.store(other.n_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    return *this;
  }

  /** A start is handed over (the starting thread, or the loop's for a deferred restart): a
      release, so that a release or cancel that sees the count also sees `handed_to`, stored
      before. */
  void add() noexcept {
    std::uint16_t n = n_.load(std::memory_order_relaxed);
    while (n != saturated &&
           !n_.compare_exchange_weak(n, static_cast<std::uint16_t>(n + 1), std::memory_order_release,
                                     std::memory_order_relaxed)) {
    }
  }
  /** `k` starts are done with the socket (the loop's thread): a release store, so that a release or
      cancel that then sees fewer also sees what they did (the backend's registration). */
  void remove(std::uint32_t k = 1) noexcept {
    std::uint16_t n = n_.load(std::memory_order_relaxed);
    while (n != saturated &&
           !n_.compare_exchange_weak(n, static_cast<std::uint16_t>(n - k), std::memory_order_release,
                                     std::memory_order_relaxed)) {
    }
  }
  /** The loop's thread, after marking the `k` starts still on their way: none is left. */
  void settle(std::uint32_t k) noexcept {
    if (n_.load(std::memory_order_relaxed) == saturated) {
      n_.store(0, std::memory_order_release);
    } else if (k != 0) {
      remove(k);
    }
  }
  /** The starts on their way (any thread). */
  [[nodiscard]] std::uint16_t count() const noexcept { return n_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::uint16_t> n_{0};
};

/** Bits of `descriptor_state_head::direct`. */
inline constexpr std::uint8_t direct_send = 1;
inline constexpr std::uint8_t direct_receive = 2;

/** The first part of every backend's per-descriptor state (what `descriptor::context_state`
    points at once a context registered the descriptor): what an operation state reads inline, on
    the context's thread, to decide whether it may make its system call itself (`io::detail::
    may_perform_directly`, operation.hpp) instead of handing a record to the core.

    Written only by the registering context's thread (its backend and core). */
struct descriptor_state_head {
  /** The io_context that registered the descriptor; null once its backend is destroyed. */
  const io_context* context = nullptr;
  /** How many records that context's core has delivered from its ready queue (its
      `completion_sink::ready_left_`); set with `context`. */
  const std::uint64_t* delivered = nullptr;
  /** Per direction (`direct_index`): the ready-queue number of the last completion of that
      direction that went through the ready queue (0: none). Until `*delivered` reaches it, that
      completion has not been delivered, and an operation of the direction that finished now would
      overtake it: a direct call is refused, and the backend does not complete an operation of
      the direction at once either (epoll and io_uring keep these; the test backend leaves them
      0). */
  std::uint64_t tickets[2] = {0, 0};
  /** `direct_send` / `direct_receive`: a send / receive started now on the context's thread,
      with the socket's `eager` bit of that direction set, would be tried at once with its system
      call by the backend (nothing of that direction is pending, no standing operation takes that
      direction's data), so making that system call directly keeps the order a record would keep,
      once `tickets` says that no completion of the direction waits for delivery. The backend sets
      a bit only where it knows this and clears it before anything of the direction becomes
      pending: a clear bit only means "start a record". */
  std::uint8_t direct = 0;
  /** `direct_send` / `direct_receive`: where `direct` allows it, the backend tries an operation of
      that direction at once also when the socket's `eager` bit of the direction is clear (epoll
      tries every send with nothing ahead of it). A sender's operation state, which does not set
      the eager bit, makes the call itself only then (`stoppable_operation`); the awaitables set
      the bit while they start, and need only `direct`. Set when the backend registers the
      descriptor. (Here it takes what would be padding.) */
  std::uint8_t tries = 0;
};

/** The index of `tickets` for `direct_send` (0) or `direct_receive` (1). */
[[nodiscard]] constexpr unsigned direct_index(std::uint8_t direction) noexcept {
  return direction >> 1;
}

/** What senet keeps with a socket's descriptor: the fd and the per-descriptor state of the
    io_context that registered it (epoll: its wait lists; null until the first wait).

    A socket holds one `descriptor`, and calls `release_descriptor` before it closes, releases or
    moves the fd (a moved-to socket starts unregistered).

    Threads: `fd` is written only by the socket's owner (open, assign, close, release, move) and
    read by the io_context's thread while an operation of the socket starts. `context_state` is
    written by the io_context's thread and read by the owner's thread: an atomic.
*/
struct descriptor {
  /** The file descriptor, or -1. */
  int fd = -1;
  /** Non-zero: a send of at least this many bytes in all goes zero-copy where the backend can
      (io_uring: IORING_OP_SEND_ZC / SENDMSG_ZC; `basic_socket::zero_copy_threshold`), and is never
      made directly. Kept across close and open, moved with the socket. (Here, beside `fd`, it
      fills what would be padding.) */
  std::uint32_t zero_copy_threshold = 0;
  /** Owned by the io core; opaque to sockets. Null until an io_context registers the descriptor. */
  state_pointer context_state{};
  /** Set by `basic_socket::non_blocking(false)`: the socket's synchronous operations wait for
      readiness instead of reporting would_block. The fd itself stays `O_NONBLOCK`. */
  bool synchronous_blocking = false;
  /** Which operations try their system call in `start()` and complete there when they can
      (`eager_send`, `eager_receive`; set by `basic_socket::eager_send` / `eager_receive`). Kept
      across close and open, moved with the socket. */
  std::uint8_t eager = 0;
  /** Starts handed to a loop that has not taken them yet (see `start_tally`; here it takes what
      would be padding). */
  start_tally on_its_way{};
  /** Non-zero: accepts on this (listening) descriptor are served from a standing multishot
      accept, which queues up to this many connections (`basic_socket_acceptor::standing_accept`).
      Moved with the socket. */
  std::uint32_t accept_queue = 0;
  /** The io_context the last start counted in `on_its_way` was handed to (a `const io_context*`);
      meaningful while `on_its_way.count()` is not 0. One context: a socket's operations run on
      one context at a time (another refuses a socket registered with the first), so starts on
      their way to two at once are not settled for the first. */
  state_pointer handed_to{};
};

/** True when a send of `bytes` in all on `d` is to go zero-copy (`descriptor::zero_copy_threshold`):
    then it is never made directly, which would copy. */
[[nodiscard]] constexpr bool wants_zero_copy(const descriptor& d, std::size_t bytes) noexcept {
  return d.zero_copy_threshold != 0 && bytes >= d.zero_copy_threshold;
}

/** Called by a socket before it closes, releases or gives away `d.fd`: the io context that
    registered the descriptor forgets it, and completes every operation still waiting on it with
    `senet::error::operation_aborted`, also those whose start was handed to its loop and not
    taken yet (`start_tally`: they then complete there without reading the socket). Resets
    `d.context_state`. Cheap when `context_state` is null and no start is on its way (two loads).

    Thread safety: any thread, also while another thread runs the registering context. On that
    context's thread (inside a completion) the release is done at once. Otherwise it is handed to
    the context's thread and this call waits until it is done; when no thread runs the context,
    the caller does it itself (it takes the runner's role for that moment, see
    docs/design/io_core.md, "Threads"). It must not race with another use of the same descriptor
    (starting an operation on it, another release).
*/
void release_descriptor(descriptor& d) noexcept;

/** Completes every operation waiting on `d` in the context that registered it with -ECANCELED
    (`set_stopped()`), also those whose start was handed to its loop and not taken yet, leaving the
    descriptor open and registered. Nothing when `context_state` is null and no start is on its
    way. Threads: as `release_descriptor`. */
void cancel_descriptor(descriptor& d) noexcept;

}  // namespace senet::io::detail

#endif  // SENET_IO_DETAIL_DESCRIPTOR_HPP
