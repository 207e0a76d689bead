// SPDX-License-Identifier: BSL-1.0
#include <senet/net/io_context.hpp>

#include <senet/net/async_wait.hpp>

#include <support/backend_fixture.hpp>

#include <gtest/gtest.h>

#include <chrono>

namespace {

using namespace std::chrono_literals;
namespace net = senet::net;

// net::io_context is io::io_context (checked at compile time in tests/compile/net_io_context.cpp):
// a context made by that name on each backend runs a timer and reports its backend.
template <class Backend>
class net_io_context_test : public ::testing::Test {};

TYPED_TEST_SUITE(net_io_context_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(net_io_context_test, runs_a_timer_on_its_backend) {
  if (!net::io_context::is_available(TypeParam::kind)) {
    GTEST_SKIP() << "the " << senet::io::to_string(TypeParam::kind) << " backend is not available here";
  }
  net::io_context ctx{TypeParam::kind};
  EXPECT_EQ(ctx.backend(), TypeParam::kind);
  auto sch = ctx.get_scheduler();
  auto before = sch.now();
  EXPECT_TRUE(ctx.run_until(net::async_wait_for(1ms)).has_value());
  EXPECT_GE(sch.now() - before, 1ms);
}

}  // namespace
