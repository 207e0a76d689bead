// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_RUN_HPP
#define SENET_TEST_SUPPORT_RUN_HPP

/* Running one sender on an io_context in a test, with the expect receivers' discipline
   (support/expect_receiver.hpp): the sender must complete exactly once, on the expected channel,
   within `wait_limit`.

     senet::test::run(ctx, sndr)       like ctx.run_until(sndr) (same environment, same result:
                                       optional<tuple<values...>>, empty on set_stopped, throws on
                                       set_error), and also fails the test on a second completion
                                       and when no completion came within the limit (the context is
                                       then stopped, so the sender is asked to stop);
     senet::test::value_of(ctx, sndr)  the single value (or tuple of values); fails the test on
                                       set_error or set_stopped;
     senet::test::error_of(ctx, sndr)  the std::error_code of set_error; fails the test on
                                       set_value or set_stopped.

   And two bounded ways of turning a context: `bounded_run(ctx)` (ctx.run()) and
   `turn_until(ctx, pred)` (run_one() until pred()).

   A second completion is reported by a test failure at once (from whichever thread it comes) and
   is not passed on. Nothing is allocated per call. */

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <support/deadline.hpp>
#include <support/expect_receiver.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <optional>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace senet::test {

namespace detail {

/** What `run` saw of its sender: the first completion, and how many there were. */
template <class Values>
struct run_state {
  std::atomic<int> completions{0};
  std::optional<Values> value;
  std::exception_ptr error;
  std::optional<std::error_code> error_code;
  bool stopped = false;
  char const* name;

  /** True for the first completion; fails the test for any later one. */
  bool first(char const* channel) noexcept {
    if (completions.fetch_add(1, std::memory_order_acq_rel) != 0) {
      ADD_FAILURE() << name << ": the sender completed more than once (again with " << channel << ")";
      return false;
    }
    return true;
  }
};

/** The receiver the tested sender is connected to: records the first completion in the state and
    completes the waiter's receiver `Outer` (that of io_context::run_until) with `set_value()`. */
template <class Values, class Outer>
struct run_receiver {
  using receiver_concept = ex::receiver_t;
  run_state<Values>* state_;
  Outer* outer_;

  template <class... Ts>
  void set_value(Ts&&... ts) && noexcept {
    if (!state_->first("set_value")) {
      return;
    }
    try {
      state_->value.emplace(std::forward<Ts>(ts)...);
    } catch (...) {
      state_->error = std::current_exception();
    }
    ex::set_value(std::move(*outer_));
  }

  template <class Error>
  void set_error(Error&& error) && noexcept {
    if (!state_->first("set_error")) {
      return;
    }
    if constexpr (std::is_same_v<std::decay_t<Error>, std::exception_ptr>) {
      state_->error = std::forward<Error>(error);
    } else if constexpr (std::is_same_v<std::decay_t<Error>, std::error_code>) {
      state_->error_code = error;
      state_->error = std::make_exception_ptr(std::system_error(error));
    } else {
      state_->error = std::make_exception_ptr(std::forward<Error>(error));
    }
    ex::set_value(std::move(*outer_));
  }

  void set_stopped() && noexcept {
    if (!state_->first("set_stopped")) {
      return;
    }
    state_->stopped = true;
    ex::set_value(std::move(*outer_));
  }

  [[nodiscard]] ex::env_of_t<Outer> get_env() const noexcept { return ex::get_env(*outer_); }
};

/** A sender that starts the tested sender and completes with `set_value()` when it did: what
    `run` hands io_context::run_until, so that the context's own loop drives the sender (and its
    completion from another thread wakes that loop). */
template <class Sndr, class Values>
class run_waiter {
  template <class Outer>
  class operation {
   public:
    using operation_state_concept = ex::operation_state_tag;

    operation(Sndr&& sndr, run_state<Values>* state, Outer outer)
        : outer_(std::move(outer)),
          inner_(ex::connect(std::forward<Sndr>(sndr), run_receiver<Values, Outer>{state, &outer_})) {}
    operation(operation const&) = delete;
    operation& operator=(operation const&) = delete;

    void start() & noexcept { ex::start(inner_); }

   private:
    Outer outer_;
    ex::connect_result_t<Sndr, run_receiver<Values, Outer>> inner_;
  };

 public:
  using sender_concept = ex::sender_tag;
  using completion_signatures = ex::completion_signatures<ex::set_value_t()>;

  run_waiter(Sndr&& sndr, run_state<Values>* state) noexcept
      : sndr_(std::forward<Sndr>(sndr)), state_(state) {}

  template <class Outer>
  operation<Outer> connect(Outer outer) && {
    return operation<Outer>(std::forward<Sndr>(sndr_), state_, std::move(outer));
  }

 private:
  Sndr&& sndr_;
  run_state<Values>* state_;
};

}  // namespace detail

/** See the file comment. `what` names the sender in failure messages. */
template <class Sndr>
auto run(io::io_context& ctx, Sndr&& sndr, char const* what = "run",
         std::chrono::steady_clock::duration limit = wait_limit) {
  using values_type = ex::value_types_of_t<Sndr, io::detail::run_until_env, io::detail::decayed_tuple,
                                           io::detail::single_value_tuple_t>;
  detail::run_state<values_type> state;
  state.name = what;
  {
    deadline_guard guard(what, &ctx, limit);
    ctx.run_until(detail::run_waiter<Sndr, values_type>(std::forward<Sndr>(sndr), &state));
  }
  if (state.error) {
    std::rethrow_exception(state.error);
  }
  return std::move(state.value);
}

/** Runs `sndr` on `ctx` and returns its single value (or its tuple of values when there are
    several); fails the test, and returns a value-initialised result, on any other completion. */
template <class Sndr>
auto value_of(io::io_context& ctx, Sndr&& sndr, char const* what = "value_of") {
  using values_type = ex::value_types_of_t<Sndr, io::detail::run_until_env, io::detail::decayed_tuple,
                                           io::detail::single_value_tuple_t>;
  std::optional<values_type> r;
  try {
    r = run(ctx, std::forward<Sndr>(sndr), what);
    EXPECT_TRUE(r.has_value()) << what << ": completed with set_stopped, expected set_value";
  } catch (std::system_error const& e) {
    ADD_FAILURE() << what << ": completed with set_error(" << e.code() << ": " << e.code().message()
                  << "), expected set_value";
  } catch (std::exception const& e) {
    ADD_FAILURE() << what << ": completed with set_error(exception: " << e.what() << "), expected set_value";
  }
  if constexpr (std::tuple_size_v<values_type> == 1) {
    return r ? std::get<0>(std::move(*r)) : std::tuple_element_t<0, values_type>{};
  } else {
    return r ? std::move(*r) : values_type{};
  }
}

/** The error code an operation documents for the errno value `e`: `{e, std::system_category()}`
    (written out here rather than taken from the library, so that the tests pin the category). */
inline std::error_code system_error_of(int e) {
  return {e, std::system_category()};
}

/** Runs `sndr` on `ctx` and returns the `std::error_code` it completed with; fails the test, and
    returns an empty code, on any other completion. */
template <class Sndr>
std::error_code error_of(io::io_context& ctx, Sndr&& sndr, char const* what = "error_of") {
  try {
    auto r = run(ctx, std::forward<Sndr>(sndr), what);
    if (r) {
      ADD_FAILURE() << what << ": completed with set_value, expected set_error(std::error_code)";
    } else {
      ADD_FAILURE() << what << ": completed with set_stopped, expected set_error(std::error_code)";
    }
  } catch (std::system_error const& e) {
    return e.code();
  } catch (std::exception const& e) {
    ADD_FAILURE() << what << ": completed with set_error(exception: " << e.what()
                  << "), expected set_error(std::error_code)";
  }
  return {};
}

/** `ctx.run()` within `limit`: when the limit passes, the watchdog stops the context (so `run`
    returns) and the test fails naming `what`. Any thread. Returns what `run()` returned. */
inline std::size_t bounded_run(io::io_context& ctx, char const* what = "io_context::run",
                               std::chrono::steady_clock::duration limit = wait_limit) {
  deadline_guard guard(what, &ctx, limit);
  return ctx.run();
}

/** Turns `ctx` one handler at a time (`run_one()`, which blocks until one is ready and lets the
    test backend's virtual clock advance) until `done()`; fails the test naming `what` if the
    context runs out of work first or `limit` passes (the context is then stopped). Returns
    `done()`. */
template <class Pred>
bool turn_until(io::io_context& ctx, Pred done, char const* what = "turn_until",
                std::chrono::steady_clock::duration limit = wait_limit) {
  deadline_guard guard(what, &ctx, limit);
  while (!done()) {
    if (ctx.run_one() == 0 || guard.expired()) {
      break;
    }
  }
  bool const ok = done();
  EXPECT_TRUE(ok || guard.expired()) << what << ": the context ran out of work first";
  return ok;
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_RUN_HPP
