// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_LET_ERROR_HPP
#define SENET_EXECUTION_LET_ERROR_HPP

#include <senet/execution/detail/let.hpp>

namespace senet::execution {

// [exec.let]

/** `let_error(sndr, f)`: a sender that, when `sndr` completes with `set_error(e)`, stores `e`, calls
    `f(e)` with an lvalue of the stored copy, and starts the sender `f` returns.

    Completion signatures: the values and `set_stopped_t()` of `sndr`; for each `set_error_t(E)` of `sndr`,
    the completions of `invoke_result_t<F, decay_t<E>&>`; plus `set_error_t(std::exception_ptr)` when
    copying, calling `f` or connecting may throw.
    Cancellation: the receiver's stop token reaches both senders. Pipeable: `sndr | let_error(f)`.
*/
struct let_error_t : detail::let_algorithm<set_error_t, let_error_t> {};

/// The let_error sender adaptor.
inline constexpr let_error_t let_error{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_LET_ERROR_HPP
