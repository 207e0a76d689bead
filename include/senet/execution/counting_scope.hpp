// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_COUNTING_SCOPE_HPP
#define SENET_EXECUTION_COUNTING_SCOPE_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/connect.hpp>
#include <senet/execution/detail/stop_when.hpp>
#include <senet/execution/detail/storage.hpp>
#include <senet/execution/env.hpp>
#include <senet/execution/get_completion_signatures.hpp>
#include <senet/execution/operation_state.hpp>
#include <senet/execution/queries.hpp>
#include <senet/execution/receiver.hpp>
#include <senet/execution/scheduler.hpp>
#include <senet/execution/sender.hpp>
#include <senet/execution/stop_token.hpp>

#include <atomic>
#include <concepts>
#include <cstddef>
#include <exception>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>

namespace senet::execution {

class counting_scope;

// [exec.scope.concepts]

/** The result of associating work with an async scope: it keeps the association while it lives, and
    tells whether the association succeeded (`static_cast<bool>(assoc)`). */
template <class Assoc>
concept scope_association = std::movable<Assoc> && std::is_nothrow_move_constructible_v<Assoc> &&
    std::is_nothrow_move_assignable_v<Assoc> && std::default_initializable<Assoc> &&
    requires(Assoc const assoc) {
  { static_cast<bool>(assoc) }
  noexcept;
  { assoc.try_associate() } -> std::same_as<Assoc>;
};

namespace detail {

// A sender used to check that a scope token can wrap senders.
struct scope_test_sender {
  using sender_concept = sender_tag;
  using completion_signatures = execution::completion_signatures<set_value_t()>;
  struct operation {
    void start() & noexcept {}
  };
  template <class Rcvr>
  operation connect(Rcvr) const noexcept {
    return {};
  }
};

}  // namespace detail

/** A handle to an async scope that `spawn` uses: `token.try_associate()` gives a `scope_association`,
    `token.wrap(sndr)` adapts a sender to the scope (for counting_scope: to its stop source). */
template <class Token>
concept scope_token = std::copyable<Token> && requires(Token const token) {
  { token.try_associate() } -> scope_association;
  { token.wrap(std::declval<detail::scope_test_sender>()) } -> sender;
};

namespace detail {

struct join_node {
  void (*complete_)(join_node*) noexcept;
  join_node* next_ = nullptr;
};

// The counting part of a scope: the number of associated operations plus state bits, in one atomic.
class scope_counter {
 public:
  scope_counter() noexcept = default;
  scope_counter(scope_counter&&) = delete;

  ~scope_counter() {
    // Destroying a scope that was used and not joined, or that still has work, is a logic error.
    if ((state_.load(std::memory_order_acquire) & ~closed) != 0) {
      std::terminate();
    }
  }

  void close() noexcept { state_.fetch_or(closed, std::memory_order_acq_rel); }

  bool try_associate() noexcept {
    std::size_t old = state_.load(std::memory_order_relaxed);
    do {
      if ((old & closed) != 0 || (old >> shift) == max_count) {
        return false;
      }
    } while (!state_.compare_exchange_weak(old, (old + one) | join_needed, std::memory_order_acq_rel,
                                           std::memory_order_relaxed));
    return true;
  }

  void disassociate() noexcept {
    std::size_t old = state_.load(std::memory_order_relaxed);
    std::size_t next = 0;
    do {
      next = old - one;
      if ((next >> shift) == 0 && (old & join_running) != 0) {
        next = closed;  // joined
      }
    } while (!state_.compare_exchange_weak(old, next, std::memory_order_acq_rel, std::memory_order_relaxed));
    if (next == closed && (old & join_running) != 0) {
      complete_joins();
    }
  }

  // Returns true when the join can complete at once (nothing is associated); otherwise registers node,
  // which is completed when the last associated operation completes.
  bool start_join(join_node* node) noexcept {
    std::size_t old = state_.load(std::memory_order_relaxed);
    for (;;) {
      if ((old >> shift) == 0) {
        if (state_.compare_exchange_weak(old, closed, std::memory_order_acq_rel, std::memory_order_relaxed)) {
          return true;
        }
      } else if (state_.compare_exchange_weak(old, old | join_running, std::memory_order_acq_rel,
                                              std::memory_order_relaxed)) {
        return !push_join(node);
      }
    }
  }

 private:
  static constexpr std::size_t closed = 1;
  static constexpr std::size_t join_needed = 2;
  static constexpr std::size_t join_running = 4;
  static constexpr std::size_t shift = 3;
  static constexpr std::size_t one = std::size_t{1} << shift;
  static constexpr std::size_t max_count = std::numeric_limits<std::size_t>::max() >> shift;

  // The list of waiting joins; `joined_marker()` once they were completed.
  join_node* joined_marker() noexcept { return reinterpret_cast<join_node*>(this); }

  bool push_join(join_node* node) noexcept {
    join_node* head = joins_.load(std::memory_order_acquire);
    do {
      if (head == joined_marker()) {
        return false;
      }
      node->next_ = head;
    } while (!joins_.compare_exchange_weak(head, node, std::memory_order_acq_rel, std::memory_order_acquire));
    return true;
  }

  void complete_joins() noexcept {
    join_node* node = joins_.exchange(joined_marker(), std::memory_order_acq_rel);
    while (node != nullptr) {
      join_node* next = node->next_;
      node->complete_(node);
      node = next;
    }
  }

  std::atomic<std::size_t> state_{0};
  std::atomic<join_node*> joins_{nullptr};
};

template <class Env>
concept has_scheduler = requires(Env const& env) {
  get_scheduler(env);
};

template <class Rcvr, bool Reschedule = has_scheduler<env_of_t<Rcvr>>>
struct join_operation : join_node {
  using operation_state_concept = operation_state_tag;

  join_operation(scope_counter* counter, Rcvr rcvr) noexcept(std::is_nothrow_move_constructible_v<Rcvr>)
      : join_node{&complete_impl}, counter_(counter), rcvr_(std::move(rcvr)) {}
  join_operation(join_operation&&) = delete;

  void start() & noexcept {
    if (counter_->start_join(this)) {
      execution::set_value(std::move(rcvr_));
    }
  }

  static void complete_impl(join_node* node) noexcept {
    auto& self = *static_cast<join_operation*>(node);
    execution::set_value(std::move(self.rcvr_));
  }

  scope_counter* counter_;
  Rcvr rcvr_;
};

// When the receiver's environment has a scheduler, a join that had to wait completes there (rather than
// on the thread of the last operation of the scope), as stdexec does.
template <class Rcvr>
struct join_operation<Rcvr, true> : join_node {
  using operation_state_concept = operation_state_tag;
  using scheduler_type = decltype(get_scheduler(std::declval<env_of_t<Rcvr>>()));

  join_operation(scope_counter* counter, Rcvr rcvr)
      : join_node{&complete_impl},
        counter_(counter),
        rcvr_(std::move(rcvr)),
        sched_op_(execution::connect(execution::schedule(get_scheduler(execution::get_env(rcvr_))),
                                     forward_receiver<Rcvr>{&rcvr_})) {}
  join_operation(join_operation&&) = delete;

  void start() & noexcept {
    if (counter_->start_join(this)) {
      execution::set_value(std::move(rcvr_));
    }
  }

  static void complete_impl(join_node* node) noexcept {
    execution::start(static_cast<join_operation*>(node)->sched_op_);
  }

  scope_counter* counter_;
  Rcvr rcvr_;
  connect_result_t<schedule_result_t<scheduler_type>, forward_receiver<Rcvr>> sched_op_;
};

struct join_sender {
  using sender_concept = sender_tag;

  template <class Self, class... Env>
  static constexpr auto get_completion_signatures() noexcept {
    if constexpr (sizeof...(Env) == 1) {
      return sigs_in<Env...>();
    } else {
      return completion_signatures<set_value_t()>{};
    }
  }

  template <class Env>
  static constexpr auto sigs_in() noexcept {
    if constexpr (has_scheduler<Env>) {
      using sched_sigs =
          completion_sigs_t<schedule_result_t<decltype(get_scheduler(std::declval<Env const&>()))>, Env>;
      if constexpr (!valid_completion_signatures<sched_sigs>) {
        return sched_sigs{};
      } else {
        return concat_sigs_t<completion_signatures<set_value_t()>, sched_sigs>{};
      }
    } else {
      return completion_signatures<set_value_t()>{};
    }
  }

  template <class Rcvr>
  join_operation<Rcvr> connect(Rcvr rcvr) const {
    return {counter_, std::move(rcvr)};
  }

  scope_counter* counter_;
};

template <class Scope>
class scope_association_impl {
 public:
  scope_association_impl() noexcept = default;
  scope_association_impl(scope_association_impl&& other) noexcept
      : scope_(std::exchange(other.scope_, nullptr)) {}
  scope_association_impl& operator=(scope_association_impl other) noexcept {
    std::swap(scope_, other.scope_);
    return *this;
  }
  ~scope_association_impl() {
    if (scope_ != nullptr) {
      scope_->counter_.disassociate();
    }
  }

  explicit operator bool() const noexcept { return scope_ != nullptr; }

  /** Another association with the same scope (empty if this one is, or if the scope is closed). */
  [[nodiscard]] scope_association_impl try_associate() const noexcept {
    return scope_ != nullptr ? scope_->try_associate() : scope_association_impl{};
  }

 private:
  friend Scope;
  explicit scope_association_impl(Scope* scope) noexcept : scope_(scope) {}
  Scope* scope_ = nullptr;
};

}  // namespace detail

// [exec.counting.scopes]

/** An async scope that counts the operations associated with it (by `spawn(sndr, scope.get_token())`),
    lets them be stopped together, and lets a caller wait for all of them with `join()`.

    - `get_token()`: the token to pass to `spawn`; `token.wrap(sndr)` makes `sndr` see the scope's stop
      token (combined with the receiver's own), `token.try_associate()` associates one operation.
    - `close()`: new associations fail from now on (spawn then drops the work); running work continues.
    - `request_stop()`: requests a stop of every associated operation (through the stop token).
    - `join()`: a sender that completes with `set_value()` once no operation is associated; then the scope
      is closed. When the join had to wait and its receiver's environment has a scheduler, it completes
      through `schedule(get_scheduler(env))`, so its completion signatures include that sender's.
    The scope must be joined before it is destroyed if it was ever used (else `std::terminate`).
    No allocation (spawn allocates the spawned operation). Thread safety: every member may be called
    concurrently.
*/
class counting_scope {
 public:
  using association = detail::scope_association_impl<counting_scope>;

  /** The token of a counting_scope; see `counting_scope`. */
  class token {
   public:
    /// `sndr` with the scope's stop token (a stop of the scope or of the receiver stops it).
    template <sender Sndr>
    [[nodiscard]] auto wrap(Sndr&& sndr) const {
      return detail::stop_when_sender<std::decay_t<Sndr>, inplace_stop_token>{
          std::forward<Sndr>(sndr), scope_->stop_source_.get_token()};
    }

    /// Associates one operation with the scope; empty when the scope is closed.
    [[nodiscard]] association try_associate() const noexcept { return scope_->try_associate(); }

   private:
    friend class counting_scope;
    explicit token(counting_scope* scope) noexcept : scope_(scope) {}
    counting_scope* scope_;
  };

  /// The largest number of operations associated at once.
  static constexpr std::size_t max_associations = std::numeric_limits<std::size_t>::max() >> 3;

  counting_scope() noexcept = default;
  counting_scope(counting_scope&&) = delete;
  ~counting_scope() = default;

  /// A token for spawning work in this scope.
  [[nodiscard]] token get_token() noexcept { return token{this}; }

  /// Makes further associations fail.
  void close() noexcept { counter_.close(); }

  /// Requests a stop of the associated operations.
  void request_stop() noexcept { stop_source_.request_stop(); }

  /// A sender that completes once no operation is associated with the scope.
  [[nodiscard]] auto join() noexcept { return detail::join_sender{&counter_}; }

 private:
  friend association;

  association try_associate() noexcept {
    return counter_.try_associate() ? association{this} : association{};
  }

  detail::scope_counter counter_;
  inplace_stop_source stop_source_;
};

}  // namespace senet::execution

#endif  // SENET_EXECUTION_COUNTING_SCOPE_HPP
