// SPDX-License-Identifier: BSL-1.0
#include <senet/net/async_connect.hpp>

#include <senet/execution.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/sockets.hpp>

#include <support/backend_fixture.hpp>
#include <support/io_probe.hpp>
#include <support/loopback.hpp>
#include <support/thread_harness.hpp>

#include <senet/error.hpp>
#include <senet/io/test_network.hpp>
#include <senet/ip/resolver.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <list>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;

template <class Backend>
class async_connect_test : public senet::test::backend_fixture<Backend> {
 protected:
  // An endpoint where nothing listens: a socket bound there and kept open (not listening) for the
  // rest of the test, so that no other program can take the port in the meantime; connecting to
  // it is refused.
  ip::tcp::endpoint unused_endpoint(ip::tcp protocol) {
    ip::address address = protocol == ip::tcp::v6() ? ip::address(ip::address_v6::loopback())
                                                    : ip::address(ip::address_v4::loopback());
    ip::tcp::acceptor& a = bound_.emplace_back(protocol);
    a.bind(ip::tcp::endpoint(address, 0));
    return a.local_endpoint();
  }

  std::list<ip::tcp::acceptor> bound_;
};

TYPED_TEST_SUITE(async_connect_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(async_connect_test, connects_an_open_socket) {
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  ip::tcp::socket client(ip::tcp::v4());
  auto r = this->run(
      ex::when_all(net::async_connect(client, acceptor.local_endpoint()), net::async_accept(acceptor)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<1>(*r), client.local_endpoint());
}

TYPED_TEST(async_connect_test, opens_a_closed_socket_for_the_endpoint_protocol) {
  if (!senet::test::ipv6_available()) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  auto acceptor = senet::test::listen_tcp(ip::tcp::v6());
  ip::tcp::socket client;
  ASSERT_FALSE(client.is_open());
  auto r = this->run(
      ex::when_all(net::async_connect(client, acceptor.local_endpoint()), net::async_accept(acceptor)));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(client.is_open());
  EXPECT_EQ(client.protocol(), ip::tcp::v6());
}

TYPED_TEST(async_connect_test, connection_refused) {
  ip::tcp::socket client;
  std::error_code ec = this->error_of(net::async_connect(client, this->unused_endpoint(ip::tcp::v4())));
  EXPECT_EQ(ec, std::errc::connection_refused) << ec.message();
}

TYPED_TEST(async_connect_test, connection_refused_ipv6) {
  if (!senet::test::ipv6_available()) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  ip::tcp::socket client;
  std::error_code ec = this->error_of(net::async_connect(client, this->unused_endpoint(ip::tcp::v6())));
  EXPECT_EQ(ec, std::errc::connection_refused) << ec.message();
}

// Linux leaves a TCP socket whose non-blocking connect failed in a state where the next connect(2)
// fails with ECONNABORTED without trying (and resets it). Every backend retries that once, so a
// second connect on the same socket is a real attempt: refused again, or connected.
TYPED_TEST(async_connect_test, connect_again_after_refused_is_refused_again) {
  ip::tcp::socket client;
  auto target = this->unused_endpoint(ip::tcp::v4());
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::error_code ec = this->error_of(net::async_connect(client, target));
    EXPECT_EQ(ec, std::errc::connection_refused) << "attempt " << attempt << ": " << ec.message();
  }
}

TYPED_TEST(async_connect_test, connect_again_after_refused_can_connect) {
  ip::tcp::socket client;
  std::error_code ec = this->error_of(net::async_connect(client, this->unused_endpoint(ip::tcp::v4())));
  ASSERT_EQ(ec, std::errc::connection_refused) << ec.message();
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  auto r = this->run(
      ex::when_all(net::async_connect(client, acceptor.local_endpoint()), net::async_accept(acceptor)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<1>(*r), client.local_endpoint());
}

TYPED_TEST(async_connect_test, local_stream) {
  senet::test::local_listener listener;
  senet::local::stream_protocol::socket client;
  auto r = this->run(ex::when_all(net::async_connect(client, listener.acceptor().local_endpoint()),
                                  net::async_accept(listener.acceptor())));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(client.is_open());
  EXPECT_EQ(client.remote_endpoint().path(), listener.path());
  // The two ends are connected to each other: a byte goes across.
  char out = 'l';
  char in = 0;
  auto sent = this->run(ex::when_all(net::async_send(client, senet::buffer(&out, 1)),
                                     net::async_receive(std::get<0>(*r), senet::buffer(&in, 1))));
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(std::get<1>(*sent), 1U);
  EXPECT_EQ(in, 'l');
}

TYPED_TEST(async_connect_test, local_stream_without_listener_is_an_error) {
  std::string path;
  {
    senet::test::local_listener listener;
    path = listener.path();
  }
  senet::local::stream_protocol::socket client;
  std::error_code ec =
      this->error_of(net::async_connect(client, senet::local::stream_protocol::endpoint(path)));
  EXPECT_TRUE(ec == std::errc::no_such_file_or_directory || ec == std::errc::connection_refused)
      << ec.message();
}

TYPED_TEST(async_connect_test, explicit_scheduler_form) {
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  ip::tcp::socket client;
  auto r = this->run(ex::when_all(net::async_connect(this->scheduler(), client, acceptor.local_endpoint()),
                                  net::async_accept(this->scheduler(), acceptor)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<1>(*r), client.local_endpoint());
  EXPECT_EQ(client.remote_endpoint(), acceptor.local_endpoint());
}

// ---- async_connect(socket, endpoints) ----

TYPED_TEST(async_connect_test, range_first_refused_then_connects) {
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  std::vector<ip::tcp::endpoint> eps{this->unused_endpoint(ip::tcp::v4()),
                                     this->unused_endpoint(ip::tcp::v4()), acceptor.local_endpoint()};
  ip::tcp::socket client;
  auto r = this->run(ex::when_all(net::async_connect(client, eps), net::async_accept(acceptor)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), acceptor.local_endpoint());
  EXPECT_EQ(std::get<2>(*r), client.local_endpoint());
  EXPECT_EQ(client.remote_endpoint(), acceptor.local_endpoint());
}

TYPED_TEST(async_connect_test, range_over_a_resolve_result_and_other_ranges) {
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  std::string port = std::to_string(acceptor.local_endpoint().port());
  // A resolve result, as an rvalue (moved into the sender).
  ip::tcp::socket a;
  auto r = this->run(ex::when_all(
      net::async_connect(a, ip::resolve<ip::tcp>("127.0.0.1", port, ip::resolve_flags::numeric_host)),
      net::async_accept(acceptor)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), acceptor.local_endpoint());
  // A std::list (not contiguous) and a C array, with the explicit scheduler.
  std::list<ip::tcp::endpoint> list{this->unused_endpoint(ip::tcp::v4()), acceptor.local_endpoint()};
  ip::tcp::socket b;
  auto r2 = this->run(ex::when_all(net::async_connect(b, list), net::async_accept(acceptor)));
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(std::get<0>(*r2), acceptor.local_endpoint());
  EXPECT_EQ(std::get<2>(*r2), b.local_endpoint());
  ip::tcp::endpoint array[] = {acceptor.local_endpoint()};
  ip::tcp::socket c;
  auto r3 = this->run(ex::when_all(net::async_connect(this->scheduler(), c, array),
                                   net::async_accept(this->scheduler(), acceptor)));
  ASSERT_TRUE(r3.has_value());
  EXPECT_EQ(std::get<0>(*r3), acceptor.local_endpoint());
  EXPECT_EQ(std::get<2>(*r3), c.local_endpoint());
}

TYPED_TEST(async_connect_test, range_all_failing_reports_the_error) {
  std::array<ip::tcp::endpoint, 2> eps{this->unused_endpoint(ip::tcp::v4()),
                                       this->unused_endpoint(ip::tcp::v4())};
  ip::tcp::socket client;
  EXPECT_EQ(this->error_of(net::async_connect(client, eps)), std::errc::connection_refused);
}

// The errors of two endpoints differ here, so that "the last error" is checked: a path with
// nothing at it (ENOENT) and a path that is a plain file, not a socket (ECONNREFUSED).
TYPED_TEST(async_connect_test, range_all_failing_reports_the_last_error) {
  if (this->kind == io::backend_kind::test) {
    GTEST_SKIP() << "the test backend refuses every connect without a listener with ECONNREFUSED, so two "
                    "endpoints cannot fail differently there";
  }
  using local = senet::local::stream_protocol;
  std::string missing = "/tmp/senet-test-missing-" + std::to_string(::getpid());
  std::string file = "/tmp/senet-test-file-" + std::to_string(::getpid());
  ::unlink(missing.c_str());
  int fd = ::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::vector<local::endpoint> a{local::endpoint(missing), local::endpoint(file)};
  std::vector<local::endpoint> b{local::endpoint(file), local::endpoint(missing)};
  local::socket client;
  EXPECT_EQ(this->error_of(net::async_connect(client, a)), std::errc::connection_refused);
  EXPECT_EQ(this->error_of(net::async_connect(client, b)), std::errc::no_such_file_or_directory);
  ::unlink(file.c_str());
}

TYPED_TEST(async_connect_test, range_empty_is_not_found) {
  std::vector<ip::tcp::endpoint> none;
  ip::tcp::socket client;
  std::error_code ec = this->error_of(net::async_connect(client, none));
  EXPECT_EQ(ec, senet::error::not_found);
  EXPECT_FALSE(client.is_open());
}

TYPED_TEST(async_connect_test, range_reopens_the_socket_for_each_protocol) {
  if (!senet::test::ipv6_available()) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  std::vector<ip::tcp::endpoint> eps{this->unused_endpoint(ip::tcp::v6()), acceptor.local_endpoint()};
  ip::tcp::socket client(ip::tcp::v6());  // open for the wrong protocol: closed and reopened
  auto r = this->run(ex::when_all(net::async_connect(client, eps), net::async_accept(acceptor)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(client.protocol(), ip::tcp::v4());
  EXPECT_EQ(client.remote_endpoint(), acceptor.local_endpoint());
}

TYPED_TEST(async_connect_test, range_stop_before_start_tries_nothing) {
  std::vector<ip::tcp::endpoint> eps{this->unused_endpoint(ip::tcp::v4())};
  ip::tcp::socket client;
  senet::test::io_outcome<ip::tcp::endpoint> outcome;
  auto op = ex::connect(net::async_connect(client, eps),
                        senet::test::io_probe<ip::tcp::endpoint>{&this->ctx(), &outcome});
  outcome.stop.request_stop();
  ex::start(op);
  senet::test::run_until_done(this->ctx(), outcome);
  EXPECT_TRUE(outcome.stopped);
  EXPECT_FALSE(client.is_open()) << "no attempt was made";
}

// Started on another thread than the one running the context: the attempts run on the context's
// thread, and the operation completes once.
TYPED_TEST(async_connect_test, range_started_from_another_thread) {
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  std::vector<ip::tcp::endpoint> eps{this->unused_endpoint(ip::tcp::v4()), acceptor.local_endpoint()};
  for (int i = 0; i < 50; ++i) {
    ip::tcp::socket client;
    senet::test::io_outcome<ip::tcp::endpoint> outcome;
    auto op = ex::connect(net::async_connect(client, eps),
                          senet::test::io_probe<ip::tcp::endpoint>{&this->ctx(), &outcome});
    std::thread loop([&] { senet::test::run_until_done(this->ctx(), outcome); });
    ex::start(op);
    loop.join();
    ASSERT_TRUE(outcome.value.has_value()) << (outcome.error ? outcome.error->message() : "stopped");
    EXPECT_EQ(std::get<0>(*outcome.value), acceptor.local_endpoint());
    auto accepted = this->run(net::async_accept(acceptor));
    ASSERT_TRUE(accepted.has_value());
  }
}

// A connect that stays pending: on the kernel backends a listener whose queue is full (its SYNs
// are dropped), on the test backend a latency of an hour of virtual time. A stop request then
// cancels the attempt and tries no further endpoint.
TYPED_TEST(async_connect_test, range_stop_cancels_the_pending_attempt) {
  ip::tcp::acceptor full(ip::tcp::v4());
  full.bind(ip::tcp::endpoint(ip::address_v4::loopback(), 0));
  full.listen(0);
  std::vector<ip::tcp::socket> fillers;
  if (this->kind == io::backend_kind::test) {
    io::test_network::of(this->ctx()).set_latency(std::chrono::hours(1));
  } else {
    // A backlog of 0 admits one connection; a few more make sure the queue is full.
    for (int i = 0; i < 3; ++i) {
      fillers.emplace_back(ip::tcp::v4());
      std::error_code ec;
      fillers.back().connect(full.local_endpoint(), ec);
    }
  }
  auto listening = senet::test::listen_tcp(ip::tcp::v4());
  std::vector<ip::tcp::endpoint> eps{full.local_endpoint(), listening.local_endpoint()};
  ip::tcp::socket client;
  auto r = this->run(
      ex::when_any(net::async_connect(client, eps) | ex::then([](auto&&) { return 1; }), ex::just(2)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 2);
  std::error_code ec;
  (void)client.remote_endpoint(ec);
  EXPECT_TRUE(ec) << "the second endpoint must not have been tried";
}

// What the range form's documentation offers a thread that is not the context's (it may not
// close or move the socket while the operation reopens it there): a stop request, from this
// thread, while a runner runs the context and the attempts go on (refused ones, then one that
// stays pending), at a moment that varies. The operation completes once, on the context's thread
// (stopped, or with the last error when the stop came before the start), and the socket can then
// be closed here.
TYPED_TEST(async_connect_test, range_stopped_from_another_thread_while_a_runner_runs) {
  if constexpr (TypeParam::kind == io::backend_kind::test) {
    GTEST_SKIP()
        << "a race with the wall clock: the test backend's virtual clock leaps over pending attempts";
  }
  using senet::test::completion_record;
  using senet::test::record_receiver;
  ip::tcp::acceptor full(ip::tcp::v4());
  full.bind(ip::tcp::endpoint(ip::address_v4::loopback(), 0));
  full.listen(0);
  // A backlog of 0 admits one connection; a few more make sure the queue is full.
  std::vector<ip::tcp::socket> fillers;
  for (int i = 0; i < 3; ++i) {
    fillers.emplace_back(ip::tcp::v4());
    std::error_code ec;
    fillers.back().connect(full.local_endpoint(), ec);
  }
  std::vector<ip::tcp::endpoint> eps;
  for (int i = 0; i < 8; ++i) {
    eps.push_back(this->unused_endpoint(ip::tcp::v4()));
  }
  eps.push_back(full.local_endpoint());
  std::minstd_rand random(7);
  int stopped = 0;
  for (int i = 0; i < 100; ++i) {
    ip::tcp::socket client;
    completion_record done;
    auto op = senet::test::connect_slot(net::async_connect(this->ctx().get_scheduler(), client, eps),
                                        record_receiver{&this->ctx(), &done});
    {
      senet::test::context_runner runner(this->ctx());
      op->start();
      std::this_thread::sleep_for(std::chrono::microseconds(random() % 300));
      done.stop.request_stop();
      ASSERT_TRUE(senet::test::eventually([&] { return done.done(); })) << "no completion within 20 s";
      runner.finish();
      EXPECT_EQ(done.thread, runner.id());
    }
    EXPECT_EQ(done.count.load(), 1);
    EXPECT_FALSE(done.is_value()) << "the last endpoint's queue is full";
    stopped += done.is_stopped() ? 1 : 0;
    if (done.is_error()) {
      EXPECT_EQ(done.ec, std::errc::connection_refused) << done.ec.message();
    }
    client.close();
    EXPECT_FALSE(client.is_open());
  }
  EXPECT_GT(stopped, 0);
}

}  // namespace
