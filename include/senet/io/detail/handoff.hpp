// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_DETAIL_HANDOFF_HPP
#define SENET_IO_DETAIL_HANDOFF_HPP

#include <senet/io/detail/operation.hpp>

#include <memory>
#include <mutex>

namespace senet::io {
class io_context;
}  // namespace senet::io

namespace senet::io::detail {

/** Where a thread senet does not run as an io_context (a getaddrinfo worker) hands a result back
    to an operation that waits for it on a context, safely even while the context is destroyed.

    The waiting operation enrolls a `handoff::waiter` (held in its operation state) with the
    handoff of its context (`handoff_of(ctx)`) under a key (the address of an object the other
    thread owns until it is done, such as its request), and gives the other thread a
    `shared_ptr` to the handoff (it outlives the context) and the key. Exactly one of three then
    claims the waiter, each under the handoff's mutex:
    - the other thread, with `claim_and_post(key, record)`: the waiter is unlinked and `record` is
      posted to the context (`post_remote`) while the context cannot go away; `record.complete_`
      then runs on the context's thread (with `result_ = -ECANCELED` if it is being destroyed);
    - the operation itself, with `withdraw(w)` (a stop request);
    - the context's destruction, with `detach()`: every waiter is unlinked and its
      `on_detached_` called on the destroying thread; from then on enrollments and claims fail.
    The other thread looks its key up among the waiters enrolled and uses the waiter (and the
    record) only when it finds it there, so the operation state may be gone by the time it looks;
    a key is unique while its owner lives, so a new operation state at the old address is never
    mistaken for the old one.

    `unbound_handoff()` is a handoff without a context, for an operation whose receiver has no
    senet scheduler: claims arbitrate between the other thread and a stop request alone.
*/
class handoff {
 public:
  struct waiter {
    waiter* prev_ = nullptr;
    waiter* next_ = nullptr;
    bool linked_ = false;
    /** What the other thread looks the waiter up by. */
    const void* key_ = nullptr;
    /** Called on the destroying thread when the context goes first; the waiter is unlinked. */
    void (*on_detached_)(waiter*) noexcept = nullptr;
  };

  /** A handoff for `ctx` (null: unbound). */
  explicit handoff(io_context* ctx) noexcept : ctx_(ctx) {}
  handoff(const handoff&) = delete;
  handoff& operator=(const handoff&) = delete;

  /** Enrolls `w`; false if the context is being (or was) destroyed. */
  bool enroll(waiter& w) noexcept;

  /** Unlinks `w` if it is still enrolled; true when the caller thereby claimed it. */
  bool withdraw(waiter& w) noexcept;

  /** Whether the waiter with `key` is still enrolled (no one claimed it). */
  [[nodiscard]] bool enrolled(const void* key) noexcept;

  /** Claims the waiter with `key` if it is still enrolled and, if `record` is not null and the
      handoff has a context, posts `record` to it before letting go of the mutex. Returns true
      when the caller claimed the waiter; then (and only then) `record` was used. */
  bool claim_and_post(const void* key, io_operation* record) noexcept;

  /** The context's destruction: claims every waiter and calls its `on_detached_` (outside the
      mutex, on the calling thread); later enrollments and claims fail. */
  void detach() noexcept;

 private:
  [[nodiscard]] waiter* find(const void* key) const noexcept;
  void unlink(waiter& w) noexcept;

  std::mutex mutex_;
  io_context* ctx_;
  bool detached_ = false;
  waiter* head_ = nullptr;
};

/** The handoff of `ctx` (src/senet/io/io_context.cpp); it is detached when `ctx` is destroyed. */
[[nodiscard]] std::shared_ptr<handoff> handoff_of(io_context& ctx) noexcept;

/** A process-wide handoff without a context. Throws std::bad_alloc if it cannot be built (on
    first use only). */
[[nodiscard]] std::shared_ptr<handoff> unbound_handoff();

}  // namespace senet::io::detail

#endif  // SENET_IO_DETAIL_HANDOFF_HPP
