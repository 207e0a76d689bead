// SPDX-License-Identifier: BSL-1.0
// What a callback may do (call send, receive, close and destroy on its own socket), and the API
// used from several threads at once: the order of sends, and close racing with completions.
// senet-test-labels: threaded
#include <senet/c/async_socket.h>

#include <senet/c/execution_engine.h>

#include "c/async_socket_srs_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

namespace senet::c_test {
namespace {

// ---- a receive callback that receives again: an echo of 200 messages ----------------------------

struct echo_state {
  ASYNC_SOCKET_HANDLE h = nullptr;
  unsigned char buffer[64] = {};
  std::atomic<int> messages{0};
  recorder<int> done;

  static void on_received(void* context, ASYNC_SOCKET_RECEIVE_RESULT r, uint32_t n) {
    auto& e = *static_cast<echo_state*>(context);
    if (r != ASYNC_SOCKET_RECEIVE_OK) {
      e.done.add(static_cast<int>(r));
      return;
    }
    // Echo what came (the send completes at once or later; the buffer is reused only after the
    // next receive completes, which needs the peer to have read this echo first).
    ASYNC_SOCKET_BUFFER out{e.buffer, n};
    EXPECT_EQ(async_socket_send_async(e.h, &out, 1, ignore_send, nullptr), ASYNC_SOCKET_SEND_SYNC_OK);
    ++e.messages;
    ASYNC_SOCKET_BUFFER in{e.buffer, sizeof(e.buffer)};
    EXPECT_EQ(async_socket_receive_async(e.h, &in, 1, on_received, &e), 0);
  }
};

TEST_P(async_socket_api, receive_callback_sends_and_receives_again) {
  tcp_pair p = make_tcp_pair();
  echo_state e;
  e.h = open_socket(p.client);
  ASSERT_NE(e.h, nullptr);
  ASYNC_SOCKET_BUFFER in{e.buffer, sizeof(e.buffer)};
  ASSERT_EQ(async_socket_receive_async(e.h, &in, 1, echo_state::on_received, &e), 0);
  for (int i = 0; i < 200; ++i) {
    std::string message = "message " + std::to_string(i);
    write_all(p.server.get(), message.data(), message.size());
    std::vector<unsigned char> echoed = read_exactly(p.server.get(), message.size());
    ASSERT_EQ(std::string(echoed.begin(), echoed.end()), message);
  }
  p.server.reset();
  ASSERT_TRUE(e.done.wait());
  EXPECT_EQ(e.done.at(0).result, static_cast<int>(ASYNC_SOCKET_RECEIVE_ABANDONED));
  EXPECT_EQ(e.messages, 200);
  async_socket_destroy(e.h);
  EXPECT_EQ(e.done.count(), 1U);
}

// ---- a send callback that sends again --------------------------------------------------------------

struct chain_state {
  ASYNC_SOCKET_HANDLE h = nullptr;
  std::vector<unsigned char> data;
  std::atomic<int> left{0};
  recorder<int> done;

  static void on_sent(void* context, ASYNC_SOCKET_SEND_RESULT r) {
    auto& c = *static_cast<chain_state*>(context);
    EXPECT_EQ(r, ASYNC_SOCKET_SEND_OK);
    if (--c.left == 0) {
      c.done.add(0);
      return;
    }
    ASYNC_SOCKET_BUFFER b{c.data.data(), static_cast<std::uint32_t>(c.data.size())};
    EXPECT_EQ(async_socket_send_async(c.h, &b, 1, on_sent, &c), ASYNC_SOCKET_SEND_SYNC_OK);
  }
};

// Small sends complete inside the call (the callback nests in the caller's send); large ones on the
// port's thread (the callback's send queues behind the one completing). Both chains deliver all.
TEST_P(async_socket_api, send_callback_sends_again) {
  for (std::size_t size : {std::size_t{16}, std::size_t{256 * 1024}}) {
    tcp_pair p = make_tcp_pair();
    small_buffers(p.client.get(), p.server.get());
    chain_state c;
    c.h = open_socket(p.client);
    c.data = pattern(size);
    c.left = 50;
    std::thread reader([&] {
      for (int i = 0; i < 50; ++i) {
        ASSERT_EQ(read_exactly(p.server.get(), size), c.data);
      }
    });
    ASYNC_SOCKET_BUFFER b{c.data.data(), static_cast<std::uint32_t>(size)};
    ASSERT_EQ(async_socket_send_async(c.h, &b, 1, chain_state::on_sent, &c), ASYNC_SOCKET_SEND_SYNC_OK);
    reader.join();
    ASSERT_TRUE(c.done.wait());
    async_socket_destroy(c.h);
  }
}

// ---- close and destroy from callbacks ---------------------------------------------------------------

struct closing_state {
  ASYNC_SOCKET_HANDLE h = nullptr;
  bool destroy = false;
  std::atomic<int> after_close_send{-1};
  receive_recorder received;

  static void on_received(void* context, ASYNC_SOCKET_RECEIVE_RESULT r, uint32_t n) {
    auto& c = *static_cast<closing_state*>(context);
    if (c.destroy) {
      async_socket_destroy(c.h);
    } else {
      async_socket_close(c.h);
      unsigned char byte = 0;
      ASYNC_SOCKET_BUFFER b{&byte, 1};
      c.after_close_send = async_socket_send_async(c.h, &b, 1, ignore_send, nullptr);
    }
    c.received.add(r, n);
  }
};

TEST_P(async_socket_api, receive_callback_closes_its_socket) {
  tcp_pair p = make_tcp_pair();
  closing_state c;
  c.h = open_socket(p.client);
  unsigned char in[2][4];
  ASYNC_SOCKET_BUFFER b0{in[0], 4};
  ASYNC_SOCKET_BUFFER b1{in[1], 4};
  receive_recorder second;
  ASSERT_EQ(async_socket_receive_async(c.h, &b0, 1, closing_state::on_received, &c), 0);
  ASSERT_EQ(async_socket_receive_async(c.h, &b1, 1, on_receive, &second), 0);
  write_all(p.server.get(), "abcd", 4);
  ASSERT_TRUE(c.received.wait());
  EXPECT_EQ(c.received.at(0).result, ASYNC_SOCKET_RECEIVE_OK);
  EXPECT_EQ(c.after_close_send, ASYNC_SOCKET_SEND_SYNC_ABANDONED);
  // The second receive is abandoned by the close, after the first callback returned.
  ASSERT_TRUE(second.wait());
  EXPECT_EQ(second.at(0).result, ASYNC_SOCKET_RECEIVE_ABANDONED);
  unsigned char x;
  EXPECT_EQ(::recv(p.server.get(), &x, 1, 0), 0) << "the descriptor was closed";
  async_socket_destroy(c.h);
  EXPECT_EQ(second.count(), 1U);
}

// The last socket destroyed from its own callback on the port's thread: the socket is freed when
// the callback returns, and the port's thread, holding the last reference, ends itself.
TEST_P(async_socket_api, receive_callback_destroys_its_socket) {
  int threads = thread_count();
  tcp_pair p = make_tcp_pair();
  closing_state c;
  c.destroy = true;
  c.h = open_socket(p.client);
  unsigned char in[2][4];
  ASYNC_SOCKET_BUFFER b0{in[0], 4};
  ASYNC_SOCKET_BUFFER b1{in[1], 4};
  receive_recorder second;
  ASSERT_EQ(async_socket_receive_async(c.h, &b0, 1, closing_state::on_received, &c), 0);
  ASSERT_EQ(async_socket_receive_async(c.h, &b1, 1, on_receive, &second), 0);
  write_all(p.server.get(), "abcd", 4);
  ASSERT_TRUE(c.received.wait());
  ASSERT_TRUE(second.wait());
  EXPECT_EQ(second.at(0).result, ASYNC_SOCKET_RECEIVE_ABANDONED);
  EXPECT_EQ(wait_thread_count(threads), threads);
  unsigned char x;
  EXPECT_EQ(::recv(p.server.get(), &x, 1, 0), 0);
}

// A send that completes at once, whose callback (on the caller's thread) closes, or destroys, the
// socket; and an open callback that destroys it.
TEST_P(async_socket_api, inline_callbacks_close_and_destroy_their_socket) {
  struct ctx_t {
    ASYNC_SOCKET_HANDLE h;
    bool destroy;
  };
  auto on_sent = [](void* context, ASYNC_SOCKET_SEND_RESULT r) {
    auto& c = *static_cast<ctx_t*>(context);
    EXPECT_EQ(r, ASYNC_SOCKET_SEND_OK);
    if (c.destroy) {
      async_socket_destroy(c.h);
    } else {
      async_socket_close(c.h);
    }
  };
  for (bool destroy : {false, true}) {
    tcp_pair p = make_tcp_pair();
    ctx_t c{open_socket(p.client), destroy};
    unsigned char pending_in[4];
    ASYNC_SOCKET_BUFFER rb{pending_in, 4};
    receive_recorder pending;
    ASSERT_EQ(async_socket_receive_async(c.h, &rb, 1, on_receive, &pending), 0);
    unsigned char byte = 'b';
    ASYNC_SOCKET_BUFFER b{&byte, 1};
    EXPECT_EQ(async_socket_send_async(c.h, &b, 1, on_sent, &c), ASYNC_SOCKET_SEND_SYNC_OK);
    // Closed from the callback, on this (not the port's) thread: the pending receive completed.
    ASSERT_EQ(pending.count(), 1U);
    EXPECT_EQ(pending.at(0).result, ASYNC_SOCKET_RECEIVE_ABANDONED);
    if (!destroy) {
      async_socket_destroy(c.h);
    }
    EXPECT_EQ(read_exactly(p.server.get(), 1).at(0), 'b');
  }
  tcp_pair p = make_tcp_pair();
  ASYNC_SOCKET_HANDLE h = async_socket_create(nullptr, p.client.release());
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(async_socket_open_async(
                h,
                [](void* context, ASYNC_SOCKET_OPEN_RESULT) {
                  async_socket_destroy(static_cast<ASYNC_SOCKET_HANDLE>(context));
                },
                h),
            0);
  unsigned char x;
  EXPECT_EQ(::recv(p.server.get(), &x, 1, 0), 0);
}

// ---- sends from four threads on one socket ----------------------------------------------------------

// Each thread sends numbered records, some large enough to wait for the peer; the peer checks that
// every record arrives whole (no interleaving) and each thread's records in its order.
TEST_P(async_socket_api, sends_from_four_threads_keep_each_threads_order) {
  tcp_pair p = make_tcp_pair();
  small_buffers(p.client.get(), p.server.get());
  ASYNC_SOCKET_HANDLE h = open_socket(p.client);
  constexpr int threads = 4;
  constexpr int records = 300;
  // A record: thread (1 byte), sequence (4 bytes), length (4 bytes), then `length` bytes of thread.
  auto record_size = [](int seq) -> std::uint32_t {
    return seq % 50 == 0 ? 100000U : 8U + static_cast<std::uint32_t>(seq % 7);
  };
  std::vector<std::vector<std::vector<unsigned char>>> data(threads);
  std::size_t total = 0;
  for (int t = 0; t < threads; ++t) {
    for (int i = 0; i < records; ++i) {
      std::uint32_t n = record_size(i);
      std::vector<unsigned char> r(9 + n, static_cast<unsigned char>(t));
      std::memcpy(&r[1], &i, 4);
      std::memcpy(&r[5], &n, 4);
      total += r.size();
      data[t].push_back(std::move(r));
    }
  }
  send_recorder sent;
  std::vector<std::thread> senders;
  for (int t = 0; t < threads; ++t) {
    senders.emplace_back([&, t] {
      for (auto& r : data[t]) {
        // Header and body as two buffers of one send.
        ASYNC_SOCKET_BUFFER b[2] = {{r.data(), 9}, {r.data() + 9, static_cast<std::uint32_t>(r.size() - 9)}};
        ASSERT_EQ(async_socket_send_async(h, b, 2, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
      }
    });
  }
  std::vector<unsigned char> got = read_exactly(p.server.get(), total);
  for (auto& s : senders) {
    s.join();
  }
  ASSERT_TRUE(sent.wait(threads * records));
  std::vector<int> next(threads, 0);
  std::size_t at = 0;
  while (at + 9 <= got.size()) {
    int t = got[at];
    ASSERT_LT(t, threads);
    int seq;
    std::uint32_t n;
    std::memcpy(&seq, &got[at + 1], 4);
    std::memcpy(&n, &got[at + 5], 4);
    ASSERT_EQ(seq, next[t]) << "thread " << t << "'s records out of order";
    ASSERT_EQ(n, record_size(seq));
    ASSERT_LE(at + 9 + n, got.size());
    for (std::uint32_t k = 0; k < n; ++k) {
      ASSERT_EQ(got[at + 9 + k], t) << "records interleaved";
    }
    ++next[t];
    at += 9 + n;
  }
  EXPECT_EQ(at, got.size());
  for (int t = 0; t < threads; ++t) {
    EXPECT_EQ(next[t], records);
  }
  for (std::size_t i = 0; i < sent.count(); ++i) {
    EXPECT_EQ(sent.at(i).result, ASYNC_SOCKET_SEND_OK);
  }
  async_socket_destroy(h);
}

// ---- close racing with completions ------------------------------------------------------------------

// The peer writes while the socket is closed on another thread: every receive calls back exactly
// once (OK or ABANDONED), and after close returns no callback comes.
TEST_P(async_socket_api, close_races_with_completions) {
  EXECUTION_ENGINE_HANDLE engine = execution_engine_create(nullptr);  // one port for all rounds
  for (int round = 0; round < 300; ++round) {
    tcp_pair p = make_tcp_pair();
    ASYNC_SOCKET_HANDLE h = async_socket_create(engine, p.client.release());
    ASSERT_NE(h, nullptr);
    ASSERT_EQ(async_socket_open_async(h, ignore_open, nullptr), 0);
    unsigned char in[4][2];
    receive_recorder received;
    for (auto& buffer : in) {
      ASYNC_SOCKET_BUFFER b{buffer, 2};
      ASSERT_EQ(async_socket_receive_async(h, &b, 1, on_receive, &received), 0);
    }
    // The close may reset the connection under the writer: its send may fail, which is fine.
    std::thread writer(
        [&] { (void)::send(p.server.get(), "abcdefgh", static_cast<std::size_t>(round % 9), MSG_NOSIGNAL); });
    std::thread closer([&] { async_socket_close(h); });
    closer.join();
    std::size_t at_close = received.count();
    EXPECT_EQ(at_close, 4U) << "close returned before every callback";
    writer.join();
    async_socket_destroy(h);
    EXPECT_EQ(received.count(), at_close);
    for (std::size_t i = 0; i < received.count(); ++i) {
      auto c = received.at(i);
      EXPECT_TRUE(c.result == ASYNC_SOCKET_RECEIVE_OK || c.result == ASYNC_SOCKET_RECEIVE_ABANDONED);
    }
  }
  execution_engine_dec_ref(engine);
}

// ---- a call handed to the loop, then the socket closed before the loop takes it ---------------------

/** An async socket of `engine` made from `p`'s client end, and opened; the caller destroys it. */
inline ASYNC_SOCKET_HANDLE open_on(EXECUTION_ENGINE_HANDLE engine, tcp_pair& p) {
  ASYNC_SOCKET_HANDLE h = async_socket_create(engine, p.client.release());
  if (h != nullptr && async_socket_open_async(h, ignore_open, nullptr) != 0) {
    async_socket_destroy(h);
    return nullptr;
  }
  return h;
}

/** Receives into `in` with a call made on another thread (returned when this returns). */
inline void receive_elsewhere(ASYNC_SOCKET_HANDLE h, std::vector<unsigned char>& in,
                              receive_recorder& received) {
  std::thread([&] {
    ASYNC_SOCKET_BUFFER b{in.data(), static_cast<std::uint32_t>(in.size())};
    EXPECT_EQ(async_socket_receive_async(h, &b, 1, on_receive, &received), 0);
  }).join();
}

/** An execution engine of its own, whose completion port's loop thread it holds in a receive
    callback of a socket of its own until `release()`, so that what other threads hand to the loop
    meanwhile waits in its queue. */
struct loop_holder {
  EXECUTION_ENGINE_HANDLE engine = execution_engine_create(nullptr);
  tcp_pair p = make_tcp_pair();
  ASYNC_SOCKET_HANDLE h = nullptr;
  unsigned char byte = 0;
  callback_gate gate;

  static void on_received(void* context, ASYNC_SOCKET_RECEIVE_RESULT, uint32_t) {
    static_cast<loop_holder*>(context)->gate.hold();
  }
  /** Returns once the loop thread is inside the callback. */
  bool hold() {
    h = open_on(engine, p);
    if (h == nullptr) {
      return false;
    }
    ASYNC_SOCKET_BUFFER b{&byte, 1};
    if (async_socket_receive_async(h, &b, 1, on_received, this) != 0) {
      return false;
    }
    write_all(p.server.get(), "x", 1);
    return gate.wait_entered();
  }
  void release() { gate.release(); }
  ~loop_holder() {
    release();
    async_socket_destroy(h);
    execution_engine_dec_ref(engine);
  }
};

/** Waits (bounded) until `h` is no longer OPEN (a close on another thread made it CLOSING): a
    one-byte send, which the peer may receive, is then refused. (The byte is static: a send queued
    behind a pending one keeps pointing at it until the close abandons it.) */
inline bool wait_not_open(ASYNC_SOCKET_HANDLE h) {
  static unsigned char byte = 1;
  ASYNC_SOCKET_BUFFER b{&byte, 1};
  auto deadline = std::chrono::steady_clock::now() + patience;
  while (std::chrono::steady_clock::now() < deadline) {
    if (async_socket_send_async(h, &b, 1, ignore_send, nullptr) == ASYNC_SOCKET_SEND_SYNC_ABANDONED) {
      return true;
    }
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

/** Closes `h` on another thread while `holder` holds the loop; once the close has begun (the
    socket is no longer OPEN), calls `while_held`, lets the loop go, and returns when the close
    returned. */
inline void close_while_held(
    ASYNC_SOCKET_HANDLE h, loop_holder& holder, const std::function<void()>& while_held = [] {}) {
  std::thread closer([&] { async_socket_close(h); });
  EXPECT_TRUE(wait_not_open(h));
  while_held();
  holder.release();
  closer.join();
}

// The loop thread is busy while a receive is issued on another thread (its start waits in the
// loop's queue) and the socket is closed on a third: "every function may be called from any
// thread", and close "completes every pending operation with its ABANDONED result": the receive
// calls back exactly once, ABANDONED, before close returns.
TEST_P(async_socket_api,
       a_receive_issued_on_another_thread_then_closed_before_the_loop_takes_it_is_abandoned_once) {
  loop_holder holder;
  ASSERT_TRUE(holder.hold());
  tcp_pair p = make_tcp_pair();
  ASYNC_SOCKET_HANDLE h = open_on(holder.engine, p);
  ASSERT_NE(h, nullptr);
  std::vector<unsigned char> in(4);
  receive_recorder received;
  receive_elsewhere(h, in, received);
  close_while_held(h, holder, [&] {
    EXPECT_EQ(received.count(), 0U) << "the loop is held: nothing can have completed yet";
  });
  ASSERT_EQ(received.count(), 1U) << "close returned before the receive's callback";
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_ABANDONED);
  EXPECT_EQ(received.at(0).bytes, 0U);
  async_socket_destroy(h);
  EXPECT_EQ(received.count(), 1U);
}

// As above with a send that has to wait (the peer reads nothing, so the kernel's buffers fill): the
// rest of it was handed to the loop, and the close abandons it; its callback comes exactly once.
TEST_P(async_socket_api,
       a_send_issued_on_another_thread_then_closed_before_the_loop_takes_it_is_abandoned_once) {
  loop_holder holder;
  ASSERT_TRUE(holder.hold());
  tcp_pair p = make_tcp_pair();
  small_buffers(p.client.get(), p.server.get());
  ASYNC_SOCKET_HANDLE h = open_on(holder.engine, p);
  ASSERT_NE(h, nullptr);
  std::vector<unsigned char> data = pattern(4 * 1024 * 1024);
  send_recorder sent;
  std::thread([&] {
    ASYNC_SOCKET_BUFFER b{data.data(), static_cast<std::uint32_t>(data.size())};
    EXPECT_EQ(async_socket_send_async(h, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  }).join();
  EXPECT_EQ(sent.count(), 0U) << "4 MiB nobody reads cannot have been sent at once";
  close_while_held(h, holder);
  ASSERT_EQ(sent.count(), 1U) << "close returned before the send's callback";
  EXPECT_EQ(sent.at(0).result, ASYNC_SOCKET_SEND_ABANDONED);
  async_socket_destroy(h);
  EXPECT_EQ(sent.count(), 1U);
}

// The receive is issued on another thread while the loop is busy, and the socket destroyed (its
// last call, after the receive's call returned) on this one: destroy closes it first, so the
// receive calls back exactly once, ABANDONED, before destroy returns, and nothing is used after it
// is freed.
TEST_P(async_socket_api,
       a_receive_issued_on_another_thread_then_destroyed_before_the_loop_takes_it_is_abandoned_once) {
  loop_holder holder;
  ASSERT_TRUE(holder.hold());
  tcp_pair p = make_tcp_pair();
  ASYNC_SOCKET_HANDLE h = open_on(holder.engine, p);
  ASSERT_NE(h, nullptr);
  std::vector<unsigned char> in(4);
  receive_recorder received;
  receive_elsewhere(h, in, received);
  // The destroy below waits for the loop, which this thread lets go a moment later (no other
  // call may run beside a destroy, so its progress cannot be watched): whether its close reaches
  // the loop's queue before or after the loop goes on, the receive is abandoned once.
  std::thread releaser([&] {
    std::this_thread::sleep_for(20ms);
    holder.release();
  });
  async_socket_destroy(h);
  releaser.join();
  ASSERT_EQ(received.count(), 1U) << "destroy returned before the receive's callback";
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_ABANDONED);
  EXPECT_EQ(received.at(0).bytes, 0U);
}

SENET_C_TEST_BACKENDS(async_socket_api);

}  // namespace
}  // namespace senet::c_test
