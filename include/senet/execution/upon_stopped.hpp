// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_UPON_STOPPED_HPP
#define SENET_EXECUTION_UPON_STOPPED_HPP

#include <senet/execution/detail/then.hpp>

namespace senet::execution {

// [exec.then]

/** `upon_stopped(sndr, f)`: a sender that, when `sndr` completes with `set_stopped()`, calls `f()` and
   completes with `set_value(f())` (`set_value()` when `f` returns void).

    Completion signatures: `set_stopped_t()` of `sndr` becomes `set_value_t(invoke_result_t<F>)`; the values
   and errors of `sndr` unchanged; `set_error_t(std::exception_ptr)` when `f` may throw. Cancellation: turns a
   stopped completion into a value. Pipeable: `sndr | upon_stopped(f)`.
*/
struct upon_stopped_t : detail::then_algorithm<set_stopped_t, upon_stopped_t> {};

/// The upon_stopped sender adaptor.
inline constexpr upon_stopped_t upon_stopped{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_UPON_STOPPED_HPP
