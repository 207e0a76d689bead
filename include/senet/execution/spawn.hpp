// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_SPAWN_HPP
#define SENET_EXECUTION_SPAWN_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/connect.hpp>
#include <senet/execution/counting_scope.hpp>
#include <senet/execution/env.hpp>
#include <senet/execution/get_completion_signatures.hpp>
#include <senet/execution/operation_state.hpp>
#include <senet/execution/queries.hpp>
#include <senet/execution/receiver.hpp>
#include <senet/execution/sender.hpp>

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

namespace senet::execution {

namespace detail {

template <class Env>
struct spawn_state_base {
  void (*complete_)(spawn_state_base*) noexcept;
  Env env_;
};

template <class Env>
struct spawn_receiver {
  using receiver_concept = receiver_tag;

  void set_value() && noexcept { st_->complete_(st_); }
  void set_stopped() && noexcept { st_->complete_(st_); }
  Env const& get_env() const noexcept { return st_->env_; }

  spawn_state_base<Env>* st_;
};

template <class Alloc, class Token, class Sndr, class Env>
struct spawn_state : spawn_state_base<Env> {
  using association_type = decltype(std::declval<Token&>().try_associate());
  using traits = typename std::allocator_traits<Alloc>::template rebind_traits<spawn_state>;
  using allocator_type = typename traits::allocator_type;

  spawn_state(allocator_type alloc, Sndr&& sndr, Token& token, Env env)
      : spawn_state_base<Env>{&complete_impl, std::move(env)},
        alloc_(std::move(alloc)),
        op_(execution::connect(std::move(sndr), spawn_receiver<Env>{this})),
        association_(token.try_associate()) {}
  spawn_state(spawn_state&&) = delete;

  void run() noexcept {
    if (association_) {
      execution::start(op_);
    } else {
      complete_impl(this);  // The scope is closed: drop the work.
    }
  }

  static void complete_impl(spawn_state_base<Env>* base) noexcept {
    auto* self = static_cast<spawn_state*>(base);
    // The association ends after the operation state is gone, so that a join completing on it sees
    // nothing left of the spawned work.
    association_type association = std::move(self->association_);
    allocator_type alloc = std::move(self->alloc_);
    traits::destroy(alloc, self);
    traits::deallocate(alloc, self, 1);
  }

  [[no_unique_address]] allocator_type alloc_;
  connect_result_t<Sndr, spawn_receiver<Env>> op_;
  association_type association_;
};

template <class Sndr, class Env>
struct spawn_check {
  using sigs = completion_sigs_t<Sndr, Env>;
  static constexpr bool no_error = count_of<set_error_t, sigs> == 0;
  static constexpr bool void_value = count_of<set_value_t, sigs> == 0 ||
                                     std::is_same_v<gather_args_t<set_value_t, sigs>, type_list<type_list<>>>;
  static constexpr bool ok = valid_completion_signatures<sigs> && no_error && void_value;

  static constexpr void check() noexcept {
    if constexpr (!valid_completion_signatures<sigs>) {
      report_invalid<sigs>();
    } else {
      static_assert(
          no_error,
          "senet::execution::spawn: the sender must not complete with an error (handle its errors first, "
          "for example with upon_error or let_error)");
      static_assert(
          void_value,
          "senet::execution::spawn: the sender must complete with set_value() without values (drop them "
          "first, for example with then)");
    }
  }
};

template <class Env, class Attrs>
auto spawn_allocator(Env const& env, Attrs const& attrs) noexcept {
  if constexpr (requires { get_allocator(env); }) {
    return get_allocator(env);
  } else if constexpr (requires { get_allocator(attrs); }) {
    return get_allocator(attrs);
  } else {
    return std::allocator<std::byte>{};
  }
}

}  // namespace detail

// [exec.spawn]

/** `spawn(sndr, token, env = {})`: starts `sndr` as work associated with an async scope (for example
    `counting_scope::get_token()`) and returns at once; the scope's `join()` waits for it.

    `sndr` is wrapped by `token.wrap` (for counting_scope, it sees the scope's stop token) and must complete
    with `set_value()` or `set_stopped()` only: a sender that can fail, or that sends values, does not
    compile. If the scope is closed, the work is not started and is destroyed at once.
    The receiver's environment is `env`.
    Allocation: the operation state must outlive the call, so spawn allocates it — with the allocator of
    `get_allocator(env)`, else of `get_allocator(get_env(sndr))`, else `std::allocator` — and frees it when
   the operation completes. This is the only allocation of the execution core. If allocating or connecting
    throws, the exception propagates and nothing is started.
*/
struct spawn_t {
  template <sender Sndr, scope_token Token, class Env = env<>>
  void operator()(Sndr&& sndr, Token token, Env env = {}) const {
    auto wrapped = token.wrap(std::forward<Sndr>(sndr));
    using wrapped_t = decltype(wrapped);
    detail::spawn_check<wrapped_t, Env>::check();
    if constexpr (detail::spawn_check<wrapped_t, Env>::ok) {
      auto raw_alloc = detail::spawn_allocator(env, execution::get_env(wrapped));
      using state_t = detail::spawn_state<decltype(raw_alloc), Token, wrapped_t, Env>;
      using traits = typename state_t::traits;
      typename state_t::allocator_type alloc(raw_alloc);
      state_t* state = traits::allocate(alloc, 1);
      try {
        traits::construct(alloc, state, alloc, std::move(wrapped), token, std::move(env));
      } catch (...) {
        traits::deallocate(alloc, state, 1);
        throw;
      }
      state->run();
    }
  }
};

/// The spawn function object.
inline constexpr spawn_t spawn{};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_SPAWN_HPP
