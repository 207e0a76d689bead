// SPDX-License-Identifier: BSL-1.0
// SRS_ASYNC_SOCKET_LINUX_11_001 .. 023: async_socket_create and async_socket_destroy.
// senet-test-labels: threaded (the completion port starts its loop thread)
#include <senet/c/async_socket.h>

#include <senet/c/execution_engine.h>

#include "c/async_socket_srs_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

namespace senet::c_test {
namespace {

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_001_create_returns_handle) {
  tcp_pair p = make_tcp_pair();
  ASYNC_SOCKET_HANDLE h = async_socket_create(nullptr, p.client.get());
  ASSERT_NE(h, nullptr);
  p.client.release();
  // Two sockets are two handles.
  ASYNC_SOCKET_HANDLE h2 = async_socket_create(nullptr, p.server.get());
  ASSERT_NE(h2, nullptr);
  p.server.release();
  EXPECT_NE(h, h2);
  async_socket_destroy(h2);
  async_socket_destroy(h);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_002_execution_engine_may_be_null) {
  tcp_pair p = make_tcp_pair();
  // NULL: the socket works.
  ASYNC_SOCKET_HANDLE h = open_socket(p.client);
  ASSERT_NE(h, nullptr);
  unsigned char byte = 7;
  ASYNC_SOCKET_BUFFER b{&byte, 1};
  send_recorder sent;
  EXPECT_EQ(async_socket_send_async(h, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  EXPECT_EQ(read_exactly(p.server.get(), 1).at(0), 7);
  async_socket_destroy(h);

  // An engine: the socket holds its own reference, so the caller may drop its one at once.
  tcp_pair q = make_tcp_pair();
  EXECUTION_ENGINE_HANDLE engine = execution_engine_create(nullptr);
  ASSERT_NE(engine, nullptr);
  ASYNC_SOCKET_HANDLE h2 = async_socket_create(engine, q.client.get());
  ASSERT_NE(h2, nullptr);
  q.client.release();
  execution_engine_dec_ref(engine);
  open_recorder opened;
  ASSERT_EQ(async_socket_open_async(h2, on_open, &opened), 0);
  unsigned char in = 0;
  ASYNC_SOCKET_BUFFER rb{&in, 1};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(h2, &rb, 1, on_receive, &received), 0);
  write_all(q.server.get(), &byte, 1);
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_OK);
  EXPECT_EQ(in, 7);
  async_socket_destroy(h2);  // releases the engine's last reference (LeakSanitizer checks it)
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_003_invalid_socket_fails) {
  int threads = thread_count();
  EXPECT_EQ(async_socket_create(nullptr, INVALID_SOCKET), nullptr);
  EXECUTION_ENGINE_HANDLE engine = execution_engine_create(nullptr);
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(async_socket_create(engine, INVALID_SOCKET), nullptr);
  execution_engine_dec_ref(engine);
  // Nothing was left running.
  EXPECT_EQ(wait_thread_count(threads), threads);
}

// Visible consequence of "retrieves the COMPLETION_PORT_HANDLE": every socket of the process uses
// one completion port, whose one loop thread is started by the first socket, runs the callbacks of
// all of them, and is not the caller's thread.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_005_sockets_share_the_completion_port) {
  int threads = thread_count();
  tcp_pair p = make_tcp_pair();
  tcp_pair q = make_tcp_pair();
  ASYNC_SOCKET_HANDLE a = open_socket(p.client);
  EXPECT_EQ(thread_count(), threads + 1) << "the first socket starts the port's thread";
  ASYNC_SOCKET_HANDLE b = open_socket(q.client);
  EXPECT_EQ(thread_count(), threads + 1) << "the second socket shares it";
  unsigned char x = 0;
  unsigned char y = 0;
  ASYNC_SOCKET_BUFFER bx{&x, 1};
  ASYNC_SOCKET_BUFFER by{&y, 1};
  receive_recorder ra;
  receive_recorder rb;
  ASSERT_EQ(async_socket_receive_async(a, &bx, 1, on_receive, &ra), 0);
  ASSERT_EQ(async_socket_receive_async(b, &by, 1, on_receive, &rb), 0);
  unsigned char one = 1;
  write_all(p.server.get(), &one, 1);
  write_all(q.server.get(), &one, 1);
  ASSERT_TRUE(ra.wait());
  ASSERT_TRUE(rb.wait());
  EXPECT_EQ(ra.at(0).thread, rb.at(0).thread);
  EXPECT_NE(ra.at(0).thread, std::this_thread::get_id());
  async_socket_destroy(a);
  async_socket_destroy(b);
  EXPECT_EQ(wait_thread_count(threads), threads) << "the last reference stops the thread";
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_006_create_fails_on_errors) {
  int threads = thread_count();
  // A descriptor number that is not open.
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(async_socket_create(nullptr, fds[0]), nullptr);
  // A descriptor that is no socket: the caller keeps it, unchanged (still blocking).
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  fd_owner r(fds[0]);
  fd_owner w(fds[1]);
  EXPECT_EQ(async_socket_create(nullptr, r.get()), nullptr);
  EXPECT_TRUE(fd_is_open(r.get()));
  EXPECT_EQ(::fcntl(r.get(), F_GETFL) & O_NONBLOCK, 0);
  // Other negative values.
  EXPECT_EQ(async_socket_create(nullptr, -2), nullptr);
  EXPECT_EQ(wait_thread_count(threads), threads);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_019_destroy_null_returns) {
  async_socket_destroy(nullptr);
}

// While the socket is CLOSING (a close waiting for a send call whose callback is running),
// async_socket_destroy on a third thread waits for the close to complete.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_020_destroy_waits_for_close_in_progress) {
  tcp_pair p = make_tcp_pair();
  ASYNC_SOCKET_HANDLE h = open_socket(p.client);
  ASSERT_NE(h, nullptr);
  struct gate_t {
    std::mutex m;
    std::condition_variable cv;
    bool entered = false;
    bool open = false;
    std::atomic<bool> callback_done{false};
  } gate;
  auto blocking_callback = [](void* context, ASYNC_SOCKET_SEND_RESULT) {
    auto& g = *static_cast<gate_t*>(context);
    std::unique_lock lock(g.m);
    g.entered = true;
    g.cv.notify_all();
    g.cv.wait_for(lock, patience, [&] { return g.open; });
    g.callback_done = true;
  };
  unsigned char byte = 1;
  ASYNC_SOCKET_BUFFER b{&byte, 1};
  std::thread sender([&] {
    EXPECT_EQ(async_socket_send_async(h, &b, 1, blocking_callback, &gate), ASYNC_SOCKET_SEND_SYNC_OK);
  });
  {
    std::unique_lock lock(gate.m);
    ASSERT_TRUE(gate.cv.wait_for(lock, patience, [&] { return gate.entered; }));
  }
  std::thread closer([&] { async_socket_close(h); });
  // The socket is CLOSING once sends are refused.
  auto deadline = std::chrono::steady_clock::now() + patience;
  while (async_socket_send_async(h, &b, 1, ignore_send, nullptr) == ASYNC_SOCKET_SEND_SYNC_OK &&
         std::chrono::steady_clock::now() < deadline) {
  }
  std::atomic<bool> destroyed{false};
  std::thread destroyer([&] {
    async_socket_destroy(h);
    destroyed = true;
  });
  // However long we look, destroy does not return while the close waits.
  for (int i = 0; i < 20 && !destroyed; ++i) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_FALSE(destroyed) << "destroy returned while the socket was CLOSING";
  {
    std::lock_guard lock(gate.m);
    gate.open = true;
  }
  gate.cv.notify_all();
  sender.join();
  closer.join();
  destroyer.join();
  EXPECT_TRUE(destroyed);
  EXPECT_TRUE(gate.callback_done);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_021_destroy_closes_an_open_socket) {
  tcp_pair p = make_tcp_pair();
  ASYNC_SOCKET_HANDLE h = open_socket(p.client);
  ASSERT_NE(h, nullptr);
  unsigned char in[4];
  ASYNC_SOCKET_BUFFER b{in, sizeof(in)};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(h, &b, 1, on_receive, &received), 0);
  async_socket_destroy(h);
  // The pending receive completed, ABANDONED, before destroy returned.
  ASSERT_EQ(received.count(), 1U);
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_ABANDONED);
  EXPECT_EQ(received.at(0).bytes, 0U);
  // The peer sees the connection closed.
  unsigned char c;
  EXPECT_EQ(::recv(p.server.get(), &c, 1, 0), 0);
}

// Visible consequence: destroying the last socket releases the port, whose thread then stops.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_022_destroy_releases_the_completion_port) {
  int threads = thread_count();
  EXECUTION_ENGINE_HANDLE engine = execution_engine_create(nullptr);
  ASSERT_NE(engine, nullptr);
  tcp_pair p = make_tcp_pair();
  ASYNC_SOCKET_HANDLE h = async_socket_create(engine, p.client.release());
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(thread_count(), threads + 1);
  async_socket_destroy(h);
  EXPECT_EQ(thread_count(), threads + 1) << "the engine still holds the port";
  execution_engine_dec_ref(engine);
  EXPECT_EQ(wait_thread_count(threads), threads);
  // Never opened, the socket released its reference all the same.
  tcp_pair q = make_tcp_pair();
  ASYNC_SOCKET_HANDLE h2 = async_socket_create(nullptr, q.client.release());
  ASSERT_NE(h2, nullptr);
  async_socket_destroy(h2);
  EXPECT_EQ(wait_thread_count(threads), threads);
}

// Visible consequence: the descriptor is closed (opened or not), and creating and destroying a
// thousand sockets leaves no descriptor behind (LeakSanitizer checks the memory under asan).
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_023_destroy_frees_everything) {
  auto open_fds = [] {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
      while (::dirent* e = ::readdir(d)) {
        n += e->d_name[0] != '.' ? 1 : 0;
      }
      ::closedir(d);
    }
    return n;
  };
  // An engine keeps the port running, so that the loop does not test thread start-up a thousand times.
  EXECUTION_ENGINE_HANDLE engine = execution_engine_create(nullptr);
  ASSERT_NE(engine, nullptr);
  int before = open_fds();
  for (int i = 0; i < 1000; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    ASYNC_SOCKET_HANDLE h = async_socket_create(nullptr, fd);
    ASSERT_NE(h, nullptr);
    if (i % 2 == 0) {
      ASSERT_EQ(async_socket_open_async(h, ignore_open, nullptr), 0);
    }
    async_socket_destroy(h);
    EXPECT_FALSE(fd_is_open(fd));
  }
  EXPECT_EQ(open_fds(), before);
  execution_engine_dec_ref(engine);
}

SENET_C_TEST_BACKENDS(async_socket_srs);

}  // namespace
}  // namespace senet::c_test
