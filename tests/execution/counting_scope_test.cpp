// SPDX-License-Identifier: BSL-1.0
// [exec.counting.scopes]: counting_scope, spawn.
#include <senet/execution.hpp>

#include <support/expect_receiver.hpp>
#include <support/manual_scheduler.hpp>
#include <support/pending_sender.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <thread>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

// spawn takes only senders that cannot fail. Work that is scheduled on a run_loop may fail in the
// standard's signatures (and not in stdexec's); this adaptor turns any such error into a failure of
// the test and a value.
auto fail_on_error() {
  return ex::upon_error([](auto&&) noexcept { ADD_FAILURE() << "spawned work failed"; });
}

TEST(counting_scope, join_of_an_unused_scope_completes) {
  ex::counting_scope scope;
  auto result = ex::sync_wait(scope.join());
  EXPECT_TRUE(result.has_value());
}

TEST(counting_scope, spawn_starts_the_work_at_once) {
  ex::counting_scope scope;
  bool ran = false;
  ex::spawn(ex::just() | ex::then([&]() noexcept { ran = true; }), scope.get_token());
  EXPECT_TRUE(ran);
  ex::sync_wait(scope.join());
}

TEST(counting_scope, join_waits_for_spawned_work) {
  ex::run_loop loop;
  ex::counting_scope scope;
  bool work_done = false;
  // The spawned work can only run when the run_loop runs.
  ex::spawn(ex::starts_on(loop.get_scheduler(), ex::just() | ex::then([&]() noexcept { work_done = true; })) |
                fail_on_error(),
            scope.get_token());

  // join completes on the scheduler of its receiver's environment; starts_on provides one.
  t::manual_context ctx;
  bool joined = false;
  auto op = ex::connect(ex::starts_on(ctx.get_scheduler(), scope.join()) | ex::then([&] { joined = true; }),
                        t::expect_void_receiver{});
  ex::start(op);
  ctx.run();
  EXPECT_FALSE(work_done);
  EXPECT_FALSE(joined);

  loop.finish();
  loop.run();
  EXPECT_TRUE(work_done);
  ctx.run();
  EXPECT_TRUE(joined);
}

TEST(counting_scope, join_waits_for_every_spawned_operation) {
  ex::counting_scope scope;
  t::pending_control a;
  t::pending_control b;
  ex::spawn(a.sender(), scope.get_token());
  ex::spawn(b.sender(), scope.get_token());
  ASSERT_TRUE(a.started() && b.started());

  t::manual_context ctx;
  bool joined = false;
  auto op = ex::connect(ex::starts_on(ctx.get_scheduler(), scope.join()) | ex::then([&] { joined = true; }),
                        t::expect_void_receiver{});
  ex::start(op);
  ctx.run();
  EXPECT_TRUE(a.complete());
  ctx.run();
  EXPECT_FALSE(joined);
  EXPECT_TRUE(b.complete());
  ctx.run();
  EXPECT_TRUE(joined);
}

TEST(counting_scope, spawned_work_may_complete_stopped) {
  ex::counting_scope scope;
  ex::spawn(ex::just_stopped(), scope.get_token());
  auto result = ex::sync_wait(scope.join());
  EXPECT_TRUE(result.has_value());
}

TEST(counting_scope, request_stop_stops_the_spawned_work) {
  ex::counting_scope scope;
  t::pending_control work;
  ex::spawn(work.sender(), scope.get_token());
  ASSERT_TRUE(work.started());
  EXPECT_FALSE(work.stop_requested());
  scope.request_stop();
  EXPECT_TRUE(work.stop_requested());
  EXPECT_TRUE(work.stopped());
  ex::sync_wait(scope.join());
}

TEST(counting_scope, spawned_work_sees_the_scopes_stop_token) {
  ex::counting_scope scope;
  bool stop_possible = false;
  ex::spawn(ex::read_env(ex::get_stop_token) |
                ex::then([&](auto token) noexcept { stop_possible = token.stop_possible(); }),
            scope.get_token());
  EXPECT_TRUE(stop_possible);
  ex::sync_wait(scope.join());
}

TEST(counting_scope, close_prevents_new_work) {
  ex::counting_scope scope;
  scope.close();
  bool ran = false;
  ex::spawn(ex::just() | ex::then([&]() noexcept { ran = true; }), scope.get_token());
  EXPECT_FALSE(ran);
  ex::sync_wait(scope.join());
}

TEST(counting_scope, close_lets_running_work_finish) {
  ex::counting_scope scope;
  t::pending_control work;
  ex::spawn(work.sender(), scope.get_token());
  scope.close();
  EXPECT_FALSE(work.stop_requested());
  EXPECT_TRUE(work.complete());
  ex::sync_wait(scope.join());
}

TEST(counting_scope, join_under_sync_wait_waits_for_work_on_another_thread) {
  ex::run_loop loop;
  std::thread driver{[&] { loop.run(); }};
  ex::counting_scope scope;
  int done = 0;
  for (int i = 0; i < 4; ++i) {
    ex::spawn(ex::starts_on(loop.get_scheduler(), ex::just() | ex::then([&]() noexcept { ++done; })) |
                  fail_on_error(),
              scope.get_token());
  }
  ex::sync_wait(scope.join());
  // join completed after every spawned operation: their writes happen before it.
  EXPECT_EQ(4, done);
  loop.finish();
  driver.join();
}

}  // namespace
