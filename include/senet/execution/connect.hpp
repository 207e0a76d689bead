// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_CONNECT_HPP
#define SENET_EXECUTION_CONNECT_HPP

#include <senet/execution/env.hpp>
#include <senet/execution/get_completion_signatures.hpp>
#include <senet/execution/operation_state.hpp>
#include <senet/execution/receiver.hpp>

#include <type_traits>
#include <utility>

namespace senet::execution {

// [exec.connect]

/** `connect(sndr, rcvr)`: joins a sender and a receiver into an operation state, by calling
    `sndr.connect(rcvr)`.

    Checks at compile time that the sender's completion signatures in the receiver's environment can be
    computed, and that the receiver accepts each of them; a failure names the problem.
*/
struct connect_t {
  template <class Sndr, class Rcvr>
  requires requires(Sndr&& sndr, Rcvr&& rcvr) { std::forward<Sndr>(sndr).connect(std::forward<Rcvr>(rcvr)); }
  constexpr auto operator()(Sndr&& sndr, Rcvr&& rcvr) const
      noexcept(noexcept(std::forward<Sndr>(sndr).connect(std::forward<Rcvr>(rcvr))))
          -> decltype(std::forward<Sndr>(sndr).connect(std::forward<Rcvr>(rcvr))) {
    using rcvr_t = std::remove_cvref_t<Rcvr>;
    using sigs_t = detail::completion_sigs_t<Sndr, env_of_t<rcvr_t>>;
    if constexpr (!detail::valid_completion_signatures<sigs_t>) {
      detail::report_invalid<sigs_t>();
    } else {
      detail::check_receiver_of<rcvr_t>(static_cast<sigs_t*>(nullptr));
    }
    static_assert(operation_state<decltype(std::forward<Sndr>(sndr).connect(std::forward<Rcvr>(rcvr)))>,
                  "senet::execution::connect: sndr.connect(rcvr) must return an operation state");
    return std::forward<Sndr>(sndr).connect(std::forward<Rcvr>(rcvr));
  }
};

/// The connect function object.
inline constexpr connect_t connect{};

/// The operation state type of `connect(declval<Sndr>(), declval<Rcvr>())`.
template <class Sndr, class Rcvr>
using connect_result_t = decltype(connect(std::declval<Sndr>(), std::declval<Rcvr>()));

/** A sender that can be connected to `Rcvr`: its signatures are known in the receiver's environment and
    the receiver accepts all of them. */
template <class Sndr, class Rcvr>
concept sender_to = sender_in<Sndr, env_of_t<Rcvr>> &&
    receiver_of<Rcvr, detail::completion_sigs_t<Sndr, env_of_t<Rcvr>>> && requires(Sndr&& sndr, Rcvr&& rcvr) {
  connect(std::forward<Sndr>(sndr), std::forward<Rcvr>(rcvr));
};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_CONNECT_HPP
