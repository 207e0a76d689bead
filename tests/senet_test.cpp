// SPDX-License-Identifier: BSL-1.0
// <senet/senet.hpp> alone gives every public name.
#include <senet/senet.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>

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

TEST(senet_umbrella, the_sinks_and_sources_too) {
  static_assert(senet::stream::write_sink<senet::stream::socket_sink<senet::ip::tcp::socket>>);
  static_assert(senet::stream::read_source<senet::stream::socket_source<senet::ip::tcp::socket>>);
  static_assert(senet::stream::write_sink<senet::stream::buffered_writer<senet::ip::tcp::socket>>);
  static_assert(senet::stream::write_sink<senet::stream::file_sink>);
  static_assert(senet::stream::read_source<senet::stream::file_source>);
  static_assert(senet::stream::write_sink<senet::stream::any_write_sink>);
  static_assert(senet::stream::read_source<senet::stream::any_read_source>);
  senet::stream::file_sink null("/dev/null", O_WRONLY);
  auto [ec, n] = null.write_eof(senet::buffer("x", 1)).await_resume();
  EXPECT_FALSE(ec);
  EXPECT_EQ(n, 1u);
  EXPECT_TRUE(null.finished());
}

}  // namespace
