// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_ON_HPP
#define SENET_EXECUTION_ON_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/connect.hpp>
#include <senet/execution/continues_on.hpp>
#include <senet/execution/detail/write_env.hpp>
#include <senet/execution/env.hpp>
#include <senet/execution/get_completion_signatures.hpp>
#include <senet/execution/operation_state.hpp>
#include <senet/execution/queries.hpp>
#include <senet/execution/scheduler.hpp>
#include <senet/execution/sender.hpp>
#include <senet/execution/sender_adaptor_closure.hpp>
#include <senet/execution/starts_on.hpp>

#include <type_traits>
#include <utility>

namespace senet::execution {

namespace detail {

template <class Env>
inline constexpr bool env_has_scheduler = std::is_invocable_v<get_scheduler_t, Env const&>;

template <class Attrs>
inline constexpr bool has_value_completion_scheduler =
    std::is_invocable_v<get_completion_scheduler_t<set_value_t>, Attrs const&>;

template <class Tag>
struct on_needs_env {
  static constexpr void raise() noexcept {
    static_assert(always_false<Tag>,
                  "senet::execution::on: the completion signatures depend on the receiver's environment "
                  "(on returns to the scheduler it finds there)");
  }
};

template <class Env>
struct on_no_scheduler_to_return_to {
  static constexpr void raise() noexcept {
    static_assert(always_false<Env>,
                  "senet::execution::on: the receiver's environment has no scheduler to return to "
                  "(get_scheduler(env) is not valid; see Env in this instantiation). Use starts_on(sch, "
                  "sndr) to run sndr on sch without coming back");
  }
};

// What connect returns after the diagnostic above (never started).
struct on_invalid_operation {
  using operation_state_concept = operation_state_tag;
  void start() & noexcept {}
};

// on(sch, sndr): continues_on(starts_on(sch, sndr), orig) where orig is the receiver's scheduler.
template <class Sch, class Sndr>
struct on_sender {
  using sender_concept = sender_tag;

  template <class Self, class Orig>
  static constexpr auto lower(Self&& self, Orig orig) {
    return execution::continues_on(
        execution::starts_on(std::forward<Self>(self).sch_, std::forward<Self>(self).sndr_), std::move(orig));
  }
  template <class Self, class Env>
  using lowered_t = decltype(lower(std::declval<Self>(),
                                   std::declval<std::invoke_result_t<get_scheduler_t, Env const&>>()));

  template <class Self, class Env>
  static constexpr auto signatures_in() noexcept {
    if constexpr (!env_has_scheduler<Env>) {
      return on_no_scheduler_to_return_to<Env>{};
    } else {
      return completion_sigs_t<lowered_t<Self, Env>, Env>{};
    }
  }

  template <class Self, class... Env>
  static constexpr auto get_completion_signatures() noexcept {
    if constexpr (sizeof...(Env) == 0) {
      return on_needs_env<on_sender>{};
    } else {
      return signatures_in<Self, Env...>();
    }
  }

  template <class Rcvr>
  auto connect(Rcvr rcvr) && {
    if constexpr (!env_has_scheduler<env_of_t<Rcvr>>) {
      on_no_scheduler_to_return_to<env_of_t<Rcvr>>::raise();
      return on_invalid_operation{};
    } else {
      auto orig = get_scheduler(execution::get_env(rcvr));
      return execution::connect(lower(std::move(*this), std::move(orig)), std::move(rcvr));
    }
  }
  template <class Rcvr>
  auto connect(Rcvr rcvr) const& {
    if constexpr (!env_has_scheduler<env_of_t<Rcvr>>) {
      on_no_scheduler_to_return_to<env_of_t<Rcvr>>::raise();
      return on_invalid_operation{};
    } else {
      auto orig = get_scheduler(execution::get_env(rcvr));
      return execution::connect(lower(*this, std::move(orig)), std::move(rcvr));
    }
  }

  Sch sch_;
  Sndr sndr_;
};

// on(sndr, sch, closure): runs sndr where it runs, closure(...) on sch, and completes back where
// sndr completed (its completion scheduler, else the receiver's scheduler).
template <class Sndr, class Sch, class Closure>
struct on_closure_sender {
  using sender_concept = sender_tag;

  template <class Self, class Orig>
  static constexpr auto lower(Self&& self, Orig orig) {
    return detail::write_env(
        execution::continues_on(
            std::forward<Self>(self).closure_(execution::continues_on(
                detail::write_env(std::forward<Self>(self).sndr_, prop{get_scheduler, orig}), self.sch_)),
            orig),
        prop{get_scheduler, self.sch_});
  }

  template <class Env>
  static constexpr bool knows_origin =
      has_value_completion_scheduler<env_of_t<Sndr>> || env_has_scheduler<Env>;

  template <class Env>
  static constexpr auto origin_of(Sndr const& sndr, Env const& env) noexcept {
    if constexpr (has_value_completion_scheduler<env_of_t<Sndr>>) {
      (void)env;
      return get_completion_scheduler<set_value_t>(execution::get_env(sndr));
    } else {
      return get_scheduler(env);
    }
  }

  template <class Self, class Env>
  using lowered_t = decltype(lower(std::declval<Self>(),
                                   origin_of(std::declval<Sndr const&>(), std::declval<Env const&>())));

  template <class Self, class Env>
  static constexpr auto signatures_in() noexcept {
    if constexpr (!knows_origin<Env>) {
      return on_no_scheduler_to_return_to<Env>{};
    } else {
      return completion_sigs_t<lowered_t<Self, Env>, Env>{};
    }
  }

  template <class Self, class... Env>
  static constexpr auto get_completion_signatures() noexcept {
    if constexpr (sizeof...(Env) == 0) {
      return on_needs_env<on_closure_sender>{};
    } else {
      return signatures_in<Self, Env...>();
    }
  }

  template <class Rcvr>
  auto connect(Rcvr rcvr) && {
    if constexpr (!knows_origin<env_of_t<Rcvr>>) {
      on_no_scheduler_to_return_to<env_of_t<Rcvr>>::raise();
      return on_invalid_operation{};
    } else {
      auto orig = origin_of(sndr_, execution::get_env(rcvr));
      return execution::connect(lower(std::move(*this), std::move(orig)), std::move(rcvr));
    }
  }
  template <class Rcvr>
  auto connect(Rcvr rcvr) const& {
    if constexpr (!knows_origin<env_of_t<Rcvr>>) {
      on_no_scheduler_to_return_to<env_of_t<Rcvr>>::raise();
      return on_invalid_operation{};
    } else {
      auto orig = origin_of(sndr_, execution::get_env(rcvr));
      return execution::connect(lower(*this, std::move(orig)), std::move(rcvr));
    }
  }

  Sndr sndr_;
  Sch sch_;
  Closure closure_;
};

}  // namespace detail

// [exec.on]

/** `on`: runs work on a scheduler and comes back.

    - `on(sch, sndr)`: starts `sndr` on `sch` (like `starts_on`), then completes with its result on
      the scheduler it was started from: the receiver's `get_scheduler`. `sndr` sees `get_scheduler`
      == `sch`. It is P2762's way of giving networking senders their scheduler from outside:
      `ex::on(ctx.get_scheduler(), net::async_accept(acceptor))`.
    - `on(sndr, sch, closure)`, or `sndr | on(sch, closure)`: runs `sndr` where it runs, then
      `closure(s)` (a sender adaptor closure such as `then(f)`) on `sch` where `s` is the result of
      `sndr` moved to `sch`, then completes back where `sndr` completed (its completion scheduler,
      else the receiver's scheduler). The senders that `closure` makes see `get_scheduler` == `sch`;
      `sndr` sees the scheduler it goes back to.

    Completion signatures: those of the equivalent `continues_on(starts_on(...), ...)` chain: the
    child's (decayed), plus the error and stopped completions of the schedule operations, plus
    `set_error_t(std::exception_ptr)` when storing a result may throw. A receiver environment
    without `get_scheduler` (where it is needed to come back) is a compile-time error that says so.
    Cancellation: the receiver's stop token reaches every part.
    Allocation: none.
*/
struct on_t {
  template <scheduler Sch, sender Sndr>
  constexpr auto operator()(Sch&& sch, Sndr&& sndr) const {
    return detail::on_sender<std::decay_t<Sch>, std::decay_t<Sndr>>{std::forward<Sch>(sch),
                                                                    std::forward<Sndr>(sndr)};
  }
  template <sender Sndr, scheduler Sch, class Closure>
  requires(!sender<Closure>) constexpr auto operator()(Sndr&& sndr, Sch&& sch, Closure&& closure) const {
    return detail::on_closure_sender<std::decay_t<Sndr>, std::decay_t<Sch>, std::decay_t<Closure>>{
        std::forward<Sndr>(sndr), std::forward<Sch>(sch), std::forward<Closure>(closure)};
  }
  template <scheduler Sch, class Closure>
  requires(!sender<Closure>) constexpr auto operator()(Sch&& sch, Closure&& closure) const {
    return detail::make_closure<on_t>(std::forward<Sch>(sch), std::forward<Closure>(closure));
  }
};

/// The on sender adaptor.
inline constexpr on_t on{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_ON_HPP
