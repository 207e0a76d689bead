// SPDX-License-Identifier: BSL-1.0
#include <senet/io/detail/descriptor.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/sockets.hpp>

#include <support/loopback.hpp>
#include <support/run.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;

TEST(descriptor, defaults_and_release_of_an_unregistered_descriptor) {
  io::detail::descriptor d;
  EXPECT_EQ(d.fd, -1);
  EXPECT_EQ(d.context_state, nullptr);
  io::detail::release_descriptor(d);
  EXPECT_EQ(d.context_state, nullptr);
}

// Registers `s` with `ctx` (a receive that has to wait, then is cancelled).
void register_with(io::io_context& ctx, ip::tcp::socket& s) {
  char c = 0;
  auto r = senet::test::run(
      ctx, ex::when_any(net::async_receive(s, senet::buffer(&c, 1)) | ex::then([](std::size_t) {}),
                        net::async_wait_for(1ms)));
  ASSERT_TRUE(r.has_value());
}

TEST(descriptor, waiting_registers_and_release_forgets) {
  io::io_context ctx{io::epoll};
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  auto pair = senet::test::connect_pair(ctx, acceptor);
  register_with(ctx, pair.server);
  io::detail::descriptor& d = pair.server.io_descriptor();
  EXPECT_NE(d.context_state, nullptr);
  io::detail::release_descriptor(d);
  EXPECT_EQ(d.context_state, nullptr);
  EXPECT_GE(d.fd, 0);  // releasing does not close
}

TEST(descriptor, a_state_orphaned_by_its_context_is_freed_on_release) {
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  std::optional<io::io_context> ctx(std::in_place, io::epoll);
  auto pair = senet::test::connect_pair(*ctx, acceptor);
  register_with(*ctx, pair.server);
  ASSERT_NE(pair.server.io_descriptor().context_state, nullptr);
  ctx.reset();
  // The state outlived its context; closing the socket frees it (LeakSanitizer checks).
  pair.server.close();
  EXPECT_EQ(pair.server.io_descriptor().context_state, nullptr);
}

}  // namespace
