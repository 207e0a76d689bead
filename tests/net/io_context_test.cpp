// SPDX-License-Identifier: BSL-1.0
#include <senet/net/io_context.hpp>

#include <senet/net/async_wait.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <type_traits>

namespace {

using namespace std::chrono_literals;
namespace net = senet::net;

TEST(net_io_context, is_the_io_context) {
  static_assert(std::is_same_v<net::io_context, senet::io::io_context>);
  static_assert(std::is_same_v<net::io_context::scheduler_type, senet::io::io_context::scheduler_type>);
  net::io_context ctx;
  EXPECT_TRUE(ctx.run_until(net::async_wait_for(1ms)).has_value());
}

}  // namespace
