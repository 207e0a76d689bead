// SPDX-License-Identifier: BSL-1.0
// SRS_ASYNC_SOCKET_LINUX_11_024 .. 042: async_socket_open_async and async_socket_close.
// senet-test-labels: threaded (the completion port starts its loop thread)
#include <senet/c/async_socket.h>

#include "c/async_socket_srs_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace senet::c_test {
namespace {

/** An async socket created (not opened) on the client end of a fresh TCP pair. */
struct created_socket {
  tcp_pair pair = make_tcp_pair();
  ASYNC_SOCKET_HANDLE handle = nullptr;
  created_socket() {
    handle = async_socket_create(nullptr, pair.client.get());
    EXPECT_NE(handle, nullptr);
    pair.client.release();
  }
  ~created_socket() { async_socket_destroy(handle); }
  created_socket(const created_socket&) = delete;
  created_socket& operator=(const created_socket&) = delete;
};

/** A send callback that blocks until the test opens its gate, so that a send call stays executing. */
struct send_gate : callback_gate {
  std::atomic<bool> done{false};

  static void callback(void* context, ASYNC_SOCKET_SEND_RESULT) {
    auto& g = *static_cast<send_gate*>(context);
    g.hold();
    g.done = true;
  }
};

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_024_open_with_null_socket_fails) {
  open_recorder opened;
  EXPECT_NE(async_socket_open_async(nullptr, on_open, &opened), 0);
  EXPECT_EQ(opened.count(), 0U);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_025_open_with_null_callback_fails) {
  created_socket s;
  EXPECT_NE(async_socket_open_async(s.handle, nullptr, nullptr), 0);
  // The failed call left the socket as it was: it can be opened.
  open_recorder opened;
  EXPECT_EQ(async_socket_open_async(s.handle, on_open, &opened), 0);
  EXPECT_EQ(opened.count(), 1U);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_026_open_context_may_be_null) {
  created_socket s;
  static std::atomic<int> calls{0};
  calls = 0;
  auto callback = [](void* context, ASYNC_SOCKET_OPEN_RESULT r) {
    EXPECT_EQ(context, nullptr);
    EXPECT_EQ(r, ASYNC_SOCKET_OPEN_OK);
    ++calls;
  };
  EXPECT_EQ(async_socket_open_async(s.handle, callback, nullptr), 0);
  EXPECT_EQ(calls, 1);
}

// Visible consequence of switching to OPENING first: of opens racing on one socket, exactly one
// succeeds (the others find it OPENING or OPEN), and its callback runs once.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_027_open_switches_to_opening_once) {
  for (int round = 0; round < 200; ++round) {
    created_socket s;
    open_recorder opened;
    std::atomic<int> successes{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        if (async_socket_open_async(s.handle, on_open, &opened) == 0) {
          ++successes;
        }
      });
    }
    for (auto& t : threads) {
      t.join();
    }
    ASSERT_EQ(successes, 1);
    ASSERT_EQ(opened.count(), 1U);
  }
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_028_open_returns_zero) {
  created_socket s;
  EXPECT_EQ(async_socket_open_async(s.handle, ignore_open, nullptr), 0);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_029_open_when_open_fails) {
  created_socket s;
  open_recorder opened;
  ASSERT_EQ(async_socket_open_async(s.handle, on_open, &opened), 0);
  EXPECT_NE(async_socket_open_async(s.handle, on_open, &opened), 0);
  EXPECT_EQ(opened.count(), 1U) << "the failed open called its callback";
  // From the open callback itself, while the first open is still executing.
  created_socket s2;
  struct ctx_t {
    ASYNC_SOCKET_HANDLE h;
    int nested;
  } ctx{s2.handle, 0};
  auto callback = [](void* context, ASYNC_SOCKET_OPEN_RESULT) {
    auto& c = *static_cast<ctx_t*>(context);
    c.nested = async_socket_open_async(c.h, ignore_open, nullptr);
  };
  ASSERT_EQ(async_socket_open_async(s2.handle, callback, &ctx), 0);
  EXPECT_NE(ctx.nested, 0);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_030_open_after_close_fails) {
  created_socket s;
  ASSERT_EQ(async_socket_open_async(s.handle, ignore_open, nullptr), 0);
  async_socket_close(s.handle);
  open_recorder opened;
  EXPECT_NE(async_socket_open_async(s.handle, on_open, &opened), 0);
  EXPECT_EQ(opened.count(), 0U);
}

// Visible consequence of registering the descriptor with the completion port: once open, a receive
// completes when data arrives, on the port's thread.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_031_open_registers_with_the_completion_port) {
  created_socket s;
  ASSERT_EQ(async_socket_open_async(s.handle, ignore_open, nullptr), 0);
  unsigned char in[8];
  ASYNC_SOCKET_BUFFER b{in, sizeof(in)};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &received), 0);
  write_all(s.pair.server.get(), "ping", 4);
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_OK);
  EXPECT_EQ(received.at(0).bytes, 4U);
  EXPECT_NE(received.at(0).thread, std::this_thread::get_id());
}

// The socket is OPEN when the callback runs: it can send from there.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_032_open_sets_state_open) {
  created_socket s;
  struct ctx_t {
    ASYNC_SOCKET_HANDLE h;
    ASYNC_SOCKET_SEND_SYNC_RESULT r;
  } ctx{s.handle, ASYNC_SOCKET_SEND_SYNC_ERROR};
  auto callback = [](void* context, ASYNC_SOCKET_OPEN_RESULT) {
    auto& c = *static_cast<ctx_t*>(context);
    static unsigned char byte = 'x';
    ASYNC_SOCKET_BUFFER b{&byte, 1};
    c.r = async_socket_send_async(c.h, &b, 1, ignore_send, nullptr);
  };
  ASSERT_EQ(async_socket_open_async(s.handle, callback, &ctx), 0);
  EXPECT_EQ(ctx.r, ASYNC_SOCKET_SEND_SYNC_OK);
  EXPECT_EQ(read_exactly(s.pair.server.get(), 1).at(0), 'x');
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_033_open_calls_callback_with_ok) {
  created_socket s;
  open_recorder opened;
  ASSERT_EQ(async_socket_open_async(s.handle, on_open, &opened), 0);
  // Before the call returned, on the calling thread, once.
  ASSERT_EQ(opened.count(), 1U);
  EXPECT_EQ(opened.at(0).result, ASYNC_SOCKET_OPEN_OK);
  EXPECT_EQ(opened.at(0).thread, std::this_thread::get_id());
}

// Every failing open returns non-zero and never calls its callback.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_034_open_errors_return_nonzero) {
  open_recorder opened;
  EXPECT_NE(async_socket_open_async(nullptr, on_open, &opened), 0);
  created_socket s;
  EXPECT_NE(async_socket_open_async(s.handle, nullptr, &opened), 0);
  ASSERT_EQ(async_socket_open_async(s.handle, on_open, &opened), 0);
  EXPECT_NE(async_socket_open_async(s.handle, on_open, &opened), 0);
  async_socket_close(s.handle);
  EXPECT_NE(async_socket_open_async(s.handle, on_open, &opened), 0);
  EXPECT_EQ(opened.count(), 1U);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_035_close_null_returns) {
  async_socket_close(nullptr);
}

// While a close waits for a send call in progress, the socket is CLOSING: new calls fail as on a
// socket that is not OPEN.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_036_close_switches_to_closing) {
  created_socket s;
  ASSERT_EQ(async_socket_open_async(s.handle, ignore_open, nullptr), 0);
  send_gate gate;
  unsigned char byte = 1;
  ASYNC_SOCKET_BUFFER b{&byte, 1};
  std::thread sender([&] { async_socket_send_async(s.handle, &b, 1, send_gate::callback, &gate); });
  ASSERT_TRUE(gate.wait_entered());
  std::thread closer([&] { async_socket_close(s.handle); });
  auto deadline = std::chrono::steady_clock::now() + patience;
  ASYNC_SOCKET_SEND_SYNC_RESULT r = ASYNC_SOCKET_SEND_SYNC_OK;
  while (r == ASYNC_SOCKET_SEND_SYNC_OK && std::chrono::steady_clock::now() < deadline) {
    r = async_socket_send_async(s.handle, &b, 1, ignore_send, nullptr);
  }
  EXPECT_EQ(r, ASYNC_SOCKET_SEND_SYNC_ABANDONED);
  unsigned char in;
  ASYNC_SOCKET_BUFFER rb{&in, 1};
  EXPECT_NE(async_socket_receive_async(s.handle, &rb, 1, ignore_receive, nullptr), 0);
  EXPECT_NE(async_socket_open_async(s.handle, ignore_open, nullptr), 0);
  gate.release();
  sender.join();
  closer.join();
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_037_close_waits_for_executing_calls) {
  for (int round = 0; round < 20; ++round) {
    created_socket s;
    ASSERT_EQ(async_socket_open_async(s.handle, ignore_open, nullptr), 0);
    send_gate gate;
    unsigned char byte = 1;
    ASYNC_SOCKET_BUFFER b{&byte, 1};
    std::thread sender([&] { async_socket_send_async(s.handle, &b, 1, send_gate::callback, &gate); });
    ASSERT_TRUE(gate.wait_entered());
    std::atomic<bool> closed{false};
    std::atomic<bool> callback_done_at_close{false};
    std::thread closer([&] {
      async_socket_close(s.handle);
      callback_done_at_close = gate.done.load();
      closed = true;
    });
    for (int i = 0; i < 5 && !closed; ++i) {
      std::this_thread::sleep_for(1ms);
    }
    EXPECT_FALSE(closed) << "close returned while a send call was executing";
    gate.release();
    closer.join();
    sender.join();
    EXPECT_TRUE(callback_done_at_close) << "close returned before the executing send call";
  }
}

// The underlying descriptor is closed: the peer reads the end of the stream, and the descriptor
// number is no longer open in this process.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_039_close_closes_the_socket) {
  tcp_pair p = make_tcp_pair();
  int fd = p.client.get();
  ASYNC_SOCKET_HANDLE h = open_socket(p.client);
  ASSERT_NE(h, nullptr);
  async_socket_close(h);
  EXPECT_FALSE(fd_is_open(fd));
  unsigned char c;
  EXPECT_EQ(::recv(p.server.get(), &c, 1, 0), 0);
  async_socket_destroy(h);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_041_close_sets_state_closed) {
  created_socket s;
  ASSERT_EQ(async_socket_open_async(s.handle, ignore_open, nullptr), 0);
  async_socket_close(s.handle);
  unsigned char byte = 1;
  ASYNC_SOCKET_BUFFER b{&byte, 1};
  send_recorder sent;
  receive_recorder received;
  notify_recorder notified;
  EXPECT_EQ(async_socket_send_async(s.handle, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_ABANDONED);
  EXPECT_NE(async_socket_receive_async(s.handle, &b, 1, on_receive, &received), 0);
  EXPECT_NE(async_socket_notify_io_async(s.handle, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, on_notify, &notified), 0);
  EXPECT_NE(async_socket_open_async(s.handle, ignore_open, nullptr), 0);
  async_socket_close(s.handle);  // closing again does nothing
  EXPECT_EQ(sent.count() + received.count() + notified.count(), 0U);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_042_close_when_not_open_returns) {
  created_socket s;
  // Never opened: close does nothing, and the socket can still be opened and used.
  async_socket_close(s.handle);
  ASSERT_EQ(async_socket_open_async(s.handle, ignore_open, nullptr), 0);
  unsigned char byte = 'k';
  ASYNC_SOCKET_BUFFER b{&byte, 1};
  EXPECT_EQ(async_socket_send_async(s.handle, &b, 1, ignore_send, nullptr), ASYNC_SOCKET_SEND_SYNC_OK);
  EXPECT_EQ(read_exactly(s.pair.server.get(), 1).at(0), 'k');
}

SENET_C_TEST_BACKENDS(async_socket_srs);

}  // namespace
}  // namespace senet::c_test
