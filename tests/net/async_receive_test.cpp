// SPDX-License-Identifier: BSL-1.0
#include <senet/net/async_receive.hpp>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_send_to.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/sockets.hpp>

#include <support/backend_fixture.hpp>
#include <support/io_probe.hpp>
#include <support/loopback.hpp>
#include <support/run.hpp>
#include <support/transfer_loop.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <list>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

template <class Backend>
class async_receive_test : public senet::test::backend_fixture<Backend> {
 protected:
  // Sends all of `data` from `from` while receiving all of it on `to`, each side looping over
  // partial transfers; returns what `to` received.
  template <class Socket>
  std::string transfer(Socket& from, Socket& to, const std::string& data, std::size_t chunk) {
    std::string received(data.size(), '\0');
    auto send_all = senet::test::transfer_loop(data.size(), [&](std::size_t offset) {
      return net::async_send(from, buffer(data.data() + offset, data.size() - offset));
    });
    auto receive_all = senet::test::transfer_loop(data.size(), [&](std::size_t offset) {
      return net::async_receive(to, buffer(received.data() + offset, std::min(chunk, data.size() - offset)));
    });
    auto r = this->run(ex::when_all(std::move(send_all), std::move(receive_all)));
    EXPECT_TRUE(r.has_value());
    return received;
  }
};

TYPED_TEST_SUITE(async_receive_test, senet::test::all_backends, senet::test::backend_names);

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  }
  return s;
}

TYPED_TEST(async_receive_test, completion_signatures_are_those_of_p2762) {
  ip::tcp::socket s;
  std::array<char, 4> data{};
  using sndr = decltype(net::async_receive(s, buffer(data)));
  static_assert(
      std::is_same_v<typename sndr::completion_signatures,
                     ex::completion_signatures<ex::set_value_t(std::size_t), ex::set_error_t(std::error_code),
                                               ex::set_stopped_t()>>);
  static_assert(ex::sender<sndr>);
  SUCCEED();
}

TYPED_TEST(async_receive_test, one_byte) {
  auto pair = this->tcp_pair();
  char in = 0;
  char out = 'x';
  auto r = this->run(ex::when_all(net::async_send(pair.client, buffer(&out, 1)),
                                  net::async_receive(pair.server, buffer(&in, 1))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 1U);
  EXPECT_EQ(std::get<1>(*r), 1U);
  EXPECT_EQ(in, 'x');
}

TYPED_TEST(async_receive_test, data_already_there_completes_inline_on_epoll) {
  auto pair = this->tcp_pair();
  char out = 'y';
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(&out, 1))), 1U);
  // Make sure the byte arrived: a first receive may wait for it.
  char in = 0;
  ASSERT_EQ(this->value_of(net::async_receive(pair.server, net::message_flags::peek, buffer(&in, 1))), 1U);
  EXPECT_EQ(in, 'y');
  // Now it is there: started on the context's thread, the receive completes inside start().
  senet::test::io_outcome<std::size_t> outcome;
  auto op = ex::connect(net::async_receive(this->scheduler(), pair.server, buffer(&in, 1)),
                        senet::test::io_probe<std::size_t>{&this->ctx(), &outcome});
  {
    io::detail::context_scope scope(this->ctx());  // start as the context's thread would
    ex::start(op);
  }
  if (this->kind == io::backend_kind::uring) {
    // io_uring always completes through the ring (P2762 §6.1 2.2 allows both).
    senet::test::run_until_done(this->ctx(), outcome);
  } else {
    EXPECT_TRUE(outcome.done.load()) << "epoll tries the system call first and completes inline";
  }
  ASSERT_TRUE(outcome.value_once());
  EXPECT_EQ(std::get<0>(*outcome.value), 1U);
}

TYPED_TEST(async_receive_test, sixty_four_kib_in_partial_transfers) {
  auto pair = this->tcp_pair();
  std::string data = pattern(64 * 1024);
  EXPECT_EQ(this->transfer(pair.client, pair.server, data, 4096), data);
}

TYPED_TEST(async_receive_test, sixteen_mib) {
  auto pair = this->tcp_pair();
  std::string data = pattern(16 * 1024 * 1024);
  EXPECT_EQ(this->transfer(pair.client, pair.server, data, 1 << 20), data);
  EXPECT_EQ(this->transfer(pair.server, pair.client, data, 1 << 16), data);
}

TYPED_TEST(async_receive_test, ipv6_sockets) {
  SENET_TEST_REQUIRE_IPV6();
  auto pair = this->tcp_pair(ip::tcp::v6());
  EXPECT_EQ(this->transfer(pair.client, pair.server, pattern(100000), 8192), pattern(100000));
}

TYPED_TEST(async_receive_test, local_sockets) {
  senet::test::local_listener listener;
  auto pair = senet::test::connect_pair(this->ctx(), listener.acceptor());
  EXPECT_EQ(this->transfer(pair.client, pair.server, pattern(100000), 8192), pattern(100000));
}

TYPED_TEST(async_receive_test, zero_bytes_at_end_of_stream) {
  auto pair = this->tcp_pair();
  pair.client.close();
  std::array<char, 16> in{};
  EXPECT_EQ(this->value_of(net::async_receive(pair.server, buffer(in))), 0U);
  // And again: end of stream stays end of stream.
  EXPECT_EQ(this->value_of(net::async_receive(pair.server, buffer(in))), 0U);
}

TYPED_TEST(async_receive_test, zero_bytes_at_end_of_stream_while_waiting) {
  auto pair = this->tcp_pair();
  std::array<char, 16> in{};
  auto r = this->run(ex::when_all(net::async_receive(pair.server, buffer(in)),
                                  ex::schedule(this->scheduler()) | ex::then([&] { pair.client.close(); })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 0U);
}

TYPED_TEST(async_receive_test, peer_reset_gives_an_error) {
  auto pair = this->tcp_pair();
  // Closing with unread data resets the connection.
  char out = 'z';
  ASSERT_EQ(this->value_of(net::async_send(pair.server, buffer(&out, 1))), 1U);
  char peeked = 0;
  ASSERT_EQ(this->value_of(net::async_receive(pair.client, net::message_flags::peek, buffer(&peeked, 1))),
            1U);
  pair.client.close();
  std::array<char, 16> in{};
  std::error_code ec = this->error_of(net::async_receive(pair.server, buffer(in)));
  EXPECT_EQ(ec, std::errc::connection_reset) << ec.message();
}

TYPED_TEST(async_receive_test, buffer_sequences) {
  auto pair = this->tcp_pair();
  std::string data = "hello, world";
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(data))), data.size());
  std::array<char, 5> a{};
  std::array<char, 7> b{};
  std::vector<senet::mutable_buffer> in_place{buffer(a), buffer(b)};
  std::size_t got = 0;
  while (got < data.size()) {
    // A contiguous range of buffers is used in place; retry until all 12 bytes are in.
    std::vector<senet::mutable_buffer> rest = in_place;
    std::size_t skip = got;
    for (auto& m : rest) {
      std::size_t k = std::min(skip, m.size());
      m += k;
      skip -= k;
    }
    got += this->value_of(net::async_receive(pair.server, rest));
  }
  EXPECT_EQ(std::string(a.data(), a.size()) + std::string(b.data(), b.size()), data);

  // A non-contiguous sequence is copied into the operation's iovec array.
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(data))), data.size());
  std::string whole(data.size(), '\0');
  std::list<senet::mutable_buffer> list{buffer(whole.data(), 3), buffer(whole.data() + 3, whole.size() - 3)};
  std::size_t n = this->value_of(net::async_receive(pair.server, list));
  EXPECT_GT(n, 0U);
  EXPECT_EQ(whole.substr(0, n), data.substr(0, n));
}

TYPED_TEST(async_receive_test, too_many_buffers_is_an_error) {
  auto pair = this->tcp_pair();
  char c = 0;
  std::vector<senet::mutable_buffer> many(senet::detail::iov_max + 1, buffer(&c, 1));
  EXPECT_EQ(this->error_of(net::async_receive(pair.server, many)), std::errc::argument_list_too_long);
}

TYPED_TEST(async_receive_test, peek_leaves_the_data) {
  auto pair = this->tcp_pair();
  std::string data = "ab";
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(data))), 2U);
  std::array<char, 2> in{};
  std::size_t n = 0;
  while (n < 2) {
    n = this->value_of(net::async_receive(pair.server, net::message_flags::peek, buffer(in)));
  }
  EXPECT_EQ(this->value_of(net::async_receive(pair.server, buffer(in))), 2U);
  EXPECT_EQ(std::string(in.data(), 2), "ab");
}

TYPED_TEST(async_receive_test, explicit_scheduler_form) {
  auto pair = this->tcp_pair();
  char out = 'e';
  char in = 0;
  auto sch = this->scheduler();
  auto r =
      this->run(ex::when_all(net::async_send(sch, pair.client, net::message_flags{}, buffer(&out, 1)),
                             net::async_receive(sch, pair.server, net::message_flags{}, buffer(&in, 1))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(in, 'e');
}

TYPED_TEST(async_receive_test, explicit_scheduler_from_another_thread) {
  auto pair = this->tcp_pair();
  char out = 't';
  char in = 0;
  std::thread loop;
  {
    io::io_context::work_guard guard(this->ctx());
    loop = std::thread([&] { senet::test::bounded_run(this->ctx()); });
    // sync_wait's own environment has no io scheduler: the explicit form starts the operations
    // from this thread, and they move to the context's thread.
    auto r = ex::sync_wait(ex::when_all(net::async_receive(this->scheduler(), pair.server, buffer(&in, 1)),
                                        net::async_send(this->scheduler(), pair.client, buffer(&out, 1))));
    ASSERT_TRUE(r.has_value());
  }
  loop.join();
  EXPECT_EQ(in, 't');
}

TYPED_TEST(async_receive_test, cancel_with_when_any_then_socket_still_usable) {
  auto pair = this->tcp_pair();
  char in = 0;
  bool stopped = false;
  auto r = this->run(ex::when_any(net::async_receive(pair.server, buffer(&in, 1)) | ex::then([](std::size_t) {
                                  }) | ex::upon_stopped([&] { stopped = true; }),
                                  net::async_wait_for(5ms)));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(stopped);
  char out = 'u';
  auto r2 = this->run(ex::when_all(net::async_send(pair.client, buffer(&out, 1)),
                                   net::async_receive(pair.server, buffer(&in, 1))));
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(in, 'u');
}

TYPED_TEST(async_receive_test, cancel_with_stop_source_on_the_context_thread) {
  auto pair = this->tcp_pair();
  char in = 0;
  senet::test::io_outcome<std::size_t> outcome;
  auto op = ex::connect(net::async_receive(pair.server, buffer(&in, 1)),
                        senet::test::io_probe<std::size_t>{&this->ctx(), &outcome});
  ex::start(op);
  EXPECT_EQ(this->ctx().poll(), 0U);  // started, now waiting for data
  EXPECT_FALSE(outcome.done.load());
  auto stopper = ex::schedule(this->scheduler()) | ex::then([&] { outcome.stop.request_stop(); });
  ASSERT_TRUE(this->run(std::move(stopper)).has_value());
  senet::test::run_until_done(this->ctx(), outcome);
  EXPECT_TRUE(outcome.stopped_once());
  EXPECT_FALSE(outcome.value.has_value());
  char out = 'v';
  auto r = this->run(ex::when_all(net::async_send(pair.client, buffer(&out, 1)),
                                  net::async_receive(pair.server, buffer(&in, 1))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(in, 'v');
}

TYPED_TEST(async_receive_test, cancel_with_stop_source_from_another_thread) {
  // The start (moved to the context's thread) races the stop request: exactly one completion,
  // set_stopped, every time.
  auto pair = this->tcp_pair();
  for (int i = 0; i < 1000; ++i) {
    char in = 0;
    senet::test::io_outcome<std::size_t> outcome;
    auto op = ex::connect(net::async_receive(pair.server, buffer(&in, 1)),
                          senet::test::io_probe<std::size_t>{&this->ctx(), &outcome});
    std::thread loop([&] { senet::test::run_until_done(this->ctx(), outcome); });
    ex::start(op);  // from this thread: moves to the context's thread
    outcome.stop.request_stop();
    loop.join();
    ASSERT_TRUE(outcome.stopped_once()) << i;
  }
  char in = 0;
  char out = 'w';
  auto r = this->run(ex::when_all(net::async_send(pair.client, buffer(&out, 1)),
                                  net::async_receive(pair.server, buffer(&in, 1))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(in, 'w');
}

// A waiting receive under two stop tokens at once (a counting_scope's, through token.wrap, and
// when_all's, its receiver's own), started on the context's thread: the operation state looks
// the pair up once at start and registers its one stop callback with that copy; a stop of either
// source cancels the receive (the scope's by a request, when_all's by a sibling that stops).
TYPED_TEST(async_receive_test, a_waiting_receive_under_a_scope_and_its_own_stop_token_stops_with_either) {
  auto pair = this->tcp_pair();
  for (bool by_scope : {true, false}) {
    char in = 0;
    bool stopped = false;
    ex::counting_scope scope;
    auto receive = scope.get_token().wrap(net::async_receive(pair.server, buffer(&in, 1))) |
                   ex::then([](std::size_t) {}) | ex::upon_stopped([&] { stopped = true; });
    auto sch = this->scheduler();
    if (by_scope) {
      // After a hop through the loop, so that the receive waits.
      auto stopper = ex::schedule(sch) | ex::then([&] { scope.request_stop(); });
      EXPECT_TRUE(this->run(ex::when_all(std::move(receive), std::move(stopper))).has_value());
    } else {
      auto stopper = ex::schedule(sch) | ex::let_value([] { return ex::just_stopped(); });
      EXPECT_FALSE(this->run(ex::when_all(std::move(receive), std::move(stopper))).has_value());
    }
    EXPECT_TRUE(stopped) << (by_scope ? "the scope's stop" : "when_all's stop");
    ex::sync_wait(scope.join());
  }
  char in = 0;
  char out = 'x';
  auto r = this->run(ex::when_all(net::async_send(pair.client, buffer(&out, 1)),
                                  net::async_receive(pair.server, buffer(&in, 1))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(in, 'x');
}

TYPED_TEST(async_receive_test, stop_requested_before_start_completes_stopped) {
  auto pair = this->tcp_pair();
  char in = 0;
  senet::test::io_outcome<std::size_t> outcome;
  outcome.stop.request_stop();
  auto op = ex::connect(net::async_receive(pair.server, buffer(&in, 1)),
                        senet::test::io_probe<std::size_t>{&this->ctx(), &outcome});
  ex::start(op);
  EXPECT_TRUE(outcome.done.load());
  EXPECT_TRUE(outcome.stopped_once());
}

TYPED_TEST(async_receive_test, closing_the_socket_aborts_a_waiting_receive) {
  auto pair = this->tcp_pair();
  char in = 0;
  std::error_code ec =
      this->error_of(ex::when_all(net::async_receive(pair.server, buffer(&in, 1)),
                                  ex::schedule(this->scheduler()) | ex::then([&] { pair.server.close(); })));
  EXPECT_EQ(ec, senet::error::operation_aborted);
}

// On a connected datagram socket (one buffer, no endpoint: IORING_OP_RECV on io_uring) a datagram
// longer than the buffer is std::errc::message_size, waiting or immediate, on every backend.
TYPED_TEST(async_receive_test, datagram_longer_than_buffer_is_message_size) {
  auto a = senet::test::bind_udp(ip::udp::v4());
  auto b = senet::test::bind_udp(ip::udp::v4());
  b.connect(a.local_endpoint());
  std::string big = "0123456789";
  std::array<char, 4> small{};
  auto r = this->run(ex::when_all(net::async_receive(b, buffer(small)) | ex::then([](std::size_t) {
                                    return std::error_code();
                                  }) | ex::upon_error([](auto e) {
                                    if constexpr (std::is_same_v<decltype(e), std::error_code>) {
                                      return e;
                                    } else {
                                      return std::make_error_code(std::errc::io_error);
                                    }
                                  }),
                                  net::async_send_to(a, buffer(big), b.local_endpoint())));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), std::errc::message_size);
  EXPECT_EQ(std::string(small.data(), 4), "0123");
  ASSERT_EQ(this->value_of(net::async_send_to(a, buffer(big), b.local_endpoint())), 10U);
  ASSERT_EQ(this->value_of(net::async_send_to(a, buffer("ok", 2), b.local_endpoint())), 2U);
  EXPECT_EQ(this->error_of(net::async_receive(b, buffer(small))), std::errc::message_size);
  EXPECT_EQ(this->value_of(net::async_receive(b, buffer(small))), 2U);
  EXPECT_EQ(std::string(small.data(), 2), "ok");
  // With message_flags::truncate: the real length.
  ASSERT_EQ(this->value_of(net::async_send_to(a, buffer(big), b.local_endpoint())), 10U);
  EXPECT_EQ(this->value_of(net::async_receive(b, net::message_flags::truncate, buffer(small))), 10U);
}

// A stream is never given MSG_TRUNC (there it would discard bytes): a short buffer leaves the rest
// queued for the next receive.
TYPED_TEST(async_receive_test, stream_receive_into_short_buffer_keeps_the_rest) {
  auto p = this->tcp_pair();
  ASSERT_EQ(this->value_of(net::async_send(p.client, buffer("0123456789", 10))), 10U);
  std::array<char, 4> small{};
  std::string got;
  while (got.size() < 10) {
    std::size_t n = this->value_of(net::async_receive(p.server, buffer(small)));
    ASSERT_GT(n, 0U);
    got.append(small.data(), n);
  }
  EXPECT_EQ(got, "0123456789");
}

// Starts a receive of up to 8 bytes on `s` on the context's thread; returns whether it had completed
// when start() returned, and what it received.
template <class Socket>
std::pair<bool, std::string> receive_counting_inline(io::io_context& ctx, Socket& s) {
  std::array<char, 8> in{};
  senet::test::io_outcome<std::size_t> outcome;
  auto op =
      ex::connect(net::async_receive(s, buffer(in)), senet::test::io_probe<std::size_t>{&ctx, &outcome});
  bool inside_start = false;
  senet::test::run(ctx, ex::just() | ex::then([&] {
                          ex::start(op);
                          inside_start = outcome.done.load();
                        }));
  senet::test::run_until_done(ctx, outcome);
  EXPECT_TRUE(outcome.value_once());
  std::size_t n = outcome.value ? std::get<0>(*outcome.value) : 0;
  return {inside_start, std::string(in.data(), n)};
}

// With eager_receive, a receive completes inside start() when data is waiting, on every backend.
// Without it, io_uring hands the receive to the ring even then (the result is the same, one loop
// turn later); epoll and the test backend try first anyway.
TYPED_TEST(async_receive_test, eager_receive_completes_inside_start_when_data_waits) {
  auto pair = this->tcp_pair();
  EXPECT_FALSE(pair.server.eager_receive());
  std::string data = "abcd";
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(data))), data.size());
  // Wait until it has arrived, without taking it.
  char peeked = 0;
  ASSERT_EQ(this->value_of(net::async_receive(pair.server, net::message_flags::peek, buffer(&peeked, 1))),
            1U);

  auto [inline_without, got_without] = receive_counting_inline(this->ctx(), pair.server);
  EXPECT_EQ(got_without, data);
  EXPECT_EQ(inline_without, this->kind != io::backend_kind::uring);

  pair.server.eager_receive(true);
  EXPECT_TRUE(pair.server.eager_receive());
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(data))), data.size());
  ASSERT_EQ(this->value_of(net::async_receive(pair.server, net::message_flags::peek, buffer(&peeked, 1))),
            1U);
  auto [inline_with, got_with] = receive_counting_inline(this->ctx(), pair.server);
  EXPECT_TRUE(inline_with) << "the eager receive went through the loop";
  EXPECT_EQ(got_with, data);

  // Nothing waiting: it waits, and completes when data comes.
  senet::test::io_outcome<std::size_t> outcome;
  std::array<char, 8> in{};
  auto op = ex::connect(net::async_receive(pair.server, buffer(in)),
                        senet::test::io_probe<std::size_t>{&this->ctx(), &outcome});
  this->run(ex::just() | ex::then([&] { ex::start(op); }));
  EXPECT_FALSE(outcome.done.load());
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(data))), data.size());
  senet::test::run_until_done(this->ctx(), outcome);
  ASSERT_TRUE(outcome.value_once());
  EXPECT_EQ(std::string(in.data(), std::get<0>(*outcome.value)), data);
}

}  // namespace
