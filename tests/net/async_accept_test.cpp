// SPDX-License-Identifier: BSL-1.0
#include <senet/net/async_accept.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/sockets.hpp>

#include <support/backend_fixture.hpp>
#include <support/io_probe.hpp>
#include <support/loopback.hpp>
#include <support/run.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <fcntl.h>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace local = senet::local;
namespace net = senet::net;
using senet::buffer;

template <class Backend>
class async_accept_test : public senet::test::backend_fixture<Backend> {
 protected:
  // The pair works: one byte each way.
  template <class Pair>
  void check_pair(Pair& pair) {
    char a = 'a';
    char b = 'b';
    char in_a = 0;
    char in_b = 0;
    auto r = this->run(ex::when_all(
        net::async_send(pair.client, buffer(&a, 1)), net::async_receive(pair.server, buffer(&in_a, 1)),
        net::async_send(pair.server, buffer(&b, 1)), net::async_receive(pair.client, buffer(&in_b, 1))));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(in_a, 'a');
    EXPECT_EQ(in_b, 'b');
  }
};

TYPED_TEST_SUITE(async_accept_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(async_accept_test, completion_signatures_are_socket_and_endpoint) {
  ip::tcp::acceptor acceptor;
  using sndr = decltype(net::async_accept(acceptor));
  static_assert(
      std::is_same_v<typename sndr::completion_signatures,
                     ex::completion_signatures<ex::set_value_t(ip::tcp::socket, ip::tcp::endpoint),
                                               ex::set_error_t(std::error_code), ex::set_stopped_t()>>);
  SUCCEED();
}

TYPED_TEST(async_accept_test, ipv4) {
  auto pair = this->tcp_pair();
  ASSERT_TRUE(pair.server.is_open());
  EXPECT_EQ(pair.peer, pair.client.local_endpoint());
  EXPECT_EQ(pair.server.protocol(), ip::tcp::v4());
  this->check_pair(pair);
}

TYPED_TEST(async_accept_test, accepted_socket_is_non_blocking_and_close_on_exec) {
  auto pair = this->tcp_pair();
  int fl = ::fcntl(pair.server.native_handle(), F_GETFL);
  int fd_flags = ::fcntl(pair.server.native_handle(), F_GETFD);
  EXPECT_NE(fl & O_NONBLOCK, 0);
  EXPECT_NE(fd_flags & FD_CLOEXEC, 0);
}

TYPED_TEST(async_accept_test, ipv6) {
  SENET_TEST_REQUIRE_IPV6();
  auto pair = this->tcp_pair(ip::tcp::v6());
  EXPECT_EQ(pair.peer, pair.client.local_endpoint());
  EXPECT_TRUE(pair.peer.address().is_v6());
  EXPECT_EQ(pair.server.protocol(), ip::tcp::v6());
  this->check_pair(pair);
}

TYPED_TEST(async_accept_test, local_stream) {
  senet::test::local_listener listener;
  auto pair = senet::test::connect_pair(this->ctx(), listener.acceptor());
  ASSERT_TRUE(pair.server.is_open());
  this->check_pair(pair);
}

TYPED_TEST(async_accept_test, explicit_scheduler_form) {
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  ip::tcp::socket client;
  auto sch = this->scheduler();
  auto r = this->run(ex::when_all(net::async_accept(sch, acceptor),
                                  net::async_connect(sch, client, acceptor.local_endpoint())));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<1>(*r), client.local_endpoint());
}

TYPED_TEST(async_accept_test, pending_accepts_complete_in_start_order) {
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  std::vector<int> order;
  ip::tcp::socket c1;
  ip::tcp::socket c2;
  auto first =
      net::async_accept(acceptor) | ex::then([&](ip::tcp::socket, ip::tcp::endpoint) { order.push_back(1); });
  auto second =
      net::async_accept(acceptor) | ex::then([&](ip::tcp::socket, ip::tcp::endpoint) { order.push_back(2); });
  auto connects = ex::schedule(this->scheduler()) | ex::let_value([&] {
                    return ex::when_all(net::async_connect(c1, acceptor.local_endpoint()),
                                        net::async_connect(c2, acceptor.local_endpoint()));
                  });
  auto r = this->run(ex::when_all(std::move(first), std::move(second), std::move(connects)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TYPED_TEST(async_accept_test, cancel_with_when_any_then_acceptor_still_usable) {
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  bool stopped = false;
  auto r = this->run(ex::when_any(net::async_accept(acceptor) |
                                      ex::then([](ip::tcp::socket, ip::tcp::endpoint) {}) |
                                      ex::upon_stopped([&] { stopped = true; }),
                                  net::async_wait_for(5ms)));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(stopped);
  auto pair = senet::test::connect_pair(this->ctx(), acceptor);
  this->check_pair(pair);
}

TYPED_TEST(async_accept_test, cancel_with_stop_source_then_acceptor_still_usable) {
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  senet::test::io_outcome<ip::tcp::socket, ip::tcp::endpoint> outcome;
  auto op = ex::connect(net::async_accept(acceptor),
                        senet::test::io_probe<ip::tcp::socket, ip::tcp::endpoint>{&this->ctx(), &outcome});
  std::thread loop([&] { senet::test::run_until_done(this->ctx(), outcome); });
  ex::start(op);
  outcome.stop.request_stop();
  loop.join();
  EXPECT_TRUE(outcome.stopped_once());
  EXPECT_FALSE(outcome.value.has_value());
  auto pair = senet::test::connect_pair(this->ctx(), acceptor);
  this->check_pair(pair);
}

TYPED_TEST(async_accept_test, accept_on_a_closed_acceptor_is_an_error) {
  ip::tcp::acceptor acceptor;
  EXPECT_EQ(this->error_of(net::async_accept(acceptor)), std::errc::bad_file_descriptor);
}

TYPED_TEST(async_accept_test, a_socket_waiting_on_one_context_is_refused_by_another) {
  auto pair = this->tcp_pair();
  // A receive that has to wait registers the socket with ctx().
  char in = 0;
  bool stopped = false;
  auto r = this->run(ex::when_any(net::async_receive(pair.server, buffer(&in, 1)) | ex::then([](std::size_t) {
                                  }) | ex::upon_stopped([&] { stopped = true; }),
                                  net::async_wait_for(1ms)));
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(stopped);
  // Every backend refuses a socket registered with another context, before looking at its
  // connection (so a simulated connection of the test backend is never touched by `other`).
  io::io_context other{this->kind};
  auto r2 = senet::test::run(
      other, ex::let_error(net::async_receive(pair.server, buffer(&in, 1)) |
                               ex::then([](std::size_t) noexcept { return std::error_code(); }),
                           [](std::error_code ec) noexcept { return ex::just(ec); }));
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(std::get<0>(*r2), std::errc::device_or_resource_busy);
}

// Kernel sockets only: a simulated connection of the test backend belongs to one context.
template <class Backend>
class async_accept_kernel_test : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(async_accept_kernel_test, senet::test::kernel_backends, senet::test::backend_names);

TYPED_TEST(async_accept_kernel_test, accepted_sockets_can_move_to_another_context) {
  auto pair = this->tcp_pair();
  // The accepted socket was never registered with ctx(): it can serve on another context.
  io::io_context other{this->kind};
  char out = 'm';
  char in = 0;
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(&out, 1))), 1U);
  auto r = senet::test::run(other, net::async_receive(pair.server, buffer(&in, 1)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(in, 'm');
}

}  // namespace
