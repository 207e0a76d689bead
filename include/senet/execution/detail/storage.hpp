// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_DETAIL_STORAGE_HPP
#define SENET_EXECUTION_DETAIL_STORAGE_HPP

#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/connect.hpp>
#include <senet/execution/env.hpp>
#include <senet/execution/operation_state.hpp>
#include <senet/execution/receiver.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

// Storage helpers shared by the algorithms: none of them allocates.

namespace senet::execution::detail {

// One immovable operation state, constructed in place from the prvalue a function returns.
template <std::size_t I, class Op>
struct op_slot {
  template <class F>
  explicit op_slot(F&& f) : op_(std::forward<F>(f)()) {}
  Op op_;
};

template <class Seq, class... Ops>
struct op_tuple;

// Several immovable operation states side by side (std::tuple cannot hold them).
template <std::size_t... Is, class... Ops>
struct op_tuple<std::index_sequence<Is...>, Ops...> : op_slot<Is, Ops>... {
  template <class... Fs>
  explicit op_tuple(Fs&&... fs) : op_slot<Is, Ops>(std::forward<Fs>(fs))... {}

  void start_all() noexcept { (execution::start(static_cast<op_slot<Is, Ops>&>(*this).op_), ...); }
};

template <class... Ts>
inline constexpr std::size_t max_size = std::max({std::size_t{1}, sizeof(Ts)...});
template <class... Ts>
inline constexpr std::size_t max_align = std::max({alignof(char), alignof(Ts)...});

// At most one of Ts at a time, constructed in place from a function's prvalue result, so that it can
// hold immovable operation states. Which one is a byte after the storage: held as
// [[no_unique_address]], a small member after it shares the padding.
template <class... Ts>
class manual_variant {
  static_assert(sizeof...(Ts) < 255);

 public:
  manual_variant() noexcept = default;
  manual_variant(manual_variant&&) = delete;
  ~manual_variant() { reset(); }

  template <class T, class F>
  T& emplace_from(F&& f) {
    static_assert(one_of<T, Ts...>);
    reset();
    T* p = ::new (static_cast<void*>(buffer_)) T(std::forward<F>(f)());
    index_ = index_of<T>();
    return *p;
  }

  void reset() noexcept {
    if (index_ != 0) {
      destroy(std::index_sequence_for<Ts...>{});
      index_ = 0;
    }
  }

  /** The alternative `T`, which the last `emplace_from` made. */
  template <class T>
  T& get() noexcept {
    static_assert(one_of<T, Ts...>);
    return *std::launder(reinterpret_cast<T*>(buffer_));
  }

 private:
  // 1 + the position of T in Ts (0: empty).
  template <class T>
  static constexpr std::uint8_t index_of() noexcept {
    std::uint8_t i = 1;
    static_cast<void>(((std::is_same_v<T, Ts> ? false : (++i, true)) && ...));
    return i;
  }

  template <std::size_t... Is>
  void destroy(std::index_sequence<Is...>) noexcept {
    static_cast<void>(
        ((index_ == Is + 1 ? (std::launder(reinterpret_cast<Ts*>(buffer_))->~Ts(), true) : false) || ...));
  }

  alignas(max_align<Ts...>) unsigned char buffer_[max_size<Ts...>];
  std::uint8_t index_ = 0;
};

// The result of an operation stored to be delivered later: std::tuple<Tag, decay_t<Args>...> for each
// signature Tag(Args...), in a std::variant starting with std::monostate.
template <class Sig>
struct sig_as_tuple;
template <class Tag, class... Args>
struct sig_as_tuple<Tag(Args...)> {
  using type = std::tuple<Tag, std::decay_t<Args>...>;
};

template <class Sigs>
struct results_variant;
template <class... Sigs>
struct results_variant<completion_signatures<Sigs...>> {
  using type =
      apply_t<std::variant, unique_t<type_list<std::monostate, typename sig_as_tuple<Sigs>::type...>>>;
};

template <class Sigs>
using results_variant_t = typename results_variant<Sigs>::type;

// Stores the completion Tag(args...) into a results variant.
template <class Variant, class Tag, class... Args>
void emplace_result(Variant& v, Tag, Args&&... args) {
  v.template emplace<std::tuple<Tag, std::decay_t<Args>...>>(Tag{}, std::forward<Args>(args)...);
}

// Completes rcvr with the stored result (which must not be the monostate).
template <class Rcvr, class Variant>
void deliver_result(Rcvr& rcvr, Variant& v) noexcept {
  std::visit(
      [&rcvr](auto& result) noexcept {
        if constexpr (!std::is_same_v<std::decay_t<decltype(result)>, std::monostate>) {
          std::apply([&rcvr](auto tag, auto&... args) noexcept { tag(std::move(rcvr), std::move(args)...); },
                     result);
        }
      },
      v);
}

// A receiver that forwards every completion to another receiver, kept elsewhere.
template <class Rcvr>
struct forward_receiver {
  using receiver_concept = receiver_tag;

  template <class... Vs>
  void set_value(Vs&&... vs) && noexcept {
    execution::set_value(std::move(*rcvr_), std::forward<Vs>(vs)...);
  }
  template <class E>
  void set_error(E&& e) && noexcept {
    execution::set_error(std::move(*rcvr_), std::forward<E>(e));
  }
  void set_stopped() && noexcept { execution::set_stopped(std::move(*rcvr_)); }
  env_of_t<Rcvr> get_env() const noexcept { return execution::get_env(*rcvr_); }

  Rcvr* rcvr_;
};

// A receiver with environment Env that accepts anything, used to ask whether connecting a sender may
// throw before the actual receiver is known. Only used in unevaluated operands, but a sender whose
// connect deduces its return type instantiates bodies that name these members, so they are defined
// (clang's -Wundefined-internal rejects declared-only members when Env has internal linkage).
template <class Env>
struct receiver_archetype {
  using receiver_concept = receiver_tag;
  template <class... Vs>
  void set_value(Vs&&...) && noexcept {
    std::terminate();
  }
  template <class E>
  void set_error(E&&) && noexcept {
    std::terminate();
  }
  void set_stopped() && noexcept { std::terminate(); }
  Env get_env() const noexcept { std::terminate(); }
};

template <class Sndr, class Env>
inline constexpr bool nothrow_connectable =
    noexcept(execution::connect(std::declval<Sndr>(), std::declval<receiver_archetype<Env>>()));

}  // namespace senet::execution::detail

#endif  // SENET_EXECUTION_DETAIL_STORAGE_HPP
