// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_LET_VALUE_HPP
#define SENET_EXECUTION_LET_VALUE_HPP

#include <senet/execution/detail/let.hpp>

namespace senet::execution {

// [exec.let]

/** `let_value(sndr, f)`: a sender that, when `sndr` completes with `set_value(vs...)`, stores the values,
    calls `f(vs...)` with lvalues of the stored copies, and starts the sender `f` returns; it completes
    as that sender does.

    Completion signatures: the errors and `set_stopped_t()` of `sndr`; for each `set_value_t(Vs...)` of
    `sndr`, the completions of `invoke_result_t<F, decay_t<Vs>&...>` in the receiver's environment; plus
    `set_error_t(std::exception_ptr)` when copying the values, calling `f` or connecting may throw.
    Cancellation: the receiver's stop token reaches `sndr` and then the sender `f` returns.
    The stored values live until the operation completes, so the returned sender may refer to them.
    No allocation: the stored values and the second operation live in the operation state.
    Pipeable: `sndr | let_value(f)`.
*/
struct let_value_t : detail::let_algorithm<set_value_t, let_value_t> {};

/// The let_value sender adaptor.
inline constexpr let_value_t let_value{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_LET_VALUE_HPP
