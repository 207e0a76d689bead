// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_RECEIVER_HPP
#define SENET_EXECUTION_RECEIVER_HPP

#include <senet/execution/completion_functions.hpp>
#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/env.hpp>

#include <concepts>
#include <type_traits>

namespace senet::execution {

// [exec.recv.concepts]

/** The concept tag of receivers: a receiver declares
    `using receiver_concept = senet::execution::receiver_tag;` (deriving from `receiver_tag` works too). */
struct receiver_tag {
  using receiver_concept = receiver_tag;
};

/// The P2300 spelling of `receiver_tag`.
using receiver_t = receiver_tag;

namespace detail {
template <class Rcvr>
concept has_receiver_concept = std::derived_from<typename Rcvr::receiver_concept, receiver_tag>;
}  // namespace detail

/// Whether `Rcvr` opted into being a receiver.
template <class Rcvr>
inline constexpr bool enable_receiver = detail::has_receiver_concept<Rcvr>;

/** The callback half of an operation: it receives the result on one of its completion members
    `set_value(Vs...) && noexcept`, `set_error(E) && noexcept`, `set_stopped() && noexcept`, and provides an
    environment with `get_env() const noexcept`.

    Syntactic requirements: `Rcvr::receiver_concept` derives from `receiver_tag`; `get_env(rcvr)` is valid;
    the decayed type is nothrow move-constructible and constructible from `Rcvr`.
*/
template <class Rcvr>
concept receiver = enable_receiver<std::remove_cvref_t<Rcvr>> &&
    requires(std::remove_cvref_t<Rcvr> const& rcvr) {
  { get_env(rcvr) } -> queryable;
} && std::is_nothrow_move_constructible_v<std::remove_cvref_t<Rcvr>> &&
    std::constructible_from<std::remove_cvref_t<Rcvr>, Rcvr>;

namespace detail {

template <class Rcvr, class Sig>
inline constexpr bool accepts_completion = false;
template <class Rcvr, class Tag, class... Args>
inline constexpr bool accepts_completion<Rcvr, Tag(Args...)> = std::is_invocable_v<Tag, Rcvr, Args...>;

template <class Rcvr, class Sigs>
inline constexpr bool accepts_completions = false;
template <class Rcvr, class... Sigs>
inline constexpr bool accepts_completions<Rcvr, completion_signatures<Sigs...>> =
    (accepts_completion<Rcvr, Sigs> && ...);

// Instantiated once per signature by connect, so that the diagnostic's context names the signature.
template <class Rcvr, class Sig>
struct check_receiver_accepts {
  static constexpr bool check() noexcept {
    static_assert(
        accepts_completion<Rcvr, Sig>,
        "senet::execution::connect: the receiver does not accept the completion signature "
        "'Sig' of this instantiation (it needs the matching noexcept set_value/set_error/set_stopped "
        "member)");
    return true;
  }
};

template <class Rcvr, class... Sigs>
constexpr void check_receiver_of(completion_signatures<Sigs...>*) noexcept {
  (check_receiver_accepts<Rcvr, Sigs>::check() && ...);
}

}  // namespace detail

/** A receiver that accepts every completion in `Completions` (a `completion_signatures<...>`). */
template <class Rcvr, class Completions>
concept receiver_of = receiver<Rcvr> && detail::accepts_completions<std::remove_cvref_t<Rcvr>, Completions>;

}  // namespace senet::execution

#endif  // SENET_EXECUTION_RECEIVER_HPP
