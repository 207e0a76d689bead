// SPDX-License-Identifier: BSL-1.0
#include <senet/net/async_write.hpp>

#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/test_network.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/sockets.hpp>
#include <senet/net/timeout.hpp>
#include <senet/net/without_stop_token.hpp>

#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace ex = senet::ex;
namespace net = senet::net;
using senet::ip::tcp;
using namespace std::chrono_literals;

// Every test runs on each backend: io_uring and epoll over kernel sockets, the test backend over
// its simulated network (a backend that cannot be created here is skipped, saying so).
template <class Backend>
class async_write_test : public senet::test::backend_fixture<Backend> {
 protected:
  // Two connected TCP sockets on the loopback interface, made on this test's context, whose buffers
  // hold a known amount (not what the machine's sysctls say): 64 KiB for the writer to send and
  // 64 KiB for the reader to receive (the kernel doubles both for its bookkeeping), 256 KiB unread
  // on the test backend's simulated network.
  senet::test::tcp_connection tcp_pair() {
    auto pair = senet::test::backend_fixture<Backend>::tcp_pair();
    if (this->kind == senet::io::backend_kind::test) {
      senet::io::test_network::of(this->ctx()).set_send_buffer_limit(buffered);
    } else {
      for (tcp::socket* s : {&pair.client, &pair.server}) {
        s->set_option(net::socket_base::send_buffer_size{64 * 1024});
        s->set_option(net::socket_base::receive_buffer_size{64 * 1024});
      }
    }
    return pair;
  }

  // Reads exactly `n` bytes from `s`.
  std::vector<unsigned char> receive_exactly(tcp::socket& s, std::size_t n) {
    std::vector<unsigned char> v(n);
    auto r = this->run(net::async_read(s, senet::buffer(v)));
    EXPECT_TRUE(r.has_value());
    EXPECT_EQ(r ? std::get<0>(*r) : 0U, n);
    return v;
  }

  // At most what the connection holds unread, with room to spare.
  static constexpr std::size_t buffered = 256 * 1024;
};

TYPED_TEST_SUITE(async_write_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(async_write_test, writes_a_small_buffer) {
  auto pair = this->tcp_pair();
  tcp::socket& a = pair.client;
  tcp::socket& b = pair.server;
  std::string text = "hello, world";
  auto [n] = this->run(net::async_write(a, senet::buffer(text))).value();
  EXPECT_EQ(n, text.size());
  auto got = this->receive_exactly(b, text.size());
  EXPECT_EQ(std::string(got.begin(), got.end()), text);
}

TYPED_TEST(async_write_test, gathers_a_buffer_sequence) {
  auto pair = this->tcp_pair();
  tcp::socket& a = pair.client;
  tcp::socket& b = pair.server;
  // 50 pieces, more than one step takes, with empty ones between them.
  std::vector<std::string> pieces;
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    pieces.push_back("piece " + std::to_string(i) + ";");
    expected += pieces.back();
  }
  std::vector<senet::const_buffer> buffers;
  for (const auto& p : pieces) {
    buffers.push_back(senet::buffer(p));
    buffers.emplace_back();
  }
  std::size_t transferred = 0;
  auto [n] = this->run(net::async_write(a, buffers, transferred)).value();
  EXPECT_EQ(n, expected.size());
  EXPECT_EQ(transferred, expected.size());
  auto got = this->receive_exactly(b, expected.size());
  EXPECT_EQ(std::string(got.begin(), got.end()), expected);
}

TYPED_TEST(async_write_test, sixteen_mebibytes_partial_writes) {
  auto pair = this->tcp_pair();
  tcp::socket& a = pair.client;
  tcp::socket& b = pair.server;
  // Far more than the socket buffers hold: the write proceeds in many partial steps as the reader
  // drains the connection.
  std::vector<unsigned char> data(16 << 20);
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<unsigned char>(i ^ (i >> 9));
  }
  std::vector<unsigned char> got(data.size());
  auto [w, r] = this->run(ex::when_all(net::async_write(a, senet::buffer(data)),
                                       net::async_read(b, senet::buffer(got))))
                    .value();
  EXPECT_EQ(w, data.size());
  EXPECT_EQ(r, data.size());
  EXPECT_TRUE(got == data);
}

TYPED_TEST(async_write_test, peer_gone_is_an_error_not_sigpipe) {
  auto pair = this->tcp_pair();
  tcp::socket& a = pair.client;
  tcp::socket& b = pair.server;
  b.set_option(tcp::socket::linger{true, 0});
  b.close();
  std::vector<unsigned char> data(1 << 20);
  std::size_t transferred = 0;
  auto r = this->run(net::async_write(a, senet::buffer(data), transferred) |
                     ex::then([](std::size_t) noexcept { return std::error_code{}; }) |
                     ex::upon_error([](std::error_code ec) noexcept { return ec; }));
  ASSERT_TRUE(r.has_value());
  std::error_code ec = std::get<0>(*r);
  EXPECT_TRUE(ec == std::errc::broken_pipe || ec == std::errc::connection_reset) << ec.message();
  EXPECT_LT(transferred, data.size());
}

TYPED_TEST(async_write_test, stop_request_cancels_and_reports_the_partial_count) {
  auto pair = this->tcp_pair();
  tcp::socket& a = pair.client;
  tcp::socket& b = pair.server;
  // Nobody reads b: the write fills the buffers (a few hundred KiB of the 64 MiB), then waits. A
  // 1 ms tick stops it once it has made progress (on the test backend virtual time moves only when
  // nothing else can happen), so the outcome does not depend on the machine's speed.
  std::vector<unsigned char> data(64 << 20);
  for (std::size_t i = 0; i < data.size(); i += 4096) {
    data[i] = static_cast<unsigned char>(i >> 12);
  }
  std::size_t transferred = 0;
  int ticks = 0;
  auto progressed = ex::repeat_effect_until(net::async_wait_for(1ms) | ex::then([&]() noexcept {
                                              ++ticks;
                                              return transferred > 0 || ticks == 10000;
                                            }));
  auto r = this->run(ex::when_any(net::async_write(a, senet::buffer(data), transferred) |
                                      ex::then([](std::size_t) noexcept { return false; }),
                                  std::move(progressed) | ex::then([]() noexcept { return true; }) |
                                      // stdexec's loop may fail with an exception_ptr (it does not here)
                                      ex::upon_error([](std::exception_ptr) noexcept { return true; })));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(std::get<0>(*r)) << "64 MiB were written with nobody reading";
  ASSERT_GT(transferred, 0U) << "no progress after " << ticks << " ticks of 1 ms";
  EXPECT_LT(transferred, data.size());
  // Exactly `transferred` bytes were written: the reader finds them, in order.
  auto got = this->receive_exactly(b, transferred);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), data.begin()));
}

TYPED_TEST(async_write_test, without_stop_token_shields_the_write_from_timeout) {
  auto pair = this->tcp_pair();
  tcp::socket& a = pair.client;
  tcp::socket& b = pair.server;
  // The timeout fires while the write waits for the reader, but the write does not see the stop
  // request, so it only completes once everything is written; the timeout result is then the
  // timer's, since it decided first.
  std::vector<unsigned char> data(8 << 20);
  std::vector<unsigned char> got(data.size());
  auto writer = net::timeout(net::without_stop_token(net::async_write(a, senet::buffer(data))), 1ms) |
                ex::then([](std::size_t) noexcept { return std::error_code{}; }) |
                ex::upon_error([](std::error_code ec) noexcept { return ec; });
  auto reader =
      net::async_wait_for(20ms) | ex::let_value([&] { return net::async_read(b, senet::buffer(got)); });
  auto [ec, n] = this->run(ex::when_all(std::move(writer), std::move(reader))).value();
  EXPECT_EQ(ec, std::errc::timed_out);
  EXPECT_EQ(n, data.size());
  EXPECT_TRUE(got == data);
}

TYPED_TEST(async_write_test, empty_buffers_complete_at_once_with_zero) {
  tcp::socket unconnected(tcp::v4());
  auto [n] = this->run(net::async_write(unconnected, senet::buffer(std::string_view()))).value();
  EXPECT_EQ(n, 0U);
}

TYPED_TEST(async_write_test, closed_socket_is_an_error) {
  tcp::socket closed;
  std::size_t transferred = 5;
  auto r = this->run(net::async_write(closed, senet::buffer(std::string_view("x")), transferred) |
                     ex::then([](std::size_t) noexcept { return std::error_code{}; }) |
                     ex::upon_error([](std::error_code ec) noexcept { return ec; }));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(std::get<0>(*r));
  EXPECT_EQ(transferred, 0U);
}

// Runs `ctx` on a thread of its own for the lifetime of the object.
class context_thread {
 public:
  explicit context_thread(senet::io::io_context& ctx) : guard_(ctx), thread_([&ctx] { ctx.run(); }) {}
  context_thread(const context_thread&) = delete;
  context_thread& operator=(const context_thread&) = delete;
  ~context_thread() {
    guard_.reset();
    thread_.join();
  }

 private:
  senet::io::io_context::work_guard guard_;
  std::thread thread_;
};

// The explicit form outside run_until: sync_wait's environment names its run_loop as the
// scheduler, and the write still runs on `ctx` (with stdexec too, whose starts_on does not pass
// its scheduler to the child as get_scheduler).
TYPED_TEST(async_write_test, with_an_explicit_scheduler_under_sync_wait) {
  auto& ctx = this->ctx();
  auto pair = this->tcp_pair();
  const std::string data = "explicit";
  std::size_t transferred = 0;
  std::thread::id completed_on{};
  {
    context_thread runner(ctx);
    auto r = ex::sync_wait(net::async_write(ctx.get_scheduler(), pair.client, senet::buffer(data)) |
                           ex::then([&](std::size_t n) {
                             completed_on = std::this_thread::get_id();
                             return n;
                           }));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(std::get<0>(*r), data.size());
    EXPECT_NE(completed_on, std::this_thread::get_id()) << "completes on the context's thread";
    auto r2 =
        ex::sync_wait(net::async_write(ctx.get_scheduler(), pair.client, senet::buffer(data), transferred));
    ASSERT_TRUE(r2.has_value());
    EXPECT_EQ(transferred, data.size());
  }
  std::vector<unsigned char> got = this->receive_exactly(pair.server, 2 * data.size());
  EXPECT_EQ(std::string(got.begin(), got.end()), data + data);
}

// A stream that is not a socket (it customises async_write_some with a member): async_write runs
// its steps as senders, one per step. Each step takes at most `step` bytes, and nothing once
// `capacity` bytes were written.
struct trickle_sink {
  std::size_t step;
  std::size_t capacity = std::size_t(-1);
  std::string written{};
  int calls = 0;

  auto async_write_some(std::span<const senet::const_buffer> buffers) {
    ++calls;
    std::string chunk(std::min({step, senet::buffer_size(buffers), capacity - written.size()}), '\0');
    std::size_t n = senet::buffer_copy(senet::buffer(chunk), buffers);
    written += chunk;
    return ex::just(n);
  }
};

TEST(async_write_generic, runs_one_step_sender_per_partial_write_and_reports_progress) {
  trickle_sink sink{3};
  std::string first = "abcd";
  std::string second = "efghij";
  std::array<senet::const_buffer, 2> buffers{senet::buffer(first), senet::buffer(second)};
  std::size_t transferred = 0;
  auto r = ex::sync_wait(net::async_write(sink, buffers, transferred));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 10U);
  EXPECT_EQ(transferred, 10U);
  EXPECT_EQ(sink.calls, 4);
  EXPECT_EQ(sink.written, "abcdefghij");
}

TEST(async_write_generic, a_stream_that_takes_nothing_is_an_io_error_with_the_count_so_far) {
  trickle_sink sink{2, 3};
  std::string data = "abcdef";
  std::size_t transferred = 0;
  std::error_code ec;
  auto r = ex::sync_wait(net::async_write(sink, senet::buffer(data), transferred) |
                         ex::upon_error([&](std::error_code e) {
                           ec = e;
                           return std::size_t{0};
                         }));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(ec, std::make_error_code(std::errc::io_error));
  EXPECT_EQ(transferred, 3U);
  EXPECT_EQ(sink.written, "abc");
}

}  // namespace
