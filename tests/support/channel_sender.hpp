// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_CHANNEL_SENDER_HPP
#define SENET_TEST_SUPPORT_CHANNEL_SENDER_HPP

#include <senet/execution.hpp>

#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace senet::test {

/** A sender that may complete on any of the three channels, and completes, inside `start()`, on the
    one chosen when it was made: `basic_channel_sender<E, int>::value(1)`, `::error(e)` or
    `::stopped()`.

    All three have the same type, so one adaptor type can be tested on each channel, including the
    channels it only passes through. `E` and `Vs...` must be default-constructible.

    Completion signatures: `set_value_t(Vs...)`, `set_error_t(E)`, `set_stopped_t()`.
*/
template <class E, class... Vs>
class basic_channel_sender {
  enum class channel { value, error, stopped };

  // Plain members rather than a std::variant: GCC 12 reports false "may be used uninitialized"
  // warnings for variants at -O1 (the asan preset). Hence E and Vs must be default-constructible.
  struct result_type {
    channel channel_;
    std::tuple<Vs...> values_;
    E error_;
  };

  template <class Rcvr>
  struct operation {
    using operation_state_concept = ex::operation_state_tag;

    result_type result_;
    Rcvr rcvr_;

    void start() & noexcept {
      switch (result_.channel_) {
        case channel::value:
          std::apply([this](Vs&... vs) { ex::set_value(std::move(rcvr_), std::move(vs)...); },
                     result_.values_);
          break;
        case channel::error:
          ex::set_error(std::move(rcvr_), std::move(result_.error_));
          break;
        case channel::stopped:
          ex::set_stopped(std::move(rcvr_));
          break;
      }
    }
  };

  explicit basic_channel_sender(result_type result) : result_(std::move(result)) {}

 public:
  using sender_concept = ex::sender_tag;
  using completion_signatures =
      ex::completion_signatures<ex::set_value_t(Vs...), ex::set_error_t(E), ex::set_stopped_t()>;

  /** A sender that completes with `set_value(values...)`. */
  static basic_channel_sender value(Vs... values) {
    return basic_channel_sender{result_type{channel::value, std::tuple<Vs...>{std::move(values)...}, E{}}};
  }

  /** A sender that completes with `set_error(error)`. */
  static basic_channel_sender error(E error) {
    return basic_channel_sender{result_type{channel::error, std::tuple<Vs...>{}, std::move(error)}};
  }

  /** A sender that completes with `set_stopped()`. */
  static basic_channel_sender stopped() {
    return basic_channel_sender{result_type{channel::stopped, std::tuple<Vs...>{}, E{}}};
  }

  template <class Rcvr>
  operation<Rcvr> connect(Rcvr rcvr) && noexcept(
      std::is_nothrow_move_constructible_v<result_type>&& std::is_nothrow_move_constructible_v<Rcvr>) {
    return {std::move(result_), std::move(rcvr)};
  }

  template <class Rcvr>
  operation<Rcvr> connect(Rcvr rcvr) const& noexcept(
      std::is_nothrow_copy_constructible_v<result_type>&& std::is_nothrow_move_constructible_v<Rcvr>) {
    return {result_, std::move(rcvr)};
  }

 private:
  result_type result_;
};

/** A `basic_channel_sender` whose error is a `std::error_code`, as networking operations send. */
template <class... Vs>
using channel_sender = basic_channel_sender<std::error_code, Vs...>;

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_CHANNEL_SENDER_HPP
