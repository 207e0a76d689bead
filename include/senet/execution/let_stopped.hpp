// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_LET_STOPPED_HPP
#define SENET_EXECUTION_LET_STOPPED_HPP

#include <senet/execution/detail/let.hpp>

namespace senet::execution {

// [exec.let]

/** `let_stopped(sndr, f)`: a sender that, when `sndr` completes with `set_stopped()`, calls `f()` and
    starts the sender it returns.

    Completion signatures: the values and errors of `sndr`; the completions of `invoke_result_t<F>`;
    plus `set_error_t(std::exception_ptr)` when calling `f` or connecting may throw.
    Cancellation: the receiver's stop token reaches both senders (a stop request that stopped `sndr` is
    usually still visible to the second one). Pipeable: `sndr | let_stopped(f)`.
*/
struct let_stopped_t : detail::let_algorithm<set_stopped_t, let_stopped_t> {};

/// The let_stopped sender adaptor.
inline constexpr let_stopped_t let_stopped{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_LET_STOPPED_HPP
