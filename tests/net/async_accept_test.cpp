// SPDX-License-Identifier: BSL-1.0
#include <senet/net/async_accept.hpp>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/sockets.hpp>
#include <senet/net/timeout.hpp>

#include <support/backend_fixture.hpp>
#include <support/io_probe.hpp>
#include <support/loopback.hpp>
#include <support/run.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

// ---- standing (multishot) accept: basic_socket_acceptor::standing_accept ----------------------

template <class Backend>
class standing_accept_test : public senet::test::backend_fixture<Backend> {
 protected:
  // A blocking client connected to `port` on 127.0.0.1 (the kernel completes the handshake from
  // the listen backlog, nobody needs to accept); returns its fd and sets its local port.
  static int connect_raw(std::uint16_t port, std::uint16_t& local_port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ::sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(0, ::connect(fd, reinterpret_cast<::sockaddr*>(&a), sizeof a));
    ::socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<::sockaddr*>(&a), &len);
    local_port = ntohs(a.sin_port);
    return fd;
  }

  // Turns the loop a little with nothing waiting: a standing accept is no work that keeps a run
  // call going, so a work guard does.
  void settle() {
    io::io_context::work_guard guard(this->ctx());
    for (int i = 0; i < 5; ++i) {
      this->ctx().run_for(2ms);
      this->ctx().restart();
    }
  }
};

TYPED_TEST_SUITE(standing_accept_test, senet::test::kernel_backends, senet::test::backend_names);

TYPED_TEST(standing_accept_test, a_burst_of_500_connects_is_queued_and_taken_in_order) {
  ip::tcp::acceptor acceptor(ip::tcp::endpoint(ip::address_v4::loopback(), 0));
  acceptor.listen(1024);
  acceptor.standing_accept(1024);
  EXPECT_EQ(1024u, acceptor.standing_accept());
  std::uint16_t port = acceptor.local_endpoint().port();
  std::vector<int> clients;
  std::vector<std::uint16_t> ports;
  // The first accept arms the standing accept; the burst then arrives while nobody waits.
  clients.push_back(this->connect_raw(port, ports.emplace_back()));
  auto [first, first_peer] = this->value_of(net::async_accept(acceptor));
  EXPECT_EQ(ports[0], first_peer.port());
  for (int i = 0; i < 500; ++i) {
    clients.push_back(this->connect_raw(port, ports.emplace_back()));
    if (i % 50 == 0) {
      this->settle();
    }
  }
  this->settle();
  for (std::size_t i = 1; i < clients.size(); ++i) {
    auto [s, peer] = this->value_of(net::async_accept(acceptor));
    ASSERT_TRUE(s.is_open()) << i;
    EXPECT_EQ(ports[i], peer.port()) << i;
  }
  for (int fd : clients) {
    ::close(fd);
  }
}

TYPED_TEST(standing_accept_test, a_small_queue_pauses_and_loses_no_connection) {
  ip::tcp::acceptor acceptor(ip::tcp::endpoint(ip::address_v4::loopback(), 0));
  acceptor.listen(64);
  acceptor.standing_accept(4);
  std::uint16_t port = acceptor.local_endpoint().port();
  std::vector<int> clients;
  std::vector<std::uint16_t> ports;
  clients.push_back(this->connect_raw(port, ports.emplace_back()));
  EXPECT_EQ(ports[0], std::get<1>(this->value_of(net::async_accept(acceptor))).port());
  for (int i = 0; i < 40; ++i) {
    clients.push_back(this->connect_raw(port, ports.emplace_back()));
    this->settle();
  }
  for (std::size_t i = 1; i < clients.size(); ++i) {
    EXPECT_EQ(ports[i], std::get<1>(this->value_of(net::async_accept(acceptor))).port()) << i;
  }
  for (int fd : clients) {
    ::close(fd);
  }
}

TYPED_TEST(standing_accept_test, closing_the_acceptor_aborts_waiters_and_closes_queued_connections) {
  ip::tcp::acceptor acceptor(ip::tcp::endpoint(ip::address_v4::loopback(), 0));
  acceptor.listen(16);
  acceptor.standing_accept(16);
  std::uint16_t port = acceptor.local_endpoint().port();
  std::uint16_t ignored = 0;
  int c0 = this->connect_raw(port, ignored);
  EXPECT_TRUE(std::get<0>(this->value_of(net::async_accept(acceptor))).is_open());
  int queued = this->connect_raw(port, ignored);
  this->settle();
  {
    // Takes the queued connection; the next waits.
    auto s = std::get<0>(this->value_of(net::async_accept(acceptor)));
    EXPECT_TRUE(s.is_open());
  }
  int c2 = this->connect_raw(port, ignored);
  this->settle();  // c2 is queued now
  acceptor.close();
  this->settle();
  // The queued connection was closed by the server side: its client sees the end of the stream.
  char byte = 0;
  EXPECT_EQ(0, ::recv(c2, &byte, 1, 0));
  for (int fd : {c0, queued, c2}) {
    ::close(fd);
  }
}

TYPED_TEST(standing_accept_test, a_waiting_accept_is_stopped_and_a_later_one_gets_the_connection) {
  ip::tcp::acceptor acceptor(ip::tcp::endpoint(ip::address_v4::loopback(), 0));
  acceptor.listen(16);
  acceptor.standing_accept(16);
  // The accept parks (arming the standing accept), then just_stopped ends the race and stops it.
  auto r = this->run(ex::when_any(net::async_accept(acceptor), ex::just_stopped()));
  EXPECT_FALSE(r.has_value());
  std::uint16_t local = 0;
  int c = this->connect_raw(acceptor.local_endpoint().port(), local);
  EXPECT_EQ(local, std::get<1>(this->value_of(net::async_accept(acceptor))).port());
  ::close(c);
}

// net::timeout on an accept that the standing accept serves: the core keeps such an accept
// itself, never handing it to the backend, so the operation state times it with its own timer on
// every backend (on io_uring, which links a timeout to the accepts it gets, it waited until the
// acceptor was closed). It times out when no connection comes (also with a limit of 0, with
// nothing queued), the connection that comes later is not lost, and one that is queued is taken.
TYPED_TEST(standing_accept_test, an_accept_with_a_time_limit_times_out_when_no_connection_comes) {
  ip::tcp::acceptor acceptor(ip::tcp::endpoint(ip::address_v4::loopback(), 0));
  acceptor.listen(16);
  acceptor.standing_accept(4);
  // The first accept arms the standing accept; the second finds it armed.
  for (int i = 0; i < 2; ++i) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(this->error_of(net::timeout(net::async_accept(acceptor), 20ms)), std::errc::timed_out);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  }
  EXPECT_EQ(this->error_of(net::timeout(net::async_accept(acceptor), 0ms)), std::errc::timed_out);
  std::uint16_t local = 0;
  int c = this->connect_raw(acceptor.local_endpoint().port(), local);
  EXPECT_EQ(local, std::get<1>(this->value_of(net::timeout(net::async_accept(acceptor), 10s))).port());
  std::uint16_t local2 = 0;
  int c2 = this->connect_raw(acceptor.local_endpoint().port(), local2);
  this->settle();  // queued by the standing accept
  EXPECT_EQ(local2, std::get<1>(this->value_of(net::timeout(net::async_accept(acceptor), 0ms))).port());
  ::close(c);
  ::close(c2);
}

TYPED_TEST(standing_accept_test, an_accept_started_just_before_the_acceptor_closes_fails_once) {
  // Started on a thread that does not run the context, the accept reaches the loop only when it
  // runs, after the acceptor was closed (here, on the same thread, with nobody running the
  // context): the close settles it, and it completes once, aborted, without reading the acceptor.
  ip::tcp::acceptor acceptor(ip::tcp::endpoint(ip::address_v4::loopback(), 0));
  acceptor.listen(16);
  acceptor.standing_accept(16);
  std::uint16_t ignored = 0;
  int c0 = this->connect_raw(acceptor.local_endpoint().port(), ignored);
  // The first accept arms the standing accept (its state is made).
  EXPECT_TRUE(std::get<0>(this->value_of(net::async_accept(acceptor))).is_open());
  senet::test::io_outcome<ip::tcp::socket, ip::tcp::endpoint> outcome;
  auto op = ex::connect(net::async_accept(acceptor),
                        senet::test::io_probe<ip::tcp::socket, ip::tcp::endpoint>{&this->ctx(), &outcome});
  ex::start(op);
  acceptor.close();
  ASSERT_TRUE(senet::test::run_until_done(this->ctx(), outcome));
  EXPECT_TRUE(outcome.error_once(make_error_code(senet::error::operation_aborted)));
  ::close(c0);
}

TEST(standing_accept_test_backend, is_not_supported_there) {
  if (!io::io_context::is_available(io::backend_kind::test)) {
    GTEST_SKIP() << "no test backend";
  }
  io::io_context ctx(io::backend_kind::test);
  ip::tcp::acceptor acceptor = senet::test::listen_tcp(ip::tcp::v4());
  acceptor.standing_accept(8);
  EXPECT_EQ(std::errc::operation_not_supported, senet::test::error_of(ctx, net::async_accept(acceptor)));
}

}  // namespace
