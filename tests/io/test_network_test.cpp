// SPDX-License-Identifier: BSL-1.0
#include <senet/io/test_network.hpp>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_receive_from.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_send_to.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/sockets.hpp>
#include <senet/net/timeout.hpp>
#include <support/allocation_counter.hpp>
#include <support/loopback.hpp>
#include <support/run.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
namespace test = senet::test;
namespace ip = senet::ip;

// Counts the completions of a timer; its environment has the context's scheduler and `token`.
struct timer_receiver {
  using receiver_concept = ex::receiver_t;
  io::io_context* ctx;
  ex::inplace_stop_token token;
  int* value;
  int* stopped;
  void set_value() && noexcept { ++*value; }
  void set_stopped() && noexcept {
    if (stopped != nullptr) {
      ++*stopped;
    } else {
      ADD_FAILURE() << "unexpected set_stopped";
    }
  }
  [[nodiscard]] auto get_env() const noexcept {
    return test::make_env(test::scheduler_entry(ctx->get_scheduler()), test::stop_token_entry(token));
  }
};

// ---- the controls ------------------------------------------------------------------------------

TEST(test_network, belongs_to_a_test_context) {
  io::io_context ctx{io::test};
  EXPECT_EQ(ctx.backend(), io::backend_kind::test);
  EXPECT_TRUE(io::io_context::is_available(io::backend_kind::test));
  io::test_network& net = io::test_network::of(ctx);
  EXPECT_EQ(&net, &io::test_network::of(ctx));
  io::io_context other{io::test};
  EXPECT_NE(&net, &io::test_network::of(other));
  EXPECT_GE(ctx.wait_descriptor(), 0);
}

TEST(test_network, of_a_context_on_another_backend_throws) {
  io::io_context ctx{io::epoll};
  try {
    (void)io::test_network::of(ctx);
    ADD_FAILURE() << "test_network::of accepted an epoll context";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::invalid_argument);
  }
}

TEST(test_network, settings_have_defaults_and_reject_zero) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  EXPECT_EQ(net.max_transfer(), io::test_network::no_limit);
  EXPECT_EQ(net.send_buffer_limit(), io::test_network::no_limit);
  EXPECT_EQ(net.latency(), 0s);
  net.set_max_transfer(3);
  net.set_send_buffer_limit(100);
  net.set_latency(2ms);
  EXPECT_EQ(net.max_transfer(), 3U);
  EXPECT_EQ(net.send_buffer_limit(), 100U);
  EXPECT_EQ(net.latency(), 2ms);
  net.set_latency(-1s);
  EXPECT_EQ(net.latency(), 0s);
  EXPECT_THROW(net.set_max_transfer(0), std::invalid_argument);
  EXPECT_THROW(net.set_send_buffer_limit(0), std::invalid_argument);
  EXPECT_EQ(net.max_transfer(), 3U);
  EXPECT_EQ(net.buffered(-1), 0U);
}

// ---- the virtual clock -----------------------------------------------------------------------------

TEST(test_network, ten_minute_timer_completes_at_once_in_virtual_time) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto real_start = std::chrono::steady_clock::now();
  auto t0 = net.now();
  EXPECT_TRUE(senet::test::run(ctx, net::async_wait_for(10min)).has_value());
  EXPECT_EQ(net.now() - t0, 10min);
  // A generous bound: the point is that nobody waited ten minutes.
  EXPECT_LT(std::chrono::steady_clock::now() - real_start, 60s);
}

TEST(test_network, virtual_time_moves_only_as_far_as_the_next_deadline) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto t0 = net.now();
  int order = 0;
  int first = 0;
  int second = 0;
  int third = 0;
  auto r =
      senet::test::run(ctx, ex::when_all(ex::then(net::async_wait_for(1h), [&] { third = ++order; }),
                                         ex::then(net::async_wait_for(1s), [&] { first = ++order; }),
                                         ex::then(net::async_wait_for(1min), [&] { second = ++order; })));
  EXPECT_TRUE(r.has_value());
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 2);
  EXPECT_EQ(third, 3);
  EXPECT_EQ(net.now() - t0, 1h);
}

TEST(test_network, async_wait_until_uses_the_virtual_clock) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto t0 = net.now();
  EXPECT_TRUE(senet::test::run(ctx, net::async_wait_until(t0 + 90s)).has_value());
  EXPECT_EQ(net.now(), t0 + 90s);
  // A deadline already past completes without moving time.
  EXPECT_TRUE(senet::test::run(ctx, net::async_wait_until(t0 + 30s)).has_value());
  EXPECT_EQ(net.now(), t0 + 90s);
}

TEST(test_network, advance_moves_the_clock_and_expires_timers) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto t0 = net.now();
  net.advance(90s);
  EXPECT_EQ(net.now(), t0 + 90s);
  net.advance(-5s);
  EXPECT_EQ(net.now(), t0 + 90s);
  // A timer started before an advance completes at the next turn, without further time passing.
  int fired = 0;
  auto op = ex::connect(net::async_wait_for(1min), timer_receiver{&ctx, {}, &fired, nullptr});
  ex::start(op);
  EXPECT_EQ(ctx.poll(), 0U);
  EXPECT_EQ(fired, 0);
  net.advance(2min);
  EXPECT_EQ(ctx.poll(), 1U);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(net.now(), t0 + 90s + 2min);
}

TEST(test_network, a_foreign_loop_sees_advanced_timers_on_the_wait_descriptor) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  int fired = 0;
  auto op = ex::connect(net::async_wait_for(5s), timer_receiver{&ctx, {}, &fired, nullptr});
  ex::start(op);
  ctx.poll();
  EXPECT_EQ(fired, 0);
  net.advance(5s);
  ::pollfd p{ctx.wait_descriptor(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  while (!fired && ctx.poll() != 0) {
  }
  EXPECT_EQ(fired, 1);
}

// ---- timeouts and cancellation -----------------------------------------------------------------

TEST(test_network, timeout_fires_in_virtual_time) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto t0 = net.now();
  try {
    senet::test::run(ctx, net::timeout(net::async_wait_for(1h), 10min));
    ADD_FAILURE() << "the timeout did not fire";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::timed_out);
  }
  EXPECT_EQ(net.now() - t0, 10min);
}

TEST(test_network, timeout_that_does_not_fire) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto t0 = net.now();
  EXPECT_TRUE(senet::test::run(ctx, net::timeout(net::async_wait_for(1s), 10min)).has_value());
  EXPECT_EQ(net.now() - t0, 1s);
  // The cancelled timeout timer does not move time later.
  EXPECT_TRUE(senet::test::run(ctx, net::async_wait_for(1s)).has_value());
  EXPECT_EQ(net.now() - t0, 2s);
}

TEST(test_network, when_any_cancels_the_slower_timer) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto t0 = net.now();
  auto r = senet::test::run(ctx, ex::when_any(ex::then(net::async_wait_for(1h), [] { return 1; }),
                                              ex::then(net::async_wait_for(1s), [] { return 2; })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 2);
  EXPECT_EQ(net.now() - t0, 1s);
  EXPECT_EQ(senet::test::bounded_run(ctx), 0U);  // nothing left: the hour-long timer was removed
  EXPECT_EQ(net.now() - t0, 1s);
}

TEST(test_network, stop_source_cancels_a_pending_timer) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto t0 = net.now();
  ex::inplace_stop_source stop;
  int value = 0;
  int stopped = 0;
  auto op = ex::connect(net::async_wait_for(10min), timer_receiver{&ctx, stop.get_token(), &value, &stopped});
  ex::start(op);
  EXPECT_EQ(ctx.poll(), 0U);
  stop.request_stop();
  senet::test::bounded_run(ctx);
  EXPECT_EQ(value, 0);
  EXPECT_EQ(stopped, 1);
  EXPECT_EQ(net.now(), t0);
}

// ---- sockets through the senders ---------------------------------------------------------------

const ip::tcp::endpoint loopback4{ip::address_v4::loopback(), 0};

using senet::test::error_of;
using senet::test::tcp_pair;

std::vector<char> pattern(std::size_t n) {
  std::vector<char> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  }
  return v;
}

TEST(test_network, accept_and_connect_through_the_senders) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto p = tcp_pair(ctx);
  ASSERT_TRUE(p.server.is_open());
  EXPECT_EQ(p.peer, p.client.local_endpoint());
  EXPECT_EQ(p.peer.address(), ip::address(ip::address_v4::loopback()));
  EXPECT_NE(p.peer.port(), 0);
  EXPECT_EQ(net.remote_endpoint(p.server), p.client.local_endpoint());
  EXPECT_EQ(net.remote_endpoint(p.client), p.acceptor.local_endpoint());
  // The kernel never connected them (getpeername(2) fails); remote_endpoint() of the socket
  // classes falls back on the simulation.
  ::sockaddr_storage addr{};
  ::socklen_t len = sizeof addr;
  EXPECT_EQ(
      ::getpeername(p.client.native_handle(), static_cast<::sockaddr*>(static_cast<void*>(&addr)), &len), -1);
  EXPECT_EQ(errno, ENOTCONN);
  EXPECT_EQ(p.client.remote_endpoint(), p.acceptor.local_endpoint());
  EXPECT_EQ(p.server.remote_endpoint(), p.client.local_endpoint());
}

TEST(test_network, one_byte_64_kib_and_16_mib_with_partial_transfers) {
  for (std::size_t size : {std::size_t{1}, std::size_t{64} * 1024, std::size_t{16} * 1024 * 1024}) {
    SCOPED_TRACE(size);
    io::io_context ctx{io::test};
    io::test_network& net = io::test_network::of(ctx);
    auto p = tcp_pair(ctx);
    net.set_max_transfer(4093);  // odd, so that no transfer lines up with the buffers
    net.set_send_buffer_limit(64 * 1024);
    std::vector<char> out = pattern(size);
    std::vector<char> in(size);
    auto [written, read] = senet::test::run(ctx, ex::when_all(net::async_write(p.client, senet::buffer(out)),
                                                              net::async_read(p.server, senet::buffer(in))))
                               .value();
    EXPECT_EQ(written, size);
    EXPECT_EQ(read, size);
    EXPECT_TRUE(in == out);
    EXPECT_EQ(net.buffered(p.server), 0U);
  }
}

TEST(test_network, every_receive_is_bounded_by_max_transfer) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto p = tcp_pair(ctx);
  std::string data(100, 'x');
  EXPECT_EQ(std::get<0>(senet::test::run(ctx, net::async_send(p.client, senet::buffer(data))).value()), 100U);
  net.set_max_transfer(7);
  std::array<char, 64> buf{};
  EXPECT_EQ(std::get<0>(senet::test::run(ctx, net::async_receive(p.server, senet::buffer(buf))).value()), 7U);
  EXPECT_EQ(std::get<0>(senet::test::run(ctx, net::async_send(p.server, senet::buffer(data))).value()), 7U);
  EXPECT_EQ(net.buffered(p.server), 93U);
  EXPECT_EQ(net.buffered(p.client), 7U);
}

TEST(test_network, send_buffer_limit_makes_sends_wait) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto p = tcp_pair(ctx);
  net.set_send_buffer_limit(8);
  std::string data(20, 'y');
  EXPECT_EQ(std::get<0>(senet::test::run(ctx, net::async_send(p.client, senet::buffer(data))).value()), 8U);
  // The peer holds 8 unread bytes: this send waits for the receive, then moves what fits.
  std::array<char, 5> buf{};
  auto [sent, received] =
      senet::test::run(ctx, ex::when_all(net::async_send(p.client, senet::buffer(data)),
                                         net::async_receive(p.server, senet::buffer(buf))))
          .value();
  EXPECT_EQ(received, 5U);
  EXPECT_EQ(sent, 5U);
  // A send stays pending until timed out while nobody reads.
  EXPECT_EQ(error_of(ctx, net::timeout(net::async_send(p.client, senet::buffer(data)), 1min)),
            std::errc::timed_out);
}

TEST(test_network, end_of_stream_after_close) {
  io::io_context ctx{io::test};
  auto p = tcp_pair(ctx);
  std::string hello = "hello";
  senet::test::run(ctx, net::async_write(p.client, senet::buffer(hello)));
  p.client.close();
  std::array<char, 16> buf{};
  EXPECT_EQ(std::get<0>(senet::test::run(ctx, net::async_receive(p.server, senet::buffer(buf))).value()), 5U);
  EXPECT_EQ(std::get<0>(senet::test::run(ctx, net::async_receive(p.server, senet::buffer(buf))).value()), 0U);
  // async_read reports the end of the stream as an error, with the partial count.
  std::size_t transferred = 99;
  EXPECT_EQ(error_of(ctx, net::async_read(p.server, senet::buffer(buf), transferred)), senet::error::eof);
  EXPECT_EQ(transferred, 0U);
  // Sending to a closed peer fails with EPIPE (and never raises SIGPIPE).
  EXPECT_EQ(error_of(ctx, net::async_send(p.server, senet::buffer(hello))), std::errc::broken_pipe);
}

TEST(test_network, end_of_stream_after_shutdown) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto p = tcp_pair(ctx);
  std::string bye = "bye";
  senet::test::run(ctx, net::async_write(p.client, senet::buffer(bye)));
  net.shutdown(p.client, net::socket_base::shutdown_send);
  std::array<char, 3> three{};
  senet::test::run(ctx, net::async_read(p.server, senet::buffer(three)));
  std::array<char, 16> buf{};
  EXPECT_EQ(std::get<0>(senet::test::run(ctx, net::async_receive(p.server, senet::buffer(buf))).value()), 0U);
  EXPECT_EQ(error_of(ctx, net::async_send(p.client, senet::buffer(bye))), std::errc::broken_pipe);
}

TEST(test_network, reset_gives_econnreset) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto p = tcp_pair(ctx);
  std::array<char, 16> buf{};
  // The reset reaches a receive already waiting.
  auto reset_later = ex::then(net::async_wait_for(1s), [&] { net.reset_connection(p.server); });
  EXPECT_EQ(error_of(ctx, ex::when_all(net::async_receive(p.client, senet::buffer(buf)), reset_later)),
            std::errc::connection_reset);
  std::string data = "x";
  EXPECT_EQ(error_of(ctx, net::async_send(p.server, senet::buffer(data))), std::errc::connection_reset);
  EXPECT_EQ(error_of(ctx, net::async_send(p.server, senet::buffer(data))), std::errc::broken_pipe);
  EXPECT_EQ(std::get<0>(senet::test::run(ctx, net::async_receive(p.client, senet::buffer(buf))).value()), 0U);
}

TEST(test_network, closing_with_unread_data_resets_the_peer) {
  io::io_context ctx{io::test};
  auto p = tcp_pair(ctx);
  std::string data = "never read";
  senet::test::run(ctx, net::async_write(p.client, senet::buffer(data)));
  p.server.close();
  std::array<char, 16> buf{};
  EXPECT_EQ(error_of(ctx, net::async_receive(p.client, senet::buffer(buf))), std::errc::connection_reset);
}

TEST(test_network, connect_without_listener_is_refused) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  net::tcp_acceptor not_listening{ip::tcp::v4()};
  not_listening.bind(loopback4);
  net::tcp_socket client;
  EXPECT_EQ(error_of(ctx, net::async_connect(client, not_listening.local_endpoint())),
            std::errc::connection_refused);
  // Refusal on demand, even with a listener.
  net::tcp_acceptor acceptor{loopback4};
  net.refuse_connections(acceptor.local_endpoint());
  EXPECT_EQ(error_of(ctx, net::async_connect(client, acceptor.local_endpoint())),
            std::errc::connection_refused);
  net.allow_connections(acceptor.local_endpoint());
  EXPECT_TRUE(senet::test::run(ctx, net::async_connect(client, acceptor.local_endpoint())).has_value());
}

void exchange_datagrams(bool v6) {
  io::io_context ctx{io::test};
  ip::address loopback =
      v6 ? ip::address(ip::address_v6::loopback()) : ip::address(ip::address_v4::loopback());
  net::udp_socket receiver{v6 ? ip::udp::v6() : ip::udp::v4()};
  receiver.bind(ip::udp::endpoint(loopback, 0));
  net::udp_socket sender{v6 ? ip::udp::v6() : ip::udp::v4()};
  sender.bind(ip::udp::endpoint(loopback, 0));
  std::string d1 = "one";
  std::string d2 = "datagram two";
  EXPECT_EQ(std::get<0>(senet::test::run(
                            ctx, net::async_send_to(sender, senet::buffer(d1), receiver.local_endpoint()))
                            .value()),
            3U);
  EXPECT_EQ(std::get<0>(senet::test::run(
                            ctx, net::async_send_to(sender, senet::buffer(d2), receiver.local_endpoint()))
                            .value()),
            12U);
  std::array<char, 32> buf{};
  auto [n1, from1] = senet::test::run(ctx, net::async_receive_from(receiver, senet::buffer(buf))).value();
  EXPECT_EQ(n1, 3U);
  EXPECT_EQ(std::string(buf.data(), n1), "one");
  EXPECT_EQ(from1, sender.local_endpoint());
  auto [n2, from2] = senet::test::run(ctx, net::async_receive_from(receiver, senet::buffer(buf))).value();
  EXPECT_EQ(std::string(buf.data(), n2), "datagram two");
  EXPECT_EQ(from2, sender.local_endpoint());
  // A receive waiting first is completed by the datagram.
  auto [r, from3, s] =
      senet::test::run(ctx,
                       ex::when_all(net::async_receive_from(receiver, senet::buffer(buf)),
                                    net::async_send_to(sender, senet::buffer(d1), receiver.local_endpoint())))
          .value();
  EXPECT_EQ(r, 3U);
  EXPECT_EQ(from3, sender.local_endpoint());
  EXPECT_EQ(s, 3U);
}

TEST(test_network, datagrams_with_the_peer_endpoint_v4) {
  exchange_datagrams(false);
}

TEST(test_network, datagrams_with_the_peer_endpoint_v6) {
  SENET_TEST_REQUIRE_IPV6();
  exchange_datagrams(true);
}

TEST(test_network, when_any_cancels_a_pending_receive_and_accept) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto p = tcp_pair(ctx);
  std::array<char, 8> buf{};
  auto t0 = net.now();
  auto r = senet::test::run(
      ctx,
      ex::when_any(ex::then(net::async_receive(p.server, senet::buffer(buf)), [](std::size_t) { return 1; }),
                   ex::then(net::async_accept(p.acceptor), [](auto&&...) { return 2; }),
                   ex::then(net::async_wait_for(30s), [] { return 3; })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 3);
  EXPECT_EQ(net.now() - t0, 30s);
  // Both sockets are still usable.
  std::string data = "after";
  senet::test::run(ctx, net::async_write(p.client, senet::buffer(data)));
  std::array<char, 5> five{};
  senet::test::run(ctx, net::async_read(p.server, senet::buffer(five)));
  EXPECT_EQ(std::string(five.data(), 5), "after");
  net::tcp_socket another;
  auto [s, ep] = senet::test::run(ctx, ex::when_all(net::async_accept(p.acceptor),
                                                    net::async_connect(another, p.acceptor.local_endpoint())))
                     .value();
  EXPECT_EQ(ep, another.local_endpoint());
}

/** Records how a receive completed; its environment has the context's scheduler and `token`. */
struct receive_receiver {
  using receiver_concept = ex::receiver_t;
  io::io_context* ctx;
  ex::inplace_stop_token token;
  int* outcome;  // 1 value, 2 error, 3 stopped
  void set_value(std::size_t) && noexcept { *outcome = 1; }
  void set_error(std::error_code) && noexcept { *outcome = 2; }
  void set_stopped() && noexcept { *outcome = 3; }
  [[nodiscard]] auto get_env() const noexcept {
    return test::make_env(test::scheduler_entry(ctx->get_scheduler()), test::stop_token_entry(token));
  }
};

TEST(test_network, stop_source_cancels_a_pending_receive) {
  io::io_context ctx{io::test};
  auto p = tcp_pair(ctx);
  std::array<char, 8> buf{};
  ex::inplace_stop_source stop;
  int outcome = 0;
  auto op = ex::connect(net::async_receive(p.server, senet::buffer(buf)),
                        receive_receiver{&ctx, stop.get_token(), &outcome});
  ex::start(op);
  ctx.poll();  // the receive is pending: nobody sends
  EXPECT_EQ(outcome, 0);
  stop.request_stop();
  senet::test::bounded_run(ctx);
  EXPECT_EQ(outcome, 3);
  std::string data = "still";
  senet::test::run(ctx, net::async_write(p.client, senet::buffer(data)));
  EXPECT_EQ(std::get<0>(senet::test::run(ctx, net::async_receive(p.server, senet::buffer(buf))).value()), 5U);
}

TEST(test_network, receive_timeout_fires_in_virtual_time_and_one_that_does_not) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto p = tcp_pair(ctx);
  std::array<char, 8> buf{};
  auto t0 = net.now();
  EXPECT_EQ(error_of(ctx, net::timeout(net::async_receive(p.server, senet::buffer(buf)), 10min)),
            std::errc::timed_out);
  EXPECT_EQ(net.now() - t0, 10min);
  std::string data = "in time";
  auto send_later = ex::let_value(net::async_wait_for(1min),
                                  [&] { return net::async_send(p.client, senet::buffer(data)); });
  auto [n, sent] =
      senet::test::run(
          ctx,
          ex::when_all(net::timeout(net::async_receive(p.server, senet::buffer(buf)), 10min), send_later))
          .value();
  EXPECT_EQ(n, 7U);
  EXPECT_EQ(sent, 7U);
  EXPECT_EQ(net.now() - t0, 11min);
}

TEST(test_network, latency_delays_connection_and_data) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  net.set_latency(20ms);
  auto t0 = net.now();
  auto p = tcp_pair(ctx);
  EXPECT_EQ(net.now() - t0, 20ms);
  std::string data = "ping";
  std::array<char, 4> buf{};
  senet::test::run(ctx, ex::when_all(net::async_write(p.client, senet::buffer(data)),
                                     net::async_read(p.server, senet::buffer(buf))));
  EXPECT_EQ(net.now() - t0, 40ms);
  // A timeout shorter than the latency fires first.
  EXPECT_EQ(error_of(ctx, ex::when_all(net::async_write(p.server, senet::buffer(data)),
                                       net::timeout(net::async_read(p.client, senet::buffer(buf)), 5ms))),
            std::errc::timed_out);
  EXPECT_EQ(net.now() - t0, 45ms);
}

TEST(test_network, steady_state_round_trips_do_not_allocate) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto p = tcp_pair(ctx);
  net.set_max_transfer(16);
  std::array<char, 64> out{};
  std::array<char, 64> in{};
  // Receives wait first, then the sends complete them; each direction moves 64 bytes in pieces.
  auto round_trip = [&] {
    senet::test::run(ctx, ex::when_all(net::async_read(p.server, senet::buffer(in)),
                                       net::async_write(p.client, senet::buffer(out))));
    senet::test::run(ctx, ex::when_all(net::async_read(p.client, senet::buffer(in)),
                                       net::async_write(p.server, senet::buffer(out))));
  };
  for (int i = 0; i < 3; ++i) {
    round_trip();  // the connection's buffers grow to their size
  }
  senet::test::allocation_scope scope;
  for (int i = 0; i < 100; ++i) {
    round_trip();
  }
  std::size_t n = scope.count();
  EXPECT_EQ(n, 0U);
}

TEST(test_network, fallbacks_for_the_socket_classes) {
  net::tcp_socket lone{ip::tcp::v4()};
  int client_fd = -1;
  {
    io::io_context ctx{io::test};
    auto p = tcp_pair(ctx);
    client_fd = p.client.native_handle();
    // What a socket's shutdown() can do when shutdown(2) fails with ENOTCONN.
    EXPECT_TRUE(io::test_network::shutdown_simulated(p.client.native_handle(), SHUT_WR));
    std::array<char, 4> buf{};
    EXPECT_EQ(std::get<0>(senet::test::run(ctx, net::async_receive(p.server, senet::buffer(buf))).value()),
              0U);
    EXPECT_FALSE(io::test_network::shutdown_simulated(p.client.native_handle(), 42));
    EXPECT_FALSE(io::test_network::shutdown_simulated(lone.native_handle(), SHUT_WR));
    // What its remote_endpoint() can do when getpeername(2) fails with ENOTCONN.
    ip::tcp::endpoint ep;
    std::size_t n = io::test_network::simulated_peer(
        p.server.native_handle(), static_cast<::sockaddr*>(static_cast<void*>(ep.data())), ep.capacity());
    ep.resize(n);
    EXPECT_EQ(ep, p.client.local_endpoint());
    EXPECT_EQ(
        io::test_network::simulated_peer(
            lone.native_handle(), static_cast<::sockaddr*>(static_cast<void*>(ep.data())), ep.capacity()),
        0U);
    EXPECT_EQ(p.client.release(), client_fd);  // keep the descriptor open past the context
  }
  // The context is gone: nothing is simulated any more.
  EXPECT_FALSE(io::test_network::shutdown_simulated(client_fd, SHUT_WR));
  ::close(client_fd);
}

// ---- injected faults (fail_next) ---------------------------------------------------------------

using fault = io::test_network::operation;
using senet::test::system_error_of;

// `sock` connects to `acceptor`, and the connection the acceptor takes is that one.
void expect_connects_and_is_the_one_accepted(io::io_context& ctx, net::tcp_socket& sock,
                                             net::tcp_acceptor& acceptor) {
  auto r = senet::test::run(
      ctx, ex::when_all(net::async_connect(sock, acceptor.local_endpoint()), net::async_accept(acceptor)));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<1>(*r), sock.local_endpoint());
}

TEST(test_network_faults, a_send_fails_as_often_as_asked_sends_nothing_then_works) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto p = tcp_pair(ctx);
  std::string data = "abc";
  // An std::errc value (generic category) comes back as the backends report errno: system category.
  net.fail_next(p.client, fault::send, std::make_error_code(std::errc::connection_reset), 2);
  EXPECT_EQ(net.faults_left(p.client, fault::send), 2U);
  for (int i = 0; i < 2; ++i) {
    std::error_code ec = error_of(ctx, net::async_send(p.client, senet::buffer(data)));
    EXPECT_EQ(ec, system_error_of(ECONNRESET));
    EXPECT_EQ(&ec.category(), &std::system_category());
  }
  EXPECT_EQ(net.faults_left(p.client, fault::send), 0U);
  EXPECT_EQ(net.buffered(p.server), 0U);
  // Only that socket and that kind: the peer sends, and this socket receives.
  std::array<char, 3> three{};
  ASSERT_TRUE(senet::test::run(ctx, ex::when_all(net::async_write(p.server, senet::buffer(data)),
                                                 net::async_read(p.client, senet::buffer(three)))));
  ASSERT_TRUE(senet::test::run(ctx, ex::when_all(net::async_write(p.client, senet::buffer(data)),
                                                 net::async_read(p.server, senet::buffer(three)))));
  EXPECT_EQ(std::string(three.data(), 3), "abc");
}

TEST(test_network_faults, a_failed_receive_takes_no_bytes) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto p = tcp_pair(ctx);
  std::string data = "ab";
  ASSERT_TRUE(senet::test::run(ctx, net::async_write(p.client, senet::buffer(data))));
  net.fail_next(p.server, fault::receive, system_error_of(ETIMEDOUT));
  std::array<char, 8> buf{};
  EXPECT_EQ(error_of(ctx, net::async_receive(p.server, senet::buffer(buf))), system_error_of(ETIMEDOUT));
  EXPECT_EQ(net.buffered(p.server), 2U);
  EXPECT_EQ(senet::test::value_of(ctx, net::async_receive(p.server, senet::buffer(buf))), 2U);
  EXPECT_EQ(std::string(buf.data(), 2), "ab");
}

TEST(test_network_faults, a_waiting_receive_fails_at_once) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto p = tcp_pair(ctx);
  std::array<char, 8> buf{};
  auto t0 = net.now();
  auto fail_later = ex::then(net::async_wait_for(1s),
                             [&] { net.fail_next(p.server, fault::receive, system_error_of(ECONNRESET)); });
  EXPECT_EQ(error_of(ctx, ex::when_all(net::async_receive(p.server, senet::buffer(buf)), fail_later)),
            system_error_of(ECONNRESET));
  EXPECT_EQ(net.now() - t0, 1s);
  EXPECT_EQ(net.faults_left(p.server, fault::receive), 0U);
  std::string data = "x";
  ASSERT_TRUE(senet::test::run(ctx, net::async_write(p.client, senet::buffer(data))));
  EXPECT_EQ(senet::test::value_of(ctx, net::async_receive(p.server, senet::buffer(buf))), 1U);
}

TEST(test_network_faults, a_failed_accept_leaves_the_connection_for_the_next) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  net::tcp_acceptor acceptor{loopback4};
  net::tcp_socket client;
  ASSERT_TRUE(senet::test::run(ctx, net::async_connect(client, acceptor.local_endpoint())));
  net.fail_next(acceptor, fault::accept, system_error_of(EMFILE));
  EXPECT_EQ(error_of(ctx, net::async_accept(acceptor)), system_error_of(EMFILE));
  auto accepted = senet::test::run(ctx, net::async_accept(acceptor));
  ASSERT_TRUE(accepted);
  auto& [server, peer] = *accepted;
  EXPECT_EQ(peer, client.local_endpoint());
  std::string data = "hi";
  std::array<char, 2> two{};
  ASSERT_TRUE(senet::test::run(ctx, ex::when_all(net::async_write(client, senet::buffer(data)),
                                                 net::async_read(server, senet::buffer(two)))));
  EXPECT_EQ(std::string(two.data(), 2), "hi");
}

TEST(test_network_faults, a_failed_connect_leaves_the_socket_unconnected_and_unbound) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  net::tcp_acceptor acceptor{loopback4};
  net::tcp_socket client{ip::tcp::v4()};
  net.fail_next(client, fault::connect, system_error_of(ENETUNREACH));
  EXPECT_EQ(error_of(ctx, net::async_connect(client, acceptor.local_endpoint())),
            system_error_of(ENETUNREACH));
  EXPECT_EQ(client.local_endpoint().port(), 0);
  // The same socket connects, and the listener sees only that connection.
  expect_connects_and_is_the_one_accepted(ctx, client, acceptor);
}

TEST(test_network_faults, a_connect_delayed_by_latency_fails_at_once_and_is_never_seen) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  net.set_latency(10s);
  net::tcp_acceptor acceptor{loopback4};
  net::tcp_socket client{ip::tcp::v4()};
  auto t0 = net.now();
  auto fail_later = ex::then(net::async_wait_for(1s),
                             [&] { net.fail_next(client, fault::connect, system_error_of(ETIMEDOUT)); });
  EXPECT_EQ(error_of(ctx, ex::when_all(net::async_connect(client, acceptor.local_endpoint()), fail_later)),
            system_error_of(ETIMEDOUT));
  EXPECT_EQ(net.now() - t0, 1s);
  net.set_latency(0s);
  net::tcp_socket other{ip::tcp::v4()};
  expect_connects_and_is_the_one_accepted(ctx, other, acceptor);
}

TEST(test_network_faults, a_readiness_wait_fails_then_waits) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto p = tcp_pair(ctx);
  net.fail_next(p.client, fault::wait, system_error_of(ENOMEM));
  EXPECT_EQ(error_of(ctx, net::async_wait(p.client, net::socket_base::wait_write)), system_error_of(ENOMEM));
  auto events = senet::test::value_of(ctx, net::async_wait(p.client, net::socket_base::wait_write));
  EXPECT_TRUE(io::has(events, io::poll_events::writable));
}

TEST(test_network_faults, datagrams_send_to_and_receive_from) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  net::udp_socket receiver{ip::udp::v4()};
  receiver.bind(ip::udp::endpoint(ip::address_v4::loopback(), 0));
  net::udp_socket sender{ip::udp::v4()};
  std::string d = "datagram";
  net.fail_next(sender, fault::send, system_error_of(ENOBUFS));
  EXPECT_EQ(error_of(ctx, net::async_send_to(sender, senet::buffer(d), receiver.local_endpoint())),
            system_error_of(ENOBUFS));
  EXPECT_EQ(net.buffered(receiver), 0U);
  EXPECT_EQ(sender.local_endpoint().port(), 0);  // not even bound implicitly
  EXPECT_EQ(
      senet::test::value_of(ctx, net::async_send_to(sender, senet::buffer(d), receiver.local_endpoint())),
      d.size());
  net.fail_next(receiver, fault::receive, system_error_of(ECONNREFUSED));
  std::array<char, 16> buf{};
  EXPECT_EQ(error_of(ctx, net::async_receive_from(receiver, senet::buffer(buf))),
            system_error_of(ECONNREFUSED));
  auto r = senet::test::run(ctx, net::async_receive_from(receiver, senet::buffer(buf)));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), d.size());
  EXPECT_EQ(std::get<1>(*r).port(), sender.local_endpoint().port());
}

TEST(test_network_faults, sockets_outside_the_simulation_fail_too) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  std::array<int, 2> fds{};
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds.data()), 0);
  net::local_stream_socket a{senet::local::stream_protocol{}, fds[0]};
  net::local_stream_socket b{senet::local::stream_protocol{}, fds[1]};
  std::string data = "k";
  ASSERT_TRUE(senet::test::run(ctx, net::async_write(a, senet::buffer(data))));
  net.fail_next(b, fault::receive, system_error_of(EIO));
  std::array<char, 4> buf{};
  EXPECT_EQ(error_of(ctx, net::async_receive(b, senet::buffer(buf))), system_error_of(EIO));
  EXPECT_EQ(senet::test::value_of(ctx, net::async_receive(b, senet::buffer(buf))), 1U);
}

TEST(test_network_faults, clear_faults_removes_them) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  auto p = tcp_pair(ctx);
  net.fail_next(p.client, fault::send, system_error_of(EPIPE), 3);
  net.fail_next(p.client, fault::receive, system_error_of(EPIPE), 3);
  // Arming again replaces the fault.
  net.fail_next(p.client, fault::send, system_error_of(ENOBUFS), 1);
  EXPECT_EQ(net.faults_left(p.client, fault::send), 1U);
  EXPECT_EQ(net.faults_left(p.client, fault::receive), 3U);
  std::string data = "x";
  EXPECT_EQ(error_of(ctx, net::async_send(p.client, senet::buffer(data))), system_error_of(ENOBUFS));
  net.clear_faults(p.client);
  EXPECT_EQ(net.faults_left(p.client, fault::receive), 0U);
  EXPECT_EQ(senet::test::value_of(ctx, net::async_send(p.client, senet::buffer(data))), 1U);
  EXPECT_EQ(senet::test::value_of(ctx, net::async_send(p.server, senet::buffer(data))), 1U);
  std::array<char, 1> one{};
  EXPECT_EQ(senet::test::value_of(ctx, net::async_receive(p.client, senet::buffer(one))), 1U);
  // A closed socket forgets its faults, and a new socket given its descriptor has none.
  net::tcp_socket s{ip::tcp::v4()};
  int fd = s.native_handle();
  net.fail_next(s, fault::connect, system_error_of(EACCES));
  s.close();
  net::tcp_socket again{ip::tcp::v4()};
  ASSERT_EQ(again.native_handle(), fd);
  EXPECT_EQ(net.faults_left(again, fault::connect), 0U);
  net.clear_faults(-1);  // nothing to clear: no effect
}

TEST(test_network_faults, bad_arguments_are_refused) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  net::tcp_socket s{ip::tcp::v4()};
  for (std::error_code ec :
       {std::error_code{}, make_error_code(senet::error::eof), system_error_of(EAGAIN),
        system_error_of(EWOULDBLOCK), system_error_of(EINTR), system_error_of(EINPROGRESS),
        system_error_of(ECANCELED), std::make_error_code(std::errc::interrupted)}) {
    SCOPED_TRACE(ec.message());
    EXPECT_THROW(net.fail_next(s, fault::send, ec), std::invalid_argument);
  }
  EXPECT_THROW(net.fail_next(s, fault::receive, system_error_of(EAGAIN)), std::invalid_argument);
  EXPECT_THROW(net.fail_next(s, fault::accept, system_error_of(EAGAIN)), std::invalid_argument);
  EXPECT_THROW(net.fail_next(s, fault::wait, system_error_of(EAGAIN)), std::invalid_argument);
  EXPECT_THROW(net.fail_next(s, fault::connect, system_error_of(EINPROGRESS)), std::invalid_argument);
  // A connect reports EAGAIN (a Unix socket connecting to a full backlog), as the epoll backend does.
  net.fail_next(s, fault::connect, system_error_of(EAGAIN));
  EXPECT_EQ(net.faults_left(s, fault::connect), 1U);
  net.clear_faults(s);
  EXPECT_THROW(net.fail_next(s, fault::send, system_error_of(EPIPE), 0), std::invalid_argument);
  EXPECT_THROW(net.fail_next(s, static_cast<fault>(99), system_error_of(EPIPE)), std::invalid_argument);
  EXPECT_EQ(net.faults_left(s, fault::send), 0U);
  auto code_of = [&](int fd) {
    try {
      net.fail_next(fd, fault::send, system_error_of(EPIPE));
    } catch (const std::system_error& e) {
      return e.code();
    }
    return std::error_code{};
  };
  EXPECT_EQ(code_of(-1), std::errc::bad_file_descriptor);
  int closed = ::dup(s.native_handle());
  ::close(closed);
  EXPECT_EQ(code_of(closed), std::errc::bad_file_descriptor);
  std::array<int, 2> pipe_fds{};
  ASSERT_EQ(::pipe(pipe_fds.data()), 0);
  EXPECT_EQ(code_of(pipe_fds[0]), std::errc::not_a_socket);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

// senet::testing is linked into this program (tests/CMakeLists.txt): the test backend is there,
// by name and through SENET_BACKEND (tests/io/without_testing_library.cpp checks the opposite).
TEST(test_network_library, linked_test_backend_is_available_by_name_and_environment) {
  EXPECT_TRUE(io::io_context::is_available(io::backend_kind::test));
  {
    io::io_context ctx{io::backend_kind::test};
    EXPECT_EQ(ctx.backend(), io::backend_kind::test);
  }
  const char* old = std::getenv("SENET_BACKEND");
  std::string saved = old != nullptr ? old : "";
  ::setenv("SENET_BACKEND", "test", 1);
  {
    io::io_context ctx;
    EXPECT_EQ(ctx.backend(), io::backend_kind::test);
    EXPECT_EQ(io::test_network::of(ctx).latency(), io::test_network::clock::duration::zero());
  }
  if (old != nullptr) {
    ::setenv("SENET_BACKEND", saved.c_str(), 1);
  } else {
    ::unsetenv("SENET_BACKEND");
  }
}

}  // namespace
