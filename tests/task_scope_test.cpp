// SPDX-License-Identifier: BSL-1.0
// senet::task with ex::counting_scope: per-connection tasks spawned on an io_context, and a
// server's clean shutdown (the pattern of docs/guide.md, "Coroutines").
#include <senet/task.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/basic_stream_socket.hpp>

#include "support/backend_fixture.hpp"
#include "support/loopback.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <exception>
#include <string>
#include <system_error>
#include <utility>

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
using senet::task;
using senet::ip::tcp;

struct counters {
  int sessions_started = 0;
  int sessions_ended = 0;  // frames destroyed, however the session ended
  int errors = 0;
  bool acceptor_ended = false;
};

struct on_exit {
  int* count;
  ~on_exit() { ++*count; }
};

// A session: echoes until the peer closes; a stop request (the scope's) ends it at its pending
// receive or write, and its socket is closed with its frame.
task<void> session(tcp::socket s, counters* c) {
  ++c->sessions_started;
  on_exit ended{&c->sessions_ended};
  std::array<char, 256> buf;
  for (;;) {
    std::size_t n = co_await net::async_receive(s, senet::buffer(buf));
    if (n == 0) {
      co_return;
    }
    co_await net::async_write(s, senet::buffer(buf.data(), n));
  }
}

// The accept loop: each connection becomes a task spawned into `scope`, with the I/O scheduler in
// its environment. A stop request cancels the pending accept, which ends the loop.
task<void> serve(tcp::acceptor& acceptor, ex::counting_scope& scope, io::io_context& ctx, counters* c) {
  struct flag {
    bool* b;
    ~flag() { *b = true; }
  } ended{&c->acceptor_ended};
  for (;;) {
    auto [s, peer] = co_await net::async_accept(acceptor);
    ex::spawn(session(std::move(s), c) | ex::upon_error([c](std::exception_ptr) noexcept { ++c->errors; }),
              scope.get_token(), ex::prop{io::get_io_scheduler, ctx.get_scheduler()});
  }
}

template <class Backend>
class task_scope : public senet::test::backend_fixture<Backend> {};
TYPED_TEST_SUITE(task_scope, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(task_scope, sessions_spawned_per_connection_and_a_clean_shutdown) {
  auto& ctx = this->ctx();
  counters c;
  ex::counting_scope scope;
  auto acceptor = senet::test::listen_tcp(tcp::v4());
  auto on_ctx = ex::prop{io::get_io_scheduler, ctx.get_scheduler()};
  ex::spawn(
      serve(acceptor, scope, ctx, &c) | ex::upon_error([&c](std::exception_ptr) noexcept { ++c.errors; }),
      scope.get_token(), on_ctx);

  constexpr int clients_count = 3;
  std::array<tcp::socket, clients_count> clients;
  for (auto& client : clients) {
    ASSERT_TRUE(ctx.run_until(net::async_connect(client, acceptor.local_endpoint())));
  }
  for (int i = 0; i < clients_count; ++i) {
    std::string out = "ping " + std::to_string(i);
    std::string in(out.size(), '\0');
    auto r = ctx.run_until(ex::when_all(net::async_write(clients[i], senet::buffer(out)),
                                        net::async_read(clients[i], senet::buffer(in))));
    ASSERT_TRUE(r);
    EXPECT_EQ(in, out);
  }
  EXPECT_EQ(c.sessions_started, clients_count);
  EXPECT_EQ(c.sessions_ended, 0);
  EXPECT_FALSE(c.acceptor_ended);

  // Shutdown: the stop reaches the pending accept and every session's pending receive; join
  // waits until each has ended and its frame (and socket) is gone.
  scope.request_stop();
  ASSERT_TRUE(ctx.run_until(scope.join()));
  EXPECT_TRUE(c.acceptor_ended);
  EXPECT_EQ(c.sessions_ended, clients_count);
  EXPECT_EQ(c.errors, 0);

  // Every session's socket is closed: each client reads the end of the stream.
  for (auto& client : clients) {
    char byte;
    auto r = ctx.run_until(net::async_receive(client, senet::buffer(&byte, 1)));
    ASSERT_TRUE(r);
    EXPECT_EQ(std::get<0>(*r), 0u);
  }
}

TYPED_TEST(task_scope, a_session_ending_on_its_own_leaves_the_scope) {
  auto& ctx = this->ctx();
  counters c;
  ex::counting_scope scope;
  auto acceptor = senet::test::listen_tcp(tcp::v4());
  auto on_ctx = ex::prop{io::get_io_scheduler, ctx.get_scheduler()};
  ex::spawn(
      serve(acceptor, scope, ctx, &c) | ex::upon_error([&c](std::exception_ptr) noexcept { ++c.errors; }),
      scope.get_token(), on_ctx);
  {
    tcp::socket client;
    ASSERT_TRUE(ctx.run_until(net::async_connect(client, acceptor.local_endpoint())));
    std::string out = "x";
    std::string in = " ";
    ASSERT_TRUE(ctx.run_until(ex::when_all(net::async_write(client, senet::buffer(out)),
                                           net::async_read(client, senet::buffer(in)))));
  }  // the client closes: the session reads the end and returns
  while (c.sessions_ended == 0) {
    ASSERT_EQ(ctx.run_one(), 1u) << "the session did not end";
  }
  EXPECT_EQ(c.sessions_started, 1);
  EXPECT_FALSE(c.acceptor_ended);
  scope.request_stop();
  ASSERT_TRUE(ctx.run_until(scope.join()));
  EXPECT_TRUE(c.acceptor_ended);
  EXPECT_EQ(c.errors, 0);
}

TYPED_TEST(task_scope, an_exception_in_a_session_reaches_upon_error) {
  auto& ctx = this->ctx();
  ex::counting_scope scope;
  int errors = 0;
  auto failing = []() -> task<void> {
    throw std::runtime_error("session failed");
    co_return;
  };
  ex::spawn(failing() | ex::upon_error([&errors](std::exception_ptr) noexcept { ++errors; }),
            scope.get_token(), ex::prop{io::get_io_scheduler, ctx.get_scheduler()});
  ASSERT_TRUE(ctx.run_until(scope.join()));
  EXPECT_EQ(errors, 1);
}

}  // namespace
