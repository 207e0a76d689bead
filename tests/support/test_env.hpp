// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_TEST_ENV_HPP
#define SENET_TEST_SUPPORT_TEST_ENV_HPP

#include <senet/execution.hpp>

#include <utility>

namespace senet::test {

/** An environment that answers no query, for receivers that need no environment. */
struct empty_env {};

/** One entry of a `test_env`: answers the query `Tag` with a copy of `value_`. */
template <class Tag, class Value>
struct env_entry {
  Value value_;

  Value query(Tag) const noexcept { return value_; }
};

/** A receiver environment built from `env_entry`s, each answering one query.

    Only uses the query protocol (`env.query(tag)`) that every std::execution implementation
    follows, so it works both with senet's bundled core and with stdexec. Queries that no entry
    answers fall back to their defaults (for example `get_stop_token` returns a `never_stop_token`).
*/
template <class... Entries>
struct test_env : Entries... {
  using Entries::query...;
};

/** A `test_env` holding `entries`. */
template <class... Entries>
test_env<Entries...> make_env(Entries... entries) {
  return test_env<Entries...>{std::move(entries)...};
}

/** An entry answering `get_stop_token` with `token`. */
template <class StopToken>
env_entry<ex::get_stop_token_t, StopToken> stop_token_entry(StopToken token) {
  return {std::move(token)};
}

/** An entry answering `get_scheduler` with `sch`. */
template <class Sch>
env_entry<ex::get_scheduler_t, Sch> scheduler_entry(Sch sch) {
  return {std::move(sch)};
}

/** An entry answering `get_allocator` with `alloc`. */
template <class Alloc>
env_entry<ex::get_allocator_t, Alloc> allocator_entry(Alloc alloc) {
  return {std::move(alloc)};
}

/** An environment whose `get_stop_token` is `token`. */
template <class StopToken>
auto stop_token_env(StopToken token) {
  return make_env(stop_token_entry(std::move(token)));
}

/** An environment whose `get_scheduler` is `sch`. */
template <class Sch>
auto scheduler_env(Sch sch) {
  return make_env(scheduler_entry(std::move(sch)));
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_TEST_ENV_HPP
