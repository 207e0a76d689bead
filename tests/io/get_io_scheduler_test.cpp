// SPDX-License-Identifier: BSL-1.0
#include <senet/io/get_io_scheduler.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/sockets.hpp>

#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>
#include <support/manual_scheduler.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

#include <poll.h>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

// An environment that answers get_io_scheduler and get_scheduler with different schedulers.
template <class IoSch, class WorkSch>
struct split_env {
  IoSch io_;
  WorkSch work_;
  ex::inplace_stop_token token_;
  [[nodiscard]] IoSch query(io::get_io_scheduler_t) const noexcept { return io_; }
  [[nodiscard]] WorkSch query(ex::get_scheduler_t) const noexcept { return work_; }
  [[nodiscard]] ex::inplace_stop_token query(ex::get_stop_token_t) const noexcept { return token_; }
};

template <class Sch>
struct scheduler_only_env {
  Sch sch_;
  [[nodiscard]] Sch query(ex::get_scheduler_t) const noexcept { return sch_; }
};

struct no_scheduler_env {};

TEST(get_io_scheduler, is_a_forwarding_query) {
  static_assert(ex::forwarding_query(io::get_io_scheduler));
  SUCCEED();
}

TEST(get_io_scheduler, prefers_its_own_query_to_get_scheduler) {
  io::io_context ctx{io::backend_kind::epoll};
  senet::test::manual_context manual;
  split_env<io::io_context::scheduler_type, senet::test::manual_scheduler> env{
      ctx.get_scheduler(), manual.get_scheduler(), {}};
  static_assert(std::is_same_v<decltype(io::get_io_scheduler(env)), io::io_context::scheduler_type>);
  EXPECT_TRUE(io::get_io_scheduler(env) == ctx.get_scheduler());
  EXPECT_TRUE(ex::get_scheduler(env) == manual.get_scheduler());
}

TEST(get_io_scheduler, falls_back_to_get_scheduler) {
  io::io_context ctx{io::backend_kind::epoll};
  scheduler_only_env<io::io_context::scheduler_type> env{ctx.get_scheduler()};
  EXPECT_TRUE(io::get_io_scheduler(env) == ctx.get_scheduler());
  // Whatever get_scheduler gives, even a scheduler that is not an I/O scheduler.
  senet::test::manual_context manual;
  scheduler_only_env<senet::test::manual_scheduler> work_env{manual.get_scheduler()};
  EXPECT_TRUE(io::get_io_scheduler(work_env) == manual.get_scheduler());
}

TEST(get_io_scheduler, an_environment_without_either_query_does_not_answer) {
  static_assert(!std::is_invocable_v<io::get_io_scheduler_t, const no_scheduler_env&>);
  static_assert(!std::is_invocable_v<io::get_io_scheduler_t, const ex::env<>&>);
  SUCCEED();
}

TEST(get_io_scheduler, env_with_io_scheduler_follows_it) {
  using io_sch = io::io_context::scheduler_type;
  using manual_sch = senet::test::manual_scheduler;
  static_assert(io::detail::env_with_io_scheduler<split_env<io_sch, manual_sch>>);
  static_assert(io::detail::env_with_io_scheduler<scheduler_only_env<io_sch>>);
  static_assert(!io::detail::env_with_io_scheduler<scheduler_only_env<manual_sch>>);
  // An I/O scheduler found by get_scheduler does not help when get_io_scheduler names another
  // kind of scheduler: the explicit query wins.
  static_assert(!io::detail::env_with_io_scheduler<split_env<manual_sch, io_sch>>);
  SUCCEED();
}

TEST(get_io_scheduler, ex_prop_puts_it_in_an_environment) {
  io::io_context ctx{io::backend_kind::epoll};
  auto env = ex::prop{io::get_io_scheduler, ctx.get_scheduler()};
  EXPECT_TRUE(io::get_io_scheduler(env) == ctx.get_scheduler());
  static_assert(io::detail::env_with_io_scheduler<decltype(env)>);
}

// What an operation completed with, observable from another thread.
struct outcome {
  std::optional<std::size_t> value;
  std::optional<std::error_code> error;
  bool stopped = false;
  std::atomic<bool> done{false};
  std::atomic<int> completions{0};
  std::thread::id thread{};
  ex::inplace_stop_source stop;
};

// A receiver whose environment gives the io_context's scheduler as the I/O scheduler and a
// manual scheduler (nothing runs it) as the work scheduler.
struct split_receiver {
  using receiver_concept = ex::receiver_tag;
  io::io_context* ctx_;
  senet::test::manual_context* manual_;
  outcome* out_;

  void set_value(std::size_t n) && noexcept {
    finish([&] { out_->value = n; });
  }
  void set_error(std::error_code ec) && noexcept {
    finish([&] { out_->error = ec; });
  }
  void set_stopped() && noexcept {
    finish([&] { out_->stopped = true; });
  }
  [[nodiscard]] split_env<io::io_context::scheduler_type, senet::test::manual_scheduler> get_env()
      const noexcept {
    return {ctx_->get_scheduler(), manual_->get_scheduler(), out_->stop.get_token()};
  }

 private:
  template <class F>
  void finish(F f) noexcept {
    if (out_->completions.fetch_add(1) != 0) {
      ADD_FAILURE() << "split_receiver: the operation completed more than once";
      return;
    }
    f();
    out_->thread = std::this_thread::get_id();
    out_->done.store(true, std::memory_order_release);
  }
};

// Runs `ctx` until `out` is done, for at most 10 s.
bool run_until_done(io::io_context& ctx, const outcome& out) {
  auto limit = std::chrono::steady_clock::now() + 10s;
  while (!out.done.load(std::memory_order_acquire)) {
    if (std::chrono::steady_clock::now() > limit) {
      return false;
    }
    if (ctx.poll() == 0 && !out.done.load(std::memory_order_acquire)) {
      ::pollfd p{ctx.wait_descriptor(), POLLIN, 0};
      ::poll(&p, 1, 10);
    }
  }
  return true;
}

template <class Backend>
class get_io_scheduler_test : public senet::test::backend_fixture<Backend> {
 protected:
  senet::test::manual_context manual_;
};

TYPED_TEST_SUITE(get_io_scheduler_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(get_io_scheduler_test, a_receive_runs_on_the_io_scheduler_not_the_work_scheduler) {
  auto pair = this->tcp_pair();
  char out = 'g';
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(&out, 1))), 1U);
  char in = 0;
  outcome result;
  // `then` sits between the receive and the receiver: the query must be forwarded to the child.
  auto op = ex::connect(
      net::async_receive(pair.server, buffer(&in, 1)) | ex::then([](std::size_t n) noexcept { return n; }),
      split_receiver{&this->ctx(), &this->manual_, &result});
  ex::start(op);
  ASSERT_TRUE(run_until_done(this->ctx(), result));
  ASSERT_TRUE(result.value.has_value());
  EXPECT_EQ(*result.value, 1U);
  EXPECT_EQ(in, 'g');
  EXPECT_EQ(this->manual_.started(), 0U) << "nothing was scheduled on the work scheduler";
}

TYPED_TEST(get_io_scheduler_test, a_read_started_on_another_thread_completes_on_the_context_thread) {
  auto pair = this->tcp_pair();
  std::array<char, 3> out{'a', 'b', 'c'};
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(out))), 3U);
  std::array<char, 3> in{};
  outcome result;
  auto op = ex::connect(net::async_read(pair.server, buffer(in)),
                        split_receiver{&this->ctx(), &this->manual_, &result});
  // Work that runs elsewhere starts the I/O: the operation moves itself to the context's thread.
  std::thread starter([&] { ex::start(op); });
  bool done = run_until_done(this->ctx(), result);
  starter.join();
  ASSERT_TRUE(done);
  ASSERT_TRUE(result.value.has_value());
  EXPECT_EQ(*result.value, 3U);
  EXPECT_EQ(in, out);
  EXPECT_EQ(result.thread, std::this_thread::get_id());
  EXPECT_EQ(this->manual_.started(), 0U);
}

TYPED_TEST(get_io_scheduler_test, a_stop_request_reaches_the_operation) {
  auto pair = this->tcp_pair();
  char in = 0;
  outcome result;
  auto op = ex::connect(net::async_receive(pair.server, buffer(&in, 1)),
                        split_receiver{&this->ctx(), &this->manual_, &result});
  ex::start(op);
  this->ctx().poll();
  EXPECT_FALSE(result.done.load());
  result.stop.request_stop();
  ASSERT_TRUE(run_until_done(this->ctx(), result));
  EXPECT_TRUE(result.stopped);
}

TYPED_TEST(get_io_scheduler_test, run_until_answers_it_through_get_scheduler) {
  // run_until's environment has only get_scheduler: the fallback finds the context.
  auto r = this->run(ex::read_env(io::get_io_scheduler));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(std::get<0>(*r) == this->scheduler());
  this->run(net::async_wait_for(1ms));
}

}  // namespace
