// SPDX-License-Identifier: BSL-1.0
#include <senet/net/async_send.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/test_network.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/sockets.hpp>

#include <support/backend_fixture.hpp>
#include <support/io_probe.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstddef>
#include <string>
#include <vector>

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
  auto tcp_pair() {
    acceptor_ = senet::test::listen_tcp(ip::tcp::v4());
    auto pair = senet::test::connect_pair(this->ctx(), acceptor_);
    if (this->kind == io::backend_kind::test) {
      // The simulated network has unlimited buffers unless told otherwise.
      io::test_network::of(this->ctx()).set_send_buffer_limit(256 * 1024);
    } else {
      pair.client.set_option(net::socket_base::send_buffer_size{64 * 1024});
      pair.server.set_option(net::socket_base::receive_buffer_size{64 * 1024});
    }
    return pair;
  }

  // Sends chunks until one send stays pending for `patience`, which is then cancelled by
  // when_any; returns true when that happened.
  bool fill_until_a_send_is_cancelled(ip::tcp::socket& s) {
    std::vector<char> chunk(64 * 1024, 'f');
    for (int i = 0; i < 10000; ++i) {
      bool stopped = false;
      auto r = this->run(ex::when_any(net::async_send(s, buffer(chunk)) | ex::then([](std::size_t) {}) |
                                          ex::upon_stopped([&] { stopped = true; }),
                                      net::async_wait_for(20ms)));
      EXPECT_TRUE(r.has_value());
      if (stopped) {
        return true;
      }
    }
    return false;
  }

  ip::tcp::acceptor acceptor_;
};

TYPED_TEST_SUITE(async_send_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(async_send_test, completion_signatures_are_those_of_p2762) {
  ip::tcp::socket s;
  std::string data = "x";
  using sndr = decltype(net::async_send(s, buffer(data)));
  static_assert(
      std::is_same_v<typename sndr::completion_signatures,
                     ex::completion_signatures<ex::set_value_t(std::size_t), ex::set_error_t(std::error_code),
                                               ex::set_stopped_t()>>);
  using flagged = decltype(net::async_send(s, net::message_flags::do_not_route, buffer(data)));
  static_assert(ex::sender<flagged>);
  SUCCEED();
}

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
  ASSERT_TRUE(this->fill_until_a_send_is_cancelled(pair.client));
  // Drain what was sent, then the socket still works both ways.
  std::vector<char> sink(1 << 20);
  for (;;) {
    bool timed_out = false;
    auto r =
        this->run(ex::when_any(net::async_receive(pair.server, buffer(sink)) | ex::then([](std::size_t) {}),
                               net::async_wait_for(20ms) | ex::then([&] { timed_out = true; })));
    ASSERT_TRUE(r.has_value());
    if (timed_out) {
      break;
    }
  }
  char out = 'k';
  char in = 0;
  auto r = this->run(ex::when_all(net::async_send(pair.client, buffer(&out, 1)),
                                  net::async_receive(pair.server, buffer(&in, 1))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(in, 'k');
}

TYPED_TEST(async_send_test, cancel_a_pending_send_with_a_stop_source) {
  auto pair = this->tcp_pair();
  ASSERT_TRUE(this->fill_until_a_send_is_cancelled(pair.client));
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

}  // namespace
