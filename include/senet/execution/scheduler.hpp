// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_SCHEDULER_HPP
#define SENET_EXECUTION_SCHEDULER_HPP

#include <senet/execution/sender.hpp>

#include <concepts>
#include <type_traits>
#include <utility>

namespace senet::execution {

// [exec.schedule]

/** `schedule(sch)`: a sender that completes on the execution resource of scheduler `sch`, by calling
    `sch.schedule()`. */
struct schedule_t {
  template <class Sch>
  requires requires(Sch&& sch) { std::forward<Sch>(sch).schedule(); }
  constexpr auto operator()(Sch&& sch) const noexcept(noexcept(std::forward<Sch>(sch).schedule())) {
    static_assert(sender<decltype(std::forward<Sch>(sch).schedule())>,
                  "senet::execution::schedule: sch.schedule() must return a sender");
    return std::forward<Sch>(sch).schedule();
  }
};

/// The schedule function object.
inline constexpr schedule_t schedule{};

// [exec.sched]

/** The concept tag of schedulers: `using scheduler_concept = senet::execution::scheduler_tag;`. */
struct scheduler_tag {
  using scheduler_concept = scheduler_tag;
};

/// The P2300 spelling of `scheduler_tag`.
using scheduler_t = scheduler_tag;

/** A handle to an execution resource: `schedule(sch)` gives a sender that completes there.

    Syntactic requirements: `schedule(sch)` is valid; the decayed type is equality comparable,
    copy-constructible and nothrow move-constructible (like stdexec, the `scheduler_concept` tag is not
    required). Semantic requirements: copies compare equal and refer to the same resource;
    `get_completion_scheduler<set_value_t>(get_env(schedule(sch)))` should equal `sch`.
*/
template <class Sch>
concept scheduler = requires(Sch&& sch) {
  { schedule_t{}(std::forward<Sch>(sch)) } -> sender;
}
&&std::equality_comparable<std::remove_cvref_t<Sch>>&& std::copy_constructible<std::remove_cvref_t<Sch>>&&
    std::is_nothrow_move_constructible_v<std::remove_cvref_t<Sch>>;

/// The sender type of `schedule(declval<Sch>())`.
template <class Sch>
requires scheduler<Sch>
using schedule_result_t = decltype(schedule(std::declval<Sch>()));

}  // namespace senet::execution

#endif  // SENET_EXECUTION_SCHEDULER_HPP
