// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_REPEAT_EFFECT_HPP
#define SENET_EXECUTION_REPEAT_EFFECT_HPP

#include <senet/config.hpp>
#include <senet/execution.hpp>
#include <senet/execution/detail/repeat.hpp>

#include <type_traits>
#include <utility>

namespace senet::execution_detail::repeat {

/** `repeat_effect(sndr)`: runs `sndr` again and again, forever, until a step fails or stops
    (stdexec's `exec::repeat_effect`). A server's accept loop that ends only when its scope is
    stopped. Pipeable: `sndr | repeat_effect()`.

    Each step connects `sndr` again, as an lvalue, in place in the operation state; the values of
    its value completions are ignored.

    Completion signatures: every `set_error_t(E)` of `sndr` (decayed), plus
    `set_error_t(std::exception_ptr)` when connecting `sndr` may throw; `set_stopped_t()`. Never
    `set_value`.
    Cancellation: the receiver's stop token reaches every step and is checked between steps.
    Allocation: none; steps that complete inline are looped over, never recursed into (see
    `repeat_effect_until`).
    Thread safety: steps may complete on any thread; the next step starts on that thread.
*/
struct repeat_effect_t {
  template <ex::sender Sndr>
  [[nodiscard]] auto operator()(Sndr&& sndr) const {
    return sender<std::decay_t<Sndr>, forever>{std::forward<Sndr>(sndr), {}};
  }

  /** `sndr | repeat_effect()`. */
  [[nodiscard]] auto operator()() const { return closure<repeat_effect_t>{}; }
};

}  // namespace senet::execution_detail::repeat

// The name lives in the namespace that `senet::ex` names, with either core.
#if SENET_USE_STDEXEC
namespace senet::stdexec_names {
#else
namespace senet::execution {
#endif
using senet::execution_detail::repeat::repeat_effect_t;
/// The repeat_effect sender adaptor.
inline constexpr repeat_effect_t repeat_effect{};
}

#endif  // SENET_EXECUTION_REPEAT_EFFECT_HPP
