// SPDX-License-Identifier: BSL-1.0
#include <senet/net/async_send.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/test_network.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/sockets.hpp>
#include <senet/net/timeout.hpp>

#include <support/backend_fixture.hpp>
#include <support/io_probe.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <poll.h>
#include <sys/socket.h>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

template <class Backend>
class async_send_test : public senet::test::backend_fixture<Backend> {
 protected:
  senet::test::tcp_connection tcp_pair() {
    auto pair = senet::test::backend_fixture<Backend>::tcp_pair();
    if (this->kind == io::backend_kind::test) {
      // The simulated network has unlimited buffers unless told otherwise.
      io::test_network::of(this->ctx()).set_send_buffer_limit(256 * 1024);
    } else {
      pair.client.set_option(net::socket_base::send_buffer_size{64 * 1024});
      pair.server.set_option(net::socket_base::receive_buffer_size{64 * 1024});
    }
    return pair;
  }

  // Fills the connection from `s`: sends of 64 KiB race ex::just() in when_any. `s` sends eagerly
  // (tried inside start() on every backend), so a send with room completes before just() starts
  // and wins; the first that finds no room waits, and just() then stops it. Returns the bytes the
  // peer has to receive (what the sends that completed reported), or nothing if no send was
  // stopped. No timer decides anything: the same on a loaded machine.
  std::optional<std::size_t> fill_until_a_send_is_cancelled(ip::tcp::socket& s) {
    std::vector<char> chunk(64 * 1024, 'f');
    bool eager = s.eager_send();
    s.eager_send(true);
    std::size_t sent = 0;
    std::optional<std::size_t> result;
    for (int i = 0; i < 1000 && !result; ++i) {
      bool stopped = false;
      auto r = this->run(ex::when_any(net::async_send(s, buffer(chunk)) | ex::then([&](std::size_t n) {
                                        sent += n;
                                      }) | ex::upon_stopped([&] { stopped = true; }),
                                      ex::just()));
      EXPECT_TRUE(r.has_value());
      if (stopped) {
        result = sent;
      }
    }
    s.eager_send(eager);
    return result;
  }

  // Receives exactly `n` bytes on `s`; fails the test (instead of waiting forever) if they do not
  // arrive within 10 s.
  void drain(ip::tcp::socket& s, std::size_t n) {
    std::vector<char> sink(n);
    auto r = this->run(
        net::timeout(net::async_read(s, buffer(sink)), 10s) |
        ex::then([](std::size_t got) noexcept { return std::make_pair(got, std::error_code()); }) |
        ex::upon_error([](std::error_code ec) noexcept { return std::make_pair(std::size_t{0}, ec); }));
    ASSERT_TRUE(r.has_value());
    ASSERT_FALSE(std::get<0>(*r).second) << std::get<0>(*r).second.message() << " draining " << n << " bytes";
    EXPECT_EQ(std::get<0>(*r).first, n);
    EXPECT_TRUE(std::all_of(sink.begin(), sink.end(), [](char c) { return c == 'f'; }));
  }
};

TYPED_TEST_SUITE(async_send_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(async_send_test, sends_and_the_peer_receives) {
  auto pair = this->tcp_pair();
  std::string data = "hello";
  std::string in(5, '\0');
  auto r = this->run(ex::when_all(net::async_send(pair.client, net::message_flags{}, buffer(data)),
                                  net::async_receive(pair.server, buffer(in))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 5U);
  EXPECT_EQ(in.substr(0, std::get<1>(*r)), data.substr(0, std::get<1>(*r)));
}

TYPED_TEST(async_send_test, gather_from_several_buffers) {
  auto pair = this->tcp_pair();
  std::string a = "abc";
  std::string b = "defg";
  std::vector<senet::const_buffer> seq{buffer(a), buffer(b)};
  EXPECT_EQ(this->value_of(net::async_send(pair.client, seq)), 7U);
  std::string in(7, '\0');
  std::size_t got = 0;
  while (got < 7) {
    got += this->value_of(net::async_receive(pair.server, buffer(in.data() + got, 7 - got)));
  }
  EXPECT_EQ(in, "abcdefg");
}

TYPED_TEST(async_send_test, peer_reset_gives_an_error_and_no_sigpipe) {
  // SIGPIPE would kill the process: make sure its default action is in force for this test.
  struct sigaction dfl {};
  struct sigaction old {};
  dfl.sa_handler = SIG_DFL;
  ::sigemptyset(&dfl.sa_mask);
  ASSERT_EQ(::sigaction(SIGPIPE, &dfl, &old), 0);

  auto pair = this->tcp_pair();
  char c = 'r';
  ASSERT_EQ(this->value_of(net::async_send(pair.server, buffer(&c, 1))), 1U);
  char peeked = 0;
  ASSERT_EQ(this->value_of(net::async_receive(pair.client, net::message_flags::peek, buffer(&peeked, 1))),
            1U);
  pair.client.close();  // with unread data: reset
  std::error_code ec;
  std::vector<char> chunk(4096, 's');
  for (int i = 0; i < 100 && !ec; ++i) {
    auto r = this->run(ex::let_error(net::async_send(pair.server, buffer(chunk)) |
                                         ex::then([](std::size_t) noexcept { return std::error_code(); }),
                                     [](std::error_code e) noexcept { return ex::just(e); }));
    ASSERT_TRUE(r.has_value());
    ec = std::get<0>(*r);
  }
  EXPECT_TRUE(ec == std::errc::broken_pipe || ec == std::errc::connection_reset) << ec.message();
  ::sigaction(SIGPIPE, &old, nullptr);
}

TYPED_TEST(async_send_test, send_on_a_closed_socket_is_an_error) {
  ip::tcp::socket s;
  char c = 0;
  EXPECT_EQ(this->error_of(net::async_send(s, buffer(&c, 1))), std::errc::bad_file_descriptor);
}

TYPED_TEST(async_send_test, cancel_a_pending_send_with_when_any_then_socket_still_usable) {
  auto pair = this->tcp_pair();
  auto sent = this->fill_until_a_send_is_cancelled(pair.client);
  ASSERT_TRUE(sent.has_value()) << "1000 sends of 64 KiB all found room";
  EXPECT_GT(*sent, 0U);
  // Exactly what the completed sends reported arrives (the stopped one sent nothing), then the
  // socket still works both ways.
  this->drain(pair.server, *sent);
  char out = 'k';
  char in = 0;
  auto r = this->run(ex::when_all(net::async_send(pair.client, buffer(&out, 1)),
                                  net::async_receive(pair.server, buffer(&in, 1))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<1>(*r), 1U);
  EXPECT_EQ(in, 'k');
  char back = 'b';
  auto r2 = this->run(ex::when_all(net::async_send(pair.server, buffer(&back, 1)),
                                   net::async_receive(pair.client, buffer(&in, 1))));
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(in, 'b');
}

TYPED_TEST(async_send_test, cancel_a_pending_send_with_a_stop_source) {
  auto pair = this->tcp_pair();
  ASSERT_TRUE(this->fill_until_a_send_is_cancelled(pair.client).has_value())
      << "1000 sends of 64 KiB all found room";
  std::vector<char> chunk(64 * 1024, 'g');
  senet::test::io_outcome<std::size_t> outcome;
  auto op = ex::connect(net::async_send(pair.client, buffer(chunk)),
                        senet::test::io_probe<std::size_t>{&this->ctx(), &outcome});
  ex::start(op);
  this->ctx().poll();
  ASSERT_FALSE(outcome.done.load()) << "the socket's buffers should still be full";
  outcome.stop.request_stop();
  senet::test::run_until_done(this->ctx(), outcome);
  EXPECT_TRUE(outcome.stopped);
}

// Starts a send of `data` on `s` on the context's thread; returns whether it had completed when
// start() returned (counted, not timed: the receiver has run by then).
template <class Socket>
bool send_completes_inside_start(io::io_context& ctx, Socket& s, const std::string& data) {
  senet::test::io_outcome<std::size_t> outcome;
  auto op = ex::connect(net::async_send(s, buffer(data)), senet::test::io_probe<std::size_t>{&ctx, &outcome});
  bool inside_start = false;
  ctx.run_until(ex::just() | ex::then([&] {
                  ex::start(op);
                  inside_start = outcome.done.load();
                }));
  senet::test::run_until_done(ctx, outcome);
  EXPECT_TRUE(outcome.value.has_value());
  EXPECT_EQ(outcome.value ? std::get<0>(*outcome.value) : 0U, data.size());
  return inside_start;
}

// With eager_send, a send that the socket has room for completes inside start() on every backend.
// Without it, io_uring hands the send to the ring (its default, chosen by measurement: see
// docs/benchmarks.md); epoll and the test backend try first anyway.
TYPED_TEST(async_send_test, an_eager_send_with_room_completes_inside_start) {
  auto pair = this->tcp_pair();
  std::string data = "inline";
  EXPECT_FALSE(pair.client.eager_send());
  EXPECT_EQ(send_completes_inside_start(this->ctx(), pair.client, data),
            this->kind != io::backend_kind::uring);
  pair.client.eager_send(true);
  EXPECT_TRUE(send_completes_inside_start(this->ctx(), pair.client, data))
      << "the send went through the loop";
  std::string in(2 * data.size(), '\0');
  std::size_t got = 0;
  while (got < in.size()) {
    got += this->value_of(net::async_receive(pair.server, buffer(in.data() + got, in.size() - got)));
  }
  EXPECT_EQ(in, data + data);
}

// Once a send has completed at once, the next ones may be made by their operation states
// directly (io::detail::start_directly), where the backend would try them at once anyway: epoll
// always, io_uring only with eager_send. So on a row of sends, which complete inside start() is
// the same as before: every one on epoll and the test backend, none on io_uring without
// eager_send, every one with it.
TYPED_TEST(async_send_test, a_row_of_sends_completes_inside_start_exactly_where_the_backend_tries_them) {
  auto pair = this->tcp_pair();
  std::string data = "row";
  bool tried_at_once = this->kind != io::backend_kind::uring;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(send_completes_inside_start(this->ctx(), pair.client, data), tried_at_once) << "send " << i;
  }
  pair.client.eager_send(true);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(send_completes_inside_start(this->ctx(), pair.client, data)) << "eager send " << i;
  }
  std::string expected;
  for (int i = 0; i < 10; ++i) {
    expected += data;
  }
  std::string in(expected.size(), '\0');
  std::size_t got = 0;
  while (got < in.size()) {
    got += this->value_of(net::async_receive(pair.server, buffer(in.data() + got, in.size() - got)));
  }
  EXPECT_EQ(in, expected);
}

// A send that waited for room completes in a turn of the loop, through the ready queue. A send
// started in that turn by a handler that runs before that completion is delivered must not
// complete inside its start() (which the direct path, or the backend trying it at once, would
// do): it would complete before the send that went on the wire before it. It completes after it.
// On io_uring with eager_send, where sends are tried at once (and so made directly) too.
TYPED_TEST(async_send_test,
           a_send_started_before_an_earlier_sends_completion_is_delivered_completes_after_it) {
  if (this->kind == io::backend_kind::test) {
    GTEST_SKIP() << "fills and empties the kernel's socket buffers with send(2) and recv(2)";
  }
  auto pair = this->tcp_pair();
  pair.client.eager_send(this->kind == io::backend_kind::uring);
  io::io_context& ctx = this->ctx();
  char x = 'x';
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(&x, 1))), 1U);  // direct sends allowed
  std::vector<char> block(64 * 1024, 'f');
  std::size_t filled = 0;
  for (;;) {
    ::ssize_t n = ::send(pair.client.native_handle(), block.data(), block.size(), MSG_DONTWAIT);
    if (n <= 0) {
      ASSERT_TRUE(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) << "send(2): " << errno;
      break;
    }
    filled += static_cast<std::size_t>(n);
  }
  char a = 'A';
  char b = 'B';
  senet::test::io_outcome<std::size_t> first;
  senet::test::io_outcome<std::size_t> second;
  auto op_a = ex::connect(net::async_send(pair.client, buffer(&a, 1)),
                          senet::test::io_probe<std::size_t>{&ctx, &first});
  auto op_b = ex::connect(net::async_send(pair.client, buffer(&b, 1)),
                          senet::test::io_probe<std::size_t>{&ctx, &second});
  ctx.run_until(ex::just() | ex::then([&] { ex::start(op_a); }));
  ASSERT_FALSE(first.done.load()) << "the client's buffers should be full";
  // Make room, and wait until the client's socket says so: the loop's next look at the kernel
  // finds the first send's room.
  std::string received;
  auto limit = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    ::pollfd writable{pair.client.native_handle(), POLLOUT, 0};
    if (::poll(&writable, 1, 0) == 1 && received.size() >= block.size()) {
      break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), limit) << "the client's socket never had room";
    ::pollfd readable{pair.server.native_handle(), POLLIN, 0};
    if (::poll(&readable, 1, 10) == 1) {
      ::ssize_t n = ::recv(pair.server.native_handle(), block.data(), block.size(), MSG_DONTWAIT);
      ASSERT_GT(n, 0);
      received.append(block.data(), static_cast<std::size_t>(n));
    }
  }
  // From this thread, which does not run the context: the handler goes into the ready queue
  // when the loop next turns, before what it then collects from the kernel.
  bool first_done_before_second = false;
  bool second_done_inside_start = false;
  senet::test::io_outcome<> handler;
  auto starter = ex::connect(ex::schedule(ctx.get_scheduler()) | ex::then([&]() noexcept {
                               ex::start(op_b);
                               second_done_inside_start = second.done.load();
                               first_done_before_second = first.done.load();
                             }),
                             senet::test::io_probe<>{&ctx, &handler});
  ex::start(starter);
  ctx.run_one();
  senet::test::run_until_done(ctx, first);
  senet::test::run_until_done(ctx, second);
  EXPECT_TRUE(handler.value_once());
  EXPECT_TRUE(first.value_once());
  EXPECT_TRUE(second.value_once());
  EXPECT_FALSE(second_done_inside_start && !first_done_before_second)
      << "the second send completed before the first one's completion was delivered";
  // On the wire: x, the filling, A, B.
  std::size_t total = 1 + filled + 2;
  while (received.size() < total) {
    ::pollfd readable{pair.server.native_handle(), POLLIN, 0};
    ASSERT_EQ(::poll(&readable, 1, 10'000), 1) << "the peer got " << received.size() << " of " << total;
    ::ssize_t n = ::recv(pair.server.native_handle(), block.data(), block.size(), MSG_DONTWAIT);
    ASSERT_GT(n, 0);
    received.append(block.data(), static_cast<std::size_t>(n));
  }
  EXPECT_EQ(received.size(), total);
  EXPECT_EQ(received.substr(total - 2), "AB");
  EXPECT_EQ(received.front(), 'x');
}

}  // namespace
