// SPDX-License-Identifier: BSL-1.0
// SRS_ASYNC_SOCKET_LINUX_11_064 .. 078 and 102: async_socket_receive_async.
// senet-test-labels: threaded (the completion port starts its loop thread)
#include <senet/c/async_socket.h>

#include "c/async_socket_srs_support.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

namespace senet::c_test {
namespace {

struct open_pair {
  tcp_pair pair = make_tcp_pair();
  ASYNC_SOCKET_HANDLE handle = nullptr;
  int server() const { return pair.server.get(); }
  open_pair() { handle = open_socket(pair.client); }
  ~open_pair() { async_socket_destroy(handle); }
  open_pair(const open_pair&) = delete;
  open_pair& operator=(const open_pair&) = delete;
};

/** A round trip through the port: when it returns, what the port had queued before has run. A
    rejected receive must not have queued a callback: after this, none may have come. */
void port_barrier(ASYNC_SOCKET_HANDLE h) {
  notify_recorder writable;
  ASSERT_EQ(async_socket_notify_io_async(h, ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT, on_notify, &writable), 0);
  ASSERT_TRUE(writable.wait());
}

/** Checks that a receive call with these arguments fails and never calls back. */
void expect_rejected(open_pair& s, ASYNC_SOCKET_BUFFER* payload, std::uint32_t count,
                     bool null_callback = false) {
  receive_recorder received;
  EXPECT_NE(
      async_socket_receive_async(s.handle, payload, count, null_callback ? nullptr : on_receive, &received),
      0);
  port_barrier(s.handle);
  write_all(s.server(), "z", 1);
  // The byte stays for a receive that was accepted: take it with one, which completes first.
  unsigned char c = 0;
  ASYNC_SOCKET_BUFFER b{&c, 1};
  receive_recorder check;
  ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &check), 0);
  ASSERT_TRUE(check.wait());
  EXPECT_EQ(check.at(0).result, ASYNC_SOCKET_RECEIVE_OK);
  EXPECT_EQ(c, 'z');
  EXPECT_EQ(received.count(), 0U);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_064_receive_with_null_socket_fails) {
  unsigned char c;
  ASYNC_SOCKET_BUFFER b{&c, 1};
  receive_recorder received;
  EXPECT_NE(async_socket_receive_async(nullptr, &b, 1, on_receive, &received), 0);
  EXPECT_EQ(received.count(), 0U);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_065_receive_with_null_buffers_fails) {
  open_pair s;
  expect_rejected(s, nullptr, 1);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_066_receive_with_zero_buffer_count_fails) {
  open_pair s;
  unsigned char c;
  ASYNC_SOCKET_BUFFER b{&c, 1};
  expect_rejected(s, &b, 0);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_067_receive_with_null_buffer_fails) {
  open_pair s;
  unsigned char c;
  ASYNC_SOCKET_BUFFER b[2] = {{&c, 1}, {nullptr, 4}};
  expect_rejected(s, b, 2);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_068_receive_with_zero_length_buffer_fails) {
  open_pair s;
  unsigned char c;
  ASYNC_SOCKET_BUFFER b[2] = {{&c, 0}, {&c, 1}};
  expect_rejected(s, b, 2);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_069_receive_with_lengths_past_uint32_max_fails) {
  open_pair s;
  // Rejected before any byte is touched, so the buffers need not be that large.
  static unsigned char c;
  ASYNC_SOCKET_BUFFER b[2] = {{&c, UINT32_MAX}, {&c, 1}};
  expect_rejected(s, b, 2);
  ASYNC_SOCKET_BUFFER d[3] = {{&c, 0x7FFFFFFFU}, {&c, 0x7FFFFFFFU}, {&c, 2}};
  expect_rejected(s, d, 3);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_070_receive_with_null_callback_fails) {
  open_pair s;
  unsigned char c;
  ASYNC_SOCKET_BUFFER b{&c, 1};
  expect_rejected(s, &b, 1, true);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_071_receive_context_may_be_null) {
  open_pair s;
  static std::mutex m;
  static std::condition_variable cv;
  static int calls;
  calls = 0;
  auto callback = [](void* context, ASYNC_SOCKET_RECEIVE_RESULT r, uint32_t n) {
    EXPECT_EQ(context, nullptr);
    EXPECT_EQ(r, ASYNC_SOCKET_RECEIVE_OK);
    EXPECT_EQ(n, 1U);
    std::lock_guard lock(m);
    ++calls;
    cv.notify_all();
  };
  unsigned char c = 0;
  ASYNC_SOCKET_BUFFER b{&c, 1};
  ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, callback, nullptr), 0);
  write_all(s.server(), "q", 1);
  std::unique_lock lock(m);
  ASSERT_TRUE(cv.wait_for(lock, patience, [] { return calls == 1; }));
  EXPECT_EQ(c, 'q');
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_072_receive_when_not_open_fails) {
  tcp_pair p = make_tcp_pair();
  ASYNC_SOCKET_HANDLE h = async_socket_create(nullptr, p.client.release());
  ASSERT_NE(h, nullptr);
  unsigned char c;
  ASYNC_SOCKET_BUFFER b{&c, 1};
  receive_recorder received;
  EXPECT_NE(async_socket_receive_async(h, &b, 1, on_receive, &received), 0);  // never opened
  ASSERT_EQ(async_socket_open_async(h, ignore_open, nullptr), 0);
  async_socket_close(h);
  EXPECT_NE(async_socket_receive_async(h, &b, 1, on_receive, &received), 0);  // closed
  async_socket_destroy(h);
  EXPECT_EQ(received.count(), 0U);
}

// The context keeps the payload and the callback: the caller's ASYNC_SOCKET_BUFFER array may be
// overwritten as soon as the call returns; the data lands where the array pointed.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_073_receive_context_stores_payload_and_callback) {
  open_pair s;
  unsigned char in[5] = {};
  auto* array = new ASYNC_SOCKET_BUFFER[1]{{in, sizeof(in)}};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(s.handle, array, 1, on_receive, &received), 0);
  array[0] = {nullptr, 0};
  delete[] array;
  write_all(s.server(), "hello", 5);
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_OK);
  EXPECT_EQ(received.at(0).bytes, 5U);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(in), 5), "hello");
}

// The context holds all `buffer_count` buffers: data fills them in order.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_074_receive_context_holds_every_buffer) {
  open_pair s;
  unsigned char a[2] = {};
  unsigned char b[3] = {};
  unsigned char c[4] = {};
  ASYNC_SOCKET_BUFFER bufs[3] = {{a, 2}, {b, 3}, {c, 4}};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(s.handle, bufs, 3, on_receive, &received), 0);
  write_all(s.server(), "123456789", 9);
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_OK);
  EXPECT_EQ(received.at(0).bytes, 9U);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(a), 2), "12");
  EXPECT_EQ(std::string(reinterpret_cast<char*>(b), 3), "345");
  EXPECT_EQ(std::string(reinterpret_cast<char*>(c), 4), "6789");
}

// Added to the completion port, waiting for EPOLLIN: no callback while nothing arrives (a round trip
// through the port shows the receive is armed and still pending), and one when data comes.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_102_receive_waits_on_the_port_for_data) {
  open_pair s;
  unsigned char in[16];
  ASYNC_SOCKET_BUFFER b{in, sizeof(in)};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &received), 0);
  port_barrier(s.handle);
  EXPECT_EQ(received.count(), 0U);
  write_all(s.server(), "later", 5);
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_OK);
  EXPECT_EQ(received.at(0).bytes, 5U);
  EXPECT_NE(received.at(0).thread, std::this_thread::get_id());
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_077_receive_returns_zero) {
  open_pair s;
  unsigned char c;
  ASYNC_SOCKET_BUFFER b{&c, 1};
  receive_recorder received;
  EXPECT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &received), 0);
  write_all(s.server(), "x", 1);
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(received.count(), 1U);
}

// Every failing receive returns non-zero and never calls back.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_078_receive_errors_return_nonzero) {
  open_pair s;
  unsigned char c;
  ASYNC_SOCKET_BUFFER good{&c, 1};
  ASYNC_SOCKET_BUFFER null_buffer{nullptr, 1};
  ASYNC_SOCKET_BUFFER empty{&c, 0};
  receive_recorder received;
  EXPECT_NE(async_socket_receive_async(nullptr, &good, 1, on_receive, &received), 0);
  EXPECT_NE(async_socket_receive_async(s.handle, nullptr, 1, on_receive, &received), 0);
  EXPECT_NE(async_socket_receive_async(s.handle, &good, 0, on_receive, &received), 0);
  EXPECT_NE(async_socket_receive_async(s.handle, &null_buffer, 1, on_receive, &received), 0);
  EXPECT_NE(async_socket_receive_async(s.handle, &empty, 1, on_receive, &received), 0);
  EXPECT_NE(async_socket_receive_async(s.handle, &good, 1, nullptr, &received), 0);
  async_socket_close(s.handle);
  EXPECT_NE(async_socket_receive_async(s.handle, &good, 1, on_receive, &received), 0);
  EXPECT_EQ(received.count(), 0U);
}

SENET_C_TEST_BACKENDS(async_socket_srs);

}  // namespace
}  // namespace senet::c_test
