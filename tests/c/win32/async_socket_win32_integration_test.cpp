// SPDX-License-Identifier: BSL-1.0
// The C API as programs drive it on Windows, under Wine: the scenarios of the Linux integration tests
// (tests/c/async_socket_integration_test.cpp) on real loopback TCP connections: one byte each way, a
// receive into two buffers, the peer closing while a receive is pending, 1,000 sockets with
// receives pending at once, sends and receives from 4 threads on one socket; plus what a callback
// may do on its own socket (send, close, destroy) and releasing the engine's last reference early.
#include <senet/c/async_socket.h>
#include <senet/c/execution_engine.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "win32_test_support.hpp"

namespace {

using namespace wintest;

class integration : public engine_test {
 protected:
  /** Two OPEN async sockets, the two ends of a new loopback connection. */
  void open_both(ASYNC_SOCKET_HANDLE& a, ASYNC_SOCKET_HANDLE& b) {
    tcp_pair p = make_tcp_pair();
    ASSERT_NE(p.client, INVALID_SOCKET);
    a = open_socket(p.client);
    b = open_socket(p.server);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
  }
};

TEST_F(integration, one_byte_each_way) {
  ASYNC_SOCKET_HANDLE a = nullptr;
  ASYNC_SOCKET_HANDLE b = nullptr;
  ASSERT_NO_FATAL_FAILURE(open_both(a, b));
  for (int round = 0; round < 2; ++round) {
    ASYNC_SOCKET_HANDLE from = round == 0 ? a : b;
    ASYNC_SOCKET_HANDLE to = round == 0 ? b : a;
    char in = 0;
    ASYNC_SOCKET_BUFFER ib{&in, 1};
    callback_record received;
    ASSERT_EQ(async_socket_receive_async(to, &ib, 1, on_receive, &received), 0);
    char out = static_cast<char>('A' + round);
    ASYNC_SOCKET_BUFFER ob{&out, 1};
    callback_record sent;
    ASSERT_EQ(async_socket_send_async(from, &ob, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
    ASSERT_EQ(sent.wait_calls(), 1);
    ASSERT_EQ(received.wait_calls(), 1);
    EXPECT_EQ(sent.result, ASYNC_SOCKET_SEND_OK);
    EXPECT_EQ(received.result, ASYNC_SOCKET_RECEIVE_OK);
    EXPECT_EQ(received.bytes, 1U);
    EXPECT_EQ(in, out);
  }
  async_socket_destroy(a);
  async_socket_destroy(b);
}

TEST_F(integration, receive_into_two_buffers) {
  ASYNC_SOCKET_HANDLE a = nullptr;
  ASYNC_SOCKET_HANDLE b = nullptr;
  ASSERT_NO_FATAL_FAILURE(open_both(a, b));
  char first[4] = {};
  char second[8] = {};
  ASYNC_SOCKET_BUFFER ib[2] = {{first, 4}, {second, 8}};
  callback_record received;
  ASSERT_EQ(async_socket_receive_async(b, ib, 2, on_receive, &received), 0);
  char msg[] = "0123456789";
  ASYNC_SOCKET_BUFFER ob[2] = {{msg, 6}, {msg + 6, 4}};
  callback_record sent;
  ASSERT_EQ(async_socket_send_async(a, ob, 2, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  ASSERT_EQ(received.wait_calls(), 1);
  std::uint32_t got = received.bytes;
  std::string all = std::string(first, 4) + std::string(second, got > 4 ? got - 4 : 0);
  while (got < 10) {  // a stream: the rest may come in a second receive
    char more[10];
    ASYNC_SOCKET_BUFFER mb{more, 10 - got};
    callback_record again;
    ASSERT_EQ(async_socket_receive_async(b, &mb, 1, on_receive, &again), 0);
    ASSERT_EQ(again.wait_calls(), 1);
    ASSERT_EQ(again.result, ASYNC_SOCKET_RECEIVE_OK);
    all += std::string(more, again.bytes);
    got += again.bytes;
  }
  EXPECT_EQ(all.substr(0, 10), "0123456789");
  ASSERT_EQ(sent.wait_calls(), 1);
  async_socket_destroy(a);
  async_socket_destroy(b);
}

TEST_F(integration, peer_closing_with_a_receive_pending) {
  ASYNC_SOCKET_HANDLE a = nullptr;
  ASYNC_SOCKET_HANDLE b = nullptr;
  ASSERT_NO_FATAL_FAILURE(open_both(a, b));
  char in[4];
  ASYNC_SOCKET_BUFFER ib{in, 4};
  callback_record received;
  ASSERT_EQ(async_socket_receive_async(b, &ib, 1, on_receive, &received), 0);
  async_socket_close(a);
  ASSERT_EQ(received.wait_calls(), 1);
  EXPECT_EQ(received.result, ASYNC_SOCKET_RECEIVE_ABANDONED);
  EXPECT_EQ(received.bytes, 0U);
  async_socket_destroy(a);
  async_socket_destroy(b);
  EXPECT_EQ(received.count(), 1);
}

// 1,000 connections, each with a receive pending at once; each peer sends 4 bytes; every receive
// completes once with its own bytes; then everything is destroyed.
TEST_F(integration, a_thousand_sockets) {
  constexpr int n = 1000;
  struct conn {
    SOCKET peer = INVALID_SOCKET;
    ASYNC_SOCKET_HANDLE h = nullptr;
    char in[4] = {};
    callback_record received;
  };
  std::vector<std::unique_ptr<conn>> conns;
  for (int i = 0; i < n; ++i) {
    auto c = std::make_unique<conn>();
    tcp_pair p = make_tcp_pair();
    ASSERT_NE(p.client, INVALID_SOCKET) << "connection " << i;
    c->peer = p.client;
    c->h = open_socket(p.server);
    ASSERT_NE(c->h, nullptr) << "connection " << i;
    ASYNC_SOCKET_BUFFER b{c->in, 4};
    ASSERT_EQ(async_socket_receive_async(c->h, &b, 1, on_receive, &c->received), 0);
    conns.push_back(std::move(c));
  }
  for (int i = 0; i < n; ++i) {
    std::uint32_t v = static_cast<std::uint32_t>(i);
    ASSERT_TRUE(send_all(conns[i]->peer, reinterpret_cast<const char*>(&v), 4));
  }
  for (int i = 0; i < n; ++i) {
    conn& c = *conns[i];
    ASSERT_EQ(c.received.wait_calls(), 1) << "connection " << i;
    EXPECT_EQ(c.received.result, ASYNC_SOCKET_RECEIVE_OK);
    if (c.received.bytes == 4) {
      std::uint32_t v = 0;
      std::memcpy(&v, c.in, 4);
      EXPECT_EQ(v, static_cast<std::uint32_t>(i));
    }
  }
  for (auto& c : conns) {
    async_socket_destroy(c->h);
    ::closesocket(c->peer);
    EXPECT_EQ(c->received.count(), 1);
  }
}

// 4 threads send 8-byte records on one socket while 4 threads keep receives pending on the other
// end: every byte arrives, no send's bytes interleave with another's (each record is whole), every
// callback runs once.
TEST_F(integration, several_threads_on_one_socket) {
  ASYNC_SOCKET_HANDLE a = nullptr;
  ASYNC_SOCKET_HANDLE b = nullptr;
  ASSERT_NO_FATAL_FAILURE(open_both(a, b));
  constexpr int threads = 4;
  constexpr int per_thread = 200;
  constexpr int total_bytes = threads * per_thread * 8;
  std::atomic<int> sent_ok{0};
  std::atomic<int> send_calls{0};
  auto on_sent = [](void* c, ASYNC_SOCKET_SEND_RESULT r) {
    auto* counters = static_cast<std::atomic<int>*>(c);
    counters[0].fetch_add(1);
    if (r == ASYNC_SOCKET_SEND_OK) {
      counters[1].fetch_add(1);
    }
  };
  std::atomic<int> counters[2] = {{0}, {0}};
  std::vector<std::vector<char>> records(threads * per_thread, std::vector<char>(8));
  std::vector<std::thread> senders;
  for (int t = 0; t < threads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        std::vector<char>& r = records[t * per_thread + i];
        std::memset(r.data(), 'a' + t, 8);
        ASYNC_SOCKET_BUFFER ob{r.data(), 8};
        EXPECT_EQ(async_socket_send_async(a, &ob, 1, on_sent, counters), ASYNC_SOCKET_SEND_SYNC_OK);
      }
      // Wine cancels (ERROR_OPERATION_ABORTED) the overlapped I/O a thread started when the thread
      // exits, even on a handle bound to a completion port, where Windows (since Vista) does not:
      // each thread stays until every send has completed (docs/c_api_windows.md, Wine caveats).
      EXPECT_TRUE(eventually([&] { return counters[0].load() == threads * per_thread; }));
    });
  }
  // The receiving side: one receive at a time (the order of completions on a pool is not the
  // order of the bytes when several are pending), each started from the previous one's callback.
  struct receiver {
    ASYNC_SOCKET_HANDLE h;
    std::string data;
    char buf[512];
    std::atomic<bool> done{false};
    std::atomic<int> failures{0};
    const char* failed_with = "";
    static void on_received(void* c, ASYNC_SOCKET_RECEIVE_RESULT r, std::uint32_t n) {
      auto* self = static_cast<receiver*>(c);
      if (r != ASYNC_SOCKET_RECEIVE_OK) {
        self->failed_with = async_socket_receive_result_to_string(r);
        ++self->failures;
        self->done = true;
        return;
      }
      self->data.append(self->buf, n);
      if (self->data.size() >= total_bytes) {
        self->done = true;
        return;
      }
      self->start();
    }
    void start() {
      ASYNC_SOCKET_BUFFER ib{buf, sizeof buf};
      if (async_socket_receive_async(h, &ib, 1, on_received, this) != 0) {
        ++failures;
        done = true;
      }
    }
  } rx{b, {}, {}};
  rx.start();
  for (auto& t : senders) {
    t.join();
  }
  ASSERT_TRUE(eventually([&] { return rx.done.load(); }))
      << rx.data.size() << " of " << total_bytes << " bytes received; " << counters[0].load()
      << " sends completed";
  EXPECT_EQ(rx.failures.load(), 0) << rx.failed_with << " after " << rx.data.size() << " bytes; "
                                   << counters[1].load() << " of " << counters[0].load() << " sends OK";
  ASSERT_EQ(rx.data.size(), static_cast<std::size_t>(total_bytes));
  int per_letter[threads] = {};
  for (std::size_t i = 0; i < rx.data.size(); i += 8) {
    EXPECT_EQ(rx.data.substr(i, 8), std::string(8, rx.data[i])) << "a record was split at " << i;
    ++per_letter[rx.data[i] - 'a'];
  }
  for (int t = 0; t < threads; ++t) {
    EXPECT_EQ(per_letter[t], per_thread);
  }
  ASSERT_TRUE(eventually([&] { return counters[0].load() == threads * per_thread; }));
  EXPECT_EQ(counters[1].load(), threads * per_thread);
  async_socket_destroy(a);
  async_socket_destroy(b);
}

// A receive callback closes its own socket: close returns at once there (it cannot wait for the
// callback it runs in), the other pending receive completes once, and destroy afterwards is clean.
TEST_F(integration, close_from_the_sockets_own_callback) {
  tcp_pair p = make_tcp_pair();
  ASSERT_NE(p.client, INVALID_SOCKET);
  ASYNC_SOCKET_HANDLE h = open_socket(p.server);
  ASSERT_NE(h, nullptr);
  struct ctx {
    ASYNC_SOCKET_HANDLE h;
    callback_record first;
  } c{h, {}};
  char in1[2];
  char in2[8];
  ASYNC_SOCKET_BUFFER b1{in1, 2};
  ASYNC_SOCKET_BUFFER b2{in2, 8};
  ASSERT_EQ(async_socket_receive_async(
                h, &b1, 1,
                [](void* p, ASYNC_SOCKET_RECEIVE_RESULT r, std::uint32_t n) {
                  auto* c = static_cast<ctx*>(p);
                  async_socket_close(c->h);
                  c->first.record(p, r, n);
                },
                &c),
            0);
  callback_record second;
  ASSERT_EQ(async_socket_receive_async(h, &b2, 1, on_receive, &second), 0);
  ASSERT_TRUE(send_all(p.client, "hi", 2));
  ASSERT_EQ(c.first.wait_calls(), 1);
  EXPECT_EQ(c.first.result, ASYNC_SOCKET_RECEIVE_OK);
  ASSERT_EQ(second.wait_calls(), 1);
  EXPECT_NE(second.result, ASYNC_SOCKET_RECEIVE_OK);
  char x;
  EXPECT_LE(::recv(p.client, &x, 1, 0), 0) << "the close from the callback closed the socket";
  async_socket_destroy(h);
  ::closesocket(p.client);
  EXPECT_EQ(c.first.count(), 1);
  EXPECT_EQ(second.count(), 1);
}

// A receive callback destroys its own socket (and a send is pending meanwhile): the socket is freed
// once its last callback has returned, and nothing is left on the heap.
TEST_F(integration, destroy_from_the_sockets_own_callback) {
  tcp_pair p = make_tcp_pair();
  ASSERT_NE(p.client, INVALID_SOCKET);
  const std::int64_t before = live_allocations();
  ASYNC_SOCKET_HANDLE h = open_socket(p.server);
  ASSERT_NE(h, nullptr);
  struct ctx {
    ASYNC_SOCKET_HANDLE h;
    std::atomic<int> calls{0};
  } c{h};
  char in[2];
  ASYNC_SOCKET_BUFFER b{in, 2};
  ASSERT_EQ(async_socket_receive_async(
                h, &b, 1,
                [](void* p, ASYNC_SOCKET_RECEIVE_RESULT, std::uint32_t) {
                  auto* c = static_cast<ctx*>(p);
                  async_socket_destroy(c->h);
                  ++c->calls;
                },
                &c),
            0);
  ASSERT_TRUE(send_all(p.client, "hi", 2));
  ASSERT_TRUE(eventually([&] { return c.calls.load() == 1; }));
  EXPECT_TRUE(eventually([&] { return live_allocations() == before; })) << "the socket was not freed";
  char x;
  EXPECT_LE(::recv(p.client, &x, 1, 0), 0);
  ::closesocket(p.client);
}

// A callback destroys its socket while another thread's close is waiting for that callback: the
// close frees the socket when the callback has returned.
TEST_F(integration, destroy_from_a_callback_while_another_thread_closes) {
  tcp_pair p = make_tcp_pair();
  ASSERT_NE(p.client, INVALID_SOCKET);
  const std::int64_t before = live_allocations();
  ASYNC_SOCKET_HANDLE h = open_socket(p.server);
  ASSERT_NE(h, nullptr);
  struct ctx {
    ASYNC_SOCKET_HANDLE h;
    gate g;
    std::atomic<int> calls{0};
  } c{h, {}};
  char in[2];
  ASYNC_SOCKET_BUFFER b{in, 2};
  ASSERT_EQ(async_socket_receive_async(
                h, &b, 1,
                [](void* p, ASYNC_SOCKET_RECEIVE_RESULT, std::uint32_t) {
                  auto* c = static_cast<ctx*>(p);
                  c->g.wait();
                  async_socket_destroy(c->h);
                  ++c->calls;
                },
                &c),
            0);
  ASSERT_TRUE(send_all(p.client, "hi", 2));
  ASSERT_TRUE(eventually([&] { return c.g.reached.load(); }));
  std::thread closer([&] { async_socket_close(h); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  c.g.release();
  closer.join();
  EXPECT_EQ(c.calls.load(), 1);
  EXPECT_TRUE(eventually([&] { return live_allocations() == before; })) << "the socket was not freed";
  ::closesocket(p.client);
}

// The open callback destroys its socket: open returns 0 and the socket is freed then.
TEST_F(integration, destroy_from_the_open_callback) {
  tcp_pair p = make_tcp_pair();
  ASSERT_NE(p.client, INVALID_SOCKET);
  const std::int64_t before = live_allocations();
  ASYNC_SOCKET_HANDLE h = async_socket_create(engine_, p.server);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(async_socket_open_async(
                h,
                [](void* p, ASYNC_SOCKET_OPEN_RESULT) {
                  async_socket_destroy(static_cast<ASYNC_SOCKET_HANDLE>(p));
                },
                h),
            0);
  EXPECT_EQ(live_allocations(), before);
  char x;
  EXPECT_LE(::recv(p.client, &x, 1, 0), 0);
  ::closesocket(p.client);
}

// An echo: each receive callback sends back what arrived and starts the next receive, from the
// pool thread; 100 round trips.
TEST_F(integration, echo_from_callbacks) {
  tcp_pair p = make_tcp_pair();
  ASSERT_NE(p.client, INVALID_SOCKET);
  ASYNC_SOCKET_HANDLE h = open_socket(p.server);
  ASSERT_NE(h, nullptr);
  struct echo {
    ASYNC_SOCKET_HANDLE h;
    char buf[64];
    std::atomic<int> errors{0};
    static void on_sent(void* c, ASYNC_SOCKET_SEND_RESULT r) {
      auto* self = static_cast<echo*>(c);
      if (r != ASYNC_SOCKET_SEND_OK) {
        ++self->errors;
        return;
      }
      self->receive();
    }
    static void on_received(void* c, ASYNC_SOCKET_RECEIVE_RESULT r, std::uint32_t n) {
      auto* self = static_cast<echo*>(c);
      if (r != ASYNC_SOCKET_RECEIVE_OK) {
        return;  // the peer went away (the end of the test) or the socket closed
      }
      ASYNC_SOCKET_BUFFER ob{self->buf, n};
      if (async_socket_send_async(self->h, &ob, 1, on_sent, self) != ASYNC_SOCKET_SEND_SYNC_OK) {
        ++self->errors;
      }
    }
    void receive() {
      ASYNC_SOCKET_BUFFER ib{buf, sizeof buf};
      if (async_socket_receive_async(h, &ib, 1, on_received, this) != 0) {
        ++errors;
      } else {
        ++receives;
      }
    }
    std::atomic<int> receives{0};
  } e{h, {}};
  e.receive();
  for (int i = 0; i < 100; ++i) {
    std::string msg = "message " + std::to_string(i);
    ASSERT_TRUE(send_all(p.client, msg.data(), static_cast<int>(msg.size())));
    std::string back(msg.size(), '\0');
    ASSERT_TRUE(recv_all(p.client, back.data(), static_cast<int>(back.size())));
    EXPECT_EQ(back, msg);
  }
  // The last send's callback starts the 101st receive: destroy once it is pending (a receive
  // started after the close began would fail, as it must).
  EXPECT_TRUE(eventually([&] { return e.receives.load() == 101; }));
  async_socket_destroy(h);
  ::closesocket(p.client);
  EXPECT_EQ(e.errors.load(), 0);
}

TEST(engine, parameters_are_checked) {
  EXECUTION_ENGINE_PARAMETERS_WIN32 bad{4, 2};
  EXPECT_EQ(execution_engine_create(&bad), nullptr) << "max below min";
  EXECUTION_ENGINE_PARAMETERS_WIN32 too_many{1, 0x80000000U};
  EXPECT_EQ(execution_engine_create(&too_many), nullptr);
  EXECUTION_ENGINE_PARAMETERS_WIN32 fine{2, 8};
  EXECUTION_ENGINE_HANDLE e = execution_engine_create(&fine);
  ASSERT_NE(e, nullptr);
  EXPECT_NE(execution_engine_win32_get_threadpool(e), nullptr);
  execution_engine_inc_ref(e);
  execution_engine_dec_ref(e);
  EXPECT_NE(execution_engine_win32_get_threadpool(e), nullptr) << "one reference is left";
  execution_engine_dec_ref(e);
  EXPECT_EQ(execution_engine_win32_get_threadpool(nullptr), nullptr);
  execution_engine_inc_ref(nullptr);
  execution_engine_dec_ref(nullptr);
}

}  // namespace
