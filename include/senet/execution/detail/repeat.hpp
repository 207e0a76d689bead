// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_DETAIL_REPEAT_HPP
#define SENET_EXECUTION_DETAIL_REPEAT_HPP

/* The loop behind ex::repeat_effect_until and ex::repeat_effect: connect the child, start it,
   and when it completes with a value decide whether to go on; connect it again in place.

   Written only with the standard `ex::` names (it is included by <senet/execution.hpp> after the
   alias is set), so the same algorithm serves the bundled core and stdexec, whose own
   exec::repeat_effect_until has another interface (a child of bool only).

   A child that completes inside its own start() is continued by the loop in `loop()`, never by a
   nested call, so the stack does not grow however many steps complete inline; a child that
   completes later (on any thread) continues the loop from its completion. An atomic phase
   decides which of the two continues: the starting thread, once start() has returned, or the
   completing thread, if start() had returned before it completed.

   The receiver's environment, when it is a small value that copies without throwing, is looked up
   once, at connect, and kept: each step's operations ask it for their scheduler and stop token
   (once when connected, once when started), and every lookup would otherwise go through every
   receiver above the loop. An environment is the receiver's for as long as the receiver lives, so
   the copy says what a fresh lookup would. */

#include <senet/execution.hpp>

#include <atomic>
#include <concepts>
#include <exception>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace senet::execution_detail::repeat {

namespace ex = senet::ex;

// ---- modes ----------------------------------------------------------------------------------

/** The child completes with one value convertible to bool: true ends the loop. */
struct until_value {
  template <class... Vs>
  static constexpr bool accepts = sizeof...(Vs) == 1 && (std::convertible_to<Vs, bool> && ...);
  template <class... Vs>
  static constexpr bool nothrow = (std::is_nothrow_convertible_v<Vs, bool> && ...);
  static constexpr bool completes_with_value = true;

  template <class V>
  bool done(V&& v) {
    return static_cast<bool>(std::forward<V>(v));
  }
};

/** After each value completion (its values are ignored), `pred()` says whether the loop ends. */
template <class Pred>
struct until_pred {
  template <class... Vs>
  static constexpr bool accepts = true;
  template <class... Vs>
  static constexpr bool nothrow = std::is_nothrow_invocable_v<Pred&>;
  static constexpr bool completes_with_value = true;

  template <class... Vs>
  bool done(Vs&&...) {
    return static_cast<bool>(pred_());
  }

  Pred pred_;
};

/** The loop ends only with an error or a stop. */
struct forever {
  template <class... Vs>
  static constexpr bool accepts = true;
  template <class... Vs>
  static constexpr bool nothrow = true;
  static constexpr bool completes_with_value = false;

  template <class... Vs>
  bool done(Vs&&...) noexcept {
    return false;
  }
};

// ---- completion signatures --------------------------------------------------------------------

template <class... Ts>
struct list {};

template <class T, class... Ts>
inline constexpr bool contains = (std::is_same_v<T, Ts> || ...);

template <class List, class T>
struct push_unique;
template <class... Ts, class T>
struct push_unique<list<Ts...>, T> {
  using type = std::conditional_t<contains<T, Ts...>, list<Ts...>, list<Ts..., T>>;
};

// What one child signature contributes: its decayed error type, whether a value completion is
// accepted by the mode and converts without throwing, whether it may stop.
template <class Mode, class Sig>
struct sig_info {
  using errors = list<>;
  static constexpr bool value_ok = true;
  static constexpr bool value_nothrow = true;
};
template <class Mode, class E>
struct sig_info<Mode, ex::set_error_t(E)> {
  using errors = list<std::decay_t<E>>;
  static constexpr bool value_ok = true;
  static constexpr bool value_nothrow = true;
};
template <class Mode, class... Vs>
struct sig_info<Mode, ex::set_value_t(Vs...)> {
  using errors = list<>;
  static constexpr bool value_ok = Mode::template accepts<Vs...>;
  static constexpr bool value_nothrow = Mode::template nothrow<Vs...>;
};

template <class Acc, class... Lists>
struct unique_concat {
  using type = Acc;
};
template <class Acc, class... Ts, class... Rest>
struct unique_concat<Acc, list<Ts...>, Rest...> {
  template <class A, class... Us>
  struct fold {
    using type = A;
  };
  template <class A, class U, class... Us>
  struct fold<A, U, Us...> {
    using type = typename fold<typename push_unique<A, U>::type, Us...>::type;
  };
  using type = typename unique_concat<typename fold<Acc, Ts...>::type, Rest...>::type;
};

template <class Mode, class Sigs>
struct child_info;
template <class Mode, class... Sigs>
struct child_info<Mode, ex::completion_signatures<Sigs...>> {
  using errors = typename unique_concat<list<>, typename sig_info<Mode, Sigs>::errors...>::type;
  static constexpr bool values_ok = (sig_info<Mode, Sigs>::value_ok && ...);
  static constexpr bool values_nothrow = (sig_info<Mode, Sigs>::value_nothrow && ...);
};

template <class Errors>
struct error_sigs;
template <class... Es>
struct error_sigs<list<Es...>> {
  template <class... Extra>
  using with = ex::completion_signatures<Extra..., ex::set_error_t(Es)...>;
};

template <class T>
inline constexpr bool nothrow_decay_copyable = std::is_nothrow_constructible_v<std::decay_t<T>, T>;

/** The child's environment: the receiver's, unchanged. */
template <class Rcvr>
using child_env_t = ex::env_of_t<Rcvr>;

// ---- the operation state ----------------------------------------------------------------------

template <class Fn>
struct emplace_from {
  Fn fn_;
  using result_type = std::invoke_result_t<Fn&>;
  // NOLINTNEXTLINE(google-explicit-constructor)
  operator result_type() && noexcept(std::is_nothrow_invocable_v<Fn&>) { return fn_(); }
};
template <class Fn>
emplace_from(Fn) -> emplace_from<Fn>;

template <class Child, class Mode, class Rcvr>
class operation {
  struct child_receiver {
    using receiver_concept = ex::receiver_tag;
    operation* op_;

    template <class... Vs>
    void set_value(Vs&&... vs) && noexcept {
      op_->on_value(std::forward<Vs>(vs)...);
    }
    template <class E>
    void set_error(E&& e) && noexcept {
      op_->on_error(std::forward<E>(e));
    }
    void set_stopped() && noexcept { op_->step_done(outcome::stopped); }
    [[nodiscard]] child_env_t<Rcvr> get_env() const noexcept { return op_->env(); }
  };
  // The receiver's environment, looked up once when it is a small value: every step's operations
  // ask it for their scheduler and stop token, through every receiver above the loop otherwise.
  using env_type = child_env_t<Rcvr>;
  static constexpr bool caches_env = !std::is_reference_v<env_type> &&
                                     std::is_nothrow_copy_constructible_v<env_type> && sizeof(env_type) <= 16;
  struct no_env {};

  using child_operation = ex::connect_result_t<Child&, child_receiver>;
  using info = child_info<Mode, ex::completion_signatures_of_t<Child&, child_env_t<Rcvr>>>;
  // The decayed error types, and std::exception_ptr for what may throw on the way.
  using error_storage =
      typename unique_concat<list<std::monostate>, typename info::errors, list<std::exception_ptr>>::type;
  template <class L>
  struct to_variant;
  template <class... Ts>
  struct to_variant<list<Ts...>> {
    using type = std::variant<Ts...>;
  };

  static constexpr bool nothrow_connect =
      noexcept(ex::connect(std::declval<Child&>(), child_receiver{nullptr}));
  using token_type = ex::stop_token_of_t<ex::env_of_t<Rcvr>>;
  static constexpr bool stoppable = !ex::unstoppable_token<token_type>;

  enum class outcome : unsigned char { again, done, error, stopped };
  // `starting`: the child's start() has not returned yet; `completed`: the child completed (the
  // outcome is recorded); `running`: start() returned before the child completed.
  enum phase : unsigned char { starting, completed, running };

 public:
  using operation_state_concept = ex::operation_state_tag;

  operation(Child child, Mode mode, Rcvr rcvr) noexcept(
      std::is_nothrow_move_constructible_v<Child>&& std::is_nothrow_move_constructible_v<Mode>&&
          std::is_nothrow_move_constructible_v<Rcvr>)
      : child_(std::move(child)), mode_(std::move(mode)), rcvr_(std::move(rcvr)), env_(first_env()) {}
  operation(const operation&) = delete;
  operation& operator=(const operation&) = delete;
  ~operation() { reset_step(); }

  void start() & noexcept { loop(); }

 private:
  // The receiver's environment: the copy kept, or looked up.
  [[nodiscard]] child_env_t<Rcvr> env() const noexcept {
    if constexpr (caches_env) {
      return env_;
    } else {
      return ex::get_env(rcvr_);
    }
  }

  auto first_env() const noexcept {
    if constexpr (caches_env) {
      return ex::get_env(rcvr_);
    } else {
      return no_env{};
    }
  }

  // Connects and starts the child until a step is pending (its completion continues the loop) or
  // the loop is over.
  void loop() noexcept {
    for (;;) {
      if constexpr (stoppable) {
        if (ex::get_stop_token(env()).stop_requested()) {
          ex::set_stopped(std::move(rcvr_));
          return;
        }
      }
      phase_.store(starting, std::memory_order_relaxed);
      if constexpr (nothrow_connect) {
        emplace_step();
      } else {
        try {
          emplace_step();
        } catch (...) {
          ex::set_error(std::move(rcvr_), std::current_exception());
          return;
        }
      }
      ex::start(step());
      if (phase_.exchange(running, std::memory_order_acq_rel) != completed) {
        return;
      }
      if (!finish()) {
        return;
      }
    }
  }

  template <class... Vs>
  void on_value(Vs&&... vs) noexcept {
    if constexpr (Mode::template nothrow<Vs...>) {
      step_done(mode_.done(std::forward<Vs>(vs)...) ? outcome::done : outcome::again);
    } else {
      try {
        step_done(mode_.done(std::forward<Vs>(vs)...) ? outcome::done : outcome::again);
      } catch (...) {
        error_.template emplace<std::exception_ptr>(std::current_exception());
        step_done(outcome::error);
      }
    }
  }

  template <class E>
  void on_error(E&& e) noexcept {
    // Kept until whoever continues the loop delivers it (the child's storage goes with its
    // operation state).
    if constexpr (nothrow_decay_copyable<E>) {
      error_.template emplace<std::decay_t<E>>(std::forward<E>(e));
    } else {
      try {
        error_.template emplace<std::decay_t<E>>(std::forward<E>(e));
      } catch (...) {
        error_.template emplace<std::exception_ptr>(std::current_exception());
      }
    }
    step_done(outcome::error);
  }

  void step_done(outcome o) noexcept {
    outcome_ = o;
    if (phase_.exchange(completed, std::memory_order_acq_rel) == starting) {
      return;  // the loop in `loop()` goes on after the child's start() returns
    }
    if (finish()) {
      loop();
    }
  }

  void emplace_step() noexcept(nothrow_connect) {
    ::new (static_cast<void*>(step_)) child_operation(emplace_from{
        [this]() noexcept(nothrow_connect) { return ex::connect(child_, child_receiver{this}); }});
    has_step_ = true;
  }
  child_operation& step() noexcept { return *std::launder(reinterpret_cast<child_operation*>(step_)); }
  void reset_step() noexcept {
    if (has_step_) {
      has_step_ = false;
      step().~child_operation();
    }
  }

  // Ends the step that completed; true when the loop goes on, false once the receiver completed.
  bool finish() noexcept {
    reset_step();
    if (outcome_ == outcome::again) [[likely]] {
      return true;
    }
    complete();
    return false;
  }

  // Completes the receiver with the outcome of the last step (not `again`). Out of line: the
  // loop's common turn (`again`) makes no frame for these calls.
  [[gnu::noinline]] void complete() noexcept {
    switch (outcome_) {
      case outcome::again:
        break;
      case outcome::done:
        if constexpr (Mode::completes_with_value) {
          ex::set_value(std::move(rcvr_));
        }
        break;
      case outcome::error:
        std::visit(
            [this]<class E>(E& e) noexcept {
              if constexpr (!std::is_same_v<E, std::monostate>) {
                ex::set_error(std::move(rcvr_), std::move(e));
              }
            },
            error_);
        break;
      case outcome::stopped:
        ex::set_stopped(std::move(rcvr_));
        break;
    }
  }

  Child child_;
  [[no_unique_address]] Mode mode_;
  Rcvr rcvr_;
  [[no_unique_address]] std::conditional_t<caches_env, env_type, no_env> env_;
  typename to_variant<error_storage>::type error_{};
  // The step's operation state, constructed while `has_step_` (an optional without the padding of
  // its own flag: the flag, the outcome and the phase take three bytes after it).
  alignas(child_operation) unsigned char step_[sizeof(child_operation)];
  bool has_step_ = false;
  outcome outcome_ = outcome::again;
  std::atomic<phase> phase_{running};
};

// ---- the sender -------------------------------------------------------------------------------

template <class Child, class Mode>
struct sender {
  using sender_concept = ex::sender_tag;

  template <class Env>
  static consteval auto signatures() {
    using info = child_info<Mode, ex::completion_signatures_of_t<Child&, Env>>;
    static_assert(info::values_ok,
                  "senet: repeat_effect_until(sndr) needs a child that completes with one value convertible "
                  "to bool (use repeat_effect_until(sndr, pred) for a child of other values)");
    constexpr bool may_throw =
        !info::values_nothrow ||
        !noexcept(ex::connect(std::declval<Child&>(), std::declval<operation_receiver_archetype<Env>>()));
    using errors =
        std::conditional_t<may_throw,
                           typename unique_concat<typename info::errors, list<std::exception_ptr>>::type,
                           typename info::errors>;
    if constexpr (Mode::completes_with_value) {
      return typename error_sigs<errors>::template with<ex::set_value_t(), ex::set_stopped_t()>{};
    } else {
      return typename error_sigs<errors>::template with<ex::set_stopped_t()>{};
    }
  }

  template <class Self, class Env>
  static consteval auto get_completion_signatures() {
    return signatures<Env>();
  }
  template <class Env>
  auto get_completion_signatures(const Env&) const -> decltype(signatures<Env>()) {
    return {};
  }

  template <class Rcvr>
  operation<Child, Mode, Rcvr> connect(Rcvr rcvr) && noexcept(
      std::is_nothrow_move_constructible_v<Child>&& std::is_nothrow_move_constructible_v<Mode>&&
          std::is_nothrow_move_constructible_v<Rcvr>) {
    return {std::move(child_), std::move(mode_), std::move(rcvr)};
  }
  template <class Rcvr>
  requires std::copy_constructible<Child> && std::copy_constructible<Mode> operation<Child, Mode, Rcvr>
  connect(Rcvr rcvr)
  const& { return {child_, mode_, std::move(rcvr)}; }

  Child child_;
  [[no_unique_address]] Mode mode_;

 private:
  // A receiver of the child's completions in `Env`, to ask whether connecting it may throw.
  template <class Env>
  struct operation_receiver_archetype {
    using receiver_concept = ex::receiver_tag;
    template <class... Vs>
    void set_value(Vs&&...) && noexcept {}
    template <class E>
    void set_error(E&&) && noexcept {}
    void set_stopped() && noexcept {}
    Env get_env() const noexcept { return *env_; }  // never called: only asked about in noexcept()
    const Env* env_;
  };
};

/** `sndr | closure`: applies the algorithm. */
template <class Algo, class... Args>
struct closure {
  std::tuple<Args...> args_;

  template <ex::sender Sndr>
  friend auto operator|(Sndr&& sndr, closure c) {
    return std::apply([&](Args&... args) { return Algo{}(std::forward<Sndr>(sndr), std::move(args)...); },
                      c.args_);
  }
};

}  // namespace senet::execution_detail::repeat

#endif  // SENET_EXECUTION_DETAIL_REPEAT_HPP
