// SPDX-License-Identifier: BSL-1.0
// <senet/senet.hpp> alone gives every public name.
#include <senet/senet.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace net = senet::net;

TEST(senet_umbrella, everything_with_one_include) {
  EXPECT_FALSE(std::string(senet::version()).empty());
  net::io_context ctx;
  auto sch = ctx.get_scheduler();
  int ticks = 0;
  auto r = ctx.run_until(
      ex::repeat_effect_until(sch.schedule_after(1ms) | ex::then([&] { return ++ticks == 3; })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(ticks, 3);
  EXPECT_TRUE(ctx.run_until(ex::schedule(sch) | net::async_wait_for(1ms)).has_value());
  EXPECT_TRUE(senet::io::get_io_scheduler(ex::prop{senet::io::get_io_scheduler, sch}) == sch);
}

}  // namespace
