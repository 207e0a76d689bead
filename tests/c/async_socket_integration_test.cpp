// SPDX-License-Identifier: BSL-1.0
// The C API as programs drive it: real loopback TCP connections, made with POSIX calls and handed
// to async_socket_create, on each backend of the completion port (chosen through SENET_BACKEND,
// and checked by the kind of descriptor the process then holds). Every wait is bounded and says
// what did not happen.
//
// The SRS requirements one by one are tested in tests/c/async_socket_srs_*_test; these tests
// combine them: connecting and sending nothing, one byte each way, a receive into two buffers, the
// peer closing or resetting while a receive is pending, 1,000 sockets with operations pending at
// once, sends and receives from 4 threads on one socket, and close racing with completions.
#include <senet/c/async_socket.h>

#include "c_api_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace capitest;

class c_api_integration : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    // Each test starts with no completion port in the process: an earlier test that leaked a
    // socket or an engine would keep one (and its backend) alive.
    ASSERT_EQ(backend_in_use(), "") << "a completion port outlived an earlier test";
    ::setenv("SENET_BACKEND", GetParam().c_str(), 1);
    engine_ = execution_engine_create(nullptr);
    if (engine_ == nullptr) {
      ::unsetenv("SENET_BACKEND");
      GTEST_SKIP() << "the " << GetParam() << " backend is not available here (SENET_BACKEND=" << GetParam()
                   << " refused)";
    }
    ASSERT_EQ(backend_in_use(), GetParam()) << "the completion port did not use SENET_BACKEND";
    ASSERT_EQ(threads_named("senet-c-port"), 1) << "the completion port runs one thread";
  }

  void TearDown() override {
    if (engine_ != nullptr) {
      execution_engine_dec_ref(engine_);
      ::unsetenv("SENET_BACKEND");
      // The last reference gone, the loop thread and its backend are gone too.
      EXPECT_EQ(backend_in_use(), "") << "the completion port outlived its last reference";
      // A joined thread can stay listed in /proc for a moment: wait for it, bounded.
      auto deadline = std::chrono::steady_clock::now() + wait_limit;
      while (threads_named("senet-c-port") != 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      EXPECT_EQ(threads_named("senet-c-port"), 0)
          << "the completion port's thread outlived its last reference";
    }
  }

  EXECUTION_ENGINE_HANDLE engine_ = nullptr;
};

INSTANTIATE_TEST_SUITE_P(backends, c_api_integration, ::testing::Values("uring", "epoll"),
                         [](const auto& info) { return info.param; });

// A client connects and closes without sending anything: the server's pending receive completes
// ABANDONED with 0 bytes, once.
TEST_P(c_api_integration, connect_and_send_nothing) {
  listener l;
  auto [c, s] = l.connect_pair();
  ASSERT_GE(c, 0);
  socket_guard client(open_socket(c, engine_));
  socket_guard server(open_socket(s, engine_));
  ASSERT_NE(client.get(), nullptr);
  ASSERT_NE(server.get(), nullptr);
  callback_record received;
  char buf[16];
  ASYNC_SOCKET_BUFFER b{buf, sizeof buf};
  ASSERT_EQ(async_socket_receive_async(server.get(), &b, 1, record_receive, &received), 0);
  async_socket_close(client.get());
  ASSERT_TRUE(received.wait()) << "the server's receive did not complete within 20 s of the client's close";
  EXPECT_EQ(received.last(), ASYNC_SOCKET_RECEIVE_ABANDONED);
  EXPECT_EQ(received.last_bytes(), 0U);
  server.reset();
  EXPECT_EQ(received.count(), 1);
}

// A non-blocking connect handed to the API before it finished: notify_io(OUT) says when it has,
// SO_ERROR says it worked; nothing is sent, and both ends close cleanly.
TEST_P(c_api_integration, connect_in_progress_then_close) {
  listener l;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&l.address()), sizeof l.address());
  ASSERT_TRUE(rc == 0 || errno == EINPROGRESS) << std::strerror(errno);
  socket_guard client(open_socket(fd, engine_));
  ASSERT_NE(client.get(), nullptr);
  callback_record writable;
  ASSERT_EQ(
      async_socket_notify_io_async(client.get(), ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT, record_notify, &writable),
      0);
  ASSERT_TRUE(writable.wait()) << "the connection did not become writable within 20 s";
  EXPECT_EQ(writable.last(), ASYNC_SOCKET_NOTIFY_IO_RESULT_OUT);
  int error = -1;
  socklen_t len = sizeof error;
  ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len), 0);
  EXPECT_EQ(error, 0) << std::strerror(error);
  int accepted = ::accept4(l.fd(), nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(accepted, 0);
  client.reset();  // an implicit close
  EXPECT_EQ(read_exactly(accepted, 1), "") << "the server got bytes nobody sent";
  ::close(accepted);
  EXPECT_EQ(writable.count(), 1);
}

// One byte each way: the send completes at once on the calling thread (the header's promise), the
// receive on the completion port's thread.
TEST_P(c_api_integration, send_and_receive_one_byte) {
  listener l;
  auto [c, s] = l.connect_pair();
  ASSERT_GE(c, 0);
  socket_guard a(open_socket(c, engine_));
  socket_guard b(open_socket(s, engine_));
  ASSERT_NE(a.get(), nullptr);
  ASSERT_NE(b.get(), nullptr);
  for (auto [from, to] : {std::pair{a.get(), b.get()}, std::pair{b.get(), a.get()}}) {
    char in = 0;
    ASYNC_SOCKET_BUFFER rb{&in, 1};
    callback_record received;
    ASSERT_EQ(async_socket_receive_async(to, &rb, 1, record_receive, &received), 0);
    char out = from == a.get() ? 'a' : 'b';
    ASYNC_SOCKET_BUFFER sb{&out, 1};
    callback_record sent;
    ASSERT_EQ(async_socket_send_async(from, &sb, 1, record_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
    EXPECT_EQ(sent.count(), 1) << "a 1-byte send on an idle socket completes before send_async returns";
    EXPECT_EQ(sent.last(), ASYNC_SOCKET_SEND_OK);
    ASSERT_TRUE(received.wait()) << "1 byte did not arrive within 20 s";
    EXPECT_EQ(received.last(), ASYNC_SOCKET_RECEIVE_OK);
    EXPECT_EQ(received.last_bytes(), 1U);
    EXPECT_EQ(in, out);
    EXPECT_NE(received.thread, std::this_thread::get_id()) << "a receive completes on the loop thread";
  }
}

// A receive into two buffers fills them in order; a send of two buffers sends them as one run.
TEST_P(c_api_integration, receive_into_two_buffers) {
  listener l;
  auto [c, s] = l.connect_pair();
  ASSERT_GE(c, 0);
  socket_guard a(open_socket(c, engine_));
  ASSERT_NE(a.get(), nullptr);

  // 10 bytes into 4 + 16: the first buffer full, 6 in the second.
  char first[4];
  char second[16];
  std::memset(second, '-', sizeof second);
  ASYNC_SOCKET_BUFFER two[2] = {{first, sizeof first}, {second, sizeof second}};
  callback_record received;
  ASSERT_EQ(async_socket_receive_async(a.get(), two, 2, record_receive, &received), 0);
  ASSERT_EQ(::send(s, "0123456789", 10, MSG_NOSIGNAL), 10);
  ASSERT_TRUE(received.wait()) << "10 bytes did not arrive within 20 s";
  EXPECT_EQ(received.last(), ASYNC_SOCKET_RECEIVE_OK);
  ASSERT_EQ(received.last_bytes(), 10U);
  EXPECT_EQ(std::string(first, 4), "0123");
  EXPECT_EQ(std::string(second, 6), "456789");
  EXPECT_EQ(second[6], '-') << "the receive wrote past the bytes it reported";

  // Exactly as many bytes as both buffers hold: 3 + 5.
  char x[3];
  char y[5];
  ASYNC_SOCKET_BUFFER full[2] = {{x, sizeof x}, {y, sizeof y}};
  callback_record again;
  ASSERT_EQ(async_socket_receive_async(a.get(), full, 2, record_receive, &again), 0);
  ASSERT_EQ(::send(s, "abcdefgh", 8, MSG_NOSIGNAL), 8);
  ASSERT_TRUE(again.wait()) << "8 bytes did not arrive within 20 s";
  ASSERT_EQ(again.last_bytes(), 8U);
  EXPECT_EQ(std::string(x, 3) + std::string(y, 5), "abcdefgh");

  // And the other way: a send of two buffers.
  char p[] = "hello, ";
  char q[] = "world";
  ASYNC_SOCKET_BUFFER payload[2] = {{p, 7}, {q, 5}};
  callback_record sent;
  ASSERT_EQ(async_socket_send_async(a.get(), payload, 2, record_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  ASSERT_TRUE(sent.wait());
  EXPECT_EQ(sent.last(), ASYNC_SOCKET_SEND_OK);
  EXPECT_EQ(read_exactly(s, 12), "hello, world");
  ::close(s);
}

// The peer closes while a receive is pending: ABANDONED, 0 bytes; bytes sent before the close are
// received first.
TEST_P(c_api_integration, server_closes_while_receive_pending) {
  listener l;
  auto [c, s] = l.connect_pair();
  ASSERT_GE(c, 0);
  socket_guard a(open_socket(c, engine_));
  ASSERT_NE(a.get(), nullptr);
  char buf[64];
  ASYNC_SOCKET_BUFFER b{buf, sizeof buf};
  callback_record first;
  ASSERT_EQ(async_socket_receive_async(a.get(), &b, 1, record_receive, &first), 0);
  ASSERT_EQ(::send(s, "bye", 3, MSG_NOSIGNAL), 3);
  ASSERT_TRUE(first.wait()) << "3 bytes did not arrive within 20 s";
  EXPECT_EQ(first.last(), ASYNC_SOCKET_RECEIVE_OK);
  EXPECT_EQ(first.last_bytes(), 3U);

  callback_record second;
  ASSERT_EQ(async_socket_receive_async(a.get(), &b, 1, record_receive, &second), 0);
  EXPECT_EQ(second.count(), 0);
  ::close(s);
  ASSERT_TRUE(second.wait()) << "the receive did not complete within 20 s of the server's close";
  EXPECT_EQ(second.last(), ASYNC_SOCKET_RECEIVE_ABANDONED);
  EXPECT_EQ(second.last_bytes(), 0U);

  // After the end of the stream a send fails without raising SIGPIPE (the test would die of it).
  char byte = 'x';
  ASYNC_SOCKET_BUFFER sb{&byte, 1};
  callback_record sent;
  for (int i = 0; i < 100; ++i) {  // the first sends may still be accepted by the kernel
    ASYNC_SOCKET_SEND_SYNC_RESULT r = async_socket_send_async(a.get(), &sb, 1, record_send, &sent);
    if (r != ASYNC_SOCKET_SEND_SYNC_OK) {
      EXPECT_EQ(r, ASYNC_SOCKET_SEND_SYNC_ABANDONED) << async_socket_send_sync_result_to_string(r);
      break;
    }
    ASSERT_TRUE(sent.wait(i + 1));
    if (sent.last() != ASYNC_SOCKET_SEND_OK) {
      EXPECT_EQ(sent.last(), ASYNC_SOCKET_SEND_ABANDONED);
      break;
    }
  }
}

// The peer resets the connection (SO_LINGER 0) while a receive is pending: ABANDONED, 0 bytes.
TEST_P(c_api_integration, server_resets_while_receive_pending) {
  listener l;
  auto [c, s] = l.connect_pair();
  ASSERT_GE(c, 0);
  socket_guard a(open_socket(c, engine_));
  ASSERT_NE(a.get(), nullptr);
  char buf[64];
  ASYNC_SOCKET_BUFFER b{buf, sizeof buf};
  callback_record received;
  ASSERT_EQ(async_socket_receive_async(a.get(), &b, 1, record_receive, &received), 0);
  linger reset{1, 0};
  ASSERT_EQ(::setsockopt(s, SOL_SOCKET, SO_LINGER, &reset, sizeof reset), 0);
  ::close(s);
  ASSERT_TRUE(received.wait()) << "the receive did not complete within 20 s of the server's reset";
  EXPECT_EQ(received.last(), ASYNC_SOCKET_RECEIVE_ABANDONED)
      << async_socket_receive_result_to_string(static_cast<ASYNC_SOCKET_RECEIVE_RESULT>(received.last()));
  EXPECT_EQ(received.last_bytes(), 0U);
}

// A send the peer never reads stays pending; close abandons it (ABANDONED, once) and returns
// without waiting for the peer.
TEST_P(c_api_integration, close_abandons_a_send_nobody_reads) {
  listener l;
  auto [c, s] = l.connect_pair();
  ASSERT_GE(c, 0);
  int small = 4096;
  ::setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  ::setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  ASYNC_SOCKET_HANDLE sock = open_socket(c, engine_);
  ASSERT_NE(sock, nullptr);
  std::vector<unsigned char> big(1 << 20, 0x42);
  ASYNC_SOCKET_BUFFER sb{big.data(), static_cast<std::uint32_t>(big.size())};
  callback_record sent;
  ASSERT_EQ(async_socket_send_async(sock, &sb, 1, record_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  EXPECT_EQ(sent.count(), 0) << "1 MiB went out at once through a 4 KiB window";
  callback_record closed;
  std::thread closer([&] {
    async_socket_close(sock);
    closed.record(0, 0);
  });
  bool returned = closed.wait();
  if (!returned) {
    ::close(std::exchange(s, -1));  // let a close that waits for the peer end, so that the test ends
  }
  closer.join();
  EXPECT_TRUE(returned) << "async_socket_close waited over 20 s for a send the peer does not read";
  EXPECT_EQ(sent.count(), 1);
  EXPECT_EQ(sent.last(), ASYNC_SOCKET_SEND_ABANDONED);
  async_socket_destroy(sock);
  if (s >= 0) {
    ::close(s);
  }
}

// 1,000 sockets, each with a receive and a send pending or done at once, all scheduled before any
// peer acts; then every peer answers, and every receive gets its own peer's bytes.
TEST_P(c_api_integration, thousand_sockets_at_once) {
  constexpr int n = 1000;
  nofile_limit limit(2 * n + 128);
  if (!limit.ok()) {
    GTEST_SKIP() << "RLIMIT_NOFILE's hard limit (" << limit.hard() << ") is below the " << 2 * n + 128
                 << " descriptors this test needs";
  }
  listener l;
  struct conn {
    socket_guard s;
    int peer = -1;
    char in[8] = {};
    char out[8] = {};
    callback_record received;
    callback_record sent;
  };
  std::vector<std::unique_ptr<conn>> conns;
  conns.reserve(n);
  for (int i = 0; i < n; ++i) {
    auto [c, s] = l.connect_pair();
    ASSERT_GE(c, 0) << "connection " << i << ": " << std::strerror(errno);
    auto k = std::make_unique<conn>();
    k->s = socket_guard(open_socket(c, engine_));
    ASSERT_NE(k->s.get(), nullptr);
    k->peer = s;
    std::snprintf(k->out, sizeof k->out, "o%06d", i);
    conns.push_back(std::move(k));
  }
  for (auto& k : conns) {
    ASYNC_SOCKET_BUFFER rb{k->in, sizeof k->in};
    ASSERT_EQ(async_socket_receive_async(k->s.get(), &rb, 1, record_receive, &k->received), 0);
    ASYNC_SOCKET_BUFFER sb{k->out, sizeof k->out};
    ASSERT_EQ(async_socket_send_async(k->s.get(), &sb, 1, record_send, &k->sent), ASYNC_SOCKET_SEND_SYNC_OK);
  }
  for (int i = 0; i < n; ++i) {
    char msg[8];
    std::snprintf(msg, sizeof msg, "i%06d", i);
    ASSERT_EQ(::send(conns[i]->peer, msg, 8, MSG_NOSIGNAL), 8);
  }
  for (int i = 0; i < n; ++i) {
    conn& k = *conns[i];
    ASSERT_TRUE(k.received.wait()) << "socket " << i << ": no receive completion within 20 s";
    ASSERT_TRUE(k.sent.wait()) << "socket " << i << ": no send completion within 20 s";
    EXPECT_EQ(k.sent.last(), ASYNC_SOCKET_SEND_OK);
    EXPECT_EQ(k.received.last(), ASYNC_SOCKET_RECEIVE_OK);
    // 8 bytes sent at once arrive at once on loopback.
    ASSERT_EQ(k.received.last_bytes(), 8U) << "socket " << i;
    char want[8];
    std::snprintf(want, sizeof want, "i%06d", i);
    EXPECT_EQ(std::memcmp(k.in, want, 8), 0) << "socket " << i << " got another socket's bytes";
    EXPECT_EQ(read_exactly(k.peer, 8), std::string(k.out, 8)) << "peer " << i;
  }
  // A second round: 1,000 receives pending at once, completed by the close of every peer.
  for (auto& k : conns) {
    ASYNC_SOCKET_BUFFER rb{k->in, sizeof k->in};
    ASSERT_EQ(async_socket_receive_async(k->s.get(), &rb, 1, record_receive, &k->received), 0);
  }
  for (auto& k : conns) {
    ::close(std::exchange(k->peer, -1));
  }
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(conns[i]->received.wait(2)) << "socket " << i << ": the peer's close did not end the receive";
    EXPECT_EQ(conns[i]->received.last(), ASYNC_SOCKET_RECEIVE_ABANDONED);
  }
  conns.clear();
}

// Four threads send on one socket and four threads receive on it, in both directions at once. Every
// message carries its thread's id and a sequence number: the bytes arrive complete (no send is
// interleaved with another) and each thread's messages in the order it sent them.
namespace four_threads {

constexpr int threads = 4;
constexpr int messages = 2000;
constexpr std::size_t message_size = 32;  // 8 header bytes (thread, sequence) + 24 of pattern

void fill(unsigned char* m, std::uint32_t thread, std::uint32_t seq) {
  std::memcpy(m, &thread, 4);
  std::memcpy(m + 4, &seq, 4);
  for (std::size_t i = 8; i < message_size; ++i) {
    m[i] = static_cast<unsigned char>(thread * 31 + seq * 7 + i);
  }
}

// What one socket's receiving threads collect, in the order the receives completed.
struct stream {
  std::mutex m;
  std::condition_variable cv;
  std::string bytes;
  int abandoned = 0;
};

struct receiver {
  stream* into = nullptr;
  unsigned char buf[40];  // not a multiple of the message size: receives cut messages
  callback_record done;
};

extern "C" void on_received(void* context, ASYNC_SOCKET_RECEIVE_RESULT r, std::uint32_t n) {
  auto* rc = static_cast<receiver*>(context);
  {
    // Receives complete in the order they were started, one at a time on the loop thread, so
    // appending here rebuilds the stream in order.
    std::lock_guard lock(rc->into->m);
    if (r == ASYNC_SOCKET_RECEIVE_OK) {
      rc->into->bytes.append(reinterpret_cast<const char*>(rc->buf), n);
    } else {
      ++rc->into->abandoned;
    }
    rc->into->cv.notify_all();
  }
  rc->done.record(r, n);
}

struct send_counter {
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
};

extern "C" void on_sent(void* context, ASYNC_SOCKET_SEND_RESULT r) {
  auto* c = static_cast<send_counter*>(context);
  if (r == ASYNC_SOCKET_SEND_OK) {
    c->ok.fetch_add(1);
  } else {
    c->failed.fetch_add(1);
  }
}

// Checks that `bytes` is every thread's messages, complete, each thread's in order.
void check(const std::string& bytes, const char* direction) {
  ASSERT_EQ(bytes.size(), threads * messages * message_size) << direction;
  std::uint32_t next[threads] = {};
  for (std::size_t off = 0; off < bytes.size(); off += message_size) {
    const auto* m = reinterpret_cast<const unsigned char*>(bytes.data() + off);
    std::uint32_t thread = 0;
    std::uint32_t seq = 0;
    std::memcpy(&thread, m, 4);
    std::memcpy(&seq, m + 4, 4);
    ASSERT_LT(thread, static_cast<std::uint32_t>(threads))
        << direction << ": a cut or mixed message at " << off;
    ASSERT_EQ(seq, next[thread]) << direction << ": thread " << thread << "'s messages out of order at "
                                 << off;
    unsigned char want[message_size];
    fill(want, thread, seq);
    ASSERT_EQ(std::memcmp(m, want, message_size), 0) << direction << ": message bytes interleaved at " << off;
    ++next[thread];
  }
}

}  // namespace four_threads

TEST_P(c_api_integration, four_threads_send_and_receive_on_one_socket) {
  using namespace four_threads;
  listener l;
  auto [c, s] = l.connect_pair();
  ASSERT_GE(c, 0);
  socket_guard a(open_socket(c, engine_));
  socket_guard b(open_socket(s, engine_));
  ASSERT_NE(a.get(), nullptr);
  ASSERT_NE(b.get(), nullptr);

  stream a_to_b;
  stream b_to_a;
  send_counter sends;
  // Every message's bytes, alive until the end: a send may complete later than its call.
  std::vector<unsigned char> out(2 * threads * messages * message_size);
  std::atomic<int> bad_sync_results{0};
  std::atomic<int> bad_receive_calls{0};
  std::atomic<bool> closing{false};

  auto sender = [&](ASYNC_SOCKET_HANDLE sock, int side, std::uint32_t t) {
    for (std::uint32_t seq = 0; seq < messages; ++seq) {
      unsigned char* m = out.data() + ((side * threads + t) * messages + seq) * message_size;
      fill(m, t, seq);
      // Two buffers per message: the header and the rest, sent as one run.
      ASYNC_SOCKET_BUFFER parts[2] = {{m, 8}, {m + 8, message_size - 8}};
      if (async_socket_send_async(sock, parts, 2, on_sent, &sends) != ASYNC_SOCKET_SEND_SYNC_OK) {
        bad_sync_results.fetch_add(1);
      }
    }
  };
  // Each receiving thread: one receive at a time into its own buffer until the socket is closed.
  auto receiving = [&](ASYNC_SOCKET_HANDLE sock, stream* into) {
    receiver rc;
    rc.into = into;
    for (int i = 1;; ++i) {
      ASYNC_SOCKET_BUFFER rb{rc.buf, sizeof rc.buf};
      if (async_socket_receive_async(sock, &rb, 1, on_received, &rc) != 0) {
        if (!closing.load()) {
          bad_receive_calls.fetch_add(1);
        }
        return;
      }
      if (!rc.done.wait(i)) {
        ADD_FAILURE() << "a receive did not complete within 20 s";
        return;
      }
      if (rc.done.last() != ASYNC_SOCKET_RECEIVE_OK) {
        return;  // the socket was closed at the end of the test
      }
    }
  };

  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back(receiving, b.get(), &a_to_b);
    workers.emplace_back(receiving, a.get(), &b_to_a);
  }
  for (std::uint32_t t = 0; t < threads; ++t) {
    workers.emplace_back(sender, a.get(), 0, t);
    workers.emplace_back(sender, b.get(), 1, t);
  }
  const std::size_t total = threads * messages * message_size;
  for (stream* st : {&a_to_b, &b_to_a}) {
    std::unique_lock lock(st->m);
    EXPECT_TRUE(st->cv.wait_for(lock, 60s, [&] { return st->bytes.size() >= total; }))
        << "only " << st->bytes.size() << " of " << total << " bytes arrived within 60 s";
  }
  // Closing both sockets ends the receives still pending (ABANDONED) and so the receiving threads.
  closing = true;
  async_socket_close(a.get());
  async_socket_close(b.get());
  for (auto& w : workers) {
    w.join();
  }
  EXPECT_EQ(bad_sync_results.load(), 0);
  EXPECT_EQ(bad_receive_calls.load(), 0) << "a receive was refused on an open socket";
  EXPECT_EQ(sends.ok.load(), 2 * threads * messages);
  EXPECT_EQ(sends.failed.load(), 0);
  check(a_to_b.bytes, "a to b");
  check(b_to_a.bytes, "b to a");
}

// async_socket_close racing with the completion of a receive, a send or a readiness notification,
// 1,000 times: the callback runs exactly once, with the completion's result or ABANDONED, and has
// returned when close returns (the header's promise: the context may be freed then).
TEST_P(c_api_integration, close_races_with_completions) {
  constexpr int iterations = 1000;
  listener l;
  std::barrier sync(2);
  int peer = -1;
  int variant = 0;
  std::atomic<bool> quit{false};
  std::string peer_error;
  std::thread other([&] {
    for (;;) {
      sync.arrive_and_wait();  // start
      if (quit.load()) {
        return;
      }
      if (variant == 1) {
        // Drain what the pending send wrote, while the test closes the socket; not longer than
        // 50 ms without a byte (a window that small makes TCP wait for its timers).
        std::string got = read_exactly(peer, 24 * 1024, 50ms);
        (void)got;
      } else {
        // The socket may be closed already: its reset is no error of the test.
        if (::send(peer, "x", 1, MSG_NOSIGNAL) != 1 && errno != EPIPE && errno != ECONNRESET) {
          peer_error = std::strerror(errno);
        }
      }
      sync.arrive_and_wait();  // done
    }
  });
  std::vector<unsigned char> big(24 * 1024, 0x5a);  // more than the two small buffers hold
  int completed_ok = 0;
  for (int i = 0; i < iterations && !HasFatalFailure(); ++i) {
    auto [c, s] = l.connect_pair();
    ASSERT_GE(c, 0);
    variant = i % 3;
    if (variant == 1) {
      int small = 4096;
      ::setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
      ::setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    ASYNC_SOCKET_HANDLE sock = open_socket(c, engine_);
    ASSERT_NE(sock, nullptr);
    peer = s;
    callback_record rec;
    char buf[8];
    ASYNC_SOCKET_BUFFER rb{buf, sizeof buf};
    ASYNC_SOCKET_BUFFER sb{big.data(), static_cast<std::uint32_t>(big.size())};
    if (variant == 0) {
      ASSERT_EQ(async_socket_receive_async(sock, &rb, 1, record_receive, &rec), 0);
    } else if (variant == 1) {
      ASSERT_EQ(async_socket_send_async(sock, &sb, 1, record_send, &rec), ASYNC_SOCKET_SEND_SYNC_OK);
    } else {
      ASSERT_EQ(async_socket_notify_io_async(sock, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, record_notify, &rec), 0);
    }
    sync.arrive_and_wait();  // start: the peer acts while this thread closes
    async_socket_close(sock);
    int calls = rec.count();  // read before anything else can wait for it
    sync.arrive_and_wait();   // done
    ASSERT_EQ(calls, 1) << "iteration " << i << " (variant " << variant
                        << "): the callback had not run exactly once when close returned";
    int r = rec.last();
    if (variant == 0) {
      EXPECT_TRUE(r == ASYNC_SOCKET_RECEIVE_OK || r == ASYNC_SOCKET_RECEIVE_ABANDONED) << r;
      completed_ok += r == ASYNC_SOCKET_RECEIVE_OK;
    } else if (variant == 1) {
      EXPECT_TRUE(r == ASYNC_SOCKET_SEND_OK || r == ASYNC_SOCKET_SEND_ABANDONED) << r;
      completed_ok += r == ASYNC_SOCKET_SEND_OK;
    } else {
      EXPECT_TRUE(r == ASYNC_SOCKET_NOTIFY_IO_RESULT_IN || r == ASYNC_SOCKET_NOTIFY_IO_RESULT_ABANDONED) << r;
      completed_ok += r == ASYNC_SOCKET_NOTIFY_IO_RESULT_IN;
    }
    async_socket_destroy(sock);
    EXPECT_EQ(rec.count(), 1) << "iteration " << i << ": a callback after close";
    ::close(s);
  }
  quit = true;
  sync.arrive_and_wait();
  other.join();
  EXPECT_EQ(peer_error, "");
  // Not asserted (timing decides), but worth seeing when the race never goes one way.
  std::printf("close won %d of %d races\n", iterations - completed_ok, iterations);
}

}  // namespace
