// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_UPON_ERROR_HPP
#define SENET_EXECUTION_UPON_ERROR_HPP

#include <senet/execution/detail/then.hpp>

namespace senet::execution {

// [exec.then]

/** `upon_error(sndr, f)`: a sender that, when `sndr` completes with `set_error(e)`, calls `f(e)` and
   completes with `set_value(f(e))` (`set_value()` when `f` returns void).

    Completion signatures: for each `set_error_t(E)` of `sndr`, `set_value_t(invoke_result_t<F, E>)`; the
   values and `set_stopped_t()` of `sndr` unchanged; `set_error_t(std::exception_ptr)` when `f` may throw.
    Cancellation: none of its own. Pipeable: `sndr | upon_error(f)`.
*/
struct upon_error_t : detail::then_algorithm<set_error_t, upon_error_t> {};

/// The upon_error sender adaptor.
inline constexpr upon_error_t upon_error{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_UPON_ERROR_HPP
