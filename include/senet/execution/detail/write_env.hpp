// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_DETAIL_WRITE_ENV_HPP
#define SENET_EXECUTION_DETAIL_WRITE_ENV_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/connect.hpp>
#include <senet/execution/env.hpp>
#include <senet/execution/get_completion_signatures.hpp>
#include <senet/execution/receiver.hpp>
#include <senet/execution/sender.hpp>

#include <concepts>
#include <type_traits>
#include <utility>

// write_env(sndr, extra) of [exec.write.env]: `sndr`, connected in the receiver's environment with
// the queries of `extra` put in front. Used by `on`; not a public algorithm here.
namespace senet::execution::detail {

template <class Extra, class Rcvr>
struct write_env_receiver {
  using receiver_concept = receiver_tag;
  Rcvr rcvr_;
  Extra extra_;

  template <class... Vs>
  void set_value(Vs&&... vs) && noexcept {
    execution::set_value(std::move(rcvr_), std::forward<Vs>(vs)...);
  }
  template <class E>
  void set_error(E&& e) && noexcept {
    execution::set_error(std::move(rcvr_), std::forward<E>(e));
  }
  void set_stopped() && noexcept { execution::set_stopped(std::move(rcvr_)); }

  env<Extra, env_of_t<Rcvr>> get_env() const noexcept {
    return env<Extra, env_of_t<Rcvr>>{extra_, execution::get_env(rcvr_)};
  }
};

template <class Sndr, class Extra>
struct write_env_sender {
  using sender_concept = sender_tag;

  template <class Self, class... Env>
  static constexpr auto get_completion_signatures() noexcept {
    return completion_sigs_t<copy_cvref_t<Self, Sndr>, env<Extra, Env...>>{};
  }

  template <class Rcvr>
  auto connect(Rcvr rcvr) && {
    return execution::connect(std::move(sndr_),
                              write_env_receiver<Extra, Rcvr>{std::move(rcvr), std::move(extra_)});
  }
  template <class Rcvr>
  requires std::copy_constructible<Sndr>
  auto connect(Rcvr rcvr) const& {
    return execution::connect(sndr_, write_env_receiver<Extra, Rcvr>{std::move(rcvr), extra_});
  }

  decltype(auto) get_env() const noexcept { return execution::get_env(sndr_); }

  Sndr sndr_;
  Extra extra_;
};

template <class Sndr, class Extra>
constexpr write_env_sender<std::decay_t<Sndr>, Extra> write_env(Sndr&& sndr, Extra extra) {
  return {std::forward<Sndr>(sndr), std::move(extra)};
}

}  // namespace senet::execution::detail

#endif  // SENET_EXECUTION_DETAIL_WRITE_ENV_HPP
