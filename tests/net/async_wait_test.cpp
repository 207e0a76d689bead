// SPDX-License-Identifier: BSL-1.0
#include <senet/net/async_wait.hpp>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/poll_events.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/sockets.hpp>
#include <senet/net/timeout.hpp>

#include <support/backend_fixture.hpp>
#include <support/io_probe.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <system_error>
#include <thread>
#include <tuple>
#include <type_traits>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;
using io::poll_events;
using net::socket_base;
using senet::buffer;

template <class Backend>
class async_wait_test : public senet::test::backend_fixture<Backend> {
 protected:
  void SetUp() override {
    senet::test::backend_fixture<Backend>::SetUp();
    if (!this->ctx_) {
      return;
    }
    acceptor_.emplace(senet::test::listen_tcp(ip::tcp::v4()));
    pair_.emplace(senet::test::connect_pair(this->ctx(), *acceptor_));
  }
  void TearDown() override {
    pair_.reset();
    acceptor_.reset();
    senet::test::backend_fixture<Backend>::TearDown();
  }

  ip::tcp::socket& client() { return pair_->client; }
  ip::tcp::socket& server() { return pair_->server; }

  // Sends one byte from `from` in a later turn of the loop (after the wait started).
  auto send_later(ip::tcp::socket& from, const char& c) {
    return ex::schedule(this->scheduler()) |
           ex::let_value([&from, &c] { return net::async_send(from, buffer(&c, 1)); });
  }

  std::optional<ip::tcp::acceptor> acceptor_;
  std::optional<senet::test::stream_pair<ip::tcp>> pair_;
};

TYPED_TEST_SUITE(async_wait_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(async_wait_test, completion_signatures) {
  using sender = decltype(net::async_wait(this->client(), socket_base::wait_read));
  static_assert(
      std::is_same_v<typename sender::completion_signatures,
                     ex::completion_signatures<ex::set_value_t(poll_events), ex::set_error_t(std::error_code),
                                               ex::set_stopped_t()>>);
  using explicit_sender =
      decltype(net::async_wait(this->scheduler(), this->client(), socket_base::wait_write));
  static_assert(ex::sender<explicit_sender>);
  // The timers are still reachable through this header.
  EXPECT_TRUE(this->run(net::async_wait_for(0s)).has_value());
}

TYPED_TEST(async_wait_test, write_readiness_of_a_fresh_connection) {
  EXPECT_EQ(this->value_of(net::async_wait(this->client(), socket_base::wait_write)), poll_events::writable);
  EXPECT_EQ(this->value_of(net::async_wait(this->scheduler(), this->server(), socket_base::wait_write)),
            poll_events::writable);
}

TYPED_TEST(async_wait_test, read_readiness_when_data_arrives_consumes_nothing) {
  char c = 'r';
  auto r = this->run(ex::when_all(net::async_wait(this->server(), socket_base::wait_read),
                                  this->send_later(this->client(), c)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), poll_events::readable) << io::to_string(std::get<0>(*r));
  char in = 0;
  EXPECT_EQ(this->value_of(net::async_receive(this->server(), buffer(&in, 1))), 1U);
  EXPECT_EQ(in, 'r');
}

TYPED_TEST(async_wait_test, read_and_write_at_once) {
  // Writable only: nothing to read yet.
  EXPECT_EQ(this->value_of(net::async_wait(this->server(), socket_base::wait_read | socket_base::wait_write)),
            poll_events::writable);
  char c = 'x';
  ASSERT_EQ(this->value_of(net::async_send(this->client(), buffer(&c, 1))), 1U);
  // Both, once a byte waits. The byte may still be on its way (the test backend's flush): wait
  // for readability first.
  ASSERT_TRUE(
      has(this->value_of(net::async_wait(this->server(), socket_base::wait_read)), poll_events::readable));
  EXPECT_EQ(this->value_of(net::async_wait(this->server(), socket_base::wait_read | socket_base::wait_write)),
            poll_events::readable | poll_events::writable);
}

TYPED_TEST(async_wait_test, a_peer_that_shuts_down_then_closes_is_peer_closed_then_hangup) {
  auto wait_for_peer = [&] { return net::async_wait(this->server(), socket_base::wait_read); };
  auto r = this->run(ex::when_all(wait_for_peer(), ex::schedule(this->scheduler()) | ex::then([&] {
                                                     this->client().shutdown(socket_base::shutdown_send);
                                                   })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), poll_events::readable | poll_events::peer_closed)
      << io::to_string(std::get<0>(*r));
  // A write-only wait is not told about the peer's end of stream.
  EXPECT_EQ(this->value_of(net::async_wait(this->server(), socket_base::wait_write)), poll_events::writable);
  // Once this side shut down its sending side too, both directions are closed: hang-up.
  this->server().shutdown(socket_base::shutdown_send);
  poll_events e = this->value_of(wait_for_peer());
  EXPECT_EQ(e, poll_events::readable | poll_events::peer_closed | poll_events::hangup) << io::to_string(e);
}

TYPED_TEST(async_wait_test, a_peer_that_closes_is_peer_closed) {
  auto r =
      this->run(ex::when_all(net::async_wait(this->server(), socket_base::wait_read),
                             ex::schedule(this->scheduler()) | ex::then([&] { this->client().close(); })));
  ASSERT_TRUE(r.has_value());
  poll_events e = std::get<0>(*r);
  EXPECT_EQ(e, poll_events::readable | poll_events::peer_closed) << io::to_string(e);
}

TYPED_TEST(async_wait_test, a_reset_is_an_error_and_a_hangup) {
  this->client().set_option(socket_base::linger(true, 0));
  auto r =
      this->run(ex::when_all(net::async_wait(this->server(), socket_base::wait_error),
                             ex::schedule(this->scheduler()) | ex::then([&] { this->client().close(); })));
  ASSERT_TRUE(r.has_value());
  poll_events e = std::get<0>(*r);
  // wait_error asks for neither readability nor the peer's end of stream: only the error shows.
  EXPECT_EQ(e, poll_events::error | poll_events::hangup) << io::to_string(e);
  e = this->value_of(net::async_wait(this->server(), socket_base::wait_read | socket_base::wait_write));
  EXPECT_EQ(e, poll_events::readable | poll_events::writable | poll_events::error | poll_events::hangup |
                   poll_events::peer_closed)
      << io::to_string(e);
  char in = 0;
  EXPECT_EQ(this->error_of(net::async_receive(this->server(), buffer(&in, 1))), std::errc::connection_reset);
}

TYPED_TEST(async_wait_test, several_waits_on_one_socket_complete_each) {
  char c = 'm';
  auto r = this->run(ex::when_all(
      net::async_wait(this->server(), socket_base::wait_read),
      net::async_wait(this->server(), socket_base::wait_read | socket_base::wait_error),
      net::async_wait(this->server(), socket_base::wait_write), this->send_later(this->client(), c)));
  ASSERT_TRUE(r.has_value());
  auto [first, second, writable, sent] = *r;
  EXPECT_EQ(first, poll_events::readable);
  EXPECT_EQ(second, poll_events::readable);
  EXPECT_EQ(writable, poll_events::writable);
  EXPECT_EQ(sent, 1U);
}

TYPED_TEST(async_wait_test, a_wait_beside_a_pending_receive) {
  // A readiness wait and a receive on one socket do not hold each other up.
  char in = 0;
  char c = 'b';
  auto r = this->run(ex::when_all(net::async_receive(this->server(), buffer(&in, 1)),
                                  net::async_wait(this->server(), socket_base::wait_read),
                                  this->send_later(this->client(), c)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 1U);
  EXPECT_TRUE(has(std::get<1>(*r), poll_events::readable));
  EXPECT_EQ(in, 'b');
}

TYPED_TEST(async_wait_test, closing_the_socket_aborts_a_pending_wait) {
  std::error_code ec = this->error_of(
      ex::when_all(net::async_wait(this->server(), socket_base::wait_read),
                   ex::schedule(this->scheduler()) | ex::then([&] { this->server().close(); })));
  EXPECT_EQ(ec, senet::error::operation_aborted);
}

TYPED_TEST(async_wait_test, bad_inputs_are_errors) {
  EXPECT_EQ(this->error_of(net::async_wait(this->server(), static_cast<socket_base::wait_type>(0))),
            std::errc::invalid_argument);
  EXPECT_EQ(this->error_of(net::async_wait(this->server(), static_cast<socket_base::wait_type>(8))),
            std::errc::invalid_argument);
  ip::tcp::socket closed;
  EXPECT_EQ(this->error_of(net::async_wait(closed, socket_base::wait_write)), std::errc::bad_file_descriptor);
}

TYPED_TEST(async_wait_test, stop_request_cancels_a_pending_wait) {
  bool stopped = false;
  auto r = this->run(ex::when_any(net::async_wait(this->server(), socket_base::wait_read) |
                                      ex::upon_stopped([&] { stopped = true; }) | ex::then([](auto&&...) {}),
                                  net::async_wait_for(1ms)));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(stopped);
  // The socket still works: the cancelled wait left nothing behind.
  char c = 'z';
  auto again = this->run(ex::when_all(net::async_wait(this->server(), socket_base::wait_read),
                                      this->send_later(this->client(), c)));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(std::get<0>(*again), poll_events::readable);
}

// basic_socket::cancel() stops every pending operation of the socket, readiness waits too: each
// completes once, with set_stopped(), also under a timeout and on a datagram socket; the sockets
// stay open and usable.
TYPED_TEST(async_wait_test, socket_cancel_stops_pending_waits) {
  using senet::test::io_outcome;
  using senet::test::io_probe;
  ip::udp::socket datagram = senet::test::bind_udp(ip::udp::v4());
  io_outcome<poll_events> read_wait;
  io_outcome<poll_events> error_wait;
  io_outcome<poll_events> timed_wait;
  io_outcome<poll_events> datagram_wait;
  auto read_op = ex::connect(net::async_wait(this->server(), socket_base::wait_read),
                             io_probe<poll_events>{&this->ctx(), &read_wait});
  auto error_op = ex::connect(net::async_wait(this->server(), socket_base::wait_error),
                              io_probe<poll_events>{&this->ctx(), &error_wait});
  auto timed_op = ex::connect(net::timeout(net::async_wait(this->server(), socket_base::wait_read), 1h),
                              io_probe<poll_events>{&this->ctx(), &timed_wait});
  auto datagram_op = ex::connect(net::async_wait(datagram, socket_base::wait_read),
                                 io_probe<poll_events>{&this->ctx(), &datagram_wait});
  ex::start(read_op);
  ex::start(error_op);
  ex::start(timed_op);
  ex::start(datagram_op);
  this->ctx().poll();
  ASSERT_FALSE(read_wait.done || error_wait.done || timed_wait.done || datagram_wait.done);
  this->server().cancel();
  datagram.cancel();
  // Bounded: a wait that cancel() missed is stopped through its own stop source and fails here.
  for (auto* outcome : {&read_wait, &error_wait, &timed_wait, &datagram_wait}) {
    EXPECT_TRUE(senet::test::run_until_done(this->ctx(), *outcome, 5s)) << "cancel() left a wait pending";
    EXPECT_TRUE(outcome->stopped_once());
  }
  EXPECT_TRUE(this->server().is_open());
  EXPECT_TRUE(datagram.is_open());
  // The socket still works: the cancelled waits left nothing behind.
  char c = 'c';
  auto again = this->run(ex::when_all(net::async_wait(this->server(), socket_base::wait_read),
                                      this->send_later(this->client(), c)));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(std::get<0>(*again), poll_events::readable);
}

TYPED_TEST(async_wait_test, stop_request_from_another_thread) {
  // Half the waits can complete (a writable socket), half cannot (nothing to read): the stop races
  // the completion, which must happen exactly once either way.
  for (int i = 0; i < 1000; ++i) {
    senet::test::io_outcome<poll_events> outcome;
    auto op = ex::connect(
        net::async_wait(this->server(), i % 2 == 0 ? socket_base::wait_read : socket_base::wait_write),
        senet::test::io_probe<poll_events>{&this->ctx(), &outcome});
    std::thread loop([&] { senet::test::run_until_done(this->ctx(), outcome); });
    ex::start(op);
    outcome.stop.request_stop();
    loop.join();
    if (i % 2 == 0) {
      ASSERT_TRUE(outcome.stopped_once()) << i;
    } else {
      ASSERT_TRUE(outcome.stopped_once() ||
                  (outcome.value_once() && outcome.value == std::tuple(poll_events::writable)))
          << i << ": " << outcome.describe();
    }
    ASSERT_FALSE(outcome.error.has_value()) << outcome.error->message();
  }
}

TYPED_TEST(async_wait_test, never_completes_inline_in_start) {
  // Started on the context's thread with the socket writable: the result is known at once, and
  // still arrives through the loop.
  int inline_completions = 0;
  constexpr int rounds = 100;
  for (int i = 0; i < rounds; ++i) {
    senet::test::io_outcome<poll_events> outcome;
    auto op = ex::connect(net::async_wait(this->client(), socket_base::wait_write),
                          senet::test::io_probe<poll_events>{&this->ctx(), &outcome});
    ASSERT_TRUE(this->run(ex::schedule(this->scheduler()) | ex::then([&] {
                            ex::start(op);
                            inline_completions += outcome.done.load() ? 1 : 0;
                          }))
                    .has_value());
    senet::test::run_until_done(this->ctx(), outcome);
    ASSERT_TRUE(outcome.value_once() && outcome.value == std::tuple(poll_events::writable));
  }
  EXPECT_EQ(inline_completions, 0);
}

}  // namespace
