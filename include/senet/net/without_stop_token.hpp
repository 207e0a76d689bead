// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_WITHOUT_STOP_TOKEN_HPP
#define SENET_NET_WITHOUT_STOP_TOKEN_HPP

#include <concepts>
#include <type_traits>
#include <utility>

#include <senet/execution.hpp>
#include <senet/net/detail/sender_support.hpp>

namespace senet::net {

namespace detail {

template <class Env>
using without_stop_token_env = stop_token_env<Env, ex::never_stop_token>;

template <class Rcvr>
struct without_stop_token_receiver {
  using receiver_concept = ex::receiver_tag;
  Rcvr rcvr_;

  template <class... Args>
  void set_value(Args&&... args) && noexcept {
    ex::set_value(std::move(rcvr_), std::forward<Args>(args)...);
  }
  template <class Error>
  void set_error(Error&& err) && noexcept {
    ex::set_error(std::move(rcvr_), std::forward<Error>(err));
  }
  void set_stopped() && noexcept { ex::set_stopped(std::move(rcvr_)); }

  [[nodiscard]] without_stop_token_env<ex::env_of_t<Rcvr>> get_env() const noexcept {
    return {ex::get_env(rcvr_), ex::never_stop_token{}};
  }
};

template <class Sndr>
struct without_stop_token_sender {
  using sender_concept = ex::sender_tag;
  Sndr sndr_;

  template <class Self, class Env>
  using signatures_for =
      ex::completion_signatures_of_t<decltype(std::declval<Self>().sndr_), without_stop_token_env<Env>>;

  template <class Self, class Env>
  static consteval auto get_completion_signatures() {
    return signatures_for<Self, Env>{};
  }
  template <class Env>
  auto get_completion_signatures(const Env&) && -> signatures_for<without_stop_token_sender&&, Env> {
    return {};
  }
  template <class Env>
  auto get_completion_signatures(const Env&) const& -> signatures_for<const without_stop_token_sender&, Env> {
    return {};
  }

  template <class Rcvr>
  auto connect(Rcvr rcvr) && {
    return ex::connect(std::move(sndr_), without_stop_token_receiver<Rcvr>{std::move(rcvr)});
  }
  template <class Rcvr>
  requires std::copy_constructible<Sndr>
  auto connect(Rcvr rcvr) const& {
    return ex::connect(sndr_, without_stop_token_receiver<Rcvr>{std::move(rcvr)});
  }

  [[nodiscard]] decltype(auto) get_env() const noexcept { return ex::get_env(sndr_); }
};

}  // namespace detail

/** The adaptor of P2762 §4 that hides the stop token from its child: `without_stop_token(sndr)`
    completes exactly as `sndr` does (every channel is passed through unchanged), but `sndr` sees
    an environment whose `get_stop_token` is an `ex::never_stop_token`; every other query is
    forwarded.

    Use it where a stop request must not reach an operation (a final write that must finish), or
    to spare leaf operations the cost of registering stop callbacks when an enclosing algorithm
    (`when_all`, `when_any`) hands them a stoppable token they do not need.

    Also usable as `sndr | net::without_stop_token`.

    Completion signatures: those of `sndr` in the adapted environment.
    Cancellation: none reaches `sndr`; a stop request on the outer token is ignored.
    Thread safety: as for `sndr`.

    (stdexec's `stdexec::unstoppable` does the same; this one exists in `senet::net` so that code
    builds identically with senet's bundled execution core.)
*/
struct without_stop_token_t {
  template <ex::sender Sndr>
  auto operator()(Sndr&& sndr) const {
    return detail::without_stop_token_sender<std::decay_t<Sndr>>{std::forward<Sndr>(sndr)};
  }

  template <ex::sender Sndr>
  friend auto operator|(Sndr&& sndr, const without_stop_token_t& self) {
    return self(std::forward<Sndr>(sndr));
  }
};

inline constexpr without_stop_token_t without_stop_token{};

}  // namespace senet::net

#endif  // SENET_NET_WITHOUT_STOP_TOKEN_HPP
