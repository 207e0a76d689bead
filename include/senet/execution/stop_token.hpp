// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_STOP_TOKEN_HPP
#define SENET_EXECUTION_STOP_TOKEN_HPP

#include <atomic>
#include <concepts>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <utility>

namespace senet::execution {

// [stoptoken.concepts]

namespace detail {
template <template <class> class>
struct check_type_alias_exists;
}  // namespace detail

/** The callback type that a stop token of type `Token` registers `CallbackFn` with:
    `Token::callback_type<CallbackFn>`. */
template <class Token, class CallbackFn>
using stop_callback_for_t = typename Token::template callback_type<CallbackFn>;

/** A token that can be asked whether a stop was requested, and that can register callbacks
    (`stop_callback_for_t<Token, Fn>`) run when a stop is requested.

    Syntactic requirements: `tok.stop_requested()` and `tok.stop_possible()` are noexcept and return
    `bool`; `Token::callback_type` is an alias template; tokens are copyable and equality comparable.
*/
template <class Token>
concept stoppable_token = requires(Token const tok) {
  typename detail::check_type_alias_exists<Token::template callback_type>;
  { tok.stop_requested() }
  noexcept->std::same_as<bool>;
  { tok.stop_possible() }
  noexcept->std::same_as<bool>;
  { Token(tok) }
  noexcept;
}
&&std::copyable<Token>&& std::equality_comparable<Token>;

/** A stoppable token on which a stop can never be requested (`Token::stop_possible()` is a
    constant `false`). */
template <class Token>
concept unstoppable_token = stoppable_token<Token> && requires {
  requires std::bool_constant<(!Token::stop_possible())>::value;
};

/** `CallbackFn` can be registered on a `Token` by constructing `stop_callback_for_t<Token,
    CallbackFn>` from a token and an `Init`. */
template <class CallbackFn, class Token, class Init = CallbackFn>
concept stoppable_callback_for =
    std::invocable<CallbackFn> && std::constructible_from<CallbackFn, Init> && requires {
  typename stop_callback_for_t<Token, CallbackFn>;
} && std::constructible_from<stop_callback_for_t<Token, CallbackFn>, Token const&, Init>;

// [stoptoken.never]

/** A stop token on which a stop is never requested. Registering a callback does nothing.

    Thread safety: stateless; every member may be used concurrently.
*/
class never_stop_token {
  struct callback_impl {
    template <class Init>
    explicit callback_impl(never_stop_token, Init&&) noexcept {}
  };

 public:
  /// The (empty) callback registration type: it never invokes the callback.
  template <class CallbackFn>
  using callback_type = callback_impl;

  /// Always `false`.
  static constexpr bool stop_requested() noexcept { return false; }
  /// Always `false`.
  static constexpr bool stop_possible() noexcept { return false; }

  friend constexpr bool operator==(never_stop_token, never_stop_token) noexcept = default;
};

// [stopsource.inplace]

class inplace_stop_token;
class inplace_stop_source;
template <class CallbackFn>
class inplace_stop_callback;

namespace detail {

// The part of an inplace_stop_callback that the source links into its list of callbacks.
struct inplace_stop_callback_base {
  using execute_fn = void(inplace_stop_callback_base*) noexcept;

  inplace_stop_callback_base(inplace_stop_source const* source, execute_fn* execute) noexcept
      : source_(source), execute_(execute) {}

  void execute() noexcept { execute_(this); }

  // Links the callback into the source's list; runs it now instead when a stop was requested.
  void register_callback() noexcept;
  // Unlinks the callback; waits for it when another thread is running it.
  void deregister_callback() noexcept;
  // The part of deregister_callback for a callback that request_stop took off the list (the lock
  // held, `stop_bits` to unlock with).
  // (A template only so that a header may define it out of line without `inline`, which GCC does
  // not take beside `noinline`.)
  template <class = void>
  [[gnu::noinline]] void deregister_after_run(std::uint8_t stop_bits) noexcept;

  inplace_stop_source const* source_;
  execute_fn* execute_;
  inplace_stop_callback_base* next_ = nullptr;
  inplace_stop_callback_base** prev_ = nullptr;
  // Once request_stop took the callback off the list: while it runs, a flag on the stack of the
  // running thread, which the callback's destructor sets when it runs inside the callback itself;
  // `completed()` once it returned (the destructor on another thread waits for that). One word for
  // both, so that a callback is five pointers.
  std::atomic<bool*> run_state_{nullptr};

  // The value of `run_state_` after the callback returned: an address no stack flag has.
  [[nodiscard]] static bool* completed() noexcept {
    static bool tag = false;
    return &tag;
  }
};

}  // namespace detail

/** A stop source that keeps its state in itself (no allocation): the source of
    `inplace_stop_token`s.

    A stop request runs every registered callback once, on the requesting thread, in the reverse order
    of registration. The source must outlive its tokens and the callbacks registered through them.
    Thread safety: every member may be called concurrently; `request_stop()` may race with callback
    registration and deregistration. Destroying an `inplace_stop_callback` while its callback runs on
    another thread waits for the callback to return; destroying it from inside the callback itself
    does not wait.
*/
class inplace_stop_source {
 public:
  inplace_stop_source() noexcept = default;
  inplace_stop_source(inplace_stop_source const&) = delete;
  inplace_stop_source& operator=(inplace_stop_source const&) = delete;
  ~inplace_stop_source() = default;

  /// A token that observes this source.
  [[nodiscard]] inplace_stop_token get_token() const noexcept;

  /// Always `true`: an in-place source always holds stop state.
  static constexpr bool stop_possible() noexcept { return true; }

  /// Whether a stop has been requested.
  [[nodiscard]] bool stop_requested() const noexcept {
    return (state_.load(std::memory_order_acquire) & stop_requested_bit) != 0;
  }

  /** Requests a stop: runs the registered callbacks on this thread. Returns `true` when this call made
      the request, `false` when a stop had already been requested. */
  bool request_stop() noexcept {
    if (!lock_unless_stopped(true)) {
      return false;
    }
    notifying_thread_ = std::this_thread::get_id();
    while (callbacks_ != nullptr) {
      detail::inplace_stop_callback_base* cb = callbacks_;
      callbacks_ = cb->next_;
      if (callbacks_ != nullptr) {
        callbacks_->prev_ = &callbacks_;
      }
      cb->prev_ = nullptr;  // marks it as taken off the list (running or run)
      bool removed_during_callback = false;
      cb->run_state_.store(&removed_during_callback, std::memory_order_relaxed);
      unlock(stop_requested_bit);
      cb->execute();
      if (!removed_during_callback) {
        // The last access to *cb: a destructor waiting on another thread may free it right after.
        cb->run_state_.store(detail::inplace_stop_callback_base::completed(), std::memory_order_release);
      }
      lock();
    }
    unlock(stop_requested_bit);
    return true;
  }

 private:
  friend struct detail::inplace_stop_callback_base;

  static constexpr std::uint8_t stop_requested_bit = 1;
  static constexpr std::uint8_t locked_bit = 2;

  // Takes the spin lock that guards the callback list. Returns `false`, without locking, when a stop
  // was already requested; with `request` it sets the stop-requested bit in the same step.
  bool lock_unless_stopped(bool request) const noexcept {
    std::uint8_t old = state_.load(std::memory_order_relaxed);
    for (;;) {
      if ((old & stop_requested_bit) != 0) {
        return false;
      }
      if ((old & locked_bit) != 0) {
        std::this_thread::yield();
        old = state_.load(std::memory_order_relaxed);
        continue;
      }
      std::uint8_t const desired = old | locked_bit | (request ? stop_requested_bit : 0);
      if (state_.compare_exchange_weak(old, desired, std::memory_order_acq_rel, std::memory_order_relaxed)) {
        return true;
      }
    }
  }

  // Takes the lock whatever the stop state; returns the state before locking.
  std::uint8_t lock() const noexcept {
    std::uint8_t old = state_.load(std::memory_order_relaxed);
    for (;;) {
      if ((old & locked_bit) != 0) {
        std::this_thread::yield();
        old = state_.load(std::memory_order_relaxed);
        continue;
      }
      if (state_.compare_exchange_weak(old, old | locked_bit, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
        return old;
      }
    }
  }

  void unlock(std::uint8_t stop_bits) const noexcept { state_.store(stop_bits, std::memory_order_release); }

  mutable std::atomic<std::uint8_t> state_{0};
  mutable detail::inplace_stop_callback_base* callbacks_ = nullptr;
  std::thread::id notifying_thread_{};
};

/** A token observing an `inplace_stop_source` (or none, when default-constructed).

    Registering a callback: `inplace_stop_callback cb(token, fn);` — `fn()` runs when a stop is requested,
    immediately in the constructor when it already was.
    Thread safety: a token is a pointer; copies may be used on any thread.
*/
class inplace_stop_token {
 public:
  /// The callback registration type for this token.
  template <class CallbackFn>
  using callback_type = inplace_stop_callback<CallbackFn>;

  /// A token with no source: `stop_possible()` is `false`.
  inplace_stop_token() noexcept = default;

  /// Whether a stop was requested on the source.
  [[nodiscard]] bool stop_requested() const noexcept {
    return source_ != nullptr && source_->stop_requested();
  }
  /// Whether the token has a source (a stop can be requested).
  [[nodiscard]] bool stop_possible() const noexcept { return source_ != nullptr; }

  void swap(inplace_stop_token& other) noexcept { std::swap(source_, other.source_); }

  friend bool operator==(inplace_stop_token const&, inplace_stop_token const&) noexcept = default;

 private:
  friend class inplace_stop_source;
  template <class CallbackFn>
  friend class inplace_stop_callback;

  explicit inplace_stop_token(inplace_stop_source const* source) noexcept : source_(source) {}

  inplace_stop_source const* source_ = nullptr;
};

inline inplace_stop_token inplace_stop_source::get_token() const noexcept {
  return inplace_stop_token{this};
}

/** Registers `CallbackFn` with an `inplace_stop_token` for its lifetime.

    The callback runs once, on the thread that requests the stop (or in this constructor, when a stop was
    already requested). The destructor deregisters it: when the callback is running on another thread the
    destructor waits for it to return; from inside the callback itself it returns at once.
    Immovable; the token's source must outlive it.
*/
template <class CallbackFn>
class inplace_stop_callback : private detail::inplace_stop_callback_base {
 public:
  using callback_type = CallbackFn;

  template <class Init>
  requires std::constructible_from<CallbackFn, Init>
  explicit inplace_stop_callback(inplace_stop_token token,
                                 Init&& init) noexcept(std::is_nothrow_constructible_v<CallbackFn, Init>)
      : detail::inplace_stop_callback_base(token.source_, &execute_impl),
        callback_(std::forward<Init>(init)) {
    register_callback();
  }

  inplace_stop_callback(inplace_stop_callback const&) = delete;
  inplace_stop_callback& operator=(inplace_stop_callback const&) = delete;

  ~inplace_stop_callback() { deregister_callback(); }

 private:
  static void execute_impl(detail::inplace_stop_callback_base* base) noexcept {
    std::move(static_cast<inplace_stop_callback*>(base)->callback_)();
  }

  CallbackFn callback_;
};

template <class CallbackFn>
inplace_stop_callback(inplace_stop_token, CallbackFn) -> inplace_stop_callback<CallbackFn>;

namespace detail {

inline void inplace_stop_callback_base::register_callback() noexcept {
  if (source_ == nullptr) {
    return;
  }
  if (!source_->lock_unless_stopped(false)) {
    // A stop was already requested: run now, and remember that there is nothing to deregister.
    source_ = nullptr;
    execute();
    return;
  }
  next_ = source_->callbacks_;
  prev_ = &source_->callbacks_;
  if (next_ != nullptr) {
    next_->prev_ = &next_;
  }
  source_->callbacks_ = this;
  source_->unlock(0);
}

// GCC 12 at -O1 and above reports source_ as "maybe uninitialized" when a callback is destroyed through
// std::optional (a known false positive of its std::optional analysis); source_ is always set by the
// constructor.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
inline void inplace_stop_callback_base::deregister_callback() noexcept {
  if (source_ == nullptr) {
    return;
  }
  std::uint8_t const stop_bits = source_->lock() & inplace_stop_source::stop_requested_bit;
  if (prev_ != nullptr) {
    // Still registered: the callback has not run and now never will.
    *prev_ = next_;
    if (next_ != nullptr) {
      next_->prev_ = prev_;
    }
    source_->unlock(stop_bits);
    return;
  }
  deregister_after_run(stop_bits);
}

// Out of line: every deregistration of a callback that never ran is the path above.
template <class>
void inplace_stop_callback_base::deregister_after_run(std::uint8_t stop_bits) noexcept {
  std::thread::id const notifier = source_->notifying_thread_;
  source_->unlock(stop_bits);
  // The callback has run or is running (it was taken off the list by request_stop).
  if (notifier == std::this_thread::get_id()) {
    // On the requesting thread: either inside the callback (tell request_stop not to touch this object
    // afterwards) or after it returned (nothing to do).
    bool* running = run_state_.load(std::memory_order_relaxed);
    if (running != nullptr && running != completed()) {
      *running = true;
    }
  } else {
    // Callbacks are short (they forward a stop request), so a yielding spin is enough; it also avoids
    // touching the flag's memory from the notifying side after the waiter may have freed it.
    while (run_state_.load(std::memory_order_acquire) != completed()) {
      std::this_thread::yield();
    }
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace detail

}  // namespace senet::execution

#endif  // SENET_EXECUTION_STOP_TOKEN_HPP
