// SPDX-License-Identifier: BSL-1.0
// <senet/net.hpp> alone is enough for a client and a server.
#include <senet/net.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <string>
#include <type_traits>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace net = senet::net;
using senet::ip::tcp;

TEST(net_umbrella, a_client_and_a_server_with_one_include) {
  net::io_context ctx;
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(tcp::v4());
  std::string out = "umbrella";
  std::array<char, 8> in{};
  auto server = net::async_accept(acceptor) | ex::let_value([&](tcp::socket& s, const tcp::endpoint&) {
                  return net::async_read(s, senet::buffer(in));
                });
  auto talk = net::async_connect(client, acceptor.local_endpoint()) |
              ex::let_value([&] { return net::async_write(client, senet::buffer(out)); });
  auto r = ctx.run_until(net::timeout(ex::when_all(std::move(server), std::move(talk)), 10s));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::string(in.data(), in.size()), out);
  EXPECT_TRUE(ctx.run_until(net::async_wait_for(1ms)).has_value());
  static_assert(std::is_same_v<net::io_context, senet::io::io_context>);
}

TEST(net_umbrella, readiness_and_delimited_reads_with_one_include) {
  net::io_context ctx;
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(tcp::v4());
  auto accepted = ctx.run_until(
      ex::when_all(net::async_accept(acceptor), net::async_connect(client, acceptor.local_endpoint())));
  ASSERT_TRUE(accepted.has_value());
  tcp::socket server = std::move(std::get<0>(*accepted));
  std::string line = "hello\nrest";
  std::string got;
  auto r =
      ctx.run_until(net::timeout(ex::when_all(net::async_wait(client, net::socket_base::wait_write),
                                              net::async_write(client, senet::buffer(line)),
                                              net::async_read_until(server, net::dynamic_buffer(got), '\n')),
                                 10s));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(senet::io::has(std::get<0>(*r), senet::io::poll_events::writable));
  EXPECT_EQ(std::get<2>(*r), 6U);
  EXPECT_EQ(got.substr(0, 6), "hello\n");
}

}  // namespace
