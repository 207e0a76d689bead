// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_GET_IO_SCHEDULER_HPP
#define SENET_IO_GET_IO_SCHEDULER_HPP

#include <senet/config.hpp>
#include <senet/execution.hpp>

#include <concepts>
#include <utility>

namespace senet::io {

// Not included: io_context.hpp includes what includes this header.
class io_context;

/** `io::get_io_scheduler(env)`: the scheduler on which the networking senders connected to a
    receiver with environment `env` run their I/O (P2762 §3.1, "a specific customization point
    name, e.g. `get_io_scheduler`").

    It keeps the I/O scheduler apart from the scheduler that work runs on: an environment may
    answer `ex::get_scheduler` with a thread pool or a `run_loop` and `get_io_scheduler` with an
    `io_context`'s scheduler, and every `net::async_*` sender without an explicit scheduler then
    finds its `io_context` through `get_io_scheduler`, wherever the work around it runs.

    Lookup, first answer wins:
    1. the environment's own `query(get_io_scheduler)`;
    2. with `senet::ex` aliased to stdexec: `get_start_scheduler(env)`, when it names a senet I/O
       scheduler (stdexec's `starts_on`, `on` and `let_value` announce the scheduler a child starts
       on by that query, where C++26 and the bundled core use `get_scheduler`);
    3. `ex::get_scheduler(env)`.
    An environment that answers none of them is not a valid argument (the call does not compile).

    It is a forwarding query (`ex::forwarding_query(io::get_io_scheduler)` is true): adaptors such
    as `then`, `let_value` or `when_all` pass it from their receiver to their children, with the
    bundled core and with stdexec.

    Example:
    ```cpp
    // Work runs on `pool`, the receive on `ctx`.
    auto env = ex::env{ex::prop{io::get_io_scheduler, ctx.get_scheduler()},
                       ex::prop{ex::get_scheduler, pool.get_scheduler()}};
    ```
    Thread safety: a query; as safe as the environment it reads.
    See P2762 §3.1.
*/
struct get_io_scheduler_t {
 private:
#if SENET_USE_STDEXEC
  template <class Env>
  static constexpr bool start_scheduler_is_io = requires(const Env& env) {
    { ex::get_start_scheduler(env).context() }
    noexcept->std::same_as<io_context&>;
  };
#else
  template <class Env>
  static constexpr bool start_scheduler_is_io = false;
#endif

 public:
  /** Adaptors forward this query to their children. */
  [[nodiscard]] static constexpr bool query(ex::forwarding_query_t) noexcept {
    return true;
  }

  template <class Env>
  requires requires(const Env& env) {
    env.query(std::declval<const get_io_scheduler_t&>());
  }
  [[nodiscard]] constexpr auto operator()(const Env& env) const noexcept {
    static_assert(noexcept(env.query(*this)), "senet::io::get_io_scheduler: the query must be noexcept");
    return env.query(*this);
  }

  template <class Env>
  requires(!requires(const Env& env) { env.query(std::declval<const get_io_scheduler_t&>()); }) &&
      (start_scheduler_is_io<Env> || requires(const Env& env) { ex::get_scheduler(env); })
          [[nodiscard]] constexpr auto
          operator()(const Env& env) const noexcept {
#if SENET_USE_STDEXEC
    if constexpr (start_scheduler_is_io<Env>) {
      return ex::get_start_scheduler(env);
    } else {
      return ex::get_scheduler(env);
    }
#else
    return ex::get_scheduler(env);
#endif
  }
};

/** The `get_io_scheduler` query object. */
inline constexpr get_io_scheduler_t get_io_scheduler{};

}  // namespace senet::io

#endif  // SENET_IO_GET_IO_SCHEDULER_HPP
