// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_SENDER_HPP
#define SENET_EXECUTION_SENDER_HPP

#include <senet/execution/env.hpp>

#include <concepts>
#include <type_traits>

namespace senet::execution {

// [exec.snd.concepts]

/** The concept tag of senders: a sender declares `using sender_concept = senet::execution::sender_tag;`
    (deriving from `sender_tag` works too). */
struct sender_tag {
  using sender_concept = sender_tag;
};

/// The P2300 spelling of `sender_tag`.
using sender_t = sender_tag;

namespace detail {
template <class Sndr>
concept has_sender_concept = std::derived_from<typename Sndr::sender_concept, sender_tag>;
}  // namespace detail

/// Whether `Sndr` opted into being a sender (its `sender_concept` derives from `sender_tag`).
template <class Sndr>
inline constexpr bool enable_sender = detail::has_sender_concept<Sndr>;

/** A type that describes an asynchronous operation: it has a `sender_concept` tag, attributes
    (`get_env(sndr)`), and is movable.

    Syntactic requirements: `Sndr::sender_concept` derives from `sender_tag`; `get_env(sndr)` is valid;
    the decayed type is move-constructible and constructible from `Sndr`.
    Semantic requirements: `connect(sndr, rcvr)` gives an operation state that, once started, completes
    `rcvr` exactly once with one of the sender's completion signatures.
*/
template <class Sndr>
concept sender = enable_sender<std::remove_cvref_t<Sndr>> && requires(std::remove_cvref_t<Sndr> const& sndr) {
  { get_env(sndr) } -> queryable;
} && std::move_constructible<std::remove_cvref_t<Sndr>> &&
    std::constructible_from<std::remove_cvref_t<Sndr>, Sndr>;

}  // namespace senet::execution

#endif  // SENET_EXECUTION_SENDER_HPP
