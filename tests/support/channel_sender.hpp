// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_CHANNEL_SENDER_HPP
#define SENET_TEST_SUPPORT_CHANNEL_SENDER_HPP

#include <senet/execution.hpp>

#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace senet::test {

/** A sender that may complete on any of the three channels, and completes, inside `start()`, on the
    one chosen when it was made: `channel_sender<int>::value(1)`, `::error(ec)` or `::stopped()`.

    All three have the same type, so one adaptor type can be tested on each channel, including the
    channels it only passes through.

    Completion signatures: `set_value_t(Vs...)`, `set_error_t(std::error_code)`, `set_stopped_t()`.
*/
template <class... Vs>
class channel_sender {
  using result_type = std::variant<std::tuple<Vs...>, std::error_code, std::monostate>;

  template <class Rcvr>
  struct operation {
    using operation_state_concept = ex::operation_state_tag;

    result_type result_;
    Rcvr rcvr_;

    void start() & noexcept {
      if (auto* values = std::get_if<0>(&result_)) {
        std::apply([this](Vs&... vs) { ex::set_value(std::move(rcvr_), std::move(vs)...); }, *values);
      } else if (auto* ec = std::get_if<1>(&result_)) {
        ex::set_error(std::move(rcvr_), *ec);
      } else {
        ex::set_stopped(std::move(rcvr_));
      }
    }
  };

  explicit channel_sender(result_type result) : result_(std::move(result)) {}

 public:
  using sender_concept = ex::sender_tag;
  using completion_signatures =
      ex::completion_signatures<ex::set_value_t(Vs...), ex::set_error_t(std::error_code),
                                ex::set_stopped_t()>;

  /** A sender that completes with `set_value(values...)`. */
  static channel_sender value(Vs... values) {
    return channel_sender{result_type{std::in_place_index<0>, std::move(values)...}};
  }

  /** A sender that completes with `set_error(ec)`. */
  static channel_sender error(std::error_code ec) {
    return channel_sender{result_type{std::in_place_index<1>, ec}};
  }

  /** A sender that completes with `set_stopped()`. */
  static channel_sender stopped() { return channel_sender{result_type{std::in_place_index<2>}}; }

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

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_CHANNEL_SENDER_HPP
