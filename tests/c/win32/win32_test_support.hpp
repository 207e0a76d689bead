// SPDX-License-Identifier: BSL-1.0
// Support for the Windows C API tests (run under Wine): Winsock set up once per process, loopback
// TCP pairs on 127.0.0.1 port 0, callback records that count their calls, bounded waits, and a
// count of the live C++ heap allocations (to see that a socket and its operations free everything).
#ifndef SENET_TESTS_C_WIN32_WIN32_TEST_SUPPORT_HPP
#define SENET_TESTS_C_WIN32_WIN32_TEST_SUPPORT_HPP

#include <senet/c/async_socket.h>
#include <senet/c/execution_engine.h>
#include <senet/c/execution_engine_win32.h>

#include <winsock2.h>
#include <ws2tcpip.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>

namespace wintest {

/** Every bounded wait of these tests: far above what a loopback operation takes. */
inline constexpr std::chrono::seconds wait_limit{20};

/** The C++ heap blocks allocated and not yet freed, by any thread (the test's operator new). */
std::int64_t live_allocations() noexcept;

/** A connected loopback TCP pair (overlapped sockets, as socket() and accept() make them). */
struct tcp_pair {
  SOCKET client = INVALID_SOCKET;
  SOCKET server = INVALID_SOCKET;
};

/** Connects a new pair through a listener on 127.0.0.1, port 0; INVALID_SOCKETs on failure. */
tcp_pair make_tcp_pair();

/** Closes `s` with an RST (SO_LINGER 0), as a peer that resets the connection does. */
void reset_socket(SOCKET s);

/** Receives exactly `n` bytes with blocking recv (on a socket the test still owns). */
bool recv_all(SOCKET s, char* data, int n);
/** Sends all `n` bytes with blocking send. */
bool send_all(SOCKET s, const char* data, int n);

/** Waits (bounded) until `pred()` holds, polling; returns whether it did. */
template <class Pred>
bool eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + wait_limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

/** What one kind of callback was called with, and how often. */
struct callback_record {
  std::mutex m;
  std::condition_variable cv;
  int calls = 0;
  int result = -1;
  std::uint32_t bytes = 0;
  void* context = nullptr;
  DWORD thread = 0;

  void record(void* ctx, int r, std::uint32_t n) {
    std::lock_guard lock(m);
    ++calls;
    result = r;
    bytes = n;
    context = ctx;
    thread = ::GetCurrentThreadId();
    cv.notify_all();
  }
  /** Waits (bounded) for at least `n` calls; returns the number of calls. */
  int wait_calls(int n = 1) {
    std::unique_lock lock(m);
    cv.wait_for(lock, wait_limit, [&] { return calls >= n; });
    return calls;
  }
  int count() {
    std::lock_guard lock(m);
    return calls;
  }
};

// Callbacks that record into a callback_record passed as their context.
void on_open(void* context, ASYNC_SOCKET_OPEN_RESULT result);
void on_send(void* context, ASYNC_SOCKET_SEND_RESULT result);
void on_receive(void* context, ASYNC_SOCKET_RECEIVE_RESULT result, std::uint32_t bytes);

/** A gate a callback can wait at (bounded) until the test opens it. */
struct gate {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  std::atomic<bool> reached{false};
  void wait() {
    reached = true;
    std::unique_lock lock(m);
    cv.wait_for(lock, wait_limit, [&] { return open; });
  }
  void release() {
    std::lock_guard lock(m);
    open = true;
    cv.notify_all();
  }
};

/** A receive whose callback waits at a gate (bounded) before it counts its call: for tests of
    what close and destroy do while a callback runs. */
struct gated_receive {
  gate g;
  std::atomic<int> calls{0};
  char in[8] = {};

  /** Starts the receive on `h`; true when it was accepted. */
  bool start(ASYNC_SOCKET_HANDLE h) {
    ASYNC_SOCKET_BUFFER b{in, sizeof in};
    return async_socket_receive_async(
               h, &b, 1,
               [](void* p, ASYNC_SOCKET_RECEIVE_RESULT, std::uint32_t) {
                 auto* self = static_cast<gated_receive*>(p);
                 self->g.wait();
                 ++self->calls;
               },
               this) == 0;
  }
};

/** An engine for one test, released at its end. */
class engine_test : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = execution_engine_create(nullptr);
    ASSERT_NE(engine_, nullptr);
  }
  void TearDown() override { execution_engine_dec_ref(engine_); }

  /** An OPEN async socket over `s` (which it then owns), or null. */
  ASYNC_SOCKET_HANDLE open_socket(SOCKET s) {
    ASYNC_SOCKET_HANDLE h = async_socket_create(engine_, s);
    if (h == nullptr) {
      return nullptr;
    }
    callback_record opened;
    if (async_socket_open_async(h, on_open, &opened) != 0 || opened.count() != 1 ||
        opened.result != ASYNC_SOCKET_OPEN_OK) {
      async_socket_destroy(h);
      return nullptr;
    }
    return h;
  }

  EXECUTION_ENGINE_HANDLE engine_ = nullptr;
};

}  // namespace wintest

#endif
