// SPDX-License-Identifier: BSL-1.0
#include <senet/net/buffer_pool.hpp>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/pooled_buffer.hpp>
#include <senet/net/sockets.hpp>
#include <senet/net/timeout.hpp>

#include <support/allocation_counter.hpp>
#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>
#include <support/run.hpp>

#include "../../bench/pool_echo_session.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

std::string text_of(const net::pooled_buffer& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Sends `data` on `sock` with the synchronous call (blocking sockets are not needed: loopback
// takes a few KiB at once).
void send_now(ip::tcp::socket& sock, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ::ssize_t n = ::send(sock.native_handle(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    ASSERT_GT(n, 0);
    sent += static_cast<std::size_t>(n);
  }
}

/** A pooled receive started by hand, whose completion is kept for the test to look at. */
class pending_receive {
 public:
  pending_receive(io::io_context& ctx, ip::tcp::socket& sock, net::buffer_pool& pool)
      : op_(ex::connect(net::async_receive(ctx.get_scheduler(), sock, pool), receiver{this})) {
    ex::start(op_);
  }
  pending_receive(const pending_receive&) = delete;
  pending_receive& operator=(const pending_receive&) = delete;

  [[nodiscard]] bool done() const noexcept { return completions_ != 0; }
  [[nodiscard]] int completions() const noexcept { return completions_; }
  std::optional<net::pooled_buffer> value;
  std::error_code error;
  bool stopped = false;

  void request_stop() { stop_.request_stop(); }

 private:
  struct receiver {
    using receiver_concept = ex::receiver_t;
    pending_receive* self_;
    void set_value(net::pooled_buffer b) && noexcept {
      self_->value.emplace(std::move(b));
      ++self_->completions_;
    }
    void set_error(std::error_code ec) && noexcept {
      self_->error = ec;
      ++self_->completions_;
    }
    void set_stopped() && noexcept {
      self_->stopped = true;
      ++self_->completions_;
    }
    struct env {
      ex::inplace_stop_token token;
      [[nodiscard]] ex::inplace_stop_token query(ex::get_stop_token_t) const noexcept { return token; }
    };
    // Declared return type: the operation state's type is formed while pending_receive is incomplete.
    [[nodiscard]] env get_env() const noexcept;
  };

  int completions_ = 0;
  ex::inplace_stop_source stop_;
  ex::connect_result_t<decltype(net::async_receive(std::declval<io::io_context&>().get_scheduler(),
                                                   std::declval<ip::tcp::socket&>(),
                                                   std::declval<net::buffer_pool&>())),
                       receiver>
      op_;
};

pending_receive::receiver::env pending_receive::receiver::get_env() const noexcept {
  return {self_->stop_.get_token()};
}

// Turns `ctx` until `done()`, within a generous bound.
template <class Pred>
bool turn(io::io_context& ctx, Pred done) {
  auto until = std::chrono::steady_clock::now() + 10s;
  while (!done() && std::chrono::steady_clock::now() < until) {
    ctx.run_for(5ms);
    ctx.restart();
  }
  return done();
}

// Lets the context take in whatever the kernel has for it. A standing receive is no work that
// keeps a run call going (an idle socket must not), so a work guard does.
void settle(io::io_context& ctx) {
  io::io_context::work_guard guard(ctx);
  for (int i = 0; i < 5; ++i) {
    ctx.run_for(2ms);
    ctx.restart();
  }
}

// Whether the running kernel consumes provided buffers incrementally (IOU_PBUF_RING_INC, 6.12).
bool kernel_has_incremental_buffers() {
  ::utsname u{};
  int major = 0;
  int minor = 0;
  if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) {
    return false;
  }
  return major > 6 || (major == 6 && minor >= 12);
}

template <class Backend>
class buffer_pool_test : public senet::test::backend_fixture<Backend> {
 protected:
  // Receives on `sock` into `pool` until `n` bytes came; returns them.
  std::string receive_bytes(ip::tcp::socket& sock, net::buffer_pool& pool, std::size_t n) {
    std::string got;
    while (got.size() < n) {
      net::pooled_buffer b = this->value_of(net::async_receive(sock, pool));
      if (b.empty()) {
        ADD_FAILURE() << "end of stream after " << got.size() << " bytes";
        break;
      }
      got += text_of(b);
    }
    return got;
  }
};

TYPED_TEST_SUITE(buffer_pool_test, senet::test::kernel_backends, senet::test::backend_names);

std::string pattern(std::size_t n, std::size_t seed = 0) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  }
  return s;
}

TYPED_TEST(buffer_pool_test, receives_into_a_pool_buffer_that_goes_back_on_destruction) {
  net::buffer_pool pool(this->ctx(), {.buffer_size = 256, .buffer_count = 8});
  EXPECT_EQ(256u, pool.buffer_size());
  EXPECT_EQ(8u, pool.buffer_count());
  EXPECT_EQ(TypeParam::kind == io::backend_kind::uring, pool.kernel_ring());
  EXPECT_EQ(TypeParam::kind == io::backend_kind::uring && kernel_has_incremental_buffers(),
            pool.incremental());
  auto c = this->tcp_pair();
  send_now(c.client, "hello");
  {
    net::pooled_buffer b = this->value_of(net::async_receive(c.server, pool));
    EXPECT_EQ("hello", text_of(b));
    EXPECT_EQ(1u, pool.in_use());
  }
  EXPECT_EQ(0u, pool.in_use());
}

TYPED_TEST(buffer_pool_test, an_idle_connection_holds_no_buffer) {
  net::buffer_pool pool(this->ctx(), {.buffer_size = 256, .buffer_count = 4});
  std::vector<senet::test::tcp_connection> conns;
  conns.reserve(8);  // a moved socket would give up its registration
  std::vector<std::unique_ptr<pending_receive>> receives;
  for (int i = 0; i < 8; ++i) {
    conns.push_back(this->tcp_pair());
    receives.push_back(std::make_unique<pending_receive>(this->ctx(), conns.back().server, pool));
  }
  settle(this->ctx());
  // Eight sockets wait with their standing receives armed, on a pool of four buffers.
  EXPECT_EQ(0u, pool.in_use());
  for (auto& r : receives) {
    EXPECT_FALSE(r->done());
  }
  send_now(conns[5].client, "five");
  ASSERT_TRUE(turn(this->ctx(), [&] { return receives[5]->done(); }));
  ASSERT_TRUE(receives[5]->value);
  EXPECT_EQ("five", text_of(*receives[5]->value));
  EXPECT_EQ(1u, pool.in_use());
  receives[5]->value.reset();
  EXPECT_EQ(0u, pool.in_use());
  for (auto& c : conns) {
    c.server.close();
  }
  settle(this->ctx());
  for (std::size_t i = 0; i < receives.size(); ++i) {
    EXPECT_EQ(1, receives[i]->completions()) << i;
    if (i != 5) {
      EXPECT_EQ(make_error_code(senet::error::operation_aborted), receives[i]->error) << i;
    }
  }
}

TYPED_TEST(buffer_pool_test, data_arriving_between_receives_is_queued_in_order) {
  net::buffer_pool pool(this->ctx(), {.buffer_size = 64, .buffer_count = 64});
  auto c = this->tcp_pair();
  send_now(c.client, "first");
  EXPECT_EQ("first", text_of(this->value_of(net::async_receive(c.server, pool))));
  // Nobody receives now; the standing receive (io_uring) or the next edge (epoll) queues it all.
  std::string expected;
  for (int i = 0; i < 20; ++i) {
    std::string part = pattern(10 + static_cast<std::size_t>(i), static_cast<std::size_t>(i));
    expected += part;
    send_now(c.client, part);
    settle(this->ctx());
  }
  EXPECT_EQ(expected, this->receive_bytes(c.server, pool, expected.size()));
  EXPECT_EQ(0u, pool.in_use());
}

TYPED_TEST(buffer_pool_test, back_to_back_receives_take_one_large_write_in_order) {
  net::buffer_pool pool(this->ctx(), {.buffer_size = 100, .buffer_count = 128});
  auto c = this->tcp_pair();
  std::string data = pattern(9000, 3);
  send_now(c.client, data);
  EXPECT_EQ(data, this->receive_bytes(c.server, pool, data.size()));
}

TYPED_TEST(buffer_pool_test, receives_interleaved_with_sends_echo_every_byte) {
  net::buffer_pool pool(this->ctx(), {.buffer_size = 32, .buffer_count = 16});
  auto c = this->tcp_pair();
  std::string all;
  std::string echoed;
  for (int round = 0; round < 50; ++round) {
    std::string part = pattern(5 + static_cast<std::size_t>(round % 40), static_cast<std::size_t>(round));
    all += part;
    send_now(c.client, part);
    if (round % 3 == 0) {
      continue;  // let two or three messages pile up between receives
    }
    while (echoed.size() < all.size()) {
      net::pooled_buffer b = this->value_of(net::async_receive(c.server, pool));
      ASSERT_FALSE(b.empty());
      std::size_t n = this->value_of(net::async_write(c.server, b.buffer()));
      EXPECT_EQ(b.size(), n);
      echoed += text_of(b);
    }
  }
  EXPECT_EQ(all, echoed);
  std::string back(all.size(), '\0');
  std::size_t got = 0;
  while (got < back.size()) {
    got += this->value_of(net::async_receive(c.client, buffer(back.data() + got, back.size() - got)));
  }
  EXPECT_EQ(all, back);
}

TYPED_TEST(buffer_pool_test, end_of_stream_is_an_empty_buffer_after_the_data_every_time) {
  net::buffer_pool pool(this->ctx(), {.buffer_size = 64, .buffer_count = 4});
  auto c = this->tcp_pair();
  send_now(c.client, "last words");
  c.client.shutdown(net::socket_base::shutdown_send);
  EXPECT_EQ("last words", text_of(this->value_of(net::async_receive(c.server, pool))));
  net::pooled_buffer end = this->value_of(net::async_receive(c.server, pool));
  EXPECT_TRUE(end.empty());
  EXPECT_FALSE(end.holds_buffer());
  EXPECT_TRUE(this->value_of(net::async_receive(c.server, pool)).empty());
}

// The peer's last bytes and its FIN (or a reset) reach the socket together, in one readiness edge,
// while a receive waits: the receive gets the bytes, and the end (an empty buffer, or the error) is
// not lost: the next receive has it, without any further edge from the kernel.
TYPED_TEST(buffer_pool_test, end_of_stream_that_comes_with_the_last_bytes_while_a_receive_waits) {
  for (bool reset : {false, true}) {
    SCOPED_TRACE(reset ? "reset" : "end of stream");
    net::buffer_pool pool(this->ctx(), {.buffer_size = 64, .buffer_count = 4});
    auto c = this->tcp_pair();
    pending_receive first(this->ctx(), c.server, pool);
    settle(this->ctx());  // the standing receive is armed and found nothing
    ASSERT_FALSE(first.done());
    send_now(c.client, "last words");
    if (reset) {
      c.client.set_option(net::socket_base::linger(true, 0));
      c.client.close();
    } else {
      c.client.shutdown(net::socket_base::shutdown_send);
    }
    ASSERT_TRUE(turn(this->ctx(), [&] { return first.done(); }));
    ASSERT_TRUE(first.value);
    EXPECT_EQ("last words", text_of(*first.value));
    first.value.reset();
    for (int i = 0; i < 2; ++i) {
      pending_receive next(this->ctx(), c.server, pool);
      if (!turn(this->ctx(), [&] { return next.done(); })) {
        ADD_FAILURE() << "receive " << i << " after the data never completed";
        next.request_stop();
        turn(this->ctx(), [&] { return next.done(); });
        break;
      }
      EXPECT_EQ(1, next.completions());
      if (reset) {
        EXPECT_EQ(next.error, std::errc::connection_reset) << next.error.message();
      } else {
        ASSERT_TRUE(next.value);
        EXPECT_TRUE(next.value->empty());
      }
    }
    EXPECT_EQ(0U, pool.in_use());
  }
}

TYPED_TEST(buffer_pool_test, a_dry_pool_stops_receiving_and_goes_on_when_a_buffer_comes_back) {
  net::buffer_pool pool(this->ctx(), {.buffer_size = 16, .buffer_count = 2, .socket_watermark = 1 << 20});
  auto c = this->tcp_pair();
  std::string data = pattern(64, 9);
  send_now(c.client, data);
  std::vector<net::pooled_buffer> held;
  std::string got;
  for (int i = 0; i < 2; ++i) {
    held.push_back(this->value_of(net::async_receive(c.server, pool)));
    got += text_of(held.back());
  }
  EXPECT_EQ(2u, pool.in_use());
  // Every buffer is held: the next receive waits (the standing receive ran out of buffers).
  pending_receive r(this->ctx(), c.server, pool);
  settle(this->ctx());
  EXPECT_FALSE(r.done());
  held.erase(held.begin());  // one buffer back: receiving goes on, with no timer involved
  ASSERT_TRUE(turn(this->ctx(), [&] { return r.done(); }));
  ASSERT_TRUE(r.value);
  got += text_of(*r.value);
  r.value.reset();
  held.clear();
  got += this->receive_bytes(c.server, pool, data.size() - got.size());
  EXPECT_EQ(data, got);
}

TYPED_TEST(buffer_pool_test, many_small_messages_share_a_few_large_buffers_with_incremental_consumption) {
  net::buffer_pool pool(this->ctx(), {.buffer_size = 4096, .buffer_count = 2, .socket_watermark = 1 << 20});
  if (!pool.incremental()) {
    // Each message would take a whole buffer: two buffers hold two messages.
    EXPECT_FALSE(TypeParam::kind == io::backend_kind::uring && kernel_has_incremental_buffers());
    GTEST_SKIP() << "no incremental buffer consumption here";
  }
  auto a = this->tcp_pair();
  auto b = this->tcp_pair();
  // 120 messages, two sockets in turn, all held at once: far more messages than buffers.
  std::vector<std::string> sent;
  std::vector<net::pooled_buffer> held;
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < 120; ++i) {
    sent.push_back(std::to_string(i) + ":" + pattern(5 + i % 17, i));
    bytes += sent.back().size();
    auto& c = i % 2 == 0 ? a : b;
    send_now(c.client, sent.back());
    held.push_back(this->value_of(net::async_receive(c.server, pool)));
  }
  ASSERT_LT(bytes, 4096u);
  // One buffer holds them all, one after the other in arrival order, whichever socket they came on.
  EXPECT_EQ(1u, pool.in_use());
  for (std::size_t i = 0; i < held.size(); ++i) {
    EXPECT_EQ(sent[i], text_of(held[i])) << i;
    if (i > 0) {
      EXPECT_EQ(held[i - 1].data() + held[i - 1].size(), held[i].data()) << i;
    }
  }
  held.clear();
  EXPECT_EQ(0u, pool.in_use());
  // Both sockets still receive, into what is left of the buffer.
  send_now(a.client, "after");
  EXPECT_EQ("after", text_of(this->value_of(net::async_receive(a.server, pool))));
}

TYPED_TEST(buffer_pool_test,
           an_incremental_buffer_returns_after_its_last_piece_and_the_kernels_last_completion) {
  net::buffer_pool pool(this->ctx(), {.buffer_size = 64, .buffer_count = 2, .socket_watermark = 1 << 20});
  if (!pool.incremental()) {
    GTEST_SKIP() << "no incremental buffer consumption here";
  }
  auto c = this->tcp_pair();
  std::vector<net::pooled_buffer> first;  // pieces of buffer 0
  unsigned char* base = nullptr;
  for (std::size_t i = 0; i < 3; ++i) {
    std::string m = pattern(20, i);
    send_now(c.client, m);
    first.push_back(this->value_of(net::async_receive(c.server, pool)));
    EXPECT_EQ(m, text_of(first.back()));
    if (i == 0) {
      // Its only piece back while the kernel still fills the buffer: no buffer is held, and the
      // buffer stays in the kernel's use (not added to the ring a second time).
      base = first[0].data();
      first[0].reset();
      EXPECT_EQ(0u, pool.in_use());
    }
  }
  EXPECT_EQ(base + 20, first[1].data());
  EXPECT_EQ(base + 40, first[2].data());
  EXPECT_EQ(1u, pool.in_use());
  // 30 bytes: the 4 left in buffer 0 (the kernel's last completion for it), the rest in buffer 1.
  std::string m30 = pattern(30, 7);
  send_now(c.client, m30);
  net::pooled_buffer tail = this->value_of(net::async_receive(c.server, pool));
  ASSERT_EQ(4u, tail.size());
  EXPECT_EQ(base + 60, tail.data());
  std::vector<net::pooled_buffer> second;  // pieces of buffer 1
  std::string got = text_of(tail);
  while (got.size() < m30.size()) {
    second.push_back(this->value_of(net::async_receive(c.server, pool)));
    ASSERT_FALSE(second.back().empty());
    got += text_of(second.back());
  }
  EXPECT_EQ(m30, got);
  // Buffer 1's other 38 bytes.
  std::string m38 = pattern(38, 8);
  send_now(c.client, m38);
  got.clear();
  while (got.size() < m38.size()) {
    second.push_back(this->value_of(net::async_receive(c.server, pool)));
    ASSERT_FALSE(second.back().empty());
    got += text_of(second.back());
  }
  EXPECT_EQ(m38, got);
  EXPECT_EQ(2u, pool.in_use());
  // Both buffers are full and held: the ring is empty, and a receive waits.
  // Buffer 0's pieces back out of order: the newest first, the kernel is done, one piece still out.
  tail.reset();
  first[2].reset();
  pending_receive r(this->ctx(), c.server, pool);
  send_now(c.client, "late");
  settle(this->ctx());
  EXPECT_FALSE(r.done());
  EXPECT_EQ(2u, pool.in_use());
  // Buffer 0's last piece: back into the ring, from its start, and receiving goes on.
  first.clear();
  ASSERT_TRUE(turn(this->ctx(), [&] { return r.done(); }));
  ASSERT_TRUE(r.value) << r.error.message();
  EXPECT_EQ("late", text_of(*r.value));
  EXPECT_EQ(base, r.value->data());
  r.value.reset();
  second.clear();
  EXPECT_EQ(0u, pool.in_use());
}

TYPED_TEST(buffer_pool_test, a_socket_holds_at_most_about_its_watermark) {
  net::buffer_pool pool(this->ctx(), {.buffer_size = 64, .buffer_count = 256, .socket_watermark = 512});
  auto c = this->tcp_pair();
  pending_receive first(this->ctx(), c.server, pool);  // arms the standing receive
  // Pieces of 256 bytes (4 buffers), each taken in by the loop before the next is sent. (What the
  // kernel receives before the pause takes effect comes on top of the watermark: on io_uring a
  // send from this very thread runs the standing receive's task work at once.)
  std::string data = pattern(30 * 256, 5);
  for (std::size_t offset = 0; offset < data.size(); offset += 256) {
    send_now(c.client, data.substr(offset, 256));
    settle(this->ctx());
  }
  ASSERT_TRUE(turn(this->ctx(), [&] { return first.done(); }));
  ASSERT_TRUE(first.value) << first.error.message();
  std::string got = text_of(*first.value);
  first.value.reset();
  // 512 bytes are 8 buffers; one piece more may have come in before the pause.
  EXPECT_LE(pool.in_use(), 8u + 4u);
  EXPECT_GE(pool.in_use(), 1u);
  got += this->receive_bytes(c.server, pool, data.size() - got.size());
  EXPECT_EQ(data, got);
}

TYPED_TEST(buffer_pool_test, closing_the_socket_while_its_standing_receive_is_armed_releases_it_once) {
  net::buffer_pool pool(this->ctx(), {.buffer_size = 64, .buffer_count = 8});
  auto c = this->tcp_pair();
  send_now(c.client, "queued");
  pending_receive first(this->ctx(), c.server, pool);
  ASSERT_TRUE(turn(this->ctx(), [&] { return first.done(); }));
  send_now(c.client, "left behind");
  settle(this->ctx());
  pending_receive waiting(this->ctx(), c.server, pool);
  pending_receive second(this->ctx(), c.server, pool);
  settle(this->ctx());
  // "left behind" went to `waiting`; `second` waits with the standing receive armed.
  ASSERT_TRUE(waiting.done());
  EXPECT_FALSE(second.done());
  c.server.close();
  settle(this->ctx());
  EXPECT_EQ(1, second.completions());
  EXPECT_EQ(make_error_code(senet::error::operation_aborted), second.error);
  first.value.reset();
  waiting.value.reset();
  EXPECT_EQ(0u, pool.in_use());
  // The client's later bytes go nowhere, and nothing completes twice.
  send_now(c.client, "after close");
  settle(this->ctx());
  EXPECT_EQ(1, second.completions());
  EXPECT_EQ(0u, pool.in_use());
}

TYPED_TEST(buffer_pool_test, closing_and_stopping_from_other_threads_complete_each_receive_once) {
  net::buffer_pool pool(this->ctx(), {.buffer_size = 64, .buffer_count = 8});
  for (int i = 0; i < 20; ++i) {
    auto c = this->tcp_pair();
    auto d = this->tcp_pair();
    pending_receive closed(this->ctx(), c.server, pool);
    pending_receive stopped(this->ctx(), d.server, pool);
    settle(this->ctx());
    std::thread other([&] {
      stopped.request_stop();
      c.server.close();
    });
    EXPECT_TRUE(turn(this->ctx(), [&] { return closed.done() && stopped.done(); }));
    other.join();
    settle(this->ctx());
    EXPECT_EQ(1, closed.completions());
    EXPECT_EQ(make_error_code(senet::error::operation_aborted), closed.error);
    EXPECT_EQ(1, stopped.completions());
    EXPECT_TRUE(stopped.stopped);
  }
  EXPECT_EQ(0u, pool.in_use());
}

TYPED_TEST(buffer_pool_test, a_stopped_receive_loses_no_data) {
  net::buffer_pool pool(this->ctx(), {.buffer_size = 64, .buffer_count = 8});
  auto c = this->tcp_pair();
  {
    pending_receive r(this->ctx(), c.server, pool);
    settle(this->ctx());
    r.request_stop();
    ASSERT_TRUE(turn(this->ctx(), [&] { return r.done(); }));
    EXPECT_TRUE(r.stopped);
  }
  send_now(c.client, "kept");
  settle(this->ctx());
  EXPECT_EQ("kept", text_of(this->value_of(net::async_receive(c.server, pool))));
}

TYPED_TEST(buffer_pool_test, buffers_outlive_the_pool_object) {
  auto c = this->tcp_pair();
  std::optional<net::buffer_pool> pool(std::in_place, this->ctx(),
                                       net::buffer_pool_options{.buffer_size = 64, .buffer_count = 4});
  send_now(c.client, "outlives");
  net::pooled_buffer b = this->value_of(net::async_receive(c.server, *pool));
  pool.reset();
  // The pool's memory stays until its last buffer comes back.
  EXPECT_EQ("outlives", text_of(b));
  b.reset();
  EXPECT_TRUE(b.empty());
}

TYPED_TEST(buffer_pool_test, receives_waiting_when_the_pool_goes_fail_with_no_buffer_space) {
  auto c = this->tcp_pair();
  std::optional<net::buffer_pool> pool(std::in_place, this->ctx(),
                                       net::buffer_pool_options{.buffer_size = 64, .buffer_count = 4});
  pending_receive r(this->ctx(), c.server, *pool);
  settle(this->ctx());
  pool.reset();
  ASSERT_TRUE(turn(this->ctx(), [&] { return r.done(); }));
  EXPECT_EQ(std::errc::no_buffer_space, r.error) << r.error.message();
}

TYPED_TEST(buffer_pool_test, a_receive_started_just_before_the_pool_goes_fails_with_no_buffer_space) {
  // Started on a thread that does not run the context, the receive reaches the loop only when it
  // runs, after the pool was destroyed: it fails like a receive that waited, and the pool's core is
  // not used after it is freed.
  auto c = this->tcp_pair();
  std::optional<net::buffer_pool> pool(std::in_place, this->ctx(),
                                       net::buffer_pool_options{.buffer_size = 64, .buffer_count = 4});
  pending_receive r(this->ctx(), c.server, *pool);
  pool.reset();
  ASSERT_TRUE(turn(this->ctx(), [&] { return r.done(); }));
  EXPECT_EQ(std::errc::no_buffer_space, r.error) << r.error.message();
}

TYPED_TEST(buffer_pool_test, a_receive_started_after_the_pool_went_takes_what_was_queued_first) {
  // buffer_pool's documentation: destroying the pool makes later receives fail with
  // no_buffer_space "once the data already queued for them is taken".
  auto c = this->tcp_pair();
  std::optional<net::buffer_pool> pool(std::in_place, this->ctx(),
                                       net::buffer_pool_options{.buffer_size = 64, .buffer_count = 4});
  send_now(c.client, "first");
  EXPECT_EQ("first", text_of(this->value_of(net::async_receive(c.server, *pool))));
  send_now(c.client, "queued");
  settle(this->ctx());  // taken by the standing receive (io_uring) or the next edge (epoll)
  auto later = net::async_receive(c.server, *pool);
  auto last = net::async_receive(c.server, *pool);
  pool.reset();
  EXPECT_EQ("queued", text_of(this->value_of(std::move(later))));
  EXPECT_EQ(std::errc::no_buffer_space, this->error_of(std::move(last)));
}

TYPED_TEST(buffer_pool_test, a_receive_with_a_time_limit_times_out_when_no_data_comes) {
  // net::timeout of a pooled receive, on every backend. The core serves the receive from the
  // socket's standing receive and never gives its record to the backend, so no limit the backend
  // enforces (io_uring's linked timeout) could fire for it: a timer must time it. Today that is the
  // generic net::timeout's (the pooled receive has no `.timeout` of its own); a test that an
  // accept the standing accept serves times out (async_accept_test) guards the other such case.
  net::buffer_pool pool(this->ctx(), {.buffer_size = 64, .buffer_count = 4});
  auto c = this->tcp_pair();
  // The first receive arms the standing receive; the second finds it armed.
  for (int i = 0; i < 2; ++i) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(std::errc::timed_out, this->error_of(net::timeout(net::async_receive(c.server, pool), 20ms)));
    EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  }
  EXPECT_EQ(std::errc::timed_out, this->error_of(net::timeout(net::async_receive(c.server, pool), 0ms)));
  EXPECT_EQ(0u, pool.in_use());
  // Nothing was lost: what comes now is received, with and without a limit left.
  send_now(c.client, "late");
  EXPECT_EQ("late", text_of(this->value_of(net::timeout(net::async_receive(c.server, pool), 10s))));
  send_now(c.client, "queued");
  settle(this->ctx());  // taken by the standing receive (io_uring) or the next edge (epoll)
  EXPECT_EQ("queued", text_of(this->value_of(net::timeout(net::async_receive(c.server, pool), 0ms))));
  EXPECT_EQ(0u, pool.in_use());
}

TYPED_TEST(buffer_pool_test, a_socket_receives_into_one_pool_only) {
  net::buffer_pool a(this->ctx(), {.buffer_size = 64, .buffer_count = 4});
  net::buffer_pool b(this->ctx(), {.buffer_size = 64, .buffer_count = 4});
  auto c = this->tcp_pair();
  send_now(c.client, "x");
  EXPECT_EQ("x", text_of(this->value_of(net::async_receive(c.server, a))));
  EXPECT_EQ(std::errc::invalid_argument, this->error_of(net::async_receive(c.server, b)));
}

TYPED_TEST(buffer_pool_test, bad_sizes_are_refused) {
  EXPECT_THROW(net::buffer_pool(this->ctx(), {.buffer_size = 0}), std::invalid_argument);
  EXPECT_THROW(net::buffer_pool(this->ctx(), {.buffer_size = 64, .buffer_count = 0}), std::invalid_argument);
  EXPECT_THROW(net::buffer_pool(this->ctx(), {.buffer_size = 64, .buffer_count = 40000}),
               std::invalid_argument);
}

TYPED_TEST(buffer_pool_test, a_steady_receive_and_send_allocate_nothing) {
  net::buffer_pool pool(this->ctx(), {.buffer_size = 64, .buffer_count = 8});
  auto c = this->tcp_pair();
  auto round = [&] {
    send_now(c.client, "ping");
    net::pooled_buffer b = this->value_of(net::async_receive(c.server, pool));
    this->value_of(net::async_send(c.server, b.buffer()));
    char back[8];
    this->value_of(net::async_receive(c.client, buffer(back, sizeof back)));
  };
  round();  // the socket's standing state is allocated once
  senet::test::allocation_scope scope;
  for (int i = 0; i < 20; ++i) {
    round();
  }
  auto n = scope.count();
  EXPECT_EQ(0u, n);
}

struct session_env {
  io::io_context::scheduler_type sch;
  [[nodiscard]] auto query(ex::get_scheduler_t) const noexcept { return sch; }
};

// Issue 10's memory budget, 1 KB of server memory per idle connection of the buffer-pool echo
// server (measured as resident size by bench/run), held here as heap for that server's own
// session (bench/pool_echo_session.hpp): what the server side of a
// connection that made one round trip and waits keeps allocated, each allocation counted as
// glibc's malloc holds it (8 bytes of header, rounded up to 16), is at most 1,024 bytes.
// Today: the spawned session, the socket's standing-receive state and the backend's descriptor
// state, about 960 bytes. The clients are plain descriptors, so that only the server allocates.
TYPED_TEST(buffer_pool_test, an_idle_echo_connection_holds_at_most_a_kilobyte) {
  constexpr std::size_t connections = 32;
  net::buffer_pool pool(this->ctx(), {.buffer_size = 4096, .buffer_count = 64});
  ip::tcp::acceptor acceptor = senet::test::listen_tcp(ip::tcp::v4());
  ex::counting_scope scope;
  std::size_t finished = 0;
  std::vector<int> clients;
  clients.reserve(connections + 1);  // the test's own vector must not allocate while counting
  // Accepts one connection, spawns its session and makes one round trip through it.
  auto serve_one = [&] {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    clients.push_back(fd);
    ::sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(acceptor.local_endpoint().port());
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(0, ::connect(fd, reinterpret_cast<const ::sockaddr*>(&to), sizeof to));
    auto accepted = this->value_of(net::async_accept(acceptor));
    ex::spawn(bench::pool_echo_session(std::move(std::get<0>(accepted)), pool) |
                  ex::then([&]() noexcept { ++finished; }),
              scope.get_token(), session_env{this->ctx().get_scheduler()});
    ASSERT_EQ(4, ::send(fd, "ping", 4, MSG_NOSIGNAL));
    std::size_t echoed = 0;
    ASSERT_TRUE(turn(this->ctx(), [&] {
      char back[8];
      ::ssize_t n = ::recv(fd, back, sizeof back, MSG_DONTWAIT);
      echoed += n > 0 ? static_cast<std::size_t>(n) : 0;
      return echoed == 4;
    }));
  };
  serve_one();  // the acceptor's and the context's own first allocations are not a connection's
  std::size_t allocations = 0;
  std::size_t bytes = 0;
  std::size_t held = 0;
  std::size_t frees = 0;
  {
    senet::test::allocation_scope counter;
    for (std::size_t i = 0; i < connections; ++i) {
      serve_one();
    }
    allocations = counter.count();
    bytes = counter.bytes();
    held = counter.malloc_bytes();
    frees = counter.deallocations();
  }
  // Nothing allocated was freed: every block is still held.
  EXPECT_EQ(0u, frees);
  EXPECT_LE(held / connections, 1024u)
      << allocations << " allocations of " << bytes << " bytes (" << held << " in malloc's chunks), " << frees
      << " freed, for " << connections << " connections";
  std::printf("idle echo connection: %zu allocations, %zu bytes requested, %zu held by malloc\n",
              allocations / connections, bytes / connections, held / connections);
  for (int fd : clients) {
    ::close(fd);
  }
  // Each session ends at its peer's close; join() completes once all have (within the wait limit).
  this->run(scope.join());
  EXPECT_EQ(connections + 1, finished);
}

TEST(buffer_pool_test_backend, pooled_receives_are_not_supported_there) {
  if (!io::io_context::is_available(io::backend_kind::test)) {
    GTEST_SKIP() << "no test backend";
  }
  io::io_context ctx(io::backend_kind::test);
  net::buffer_pool pool(ctx, {.buffer_size = 64, .buffer_count = 4});
  EXPECT_FALSE(pool.kernel_ring());
  auto c = senet::test::tcp_pair(ctx);
  EXPECT_EQ(std::errc::operation_not_supported,
            senet::test::error_of(ctx, net::async_receive(c.server, pool)));
}

}  // namespace
