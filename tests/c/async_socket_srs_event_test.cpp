// SPDX-License-Identifier: BSL-1.0
// SRS_ASYNC_SOCKET_LINUX_11_079 .. 101: what happens when the completion port reports an event
// (the seed's event_complete_callback), observed through the callbacks of real loopback sockets.
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
  int client_fd = -1;
  int server() const { return pair.server.get(); }
  explicit open_pair(bool small = false) {
    if (small) {
      small_buffers(pair.client.get(), pair.server.get());
    }
    client_fd = pair.client.get();
    handle = open_socket(pair.client);
  }
  ~open_pair() { async_socket_destroy(handle); }
  open_pair(const open_pair&) = delete;
  open_pair& operator=(const open_pair&) = delete;
};

constexpr std::size_t big = 1 << 20;

void port_barrier(ASYNC_SOCKET_HANDLE h) {
  notify_recorder writable;
  ASSERT_EQ(async_socket_notify_io_async(h, ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT, on_notify, &writable), 0);
  ASSERT_TRUE(writable.wait());
}

/** A connected UDP socket whose peer port is closed: what it sends comes back as ICMP "port
    unreachable", and the error (ECONNREFUSED) is then pending on it. */
struct refused_udp {
  fd_owner fd;
  ASYNC_SOCKET_HANDLE handle = nullptr;
  refused_udp() {
    auto [gone, gone_addr] = make_udp();
    gone.reset();  // nobody listens there any more
    auto [s, addr] = make_udp();
    EXPECT_EQ(::connect(s.get(), reinterpret_cast<::sockaddr*>(&gone_addr), sizeof(gone_addr)), 0);
    fd = std::move(s);
    handle = open_socket(fd);
  }
  ~refused_udp() { async_socket_destroy(handle); }
  refused_udp(const refused_udp&) = delete;
  refused_udp& operator=(const refused_udp&) = delete;
};

// An event that finds no operation of the socket (data arriving while no receive is pending, the
// peer's close) does nothing: no callback, no crash, and the data waits for the next receive.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_079_event_without_operation_does_nothing) {
  open_pair s;
  notify_recorder readable;
  ASSERT_EQ(async_socket_notify_io_async(s.handle, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, on_notify, &readable), 0);
  write_all(s.server(), "abc", 3);
  ASSERT_TRUE(readable.wait());  // the port saw the event, with no receive pending
  port_barrier(s.handle);
  unsigned char in[3] = {};
  ASYNC_SOCKET_BUFFER b{in, 3};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &received), 0);
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_OK);
  EXPECT_EQ(received.at(0).bytes, 3U);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(in), 3), "abc");
}

// RDHUP (the peer closed) and ABANDONED (the socket closed) end pending operations as ABANDONED.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_080_rdhup_and_abandoned_end_operations) {
  {
    open_pair s;
    unsigned char in[4];
    ASYNC_SOCKET_BUFFER b{in, 4};
    receive_recorder received;
    ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &received), 0);
    s.pair.server.reset();  // RDHUP
    ASSERT_TRUE(received.wait());
    EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_ABANDONED);
    EXPECT_EQ(received.at(0).bytes, 0U);
  }
  {
    open_pair s;
    unsigned char in[4];
    ASYNC_SOCKET_BUFFER b{in, 4};
    receive_recorder received;
    ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &received), 0);
    async_socket_close(s.handle);  // ABANDONED
    ASSERT_EQ(received.count(), 1U);
    EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_ABANDONED);
  }
}

// Both kinds of operations get ABANDONED: a send waiting for room and receives waiting for data,
// each called once, in the order they were queued.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_081_abandoned_send_and_receive_callbacks) {
  open_pair s(true);
  std::vector<unsigned char> data = pattern(big);
  ASYNC_SOCKET_BUFFER sb{data.data(), static_cast<std::uint32_t>(data.size())};
  send_recorder sent;
  ASSERT_EQ(async_socket_send_async(s.handle, &sb, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  ASSERT_EQ(async_socket_send_async(s.handle, &sb, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  unsigned char in[2][4];
  ASYNC_SOCKET_BUFFER rb[2] = {{in[0], 4}, {in[1], 4}};
  receive_recorder first;
  receive_recorder second;
  ASSERT_EQ(async_socket_receive_async(s.handle, &rb[0], 1, on_receive, &first), 0);
  ASSERT_EQ(async_socket_receive_async(s.handle, &rb[1], 1, on_receive, &second), 0);
  async_socket_close(s.handle);
  ASSERT_EQ(sent.count(), 2U);
  EXPECT_EQ(sent.at(0).result, ASYNC_SOCKET_SEND_ABANDONED);
  EXPECT_EQ(sent.at(1).result, ASYNC_SOCKET_SEND_ABANDONED);
  ASSERT_EQ(first.count(), 1U);
  ASSERT_EQ(second.count(), 1U);
  EXPECT_EQ(first.at(0).result, ASYNC_SOCKET_RECEIVE_ABANDONED);
  EXPECT_EQ(second.at(0).result, ASYNC_SOCKET_RECEIVE_ABANDONED);
}

// Visible consequence of freeing the context after an ABANDONED completion: a thousand abandoned
// operations leave nothing behind (LeakSanitizer under asan) and each calls back exactly once.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_084_abandoned_contexts_are_freed) {
  for (int round = 0; round < 10; ++round) {
    open_pair s;
    unsigned char in[100];
    receive_recorder received;
    for (int i = 0; i < 100; ++i) {
      ASYNC_SOCKET_BUFFER b{&in[i], 1};
      ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &received), 0);
    }
    async_socket_close(s.handle);
    ASSERT_EQ(received.count(), 100U);
    for (std::size_t i = 0; i < 100; ++i) {
      EXPECT_EQ(received.at(i).result, ASYNC_SOCKET_RECEIVE_ABANDONED);
    }
  }
}

// EPOLLIN: a pending receive reads what arrived.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_082_epollin_completes_receive) {
  open_pair s;
  unsigned char in[8];
  ASYNC_SOCKET_BUFFER b{in, sizeof(in)};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &received), 0);
  write_all(s.server(), "in", 2);
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_OK);
  EXPECT_EQ(received.at(0).bytes, 2U);
  EXPECT_NE(received.at(0).thread, std::this_thread::get_id());
}

// recv into the receive's buffer: the bytes are the peer's, at the buffer's start, nothing past
// what was received is touched.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_083_recv_into_the_buffer) {
  open_pair s;
  std::vector<unsigned char> in(64, 0xEE);
  ASYNC_SOCKET_BUFFER b{in.data(), 60};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &received), 0);
  std::vector<unsigned char> data = pattern(40, 3);
  write_all(s.server(), data.data(), data.size());
  ASSERT_TRUE(received.wait());
  ASSERT_EQ(received.at(0).bytes, 40U);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), in.begin()));
  EXPECT_EQ(in[40], 0xEE);
  EXPECT_EQ(in[63], 0xEE);
}

// recv < 0 is handled by errno (089, 090, 095): after each, the socket is left in a sane state.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_088_recv_failure_is_handled_by_errno) {
  open_pair s;
  unsigned char in[4];
  ASYNC_SOCKET_BUFFER b{in, 4};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &received), 0);
  close_with_reset(s.pair.server);  // recv fails: ECONNRESET
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_ABANDONED);
  EXPECT_EQ(received.count(), 1U);
  // The socket stays usable for the API: a later receive is accepted and completes.
  receive_recorder again;
  ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &again), 0);
  ASSERT_TRUE(again.wait());
  EXPECT_NE(again.at(0).result, ASYNC_SOCKET_RECEIVE_OK);
}

// EAGAIN: an event that brings no data (the socket became writable; a send completed) leaves the
// receive pending; it completes when data comes.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_089_eagain_keeps_the_receive_pending) {
  open_pair s(true);
  unsigned char in[4];
  ASYNC_SOCKET_BUFFER b{in, 4};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &received), 0);
  // Write events on the same descriptor: a send that has to wait for room, and completes.
  std::vector<unsigned char> data = pattern(big);
  ASYNC_SOCKET_BUFFER sb{data.data(), static_cast<std::uint32_t>(data.size())};
  send_recorder sent;
  ASSERT_EQ(async_socket_send_async(s.handle, &sb, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  read_exactly(s.server(), big);
  ASSERT_TRUE(sent.wait());
  port_barrier(s.handle);
  EXPECT_EQ(received.count(), 0U);
  write_all(s.server(), "data", 4);
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_OK);
  EXPECT_EQ(received.at(0).bytes, 4U);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_090_econnreset_is_abandoned) {
  open_pair s;
  unsigned char in[4];
  ASYNC_SOCKET_BUFFER b{in, 4};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &received), 0);
  close_with_reset(s.pair.server);
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_ABANDONED);
  EXPECT_EQ(received.at(0).bytes, 0U);
  EXPECT_EQ(received.count(), 1U);
}

// Any other recv error: ERROR. A TCP socket that was never connected fails recv with ENOTCONN.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_095_other_recv_errors_are_errors) {
  fd_owner fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASYNC_SOCKET_HANDLE h = open_socket(fd);
  ASSERT_NE(h, nullptr);
  unsigned char in[4];
  ASYNC_SOCKET_BUFFER b{in, 4};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(h, &b, 1, on_receive, &received), 0);
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_ERROR);
  EXPECT_EQ(received.at(0).bytes, 0U);
  async_socket_destroy(h);
  EXPECT_EQ(received.count(), 1U);
}

// A zero-byte read (the peer's orderly shutdown): ABANDONED.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_091_zero_byte_read_is_abandoned) {
  open_pair s;
  unsigned char in[4];
  ASYNC_SOCKET_BUFFER b{in, 4};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &received), 0);
  ASSERT_EQ(::shutdown(s.server(), SHUT_WR), 0);
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_ABANDONED);
  EXPECT_EQ(received.at(0).bytes, 0U);
}

// recv > 0: the next buffer is filled too when more data is there; the receive completes OK with
// the total.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_092_positive_recv_fills_buffers_then_ok) {
  open_pair s;
  unsigned char a[4] = {};
  unsigned char b[4] = {};
  ASYNC_SOCKET_BUFFER bufs[2] = {{a, 4}, {b, 4}};
  write_all(s.server(), "abcdef", 6);
  port_barrier(s.handle);
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(s.handle, bufs, 2, on_receive, &received), 0);
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_OK);
  EXPECT_EQ(received.at(0).bytes, 6U);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(a), 4), "abcd");
  EXPECT_EQ(std::string(reinterpret_cast<char*>(b), 2), "ef");
}

// Visible consequence of freeing the receive's context: a thousand receives, each completed, leave
// nothing behind (LeakSanitizer under asan), and the buffers are not touched after the callback.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_093_receive_context_is_freed) {
  open_pair s;
  for (int i = 0; i < 1000; ++i) {
    auto buffer = std::make_unique<unsigned char[]>(1);
    ASYNC_SOCKET_BUFFER b{buffer.get(), 1};
    receive_recorder received;
    ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &received), 0);
    unsigned char c = static_cast<unsigned char>(i);
    write_all(s.server(), &c, 1);
    ASSERT_TRUE(received.wait());
    ASSERT_EQ(buffer[0], c);
    // `buffer` is freed here: a later write by the library would be a use after free (asan).
  }
}

// EPOLLOUT: a send waiting for room continues when the peer reads.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_094_epollout_continues_the_send) {
  open_pair s(true);
  std::vector<unsigned char> data = pattern(big);
  ASYNC_SOCKET_BUFFER b{data.data(), static_cast<std::uint32_t>(data.size())};
  send_recorder sent;
  ASSERT_EQ(async_socket_send_async(s.handle, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  EXPECT_EQ(read_exactly(s.server(), big), data);
  ASSERT_TRUE(sent.wait());
  EXPECT_EQ(sent.at(0).result, ASYNC_SOCKET_SEND_OK);
  EXPECT_NE(sent.at(0).thread, std::this_thread::get_id());
}

// The send continues with the data of its context: the bytes after the point where the first
// attempt stopped are the payload's, across several buffers.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_096_send_continues_with_the_context_data) {
  open_pair s(true);
  std::vector<unsigned char> data = pattern(big, 7);
  std::vector<ASYNC_SOCKET_BUFFER> bufs;
  for (std::size_t at = 0; at < big; at += big / 8) {
    bufs.push_back({data.data() + at, static_cast<std::uint32_t>(big / 8)});
  }
  send_recorder sent;
  ASSERT_EQ(
      async_socket_send_async(s.handle, bufs.data(), static_cast<std::uint32_t>(bufs.size()), on_send, &sent),
      ASYNC_SOCKET_SEND_SYNC_OK);
  EXPECT_EQ(read_exactly(s.server(), big), data);
  ASSERT_TRUE(sent.wait());
  EXPECT_EQ(sent.at(0).result, ASYNC_SOCKET_SEND_OK);
}

// send < 0 while continuing is handled by errno (098, 099): one callback, never OK.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_097_send_failure_is_handled_by_errno) {
  open_pair s(true);
  std::vector<unsigned char> data = pattern(big);
  ASYNC_SOCKET_BUFFER b{data.data(), static_cast<std::uint32_t>(data.size())};
  send_recorder sent;
  ASSERT_EQ(async_socket_send_async(s.handle, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  ASSERT_EQ(sent.count(), 0U);
  close_with_reset(s.pair.server);
  ASSERT_TRUE(sent.wait());
  EXPECT_NE(sent.at(0).result, ASYNC_SOCKET_SEND_OK);
  port_barrier(s.handle);
  EXPECT_EQ(sent.count(), 1U);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_098_send_econnreset_is_abandoned) {
  open_pair s(true);
  std::vector<unsigned char> data = pattern(big);
  ASYNC_SOCKET_BUFFER b{data.data(), static_cast<std::uint32_t>(data.size())};
  send_recorder sent;
  ASSERT_EQ(async_socket_send_async(s.handle, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  ASSERT_EQ(sent.count(), 0U);
  close_with_reset(s.pair.server);  // unread data and SO_LINGER 0: a reset
  ASSERT_TRUE(sent.wait());
  EXPECT_EQ(sent.at(0).result, ASYNC_SOCKET_SEND_ABANDONED);
}

// Another error while continuing: ERROR. Shutting down the socket's sending side under the pending
// send makes it fail with EPIPE.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_099_send_other_errors_are_errors) {
  open_pair s(true);
  std::vector<unsigned char> data = pattern(big);
  ASYNC_SOCKET_BUFFER b{data.data(), static_cast<std::uint32_t>(data.size())};
  send_recorder sent;
  ASSERT_EQ(async_socket_send_async(s.handle, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  ASSERT_EQ(sent.count(), 0U);
  ASSERT_EQ(::shutdown(s.client_fd, SHUT_WR), 0);
  ASSERT_TRUE(sent.wait());
  EXPECT_EQ(sent.at(0).result, ASYNC_SOCKET_SEND_ERROR);
}

// A send the kernel takes in parts continues until the whole payload is out: the peer reads it in
// small pieces, so the pending send is resumed many times.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_101_partial_sends_continue_to_the_end) {
  open_pair s(true);
  std::vector<unsigned char> data = pattern(big / 4, 11);
  ASYNC_SOCKET_BUFFER b{data.data(), static_cast<std::uint32_t>(data.size())};
  send_recorder sent;
  ASSERT_EQ(async_socket_send_async(s.handle, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  std::vector<unsigned char> got;
  while (got.size() < data.size()) {
    std::vector<unsigned char> piece =
        read_exactly(s.server(), std::min<std::size_t>(1000, data.size() - got.size()));
    ASSERT_FALSE(piece.empty());
    got.insert(got.end(), piece.begin(), piece.end());
  }
  EXPECT_EQ(got, data);
  ASSERT_TRUE(sent.wait());
  EXPECT_EQ(sent.at(0).result, ASYNC_SOCKET_SEND_OK);
  EXPECT_EQ(sent.count(), 1U);
}

// Visible consequence of freeing the send's context: many sends that had to wait, each completed,
// leave nothing behind (LeakSanitizer under asan).
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_100_send_context_is_freed) {
  open_pair s(true);
  std::vector<unsigned char> data = pattern(64 * 1024);
  ASYNC_SOCKET_BUFFER b{data.data(), static_cast<std::uint32_t>(data.size())};
  send_recorder sent;
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(async_socket_send_async(s.handle, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  }
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(read_exactly(s.server(), data.size()), data);
  }
  ASSERT_TRUE(sent.wait(50));
  for (std::size_t i = 0; i < 50; ++i) {
    EXPECT_EQ(sent.at(i).result, ASYNC_SOCKET_SEND_OK);
  }
}

// EPOLLERR: the pending receive of a socket with an error pending completes with ERROR.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_085_epollerr_ends_operations_with_error) {
  refused_udp s;
  ASSERT_NE(s.handle, nullptr);
  unsigned char in[16];
  ASYNC_SOCKET_BUFFER rb{in, sizeof(in)};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(s.handle, &rb, 1, on_receive, &received), 0);
  unsigned char out = 1;
  ASYNC_SOCKET_BUFFER sb{&out, 1};
  ASSERT_EQ(async_socket_send_async(s.handle, &sb, 1, ignore_send, nullptr), ASYNC_SOCKET_SEND_SYNC_OK);
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_ERROR);
  EXPECT_EQ(received.at(0).bytes, 0U);
}

// The callback of the operation is called with ERROR: the receive's and a readiness wait's, each
// once.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_086_error_callbacks_are_called_once) {
  refused_udp s;
  ASSERT_NE(s.handle, nullptr);
  unsigned char out = 1;
  ASYNC_SOCKET_BUFFER sb{&out, 1};
  notify_recorder notified;
  ASSERT_EQ(async_socket_notify_io_async(s.handle, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, on_notify, &notified), 0);
  ASSERT_EQ(async_socket_send_async(s.handle, &sb, 1, ignore_send, nullptr), ASYNC_SOCKET_SEND_SYNC_OK);
  ASSERT_TRUE(notified.wait());
  EXPECT_EQ(notified.at(0).result, ASYNC_SOCKET_NOTIFY_IO_RESULT_ERROR);
  // The error is still pending (a readiness wait does not consume it): a receive reports it.
  unsigned char in[16];
  ASYNC_SOCKET_BUFFER rb{in, sizeof(in)};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(s.handle, &rb, 1, on_receive, &received), 0);
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_ERROR);
  port_barrier(s.handle);
  EXPECT_EQ(notified.count(), 1U);
  EXPECT_EQ(received.count(), 1U);
}

// Visible consequence of freeing the context after ERROR: many failed receives leave nothing
// behind (LeakSanitizer under asan), each calling back once.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_087_error_contexts_are_freed) {
  fd_owner fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASYNC_SOCKET_HANDLE h = open_socket(fd);
  ASSERT_NE(h, nullptr);
  unsigned char in[4];
  ASYNC_SOCKET_BUFFER b{in, 4};
  receive_recorder received;
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(async_socket_receive_async(h, &b, 1, on_receive, &received), 0);
  }
  ASSERT_TRUE(received.wait(200));
  for (std::size_t i = 0; i < 200; ++i) {
    EXPECT_EQ(received.at(i).result, ASYNC_SOCKET_RECEIVE_ERROR);
  }
  async_socket_destroy(h);
  EXPECT_EQ(received.count(), 200U);
}

SENET_C_TEST_BACKENDS(async_socket_srs);

}  // namespace
}  // namespace senet::c_test
