// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TESTS_STREAM_SUSPENSION_COUNTER_HPP
#define SENET_TESTS_STREAM_SUSPENSION_COUNTER_HPP

/* `co_await counted(awaitable, &n)`: awaits `awaitable` and counts in `n` each time the awaiting
   coroutine reached a suspension (await_ready gave false, await_suspend was called), whether or
   not await_suspend then resumed it at once. An operation that completes without suspending adds
   nothing. The task's I/O environment is forwarded, so senet's awaitables start in await_ready as
   they do when awaited directly. */

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>

#include <coroutine>
#include <type_traits>
#include <utility>

namespace senet::test {

template <class A>
class counted_awaitable {
 public:
  counted_awaitable(A& a, int* count) noexcept : a_(&a), count_(count) {}

  void bind_io_environment(io::io_context* ctx, ex::inplace_stop_token token) noexcept requires
      requires(A& a) {
    a.bind_io_environment(ctx, token);
  }
  { a_->bind_io_environment(ctx, token); }

  bool await_ready() { return a_->await_ready(); }
  template <class Promise>
  auto await_suspend(std::coroutine_handle<Promise> h) {
    ++*count_;
    return a_->await_suspend(h);
  }
  decltype(auto) await_resume() { return a_->await_resume(); }

 private:
  A* a_;
  int* count_;
};

/** `a` must outlive the `co_await` (pass the temporary of the same full expression). */
template <class A>
counted_awaitable<std::remove_reference_t<A>> counted(A&& a, int* count) noexcept {
  return {a, count};
}

}  // namespace senet::test

#endif  // SENET_TESTS_STREAM_SUSPENSION_COUNTER_HPP
