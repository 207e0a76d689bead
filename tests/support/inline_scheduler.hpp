// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_INLINE_SCHEDULER_HPP
#define SENET_TEST_SUPPORT_INLINE_SCHEDULER_HPP

#include <senet/execution.hpp>

#include <type_traits>
#include <utility>

namespace senet::test {

/** A scheduler whose `schedule()` completes with `set_value()` inside `start()`, on the calling
    thread. Its schedule sender names it as the completion scheduler of `set_value_t`. */
class inline_scheduler {
  template <class Rcvr>
  struct operation {
    using operation_state_concept = ex::operation_state_tag;

    Rcvr rcvr_;

    void start() & noexcept { ex::set_value(std::move(rcvr_)); }
  };

  struct attributes {
    inline_scheduler query(ex::get_completion_scheduler_t<ex::set_value_t>) const noexcept { return {}; }
  };

  struct sender {
    using sender_concept = ex::sender_tag;
    using completion_signatures = ex::completion_signatures<ex::set_value_t()>;

    template <class Rcvr>
    operation<Rcvr> connect(Rcvr rcvr) const noexcept(std::is_nothrow_move_constructible_v<Rcvr>) {
      return {std::move(rcvr)};
    }

    attributes get_env() const noexcept { return {}; }
  };

 public:
  using scheduler_concept = ex::scheduler_tag;

  sender schedule() const noexcept { return {}; }

  friend bool operator==(inline_scheduler const&, inline_scheduler const&) noexcept = default;
};

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_INLINE_SCHEDULER_HPP
