// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_STOP_PROBE_SENDER_HPP
#define SENET_TEST_SUPPORT_STOP_PROBE_SENDER_HPP

#include <senet/execution.hpp>

#include <type_traits>
#include <utility>

namespace senet::test {

/** What a `stop_probe_sender` saw of its receiver's stop token when it was started. */
struct stop_probe {
  bool started = false;
  bool stop_possible = false;
  bool stop_requested = false;
};

/** A leaf sender that, when started, records in a `stop_probe` whether its receiver's stop token
    can be stopped and whether a stop was already requested, then completes at once: with
    `set_stopped()` if a stop was requested, with `set_value()` otherwise.

    Completion signatures: `set_value_t()`, `set_stopped_t()`.
*/
class stop_probe_sender {
  template <class Rcvr>
  struct operation {
    using operation_state_concept = ex::operation_state_tag;

    stop_probe* probe_;
    Rcvr rcvr_;

    void start() & noexcept {
      auto token = ex::get_stop_token(ex::get_env(rcvr_));
      probe_->started = true;
      probe_->stop_possible = token.stop_possible();
      probe_->stop_requested = token.stop_requested();
      if (probe_->stop_requested) {
        ex::set_stopped(std::move(rcvr_));
      } else {
        ex::set_value(std::move(rcvr_));
      }
    }
  };

 public:
  using sender_concept = ex::sender_tag;
  using completion_signatures = ex::completion_signatures<ex::set_value_t(), ex::set_stopped_t()>;

  explicit stop_probe_sender(stop_probe* probe) noexcept : probe_(probe) {}

  template <class Rcvr>
  operation<Rcvr> connect(Rcvr rcvr) const noexcept(std::is_nothrow_move_constructible_v<Rcvr>) {
    return {probe_, std::move(rcvr)};
  }

 private:
  stop_probe* probe_;
};

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_STOP_PROBE_SENDER_HPP
