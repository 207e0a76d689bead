// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_COMPLETION_SCHEDULER_HPP
#define SENET_TEST_SUPPORT_COMPLETION_SCHEDULER_HPP

#include <senet/execution.hpp>
#include <support/test_env.hpp>

#include <type_traits>

namespace senet::test {

/** `get_completion_scheduler<Tag>` of the attributes `attrs` of a sender.

    P2300R10 asks `get_completion_scheduler<Tag>(attrs)`; newer drafts (and stdexec) also accept,
    and for some adaptors require, the receiver's environment as a second argument. This asks the
    one-argument form when the implementation answers it and otherwise passes `env`.
*/
template <class Tag = ex::set_value_t, class Attrs, class Env = empty_env>
auto completion_scheduler_of(Attrs const& attrs, Env const& env = {}) {
  using query = ex::get_completion_scheduler_t<Tag>;
  if constexpr (std::is_invocable_v<query, Attrs const&>) {
    return query{}(attrs);
  } else {
    return query{}(attrs, env);
  }
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_COMPLETION_SCHEDULER_HPP
