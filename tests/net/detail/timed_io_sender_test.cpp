// SPDX-License-Identifier: BSL-1.0
// net::timeout of one socket operation (io_sender::timeout, detail/timed_io_sender.hpp): a linked
// IORING_OP_LINK_TIMEOUT on io_uring, a timer inside the operation state elsewhere; the same
// observable behaviour on every backend.
#include <senet/net/detail/timed_io_sender.hpp>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_read_some.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_receive_from.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_send_to.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/async_write_some.hpp>
#include <senet/net/detail/wait_ready.hpp>
#include <senet/net/sockets.hpp>
#include <senet/net/timeout.hpp>

#include <support/allocation_counter.hpp>
#include <support/backend_fixture.hpp>
#include <support/io_probe.hpp>
#include <support/loopback.hpp>
#include <support/run.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;
namespace test = senet::test;
using senet::buffer;

template <class Sndr>
inline constexpr bool is_timed_io_sender = false;
template <class Kind, bool FromEnv>
inline constexpr bool is_timed_io_sender<net::detail::timed_io_sender<Kind, FromEnv>> = true;

// The environment the generic adaptor's signatures are computed for.
using test_env =
    decltype(test::make_env(test::scheduler_entry(std::declval<io::io_context&>().get_scheduler()),
                            test::stop_token_entry(ex::inplace_stop_token{})));

// net::timeout(sndr, d) takes the customisation, with the completions of the generic adaptor.
template <class Sndr>
void expect_customised() {
  using timed = decltype(net::timeout(std::declval<Sndr>(), 1s));
  static_assert(is_timed_io_sender<timed>);
  static_assert(
      std::is_same_v<typename timed::completion_signatures, net::detail::timeout_signatures<Sndr, test_env>>);
  static_assert(ex::sender_in<timed, test_env>);
  // An lvalue sender is copied into it.
  using from_lvalue = decltype(net::timeout(std::declval<Sndr&>(), 1s));
  static_assert(is_timed_io_sender<from_lvalue>);
}

template <class Backend>
class timed_io_sender_test : public test::backend_fixture<Backend> {
 protected:
  // Waits until `n` bytes can be received from `s` at once.
  template <class Socket>
  void wait_for_bytes(Socket& s, std::size_t n) {
    std::array<char, 64> peek{};
    ASSERT_LE(n, peek.size());
    for (;;) {
      std::size_t got =
          this->value_of(net::async_receive(s, net::message_flags::peek, buffer(peek.data(), n)));
      if (got == n) {
        return;
      }
    }
  }
};

TYPED_TEST_SUITE(timed_io_sender_test, test::all_backends, test::backend_names);

TYPED_TEST(timed_io_sender_test, customises_single_operations_with_the_generic_signatures) {
  using tcp_socket = ip::tcp::socket;
  using udp_socket = ip::udp::socket;
  std::array<char, 4> data{};
  expect_customised<decltype(net::async_receive(std::declval<tcp_socket&>(), buffer(data)))>();
  expect_customised<decltype(net::async_send(std::declval<tcp_socket&>(), buffer(data)))>();
  expect_customised<decltype(net::async_read_some(std::declval<tcp_socket&>(), buffer(data)))>();
  expect_customised<decltype(net::async_write_some(std::declval<tcp_socket&>(), buffer(data)))>();
  expect_customised<decltype(net::async_receive_from(std::declval<udp_socket&>(), buffer(data)))>();
  expect_customised<decltype(net::async_send_to(std::declval<udp_socket&>(), buffer(data),
                                                std::declval<ip::udp::endpoint>()))>();
  expect_customised<decltype(net::async_accept(std::declval<ip::tcp::acceptor&>()))>();
  expect_customised<decltype(net::async_connect(std::declval<tcp_socket&>(),
                                                std::declval<ip::tcp::endpoint>()))>();
  expect_customised<decltype(net::detail::wait_ready(std::declval<tcp_socket&>(),
                                                     net::detail::readiness::readable))>();
  expect_customised<decltype(net::async_receive(std::declval<io::io_context&>().get_scheduler(),
                                                std::declval<tcp_socket&>(), buffer(data)))>();
  // A timer is not a socket operation: it keeps the generic adaptor.
  static_assert(!is_timed_io_sender<decltype(net::timeout(net::async_wait_for(1s), 1s))>);
  SUCCEED();
}

TYPED_TEST(timed_io_sender_test, times_out_and_leaves_the_socket_usable) {
  auto pair = this->tcp_pair();
  std::array<char, 8> in{};
  EXPECT_EQ(this->error_of(net::timeout(net::async_receive(pair.server, buffer(in)), 20ms)),
            std::make_error_code(std::errc::timed_out));
  // A later receive gets the data sent afterwards.
  char out = 'x';
  auto r = this->run(ex::when_all(net::timeout(net::async_receive(pair.server, buffer(in)), 1h),
                                  net::async_send(pair.client, buffer(&out, 1))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 1U);
  EXPECT_EQ(in[0], 'x');
}

TYPED_TEST(timed_io_sender_test, data_first_completes_with_the_value) {
  auto pair = this->tcp_pair();
  std::array<char, 8> in{};
  // Data already there.
  char out = 'a';
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(&out, 1))), 1U);
  EXPECT_EQ(this->value_of(net::timeout(net::async_receive(pair.server, buffer(in)), 1h)), 1U);
  EXPECT_EQ(in[0], 'a');
  // Data that comes while the receive waits. The limit is an hour: the operation completes only
  // once the timer (where there is one) is cancelled too.
  out = 'b';
  auto r = this->run(ex::when_all(net::timeout(net::async_receive(pair.server, buffer(in)), 1h),
                                  net::async_wait_for(1ms) | ex::let_value([&] {
                                    return net::async_send(pair.client, buffer(&out, 1));
                                  })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 1U);
  EXPECT_EQ(in[0], 'b');
}

TYPED_TEST(timed_io_sender_test, an_error_of_the_operation_passes_through) {
  auto pair = this->tcp_pair();
  pair.client.close();
  char in = 0;
  // End of stream: 0 bytes.
  EXPECT_EQ(this->value_of(net::timeout(net::async_receive(pair.server, buffer(&in, 1)), 1h)), 0U);
  // A closed socket: the operation's own error, not a timeout.
  std::error_code ec = this->error_of(net::timeout(net::async_receive(pair.client, buffer(&in, 1)), 1h));
  EXPECT_NE(ec, std::make_error_code(std::errc::timed_out));
}

TYPED_TEST(timed_io_sender_test, closing_the_socket_aborts_it_rather_than_timing_out) {
  auto pair = this->tcp_pair();
  char in = 0;
  std::error_code ec =
      this->error_of(ex::when_all(net::timeout(net::async_receive(pair.server, buffer(&in, 1)), 1h),
                                  ex::schedule(this->scheduler()) | ex::then([&] { pair.server.close(); })));
  EXPECT_EQ(ec, senet::error::operation_aborted);
}

TYPED_TEST(timed_io_sender_test, a_stop_request_completes_with_set_stopped) {
  auto pair = this->tcp_pair();
  std::array<char, 8> in{};
  for (auto limit : {1h, 0h}) {
    // Requested while pending, on the context's thread.
    test::io_outcome<std::size_t> outcome;
    auto op = ex::connect(net::timeout(net::async_receive(pair.server, buffer(in)), limit),
                          test::io_probe<std::size_t>{&this->ctx(), &outcome});
    {
      io::detail::context_scope scope(this->ctx());
      ex::start(op);
      if (limit > 0h) {
        EXPECT_FALSE(outcome.done.load());
      }
      outcome.stop.request_stop();
    }
    test::run_until_done(this->ctx(), outcome);
    if (limit > 0h) {
      EXPECT_TRUE(outcome.stopped_once());
    } else {
      // A zero limit may have passed first: stopped or timed out, never a value.
      EXPECT_TRUE(outcome.stopped_once() || outcome.error_once(std::make_error_code(std::errc::timed_out)))
          << outcome.describe();
    }
    EXPECT_FALSE(outcome.value.has_value());
  }
  // Requested before start.
  test::io_outcome<std::size_t> early;
  early.stop.request_stop();
  auto op = ex::connect(net::timeout(net::async_receive(pair.server, buffer(in)), 1h),
                        test::io_probe<std::size_t>{&this->ctx(), &early});
  ex::start(op);
  test::run_until_done(this->ctx(), early);
  EXPECT_TRUE(early.stopped_once());
  // The socket is still usable.
  char out = 'c';
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(&out, 1))), 1U);
  EXPECT_EQ(this->value_of(net::timeout(net::async_receive(pair.server, buffer(in)), 1h)), 1U);
  EXPECT_EQ(in[0], 'c');
}

TYPED_TEST(timed_io_sender_test, a_stop_request_from_another_thread) {
  auto pair = this->tcp_pair();
  std::array<char, 8> in{};
  // The stop request races the context's thread turning the loop: exactly one completion,
  // set_stopped, every time.
  for (int i = 0; i < 1000; ++i) {
    test::io_outcome<std::size_t> outcome;
    auto op = ex::connect(net::timeout(net::async_receive(pair.server, buffer(in)), 1h),
                          test::io_probe<std::size_t>{&this->ctx(), &outcome});
    {
      io::detail::context_scope scope(this->ctx());
      ex::start(op);
    }
    std::thread stopper([&] { outcome.stop.request_stop(); });
    test::run_until_done(this->ctx(), outcome);
    stopper.join();
    ASSERT_TRUE(outcome.stopped_once()) << i;
  }
}

TYPED_TEST(timed_io_sender_test, zero_and_negative_limits_try_once_without_waiting) {
  auto pair = this->tcp_pair();
  std::array<char, 8> in{};
  auto timed_out = std::make_error_code(std::errc::timed_out);
  // Nothing to receive: timed out at once, as the generic adaptor does.
  EXPECT_EQ(this->error_of(net::timeout(net::async_receive(pair.server, buffer(in)), 0s)), timed_out);
  EXPECT_EQ(this->error_of(net::timeout(net::async_receive(pair.server, buffer(in)), -5s)), timed_out);
  EXPECT_EQ(this->error_of(net::detail::make_timeout_sender(net::async_receive(pair.server, buffer(in)),
                                                            net::async_wait_for(0s))),
            timed_out);
  // Data already there: received.
  char out = 'd';
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(&out, 1))), 1U);
  this->wait_for_bytes(pair.server, 1);
  EXPECT_EQ(this->value_of(net::timeout(net::async_receive(pair.server, buffer(in)), 0s)), 1U);
  EXPECT_EQ(in[0], 'd');
  out = 'e';
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(&out, 1))), 1U);
  this->wait_for_bytes(pair.server, 1);
  EXPECT_EQ(this->value_of(net::timeout(net::async_receive(pair.server, buffer(in)), -1ms)), 1U);
  EXPECT_EQ(in[0], 'e');
}

TYPED_TEST(timed_io_sender_test, huge_limits_do_not_overflow) {
  auto pair = this->tcp_pair();
  std::array<char, 8> in{};
  char out = 'f';
  auto r = this->run(
      ex::when_all(net::timeout(net::async_receive(pair.server, buffer(in)), std::chrono::nanoseconds::max()),
                   net::timeout(net::async_receive(pair.client, buffer(in)), std::chrono::hours::max()),
                   net::timeout(net::async_send(pair.client, buffer(&out, 1)),
                                std::chrono::duration<double, std::ratio<3600>>(1e30)),
                   net::async_wait_for(1ms) |
                       ex::let_value([&] { return net::async_send(pair.server, buffer(&out, 1)); })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 1U);
  EXPECT_EQ(std::get<1>(*r), 1U);
}

TYPED_TEST(timed_io_sender_test, accept_connect_and_datagrams) {
  auto timed_out = std::make_error_code(std::errc::timed_out);
  // accept: nobody connects, then somebody does.
  auto acceptor = test::listen_tcp(ip::tcp::v4());
  EXPECT_EQ(this->error_of(net::timeout(net::async_accept(acceptor), 10ms)), timed_out);
  ip::tcp::socket client;
  auto r = this->run(ex::when_all(net::timeout(net::async_accept(acceptor), 1h),
                                  net::timeout(net::async_connect(client, acceptor.local_endpoint()), 1h)));
  ASSERT_TRUE(r.has_value());
  auto& [server, peer] = *r;
  EXPECT_TRUE(server.is_open());
  EXPECT_EQ(peer, client.local_endpoint());
  // Readiness waits.
  EXPECT_EQ(
      this->error_of(net::timeout(net::detail::wait_ready(server, net::detail::readiness::readable), 10ms)),
      timed_out);
  EXPECT_TRUE(this->run(net::timeout(net::detail::wait_ready(server, net::detail::readiness::writable), 1h))
                  .has_value());
  // Datagrams.
  auto a = test::bind_udp(ip::udp::v4());
  auto b = test::bind_udp(ip::udp::v4());
  std::array<char, 16> in{};
  EXPECT_EQ(this->error_of(net::timeout(net::async_receive_from(b, buffer(in)), 10ms)), timed_out);
  std::string data = "dgram";
  auto d = this->run(ex::when_all(net::timeout(net::async_receive_from(b, buffer(in)), 1h),
                                  net::timeout(net::async_send_to(a, buffer(data), b.local_endpoint()), 1h)));
  ASSERT_TRUE(d.has_value());
  auto& [n, from, sent] = *d;
  EXPECT_EQ(n, data.size());
  EXPECT_EQ(from, a.local_endpoint());
  EXPECT_EQ(sent, data.size());
}

// White box: on io_uring the limit travels in the record to the kernel (no timer in the core);
// elsewhere the record carries none and a timer races it.
TYPED_TEST(timed_io_sender_test, io_uring_links_the_limit_to_the_operation) {
  bool uring = this->kind == io::backend_kind::uring;
  EXPECT_EQ(io::detail::links_timeouts(this->ctx()), uring);
  auto pair = this->tcp_pair();
  std::array<char, 8> in{};
  test::io_outcome<std::size_t> outcome;
  auto op = ex::connect(net::timeout(net::async_receive(pair.server, buffer(in)), 1h),
                        test::io_probe<std::size_t>{&this->ctx(), &outcome});
  {
    io::detail::context_scope scope(this->ctx());
    ex::start(op);
  }
  const io::detail::io_operation& record = op;
  if (uring) {
    EXPECT_GT(record.link_timeout_ns_, 0);
  } else {
    EXPECT_EQ(record.link_timeout_ns_, 0);
  }
  char out = 'g';
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(&out, 1))), 1U);
  test::run_until_done(this->ctx(), outcome);
  ASSERT_TRUE(outcome.value_once());
  EXPECT_EQ(std::get<0>(*outcome.value), 1U);
}

TYPED_TEST(timed_io_sender_test, started_from_another_thread) {
  auto pair = this->tcp_pair();
  std::array<char, 8> in{};
  test::io_outcome<std::size_t> outcome;
  auto op = ex::connect(net::timeout(net::async_receive(pair.server, buffer(in)), 10ms),
                        test::io_probe<std::size_t>{&this->ctx(), &outcome});
  // Started on another thread, it moves to the context's thread, where the limit is armed. (Run
  // with run_one, which lets the test backend's virtual clock advance while it waits.)
  std::thread starter([&] { ex::start(op); });
  starter.join();
  test::turn_until(
      this->ctx(), [&] { return outcome.done.load(); }, "the timed receive");
  EXPECT_TRUE(outcome.error_once(std::make_error_code(std::errc::timed_out)));
}

// ---- allocation ---------------------------------------------------------------------------------

TYPED_TEST(timed_io_sender_test, timed_receives_allocate_nothing_in_steady_state) {
  auto pair = this->tcp_pair();
  std::array<char, 64> out{};
  std::array<char, 64> in{};
  // 0: received in time, 1: timed out, 2: anything else.
  auto classify = [](auto sndr) {
    return std::move(sndr) | ex::then([](std::size_t) noexcept { return 0; }) |
           ex::upon_error([](std::error_code ec) noexcept {
             return ec == std::make_error_code(std::errc::timed_out) ? 1 : 2;
           });
  };
  auto round = [&] {
    auto r = this->run(ex::when_all(classify(net::timeout(net::async_receive(pair.server, buffer(in)), 1h)),
                                    net::async_send(pair.client, buffer(out))));
    auto t = this->run(classify(net::timeout(net::async_receive(pair.client, buffer(in)), 0s)));
    return r.has_value() && std::get<0>(*r) == 0 && t.has_value() && std::get<0>(*t) == 1;
  };
  ASSERT_TRUE(round());
  ASSERT_TRUE(round());
  test::allocation_scope scope;
  bool ok = true;
  for (int i = 0; i < 100; ++i) {
    ok = round() && ok;
  }
  std::size_t allocations = scope.count();
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0U);
}

}  // namespace
