// SPDX-License-Identifier: BSL-1.0
#include <senet/net/async_read.hpp>

#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/sockets.hpp>
#include <senet/net/timeout.hpp>
#include <support/allocation_counter.hpp>
#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <exception>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace ex = senet::ex;
namespace net = senet::net;
using senet::ip::tcp;
using namespace std::chrono_literals;

std::vector<unsigned char> pattern(std::size_t n, unsigned seed = 1) {
  std::vector<unsigned char> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = static_cast<unsigned char>(i * 7 + seed + (i >> 8));
  }
  return v;
}

// Every test runs on each backend: io_uring and epoll over kernel sockets, the test backend over
// its simulated network (a backend that cannot be created here is skipped, saying so).
template <class Backend>
class async_read_test : public senet::test::backend_fixture<Backend> {
 protected:
  // Writes all of `data` to `s` before anything reads it (it fits in the connection's buffers).
  void send_all(tcp::socket& s, const void* data, std::size_t size) {
    auto r = this->run(net::async_write(s, senet::buffer(data, size)));
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(std::get<0>(*r), size);
  }
};

TYPED_TEST_SUITE(async_read_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(async_read_test, reads_exactly_the_buffer) {
  auto pair = this->tcp_pair();
  tcp::socket& a = pair.client;
  tcp::socket& b = pair.server;
  auto data = pattern(100);
  this->send_all(a, data.data(), data.size());
  std::vector<unsigned char> got(60);
  auto [n] = this->run(net::async_read(b, senet::buffer(got))).value();
  EXPECT_EQ(n, 60U);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), data.begin()));
  // The other 40 bytes are still there.
  std::vector<unsigned char> rest(40);
  auto [m] = this->run(net::async_read(b, senet::buffer(rest))).value();
  EXPECT_EQ(m, 40U);
  EXPECT_TRUE(std::equal(rest.begin(), rest.end(), data.begin() + 60));
}

TYPED_TEST(async_read_test, sixteen_mebibytes_against_a_concurrent_writer) {
  auto pair = this->tcp_pair();
  tcp::socket& a = pair.client;
  tcp::socket& b = pair.server;
  auto data = pattern(16 << 20);
  std::vector<unsigned char> got(data.size());
  auto [w, r] = this->run(ex::when_all(net::async_write(a, senet::buffer(data)),
                                       net::async_read(b, senet::buffer(got))))
                    .value();
  EXPECT_EQ(w, data.size());
  EXPECT_EQ(r, data.size());
  EXPECT_TRUE(got == data);
}

TYPED_TEST(async_read_test, scatters_over_a_long_buffer_sequence) {
  auto pair = this->tcp_pair();
  tcp::socket& a = pair.client;
  tcp::socket& b = pair.server;
  auto data = pattern(40 * 1000 + 7);
  this->send_all(a, data.data(), data.size());
  // 41 buffers (more than one step takes) with empty ones between them.
  std::vector<unsigned char> got(data.size());
  std::vector<senet::mutable_buffer> buffers;
  for (std::size_t off = 0; off < got.size(); off += 1000) {
    buffers.push_back(senet::buffer(got.data() + off, std::min<std::size_t>(1000, got.size() - off)));
    buffers.emplace_back();
  }
  auto [n] = this->run(net::async_read(b, buffers)).value();
  EXPECT_EQ(n, data.size());
  EXPECT_TRUE(got == data);
}

TYPED_TEST(async_read_test, many_steps_that_complete_inline_do_not_recurse) {
  auto pair = this->tcp_pair();
  tcp::socket& a = pair.client;
  tcp::socket& b = pair.server;
  // 64 KiB already waiting, read through one-byte buffers: 16 bytes per step, so 4096 steps that
  // all complete inside their start(). A recursive loop would nest 4096 deep.
  auto data = pattern(64 * 1024);
  this->send_all(a, data.data(), data.size());
  std::vector<unsigned char> got(data.size());
  std::vector<senet::mutable_buffer> buffers;
  for (auto& c : got) {
    buffers.push_back(senet::buffer(&c, 1));
  }
  std::size_t transferred = 0;
  auto [n] = this->run(net::async_read(b, buffers, transferred)).value();
  EXPECT_EQ(n, data.size());
  EXPECT_EQ(transferred, data.size());
  EXPECT_TRUE(got == data);
}

TYPED_TEST(async_read_test, end_of_stream_reports_eof_and_the_partial_count) {
  auto pair = this->tcp_pair();
  tcp::socket& a = pair.client;
  tcp::socket& b = pair.server;
  auto data = pattern(10);
  this->send_all(a, data.data(), data.size());
  a.shutdown(tcp::socket::shutdown_send);
  std::vector<unsigned char> got(20);
  std::size_t transferred = 99;
  try {
    this->run(net::async_read(b, senet::buffer(got), transferred));
    ADD_FAILURE() << "no error";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), senet::error::eof);
  }
  EXPECT_EQ(transferred, 10U);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), got.begin()));
}

TYPED_TEST(async_read_test, connection_reset_is_an_error) {
  auto pair = this->tcp_pair();
  tcp::socket& a = pair.client;
  tcp::socket& b = pair.server;
  // `a` is used once where it now lives (the test backend learns how a socket it knows was closed
  // when the socket is released; one that was only moved since its last operation is noticed
  // closed later, from its peer, when SO_LINGER can no longer be read: that looks like an orderly
  // close).
  char one = 'r';
  this->send_all(a, &one, 1);
  std::array<char, 8> got{};
  auto [first] = this->run(net::async_read(b, senet::buffer(got.data(), 1))).value();
  EXPECT_EQ(first, 1U);
  // Closing with a zero linger time resets the connection.
  a.set_option(tcp::socket::linger{true, 0});
  a.close();
  auto r = this->run(net::async_read(b, senet::buffer(got)) |
                     ex::then([](std::size_t) noexcept { return std::error_code{}; }) |
                     ex::upon_error([](std::error_code ec) noexcept { return ec; }));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), std::errc::connection_reset);
}

TYPED_TEST(async_read_test, empty_buffers_complete_at_once_with_zero) {
  tcp::socket unconnected(tcp::v4());
  std::vector<senet::mutable_buffer> none;
  auto [n] = this->run(net::async_read(unconnected, none)).value();
  EXPECT_EQ(n, 0U);
  auto [m] = this->run(net::async_read(unconnected, senet::mutable_buffer())).value();
  EXPECT_EQ(m, 0U);
}

TYPED_TEST(async_read_test, stop_request_cancels_and_keeps_the_partial_count) {
  auto pair = this->tcp_pair();
  tcp::socket& a = pair.client;
  tcp::socket& b = pair.server;
  auto data = pattern(5);
  this->send_all(a, data.data(), data.size());
  std::array<unsigned char, 10> got{};
  std::size_t transferred = 0;
  // when_any stops the read once it has the 5 bytes and waits for more: a 1 ms tick looks at its
  // progress (on the test backend virtual time moves only when nothing else can happen). However
  // slow the machine, the stop comes after the 5 bytes; the read then completes set_stopped.
  int ticks = 0;
  auto progressed = ex::repeat_effect_until(net::async_wait_for(1ms) | ex::then([&]() noexcept {
                                              ++ticks;
                                              return transferred >= 5 || ticks == 10000;
                                            }));
  auto r = this->run(ex::when_any(net::async_read(b, senet::buffer(got), transferred) |
                                      ex::then([](std::size_t) noexcept { return false; }),
                                  std::move(progressed) | ex::then([]() noexcept { return true; }) |
                                      // stdexec's loop may fail with an exception_ptr (it does not here)
                                      ex::upon_error([](std::exception_ptr) noexcept { return true; })));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(std::get<0>(*r)) << "the read completed although only 5 of its 10 bytes were sent";
  ASSERT_EQ(transferred, 5U) << "no progress after " << ticks << " ticks of 1 ms";
  EXPECT_TRUE(std::equal(data.begin(), data.end(), got.begin()));
  // The socket is still usable: the rest arrives and is read.
  auto more = pattern(5, 9);
  this->send_all(a, more.data(), more.size());
  std::array<unsigned char, 5> rest{};
  auto [n] = this->run(net::async_read(b, senet::buffer(rest))).value();
  EXPECT_EQ(n, 5U);
  EXPECT_TRUE(std::equal(rest.begin(), rest.end(), more.begin()));
}

TYPED_TEST(async_read_test, with_timeout) {
  auto pair = this->tcp_pair();
  tcp::socket& a = pair.client;
  tcp::socket& b = pair.server;
  std::array<char, 4> got{};
  try {
    this->run(net::timeout(net::async_read(b, senet::buffer(got)), 5ms));
    ADD_FAILURE() << "no timeout";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::timed_out);
  }
  this->send_all(a, "abcd", 4);
  auto [n] = this->run(net::timeout(net::async_read(b, senet::buffer(got)), 1h)).value();
  EXPECT_EQ(n, 4U);
}

TYPED_TEST(async_read_test, with_an_explicit_scheduler) {
  auto& ctx = this->ctx();
  auto pair = this->tcp_pair();
  tcp::socket& a = pair.client;
  tcp::socket& b = pair.server;
  this->send_all(a, "xyz", 3);
  std::array<char, 3> got{};
  auto [n] = this->run(net::async_read(ctx.get_scheduler(), b, senet::buffer(got))).value();
  EXPECT_EQ(n, 3U);
  EXPECT_EQ(std::string(got.data(), 3), "xyz");
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
// scheduler, and the read still runs on `ctx` (with stdexec too, whose starts_on does not pass
// its scheduler to the child as get_scheduler).
TYPED_TEST(async_read_test, with_an_explicit_scheduler_under_sync_wait) {
  auto& ctx = this->ctx();
  auto pair = this->tcp_pair();
  this->send_all(pair.client, "uvwxyz", 6);  // there already: the read cannot wait forever
  std::array<char, 3> first{};
  std::array<char, 3> second{};
  std::size_t transferred = 0;
  std::thread::id completed_on{};
  context_thread runner(ctx);
  auto r = ex::sync_wait(net::async_read(ctx.get_scheduler(), pair.server, senet::buffer(first)) |
                         ex::then([&](std::size_t n) {
                           completed_on = std::this_thread::get_id();
                           return n;
                         }));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 3U);
  EXPECT_EQ(std::string(first.data(), 3), "uvw");
  EXPECT_NE(completed_on, std::this_thread::get_id()) << "completes on the context's thread";
  auto r2 =
      ex::sync_wait(net::async_read(ctx.get_scheduler(), pair.server, senet::buffer(second), transferred));
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(transferred, 3U);
  EXPECT_EQ(std::string(second.data(), 3), "xyz");
}

TYPED_TEST(async_read_test, no_allocation_per_operation) {
  auto pair = this->tcp_pair();
  tcp::socket& a = pair.client;
  tcp::socket& b = pair.server;
  std::array<unsigned char, 64> out{};
  std::array<unsigned char, 64> in{};
  auto round_trip = [&] {
    return ex::when_all(net::async_write(a, senet::buffer(out)), net::async_read(b, senet::buffer(in)));
  };
  // Warm up: the first wait registers the descriptors with the context.
  for (int i = 0; i < 4; ++i) {
    this->run(round_trip());
  }
  senet::test::allocation_scope scope;
  for (int i = 0; i < 100; ++i) {
    this->run(round_trip());
  }
  auto n = scope.count();
  EXPECT_EQ(n, 0U);
}

// A stream that is not a socket (it customises async_read_some with a member): async_read runs
// its steps as senders, one per step. Each step delivers at most `step` bytes of `source`.
struct trickle_stream {
  std::string source;
  std::size_t step;
  std::size_t offset = 0;
  int calls = 0;

  auto async_read_some(std::span<const senet::mutable_buffer> buffers) {
    ++calls;
    std::size_t n =
        senet::buffer_copy(buffers, senet::buffer(source.data() + offset, source.size() - offset), step);
    offset += n;
    return ex::just(n);
  }
};

TEST(async_read_generic, runs_one_step_sender_per_partial_read_and_reports_progress) {
  trickle_stream stream{"abcdefghij", 3};
  std::array<char, 4> first{};
  std::array<char, 6> second{};
  std::array<senet::mutable_buffer, 2> buffers{senet::buffer(first), senet::buffer(second)};
  std::size_t transferred = 0;
  auto r = ex::sync_wait(net::async_read(stream, buffers, transferred));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 10U);
  EXPECT_EQ(transferred, 10U);
  EXPECT_EQ(stream.calls, 4);
  EXPECT_EQ(std::string(first.data(), first.size()) + std::string(second.data(), second.size()),
            "abcdefghij");
}

TEST(async_read_generic, with_an_explicit_scheduler_under_sync_wait) {
  senet::io::io_context ctx{senet::io::epoll};
  trickle_stream stream{"abcdef", 4};
  std::array<char, 6> in{};
  std::thread::id started_on{};
  context_thread runner(ctx);
  auto r = ex::sync_wait(net::async_read(ctx.get_scheduler(), stream, senet::buffer(in)) |
                         ex::then([&](std::size_t n) {
                           started_on = std::this_thread::get_id();
                           return n;
                         }));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 6U);
  EXPECT_EQ(std::string(in.data(), in.size()), "abcdef");
  EXPECT_NE(started_on, std::this_thread::get_id()) << "the steps ran on the context's thread";
}

TEST(async_read_generic, a_stream_that_ends_first_is_eof_with_the_count_so_far) {
  trickle_stream stream{"abc", 2};
  std::array<char, 8> in{};
  std::size_t transferred = 0;
  std::error_code ec;
  auto r = ex::sync_wait(net::async_read(stream, senet::buffer(in), transferred) |
                         ex::upon_error([&](std::error_code e) {
                           ec = e;
                           return std::size_t{0};
                         }));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(ec, make_error_code(senet::error::eof));
  EXPECT_EQ(transferred, 3U);
}

}  // namespace
