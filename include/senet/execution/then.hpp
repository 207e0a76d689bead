// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_THEN_HPP
#define SENET_EXECUTION_THEN_HPP

#include <senet/execution/detail/then.hpp>

namespace senet::execution {

// [exec.then]

/** `then(sndr, f)`: a sender that calls `f(vs...)` with the values of `sndr` and completes with
    `set_value(f(vs...))` (`set_value()` when `f` returns void).

    Completion signatures: for each `set_value_t(Vs...)` of `sndr`, `set_value_t(invoke_result_t<F, Vs...>)`;
    the errors and `set_stopped_t()` of `sndr` unchanged; `set_error_t(std::exception_ptr)` when `f` may throw
    (an exception thrown by `f` is sent as `set_error(std::current_exception())`).
    Cancellation: none of its own; the stop request reaches `sndr` through the receiver's environment.
    `f` is called on the thread (and scheduler) on which `sndr` completes. Pipeable: `sndr | then(f)`.
*/
struct then_t : detail::then_algorithm<set_value_t, then_t> {};

/// The then sender adaptor.
inline constexpr then_t then{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_THEN_HPP
