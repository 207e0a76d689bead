// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_REPEAT_EFFECT_UNTIL_HPP
#define SENET_EXECUTION_REPEAT_EFFECT_UNTIL_HPP

#include <senet/config.hpp>
#include <senet/execution.hpp>
#include <senet/execution/detail/repeat.hpp>

#include <type_traits>
#include <utility>

namespace senet::execution_detail::repeat {

/** `repeat_effect_until`: runs a sender again and again until a condition holds, without
    recursion and without allocating; the loop for accept and echo loops.

    - `repeat_effect_until(sndr)` (stdexec's `exec::repeat_effect_until`): `sndr` completes with
      one value convertible to `bool`; `true` ends the loop.
    - `repeat_effect_until(sndr, pred)` (libunifex's form): after each value completion of `sndr`
      (its values are ignored), `pred()` is called; `true` ends the loop. `pred` is kept in the
      operation state and called as an lvalue, so it may keep state across steps.
    - Pipeable: `sndr | repeat_effect_until()`, `sndr | repeat_effect_until(pred)`.

    Each step connects `sndr` again, as an lvalue (the sender is kept, not moved from), in place
    in the operation state, so `sndr` must be connectable as an lvalue; a sender that keeps
    references to your state (buffers, sockets) sees their current value at each step.

    Completion signatures: `set_value_t()` when the condition holds; every `set_error_t(E)` of
    `sndr` (decayed), plus `set_error_t(std::exception_ptr)` when connecting `sndr`, converting
    its value or calling `pred` may throw; `set_stopped_t()`.
    An error or a stop of a step ends the loop with that completion.
    Cancellation: the receiver's stop token reaches every step, and is checked between steps: a
    stop requested while steps complete at once still ends the loop with `set_stopped()`.
    Environment: every step's is the receiver's. One that is a small value (16 bytes at most,
    copied without throwing, as a scope's token with a scheduler is) is looked up once, at
    connect, and kept, so that a step's operations need not ask every receiver above the loop.
    Allocation: none. A step that completes inside its own `start()` is continued by a loop, not
    by a nested call, so the stack does not grow with the number of steps.
    Thread safety: steps may complete on any thread; the next step starts on that thread.
*/
struct repeat_effect_until_t {
  template <ex::sender Sndr>
  [[nodiscard]] auto operator()(Sndr&& sndr) const {
    return sender<std::decay_t<Sndr>, until_value>{std::forward<Sndr>(sndr), {}};
  }

  template <ex::sender Sndr, class Pred>
  requires(!ex::sender<Pred>) && std::is_invocable_v<std::decay_t<Pred>&> [[nodiscard]] auto operator()(
                                     Sndr&& sndr, Pred&& pred) const {
    return sender<std::decay_t<Sndr>, until_pred<std::decay_t<Pred>>>{std::forward<Sndr>(sndr),
                                                                      {std::forward<Pred>(pred)}};
  }

  /** `sndr | repeat_effect_until()`. */
  [[nodiscard]] auto operator()() const { return closure<repeat_effect_until_t>{}; }

  /** `sndr | repeat_effect_until(pred)`. */
  template <class Pred>
  requires(!ex::sender<Pred>) && std::is_invocable_v<std::decay_t<Pred>&> [[nodiscard]] auto operator()(
                                     Pred&& pred) const {
    return closure<repeat_effect_until_t, std::decay_t<Pred>>{{std::forward<Pred>(pred)}};
  }
};

}  // namespace senet::execution_detail::repeat

// The name lives in the namespace that `senet::ex` names, with either core.
#if SENET_USE_STDEXEC
namespace senet::stdexec_names {
#else
namespace senet::execution {
#endif
using senet::execution_detail::repeat::repeat_effect_until_t;
/// The repeat_effect_until sender adaptor.
inline constexpr repeat_effect_until_t repeat_effect_until{};
}

#endif  // SENET_EXECUTION_REPEAT_EFFECT_UNTIL_HPP
