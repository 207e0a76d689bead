// SPDX-License-Identifier: BSL-1.0
// The sockets' thread-safety promises with real threads, on every backend
// (include/senet/net/basic_socket.hpp, async_receive.hpp, async_send.hpp, async_read.hpp,
// async_write.hpp, async_accept.hpp, timer.hpp): one receive and one send in flight per socket,
// started from different threads while another runs the context; operations started from several
// threads complete in each thread's start order; async_read beside one async_write on a stream;
// distinct sockets on distinct contexts on distinct threads; a timer cancelled from several threads;
// a read_some waiting in a task, stopped from another thread (its task's stop slot or its own
// callback).
// (Closing, cancelling, releasing and moving from other threads: basic_socket_threads_test.cpp.)
#include <senet/net/basic_socket.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/backend_kind.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/test_network.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/sockets.hpp>
#include <senet/net/timer.hpp>
#include <senet/net/without_stop_token.hpp>
#include <senet/task.hpp>

#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>
#include <support/thread_harness.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;
using senet::test::completion_record;
using senet::test::connect_slot;
using senet::test::context_runner;
using senet::test::eventually;
using senet::test::join_within;
using senet::test::race_budget;
using senet::test::record_receiver;
using tcp = ip::tcp;

// The byte at offset `i` of the stream in direction `dir`.
unsigned char pattern(std::size_t i, int dir) {
  return static_cast<unsigned char>((i * 7 + static_cast<std::size_t>(dir) * 101 + i / 251) & 0xff);
}

// An accepted connection's record and peer.
struct accepted {
  completion_record rec;
  tcp::endpoint peer;
};
// Records an accept's completion and the peer's endpoint (the accepted socket is closed).
struct accept_receiver {
  using receiver_concept = ex::receiver_t;
  record_receiver inner;
  accepted* a;
  [[nodiscard]] auto get_env() const noexcept { return inner.get_env(); }
  void set_value(tcp::socket, tcp::endpoint peer) && noexcept {
    a->peer = peer;
    std::move(inner).set_value();
  }
  void set_error(std::error_code ec) && noexcept { std::move(inner).set_error(ec); }
  void set_stopped() && noexcept { std::move(inner).set_stopped(); }
};

template <class Backend>
class socket_threads : public senet::test::backend_fixture<Backend> {
 protected:
  static constexpr bool test_backend = Backend::kind == io::backend_kind::test;

  // Partial transfers and backpressure on the simulated network, so that sends wait too (set
  // while nobody runs the context, as test_network requires).
  void constrain_the_test_network(std::size_t max_transfer, std::size_t send_buffer) {
    if constexpr (test_backend) {
      auto& net = io::test_network::of(this->ctx());
      net.set_max_transfer(max_transfer);
      net.set_send_buffer_limit(send_buffer);
    }
  }

  // Waits for `rec`; fails with `what` after 20 s.
  static bool wait_for(const completion_record& rec) {
    return eventually([&] { return rec.done(); });
  }

  tcp::acceptor acceptor_ = senet::test::listen_tcp(tcp::v4());
};

TYPED_TEST_SUITE(socket_threads, senet::test::all_backends, senet::test::backend_names);

// Streams `a` -> `b` and `b` -> `a` at once. On each socket one thread sends and another
// receives, one operation at a time each, while the context runs on a fifth thread: every
// completion comes on that thread, exactly once, and both byte streams arrive whole and in order.
TYPED_TEST(socket_threads, one_receive_and_one_send_per_socket_from_different_threads) {
  this->constrain_the_test_network(97, 4096);
  auto pair = senet::test::connect_pair(this->ctx(), this->acceptor_);
  auto sch = this->scheduler();
  context_runner runner(this->ctx());

  struct direction {
    tcp::socket* from;
    tcp::socket* to;
    std::atomic<std::size_t> sent{0};
    std::atomic<bool> sender_done{false};
    std::size_t received = 0;
    int sends = 0;
    int receives = 0;
    std::string send_failure;
    std::string receive_failure;
  };
  direction dirs[2];
  dirs[0].from = &pair.client;
  dirs[0].to = &pair.server;
  dirs[1].from = &pair.server;
  dirs[1].to = &pair.client;
  std::atomic<int> off_thread{0};

  auto sender = [&](int d) {
    auto& dir = dirs[d];
    std::vector<unsigned char> chunk(4096);
    race_budget budget(3000, 500ms, 0);
    std::size_t offset = 0;
    while (budget.next()) {
      std::size_t n = 1 + (static_cast<std::size_t>(budget.done()) * 131) % chunk.size();
      for (std::size_t i = 0; i < n; ++i) {
        chunk[i] = pattern(offset + i, d);
      }
      completion_record rec;
      auto op = connect_slot(net::async_send(sch, *dir.from, buffer(chunk.data(), n)),
                             record_receiver{&this->ctx(), &rec});
      op->start();
      if (!this->wait_for(rec)) {
        dir.send_failure = "a send did not complete within 20 s";
        break;
      }
      off_thread += rec.thread != runner.id() ? 1 : 0;
      if (!rec.is_value() || rec.bytes == 0 || rec.bytes > n) {
        dir.send_failure = "a send failed: " + rec.ec.message();
        break;
      }
      offset += rec.bytes;
      dir.sent.store(offset);
      ++dir.sends;
    }
    dir.sender_done.store(true);
  };
  auto receiver = [&](int d) {
    auto& dir = dirs[d];
    std::vector<unsigned char> in(3000);
    for (;;) {
      if (dir.sender_done.load() && dir.received == dir.sent.load()) {
        return;
      }
      completion_record rec;
      auto op = connect_slot(net::async_receive(sch, *dir.to, buffer(in.data(), in.size())),
                             record_receiver{&this->ctx(), &rec});
      op->start();
      // The last receive may wait for bytes that never come: once the sender is done and every
      // byte arrived, it is stopped.
      if (!eventually(
              [&] { return rec.done() || (dir.sender_done.load() && dir.received == dir.sent.load()); })) {
        dir.receive_failure = "a receive did not complete within 20 s";
        rec.stop.request_stop();
      }
      if (!rec.done()) {
        rec.stop.request_stop();
      }
      if (!this->wait_for(rec)) {
        dir.receive_failure = "a stopped receive did not complete within 20 s";
        return;
      }
      off_thread += rec.thread != runner.id() ? 1 : 0;
      if (rec.is_stopped()) {
        continue;  // the loop's check ends it
      }
      if (!rec.is_value() || rec.bytes == 0) {
        dir.receive_failure = "a receive failed: " + rec.ec.message();
        return;
      }
      for (std::size_t i = 0; i < rec.bytes; ++i) {
        if (in[i] != pattern(dir.received + i, d)) {
          dir.receive_failure = "byte " + std::to_string(dir.received + i) + " is wrong";
          return;
        }
      }
      dir.received += rec.bytes;
      ++dir.receives;
    }
  };
  std::thread threads[4] = {std::thread(sender, 0), std::thread(receiver, 0), std::thread(sender, 1),
                            std::thread(receiver, 1)};
  for (auto& t : threads) {
    join_within(t, 60s, "a sending or receiving thread");
  }
  runner.finish();
  EXPECT_EQ(off_thread.load(), 0) << "completions off the context's thread";
  for (auto& dir : dirs) {
    EXPECT_EQ(dir.send_failure, "");
    EXPECT_EQ(dir.receive_failure, "");
    EXPECT_EQ(dir.received, dir.sent.load());
    EXPECT_GE(dir.sends, senet::test::minimum_iterations);
    std::printf("%d sends, %d receives, %zu bytes\n", dir.sends, dir.receives, dir.received);
  }
}

// Two threads start receives on one socket back to back (several pending at once), while the
// context runs on a third: they take the bytes in start order, so each thread's receives get
// increasing bytes. Likewise two threads' sends reach the peer in each thread's order.
TYPED_TEST(socket_threads, operations_from_two_threads_complete_in_each_threads_start_order) {
  auto pair = senet::test::connect_pair(this->ctx(), this->acceptor_);
  auto sch = this->scheduler();
  constexpr int per_thread = 40;
  context_runner runner(this->ctx());
  race_budget budget(300, 400ms, senet::test::minimum_iterations);
  while (budget.next()) {
    // Receives: thread t starts per_thread one-byte receives; bytes 0..79 arrive in one send.
    std::array<std::array<unsigned char, per_thread>, 2> got{};
    std::array<std::deque<completion_record>, 2> recs;
    using receive_slot = decltype(connect_slot(net::async_receive(sch, pair.server, buffer(&got[0][0], 1)),
                                               record_receiver{}));
    std::array<std::vector<receive_slot>, 2> receives;
    auto start_receives = [&](int t) {
      for (int i = 0; i < per_thread; ++i) {
        auto& rec = recs[t].emplace_back();
        receives[t].push_back(connect_slot(net::async_receive(sch, pair.server, buffer(&got[t][i], 1)),
                                           record_receiver{&this->ctx(), &rec}));
        receives[t].back()->start();
      }
    };
    std::thread r0(start_receives, 0);
    std::thread r1(start_receives, 1);
    join_within(r0, 30s, "a receiving thread");
    join_within(r1, 30s, "a receiving thread");
    std::array<unsigned char, 2 * per_thread> out{};
    for (std::size_t i = 0; i < out.size(); ++i) {
      out[i] = static_cast<unsigned char>(i);
    }
    ASSERT_EQ(ex::sync_wait(net::async_write(sch, pair.client, buffer(out))).has_value(), true);
    for (int t = 0; t < 2; ++t) {
      for (auto& rec : recs[t]) {
        ASSERT_TRUE(eventually([&] { return rec.done(); })) << "a receive did not complete within 20 s";
        ASSERT_TRUE(rec.is_value()) << rec.ec.message();
        ASSERT_EQ(rec.thread, runner.id());
      }
      for (int i = 1; i < per_thread; ++i) {
        ASSERT_LT(got[t][i - 1], got[t][i]) << "thread " << t << "'s receives out of start order";
      }
    }

    // Sends: thread t sends (t << 7) | i, one byte each, back to back; the peer reads all.
    std::array<std::array<unsigned char, per_thread>, 2> bytes{};
    std::array<std::deque<completion_record>, 2> sent;
    using send_slot =
        decltype(connect_slot(net::async_send(sch, pair.client, buffer(&bytes[0][0], 1)), record_receiver{}));
    std::array<std::vector<send_slot>, 2> sends;
    auto start_sends = [&](int t) {
      for (int i = 0; i < per_thread; ++i) {
        bytes[t][i] = static_cast<unsigned char>((t << 7) | i);
        auto& rec = sent[t].emplace_back();
        sends[t].push_back(connect_slot(net::async_send(sch, pair.client, buffer(&bytes[t][i], 1)),
                                        record_receiver{&this->ctx(), &rec}));
        sends[t].back()->start();
      }
    };
    std::thread s0(start_sends, 0);
    std::thread s1(start_sends, 1);
    join_within(s0, 30s, "a sending thread");
    join_within(s1, 30s, "a sending thread");
    std::array<unsigned char, 2 * per_thread> in{};
    ASSERT_EQ(ex::sync_wait(net::async_read(sch, pair.server, buffer(in))).has_value(), true);
    int next[2] = {0, 0};
    for (unsigned char b : in) {
      int t = b >> 7;
      ASSERT_EQ(b & 0x7f, next[t]) << "thread " << t << "'s sends out of start order";
      ++next[t];
    }
    for (int t = 0; t < 2; ++t) {
      for (auto& rec : sent[t]) {
        ASSERT_TRUE(eventually([&] { return rec.done(); }));
        ASSERT_EQ(rec.count.load(), 1);
        ASSERT_EQ(rec.thread, runner.id());
      }
      for (auto& rec : recs[t]) {
        ASSERT_EQ(rec.count.load(), 1);
      }
    }
  }
  runner.finish();
  SENET_EXPECT_RACED(budget, "receives and sends from two threads");
}

// async_read beside one async_write on each end of a stream, each started on its own thread while
// the context runs on a fifth: every round moves both buffers whole.
TYPED_TEST(socket_threads, async_read_beside_async_write_on_one_stream) {
  this->constrain_the_test_network(1000, 8192);
  auto pair = senet::test::connect_pair(this->ctx(), this->acceptor_);
  auto sch = this->scheduler();
  constexpr std::size_t size = 192 * 1024;
  std::vector<unsigned char> out[2];
  std::vector<unsigned char> in[2];
  for (int d = 0; d < 2; ++d) {
    out[d].resize(size);
    in[d].resize(size);
    for (std::size_t i = 0; i < size; ++i) {
      out[d][i] = pattern(i, d);
    }
  }
  tcp::socket* ends[2] = {&pair.client, &pair.server};
  context_runner runner(this->ctx());
  race_budget budget(40, 500ms, senet::test::minimum_iterations);
  while (budget.next()) {
    completion_record writes[2];
    completion_record reads[2];
    std::thread threads[4];
    for (int d = 0; d < 2; ++d) {
      std::fill(in[d].begin(), in[d].end(), 0);
      threads[2 * d] = std::thread([&, d] {
        auto op = connect_slot(net::async_write(sch, *ends[d], buffer(out[d])),
                               record_receiver{&this->ctx(), &writes[d]});
        op->start();
        (void)this->wait_for(writes[d]);
      });
      threads[2 * d + 1] = std::thread([&, d] {
        // Reads on end d what the other end writes.
        auto op = connect_slot(net::async_read(sch, *ends[d], buffer(in[1 - d])),
                               record_receiver{&this->ctx(), &reads[d]});
        op->start();
        (void)this->wait_for(reads[d]);
      });
    }
    for (auto& t : threads) {
      join_within(t, 60s, "a reading or writing thread");
    }
    for (int d = 0; d < 2; ++d) {
      ASSERT_TRUE(writes[d].done()) << "a write did not complete within 20 s";
      ASSERT_TRUE(reads[d].done()) << "a read did not complete within 20 s";
      ASSERT_TRUE(writes[d].is_value()) << writes[d].ec.message();
      ASSERT_TRUE(reads[d].is_value()) << reads[d].ec.message();
      ASSERT_EQ(writes[d].bytes, size);
      ASSERT_EQ(reads[d].bytes, size);
      ASSERT_EQ(writes[d].thread, runner.id());
      ASSERT_EQ(reads[d].thread, runner.id());
      ASSERT_TRUE(in[d] == out[d]) << "direction " << d << " corrupted";
    }
  }
  runner.finish();
  SENET_EXPECT_RACED(budget, "async_read beside async_write");
}

// Distinct sockets on distinct contexts on distinct threads: four threads, each with its own
// context (same backend) and connection, exchange messages at once; nothing crosses over.
TYPED_TEST(socket_threads, distinct_sockets_on_distinct_contexts_on_distinct_threads) {
  constexpr int threads = 4;
  std::atomic<int> failures{0};
  std::atomic<int> rounds{0};
  auto worker = [&](int id) {
    io::io_context ctx(TypeParam::kind);
    auto acceptor = senet::test::listen_tcp(tcp::v4());
    auto pair = senet::test::connect_pair(ctx, acceptor);
    race_budget budget(3000, 600ms, 0);
    std::array<unsigned char, 64> out{};
    std::array<unsigned char, 64> in{};
    auto me = std::this_thread::get_id();
    while (budget.next()) {
      for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<unsigned char>(id * 37 + budget.done() + static_cast<int>(i));
      }
      auto r =
          ctx.run_until(ex::when_all(net::async_write(pair.client, buffer(out)),
                                     net::async_read(pair.server, buffer(in)) | ex::then([me](std::size_t n) {
                                       return n * (std::this_thread::get_id() == me);
                                     })));
      if (!r || std::get<1>(*r) != out.size() || in != out) {
        failures.fetch_add(1);
        return;
      }
      rounds.fetch_add(1);
    }
    if (budget.done() < senet::test::minimum_iterations) {
      failures.fetch_add(1);
    }
  };
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i) {
    ts.emplace_back(worker, i);
  }
  for (auto& t : ts) {
    join_within(t, 60s, "a context's thread");
  }
  EXPECT_EQ(failures.load(), 0);
  std::printf("%d round trips on %d contexts\n", rounds.load(), threads);
}

// Several accepts waiting on one acceptor, started from two threads: each connection is accepted
// once, on the context's thread, and each thread's accepts take the connections in start order.
TYPED_TEST(socket_threads, accepts_from_two_threads_complete_in_each_threads_start_order) {
  auto sch = this->scheduler();
  auto ep = this->acceptor_.local_endpoint();
  constexpr int per_thread = 20;
  // Closed after the runner has finished: the test backend probes its descriptors on the
  // context's thread, which ThreadSanitizer reports against a close(2) on this one (see
  // basic_socket_threads_test.cpp). The accepted sockets close on the context's thread.
  std::deque<tcp::socket> clients;
  context_runner runner(this->ctx());
  race_budget budget(100, 400ms, senet::test::minimum_iterations);
  while (budget.next()) {
    std::array<std::deque<accepted>, 2> acc;
    using slot_type = decltype(connect_slot(net::async_accept(sch, this->acceptor_), accept_receiver{}));
    std::array<std::vector<slot_type>, 2> slots;
    auto start = [&](int t) {
      for (int i = 0; i < per_thread; ++i) {
        auto& a = acc[t].emplace_back();
        slots[t].push_back(connect_slot(net::async_accept(sch, this->acceptor_),
                                        accept_receiver{record_receiver{&this->ctx(), &a.rec}, &a}));
        slots[t].back()->start();
      }
    };
    std::thread t0(start, 0);
    std::thread t1(start, 1);
    join_within(t0, 30s, "an accepting thread");
    join_within(t1, 30s, "an accepting thread");
    // Clients connect one after the other; client k's local endpoint names it.
    std::vector<tcp::endpoint> locals;
    for (int k = 0; k < 2 * per_thread; ++k) {
      auto& c = clients.emplace_back();
      ASSERT_TRUE(ex::sync_wait(net::async_connect(sch, c, ep)).has_value());
      locals.push_back(c.local_endpoint());
    }
    for (int t = 0; t < 2; ++t) {
      int last = -1;
      for (auto& a : acc[t]) {
        ASSERT_TRUE(eventually([&] { return a.rec.done(); })) << "an accept did not complete within 20 s";
        ASSERT_TRUE(a.rec.is_value()) << a.rec.ec.message();
        ASSERT_EQ(a.rec.count.load(), 1);
        ASSERT_EQ(a.rec.thread, runner.id());
        auto k = static_cast<int>(std::find(locals.begin(), locals.end(), a.peer) - locals.begin());
        ASSERT_LT(k, 2 * per_thread) << "accepted an unknown peer";
        ASSERT_GT(k, last) << "thread " << t << "'s accepts out of start order";
        last = k;
      }
    }
  }
  runner.finish();
  SENET_EXPECT_RACED(budget, "accepts from two threads");
}

// A timer shared by five threads while a sixth runs the context: two start waits (const members),
// two call cancel() over and over; every wait completes exactly once, on the context's thread (or,
// stopped, in start() when a cancel came between making and starting it), and the long ones
// (which only a cancel ends on the kernel backends) are stopped.
TYPED_TEST(socket_threads, timer_waits_and_cancel_from_several_threads) {
  net::timer timer(this->scheduler());
  constexpr int per_thread = 1500;
  std::array<std::vector<completion_record>, 2> recs{std::vector<completion_record>(per_thread),
                                                     std::vector<completion_record>(per_thread)};
  using slot_type = decltype(connect_slot(timer.async_wait_for(1ms), record_receiver{}));
  std::array<std::vector<slot_type>, 2> slots{std::vector<slot_type>(per_thread),
                                              std::vector<slot_type>(per_thread)};
  std::array<int, 2> started{0, 0};
  std::atomic<bool> starting{true};
  std::atomic<std::size_t> cancelled{0};
  context_runner runner(this->ctx());
  std::array<std::thread::id, 2> starter_ids;
  auto starter = [&](int t) {
    starter_ids[t] = std::this_thread::get_id();
    race_budget budget(per_thread, 600ms, 0);
    for (int i = 0; budget.next(); ++i) {
      auto d = (i % 4 == 0) ? std::chrono::microseconds(600s) : std::chrono::microseconds(i % 300);
      slots[t][i] = connect_slot(timer.async_wait_for(d), record_receiver{&this->ctx(), &recs[t][i]});
      slots[t][i]->start();
      started[t] = i + 1;
    }
  };
  auto canceller = [&] {
    while (starting.load()) {
      cancelled += timer.cancel();
      std::this_thread::yield();
    }
  };
  std::thread s0(starter, 0);
  std::thread s1(starter, 1);
  std::thread c0(canceller);
  std::thread c1(canceller);
  join_within(s0, 30s, "a starting thread");
  join_within(s1, 30s, "a starting thread");
  starting.store(false);
  join_within(c0, 30s, "a cancelling thread");
  join_within(c1, 30s, "a cancelling thread");
  // The long waits started after the last cancel of the loops end here.
  cancelled += timer.cancel();
  for (int t = 0; t < 2; ++t) {
    for (int i = 0; i < started[t]; ++i) {
      auto& rec = recs[t][static_cast<std::size_t>(i)];
      ASSERT_TRUE(eventually([&] { return rec.done(); })) << "a wait did not complete within 20 s";
    }
  }
  runner.finish();
  int stopped = 0;
  int stopped_in_start = 0;
  for (int t = 0; t < 2; ++t) {
    for (int i = 0; i < started[t]; ++i) {
      auto& rec = recs[t][static_cast<std::size_t>(i)];
      ASSERT_EQ(rec.count.load(), 1);
      ASSERT_FALSE(rec.is_error());
      if (rec.thread != runner.id()) {
        // A wait made before a cancel() and started after it is stopped as it starts, in start()
        // on the starting thread (timer.hpp: "cancelled too, as soon as they start").
        ASSERT_TRUE(rec.is_stopped()) << "a wait completed with a value off the context's thread";
        ASSERT_EQ(rec.thread, starter_ids[t])
            << "a wait completed on a thread that neither runs nor started it";
        ++stopped_in_start;
      }
      stopped += rec.is_stopped() ? 1 : 0;
      if (i % 4 == 0 && !this->test_backend) {
        ASSERT_TRUE(rec.is_stopped()) << "a 600 s wait completed with a value";
      }
    }
  }
  EXPECT_GE(started[0] + started[1], senet::test::minimum_iterations);
  std::printf("%d waits, %d stopped (%d in start()); cancel() counted %zu\n", started[0] + started[1],
              stopped, stopped_in_start, cancelled.load());
}

// read_some's wait after a direct attempt (net/detail/socket_awaitable.hpp) stopped from another
// thread while the context runs on its own: awaited directly in a task it is armed in the task's
// stop slot (execution/detail/stop_slot.hpp), whose callback runs on the stopping thread; awaited in a
// task whose token cannot stop it is not cancellable, and the data ends it. Each round completes
// the read exactly once, with operation_aborted when stopped, and the socket goes on working.
TYPED_TEST(socket_threads, a_read_some_waiting_in_a_task_is_stopped_from_another_thread) {
  constexpr bool kernel = !TestFixture::test_backend;
  auto pair = senet::test::connect_pair(this->ctx(), this->acceptor_);
  using result = std::tuple<std::error_code, std::size_t>;
  std::array<char, 8> buf{};
  auto read_task = [&]() -> senet::task<result> { co_return co_await pair.server.read_some(buffer(buf)); };
  auto write_task = [&]() -> senet::task<void> {
    co_await ex::schedule(this->ctx().get_scheduler());
    co_await net::async_write(pair.client, buffer("w", 1));
  };
  // Brings the server socket to where read_some makes its system call itself (this thread runs the
  // context): a read that waits, then one that finds its data at once.
  auto prime = [&] {
    ASSERT_TRUE(this->run(ex::when_all(read_task(), write_task())));
    ASSERT_TRUE(this->run(net::async_write(pair.client, buffer("i", 1))));
    auto at_once = this->run(read_task());
    ASSERT_TRUE(at_once);
    ASSERT_EQ(std::get<0>(*at_once), result(std::error_code{}, 1u));
  };
  for (int round = 0; round < 20; ++round) {
    const bool stoppable = round % 4 != 3;
    SCOPED_TRACE(stoppable ? "stopped" : "unstoppable, ended by data");
    prime();
    std::atomic<bool> waiting{false};
    std::atomic<int> reads{0};
    result got{};
    std::uint64_t arms = 0;
    auto reader = [&]() -> senet::task<void> {
      const std::uint64_t before = net::detail::wait_counts.slot_arms;
      got = co_await pair.server.read_some(buffer(buf));
      arms = net::detail::wait_counts.slot_arms - before;
      reads.fetch_add(1);
    };
    // when_all starts its children in order: the reader waits when this one runs. For the reader
    // that cannot be stopped it sends the data first (on the context's thread), which ends the read.
    auto signal = [&]() -> senet::task<void> {
      if (!stoppable) {
        co_await net::async_write(pair.client, buffer("d", 1));
      }
      waiting.store(true);
    };
    completion_record rec;
    auto run_round = [&](auto sndr) {
      context_runner runner(this->ctx());
      auto op = connect_slot(ex::starts_on(this->ctx().get_scheduler(), std::move(sndr)),
                             record_receiver{&this->ctx(), &rec});
      op->start();
      ASSERT_TRUE(eventually([&] { return waiting.load(); }));
      rec.stop.request_stop();
      ASSERT_TRUE(this->wait_for(rec));
      runner.finish();
    };
    if (stoppable) {
      run_round(ex::when_all(reader(), signal()));
    } else {
      run_round(ex::when_all(net::without_stop_token(reader()), signal()));
    }
    EXPECT_EQ(reads.load(), 1);
    EXPECT_EQ(std::get<0>(got),
              stoppable ? std::error_code(senet::error::operation_aborted) : std::error_code{});
    EXPECT_EQ(std::get<1>(got), stoppable ? 0u : 1u);
    EXPECT_EQ(arms, stoppable && kernel ? 1u : 0u);
  }
}

// A session loop as the echo servers' (repeat_effect_until of receives) stopped from this thread
// while the context runs on its own, after 0 to 2 steps that found data. The stop lands anywhere in
// a step: before its receive starts, between the start and the registration of its stop callback
// (which then runs at once), or while the receive waits. The loop completes stopped exactly once,
// every byte sent before the stop is received once, and the socket goes on working.
TYPED_TEST(socket_threads, a_loop_of_receives_is_stopped_from_another_thread_once) {
  auto pair = senet::test::connect_pair(this->ctx(), this->acceptor_);
  auto sch = this->scheduler();
  std::array<char, 16> buf{};
  std::string got;
  std::string sent;
  for (int round = 0; round < 60; ++round) {
    const int data_steps = round % 3;
    std::atomic<int> steps{0};
    completion_record rec;
    {
      context_runner runner(this->ctx());
      auto loop = ex::repeat_effect_until(net::async_receive(sch, pair.server, buffer(buf)) |
                                          ex::then([&](std::size_t n) {
                                            got.append(buf.data(), n);
                                            steps.fetch_add(1);
                                            return false;
                                          }));
      auto op = connect_slot(std::move(loop), record_receiver{&this->ctx(), &rec});
      op->start();
      for (int i = 0; i < data_steps; ++i) {
        char c = static_cast<char>('a' + (round + i) % 26);
        sent.push_back(c);
        completion_record send_rec;
        auto send = connect_slot(net::async_send(sch, pair.client, buffer(&c, 1)),
                                 record_receiver{&this->ctx(), &send_rec});
        send->start();
        ASSERT_TRUE(this->wait_for(send_rec));
        ASSERT_TRUE(eventually([&] { return steps.load() == i + 1; }));
      }
      if (round % 2 == 1) {
        std::this_thread::sleep_for(200us);  // the next receive most likely waits
      }
      rec.stop.request_stop();
      ASSERT_TRUE(this->wait_for(rec)) << "the loop did not complete within 20 s of the stop";
      runner.finish();
    }
    EXPECT_EQ(rec.count.load(), 1);
    EXPECT_TRUE(rec.is_stopped());
    EXPECT_EQ(steps.load(), data_steps);
  }
  EXPECT_EQ(got, sent);
  char out = 'z';
  char in = 0;
  auto r = this->run(ex::when_all(net::async_send(pair.client, buffer(&out, 1)),
                                  net::async_receive(pair.server, buffer(&in, 1))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(in, 'z');
}

// Starts two senders at once with its receiver's environment unchanged (when_all would give them a
// stop token of its own): completes with set_value(false) when both completed with a value, else
// with set_stopped(), once both completed. Counts its starts (after both children started) in
// `*starts` and its children's completions in `*completions`.
template <class A, class B>
struct both_sender {
  using sender_concept = ex::sender_tag;
  using completion_signatures = ex::completion_signatures<ex::set_value_t(bool), ex::set_stopped_t()>;
  A a;
  B b;
  std::atomic<int>* starts;
  std::atomic<int>* completions;

  template <class Rcvr>
  struct operation {
    using operation_state_concept = ex::operation_state_tag;
    struct child_receiver {
      using receiver_concept = ex::receiver_t;
      operation* self;
      template <class... Vs>
      void set_value(Vs&&...) && noexcept {
        self->done(true);
      }
      template <class E>
      void set_error(E&&) && noexcept {
        self->done(false);
      }
      void set_stopped() && noexcept { self->done(false); }
      // Spelled out: the operation is incomplete where clang needs the type (connect_result_t below).
      [[nodiscard]] ex::env_of_t<Rcvr> get_env() const noexcept { return ex::get_env(self->rcvr_); }
    };

    operation(A a, B b, Rcvr r, std::atomic<int>* starts, std::atomic<int>* completions)
        : rcvr_(std::move(r)),
          starts_(starts),
          completions_(completions),
          a_(ex::connect(std::move(a), child_receiver{this})),
          b_(ex::connect(std::move(b), child_receiver{this})) {}
    operation(const operation&) = delete;

    void start() & noexcept {
      std::atomic<int>* starts = starts_;  // this may be gone once both completed
      ex::start(a_);
      ex::start(b_);
      starts->fetch_add(1);
    }
    void done(bool value) noexcept {
      completions_->fetch_add(1);
      if (!value) {
        values_ = false;
      }
      if (left_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        if (values_.load()) {
          ex::set_value(std::move(rcvr_), false);
        } else {
          ex::set_stopped(std::move(rcvr_));
        }
      }
    }

    Rcvr rcvr_;
    std::atomic<int>* starts_;
    std::atomic<int>* completions_;
    std::atomic<int> left_{2};
    std::atomic<bool> values_{true};
    ex::connect_result_t<A, child_receiver> a_;
    ex::connect_result_t<B, child_receiver> b_;
  };

  template <class Rcvr>
  operation<Rcvr> connect(Rcvr r) const {
    return operation<Rcvr>(a, b, std::move(r), starts, completions);
  }
};

// Two receives waiting at once under one loop's stop token (both_sender above), each with a stop
// callback on the same source: a step with data for both, then a stop from this thread while both
// wait. Each receive completes once per step, and the loop completes stopped once.
TYPED_TEST(socket_threads, two_receives_waiting_under_one_loop_are_both_stopped_once) {
  auto one = senet::test::connect_pair(this->ctx(), this->acceptor_);
  auto two = senet::test::connect_pair(this->ctx(), this->acceptor_);
  auto sch = this->scheduler();
  std::array<char, 8> buf1{};
  std::array<char, 8> buf2{};
  for (int round = 0; round < 30; ++round) {
    std::atomic<int> starts{0};
    std::atomic<int> completions{0};
    completion_record rec;
    {
      context_runner runner(this->ctx());
      using step_type = both_sender<decltype(net::async_receive(sch, one.server, buffer(buf1))),
                                    decltype(net::async_receive(sch, two.server, buffer(buf2)))>;
      auto op = connect_slot(ex::repeat_effect_until(step_type{
                                 net::async_receive(sch, one.server, buffer(buf1)),
                                 net::async_receive(sch, two.server, buffer(buf2)), &starts, &completions}),
                             record_receiver{&this->ctx(), &rec});
      op->start();
      for (tcp::socket* client : {&one.client, &two.client}) {
        char c = 'd';
        completion_record send_rec;
        auto send = connect_slot(net::async_send(sch, *client, buffer(&c, 1)),
                                 record_receiver{&this->ctx(), &send_rec});
        send->start();
        ASSERT_TRUE(this->wait_for(send_rec));
      }
      // The second step's receives have started (on the context's thread: their callbacks are registered).
      ASSERT_TRUE(eventually([&] { return completions.load() == 2 && starts.load() == 2; }));
      rec.stop.request_stop();
      ASSERT_TRUE(this->wait_for(rec)) << "the loop did not complete within 20 s of the stop";
      runner.finish();
    }
    EXPECT_EQ(completions.load(), 4);
    EXPECT_EQ(rec.count.load(), 1);
    EXPECT_TRUE(rec.is_stopped());
  }
}

}  // namespace
