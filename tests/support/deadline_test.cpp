// SPDX-License-Identifier: BSL-1.0
// senet-test-labels: threaded (the watchdog of support/deadline.hpp stops contexts from its own thread)
// The deadlines of the test support: a wait that does not end within its limit fails the test
// with a message (it cannot hang until ctest's timeout).
#include <support/deadline.hpp>

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

namespace {

using namespace std::chrono_literals;
namespace io = senet::io;
namespace t = senet::test;

TEST(deadline_guard, does_nothing_when_the_scope_ends_in_time) {
  t::deadline_guard guard("quick");
  EXPECT_FALSE(guard.expired());
}

TEST(deadline_guard, fails_naming_the_wait_when_the_limit_passed) {
  EXPECT_NONFATAL_FAILURE(
      {
        t::deadline_guard guard("slow wait", nullptr, 20ms);
        t::spin_until([&] { return guard.expired(); }, "the watchdog", 10s);
      },
      "slow wait: not finished within 20 ms");
}

TEST(deadline_guard, stops_the_context_it_watches) {
  io::io_context ctx{io::test};
  io::io_context::work_guard work(ctx);
  EXPECT_NONFATAL_FAILURE(
      {
        t::deadline_guard guard("ctx.run", &ctx, 20ms);
        ctx.run();  // would block for ever: the watchdog's stop() ends it
        EXPECT_TRUE(guard.expired());
      },
      "ctx.run: not finished within 20 ms");
  EXPECT_TRUE(ctx.stopped());
}

TEST(deadline_guard, guards_nest_and_expire_in_order) {
  t::deadline_guard outer("outer", nullptr, 10s);
  EXPECT_NONFATAL_FAILURE(
      {
        t::deadline_guard inner("inner", nullptr, 20ms);
        t::spin_until([&] { return inner.expired(); }, "the watchdog", 10s);
      },
      "inner: not finished");
  EXPECT_FALSE(outer.expired());
}

TEST(spin_until, returns_true_once_the_predicate_holds) {
  int n = 0;
  EXPECT_TRUE(t::spin_until([&] { return ++n == 3; }, "three tries"));
  EXPECT_EQ(n, 3);
}

TEST(spin_until, fails_naming_what_it_waited_for) {
  bool r = true;
  auto const start = std::chrono::steady_clock::now();
  EXPECT_NONFATAL_FAILURE(r = t::spin_until([] { return false; }, "a flag never set", 20ms),
                          "spin_until: a flag never set: not within 20 ms");
  EXPECT_FALSE(r);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
}

}  // namespace
