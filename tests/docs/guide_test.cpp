// SPDX-License-Identifier: BSL-1.0
// The code of docs/guide.md, compiled and run, so that the guide stays true.
#include <senet/execution.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/address.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_read_some.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/sockets.hpp>
#include <senet/net/timeout.hpp>

#include <support/deadline.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <string>
#include <system_error>
#include <thread>

namespace {

namespace ex = senet::ex;
namespace net = senet::net;
using senet::ip::tcp;
using namespace std::chrono_literals;

// Section 1.
TEST(guide, senders_in_five_minutes) {
  auto work = ex::just(20) | ex::then([](int x) { return x + 22; });
  auto [answer] = ex::sync_wait(std::move(work)).value();
  EXPECT_EQ(answer, 42);
}

// Section 2.
TEST(guide, run_until_a_timer) {
  senet::io::io_context ctx;
  senet::test::deadline_guard deadline("guide", &ctx);  // not in the guide: the test's time limit
  auto before = std::chrono::steady_clock::now();
  EXPECT_TRUE(ctx.run_until(net::async_wait_for(10ms)).has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - before, 10ms);
}

// Section 3, with a server of our own on a port the kernel picks.
TEST(guide, a_client) {
  senet::io::io_context ctx;
  senet::test::deadline_guard deadline("guide", &ctx);  // not in the guide: the test's time limit
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::make_address("127.0.0.1"), 0));
  tcp::socket sock(tcp::v4());
  tcp::endpoint server(senet::ip::make_address("127.0.0.1"), acceptor.local_endpoint().port());
  std::string request = "hello", reply(5, '\0');

  auto exchange = net::async_connect(sock, server) |
                  ex::let_value([&] { return net::async_write(sock, senet::buffer(request)); }) |
                  ex::let_value([&](std::size_t) { return net::async_read(sock, senet::buffer(reply)); });
  // The server side: accept, read the five bytes, send them back.
  std::string seen(5, '\0');
  auto serve = net::async_accept(acceptor) | ex::let_value([&](tcp::socket& peer, const tcp::endpoint&) {
                 return net::async_read(peer, senet::buffer(seen)) | ex::let_value([&](std::size_t) {
                          return net::async_write(peer, senet::buffer(seen));
                        });
               });
  auto r = ctx.run_until(ex::when_all(std::move(exchange), std::move(serve)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 5U);  // the client read five bytes
  EXPECT_EQ(std::get<1>(*r), 5U);  // the server wrote five back
  EXPECT_EQ(seen, "hello");
  EXPECT_EQ(reply, "hello");
}

// Section 4, with a small echo_session of our own (the example's is in examples/echo_session.hpp):
// one connection accepted, its session spawned with the environment the guide shows.
auto echo_session(tcp::socket s) {
  struct session {
    tcp::socket socket;
    std::string data = std::string(5, '\0');
  };
  return ex::just(session{std::move(s)}) | ex::let_value([](session& ses) {
           return net::async_read(ses.socket, senet::buffer(ses.data)) | ex::let_value([&ses](std::size_t) {
                    return net::async_write(ses.socket, senet::buffer(ses.data));
                  }) |
                  ex::then([](std::size_t) {});
         }) |
         ex::upon_error([](auto&&) noexcept {});  // spawned work handles its own errors
}

TEST(guide, a_server) {
  senet::io::io_context ctx;
  senet::test::deadline_guard deadline("guide", &ctx);  // not in the guide: the test's time limit
  auto sch = ctx.get_scheduler();
  ex::counting_scope scope;  // owns the work; join() waits for all of it
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::make_address("127.0.0.1"), 0));

  auto accept_one =
      net::async_accept(acceptor)  // completes with (tcp::socket, tcp::endpoint)
      | ex::then([&](tcp::socket s, const tcp::endpoint& /*peer*/) {
          ex::spawn(echo_session(std::move(s)), scope.get_token(), ex::prop{ex::get_scheduler, sch});
        });

  tcp::socket client(tcp::v4());
  std::string request = "hello", reply(5, '\0');
  auto exchange = net::async_connect(client, acceptor.local_endpoint()) |
                  ex::let_value([&] { return net::async_write(client, senet::buffer(request)); }) |
                  ex::let_value([&](std::size_t) { return net::async_read(client, senet::buffer(reply)); });
  auto r = ctx.run_until(ex::when_all(std::move(accept_one), std::move(exchange)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 5U);  // the client read five bytes
  EXPECT_TRUE(ctx.run_until(scope.join()).has_value());
  EXPECT_EQ(reply, "hello");
}

// Section 5: nothing arrives, so the timer wins.
TEST(guide, cancellation_and_time_limits) {
  senet::io::io_context ctx;
  senet::test::deadline_guard deadline("guide", &ctx);  // not in the guide: the test's time limit
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::make_address("127.0.0.1"), 0));
  tcp::socket sock(tcp::v4());
  EXPECT_TRUE(ctx.run_until(net::async_connect(sock, acceptor.local_endpoint())).has_value());
  char buf[16];

  auto first = ex::when_any(net::async_receive(sock, senet::buffer(buf)),
                            net::async_wait_for(20ms) | ex::then([] { return std::size_t{0}; }));
  auto [n] = ctx.run_until(std::move(first)).value();
  EXPECT_EQ(n, 0u);

  auto bounded = net::timeout(net::async_receive(sock, senet::buffer(buf)), 20ms);
  try {
    ctx.run_until(std::move(bounded));
    ADD_FAILURE() << "the receive should have timed out";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::make_error_code(std::errc::timed_out));
  }
}

// Section 2: where the scheduler comes from. The work scheduler here is a run_loop's (the guide's
// `pool`); the I/O scheduler is the context's.
TEST(guide, where_the_scheduler_comes_from) {
  senet::io::io_context ctx;
  senet::test::deadline_guard deadline("guide", &ctx);  // not in the guide: the test's time limit
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(tcp::v4());
  ex::run_loop pool;
  auto env = ex::env{ex::prop{senet::io::get_io_scheduler, ctx.get_scheduler()},
                     ex::prop{ex::get_scheduler, pool.get_scheduler()}};
  EXPECT_TRUE(senet::io::get_io_scheduler(env) == ctx.get_scheduler());
  EXPECT_TRUE(ex::get_scheduler(env) == pool.get_scheduler());

  senet::io::io_context::work_guard guard(ctx);
  std::thread runner([&] { ctx.run(); });
  // The adaptor form and ex::on, outside run_until.
  auto r = ex::sync_wait(ex::when_all(
      ex::on(ctx.get_scheduler(), net::async_accept(acceptor)),
      ex::schedule(ctx.get_scheduler()) | net::async_connect(client, acceptor.local_endpoint())));
  guard.reset();
  runner.join();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<1>(*r), client.local_endpoint());
}

// Section 4: an echo session as one repeat_effect_until.
TEST(guide, a_loop_without_recursion) {
  senet::io::io_context ctx;
  senet::test::deadline_guard deadline("guide", &ctx);  // not in the guide: the test's time limit
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(tcp::v4());
  auto accepted = ctx.run_until(
      ex::when_all(net::async_accept(acceptor), net::async_connect(client, acceptor.local_endpoint())));
  ASSERT_TRUE(accepted.has_value());
  tcp::socket& s = std::get<0>(*accepted);
  std::array<char, 64> buf{};
  auto echo = ex::repeat_effect_until(
      net::async_read_some(s, senet::buffer(buf)) |
      ex::let_value([&](std::size_t n) { return net::async_write(s, senet::buffer(buf, n)); }) |
      ex::then([](std::size_t n) { return n == 0; }));
  std::string out = "echo", back(4, '\0');
  auto talk = net::async_write(client, senet::buffer(out)) |
              ex::let_value([&](std::size_t) { return net::async_read(client, senet::buffer(back)); }) |
              ex::then([&](std::size_t) { client.shutdown(tcp::socket::shutdown_send); });
  EXPECT_TRUE(ctx.run_until(ex::when_all(std::move(echo), std::move(talk))).has_value());
  EXPECT_EQ(back, out);
}

// Section 6: the context's scheduler is a timed scheduler.
TEST(guide, timed_scheduler) {
  senet::io::io_context ctx;
  senet::test::deadline_guard deadline("guide", &ctx);  // not in the guide: the test's time limit
  auto sch = ctx.get_scheduler();
  auto before = sch.now();
  EXPECT_TRUE(ctx.run_until(sch.schedule_after(10ms) | net::async_wait_for(5ms)).has_value());
  EXPECT_GE(sch.now() - before, 15ms);
}

}  // namespace
