// SPDX-License-Identifier: BSL-1.0
// SRS_ASYNC_SOCKET_LINUX_11_043 .. 063: async_socket_send_async.
// senet-test-labels: threaded (the completion port starts its loop thread)
#include <senet/c/async_socket.h>

#include "c/async_socket_srs_support.hpp"

#include <gtest/gtest.h>

#include <sys/un.h>

#include <cstdint>
#include <thread>
#include <vector>

namespace senet::c_test {
namespace {

/** An open async socket on the client end of a TCP pair; the server end stays a plain descriptor. */
struct open_pair {
  tcp_pair pair = make_tcp_pair();
  ASYNC_SOCKET_HANDLE handle = nullptr;
  int server() const { return pair.server.get(); }
  explicit open_pair(bool small = false) {
    if (small) {
      small_buffers(pair.client.get(), pair.server.get());
    }
    handle = open_socket(pair.client);
  }
  ~open_pair() { async_socket_destroy(handle); }
  open_pair(const open_pair&) = delete;
  open_pair& operator=(const open_pair&) = delete;
};

/** Whether the peer has no data to read right now (nothing yet, or the end of the stream). */
bool nothing_to_read(int fd) {
  unsigned char c;
  ssize_t r = ::recv(fd, &c, 1, MSG_DONTWAIT);
  return r == 0 || (r == -1 && errno == EAGAIN);
}

// A payload so large that it cannot go out at once through small kernel buffers.
constexpr std::size_t big = 1 << 20;

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_043_send_with_null_socket_fails) {
  unsigned char byte = 0;
  ASYNC_SOCKET_BUFFER b{&byte, 1};
  send_recorder sent;
  EXPECT_EQ(async_socket_send_async(nullptr, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_ERROR);
  EXPECT_EQ(sent.count(), 0U);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_044_send_with_null_buffers_fails) {
  open_pair s;
  send_recorder sent;
  EXPECT_EQ(async_socket_send_async(s.handle, nullptr, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_ERROR);
  EXPECT_EQ(sent.count(), 0U);
  EXPECT_TRUE(nothing_to_read(s.server()));
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_045_send_with_zero_buffer_count_fails) {
  open_pair s;
  unsigned char byte = 0;
  ASYNC_SOCKET_BUFFER b{&byte, 1};
  send_recorder sent;
  EXPECT_EQ(async_socket_send_async(s.handle, &b, 0, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_ERROR);
  EXPECT_EQ(sent.count(), 0U);
  EXPECT_TRUE(nothing_to_read(s.server()));
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_046_send_with_null_buffer_fails) {
  open_pair s;
  unsigned char byte = 0;
  // The bad buffer is the last one: nothing of the good ones may go out.
  ASYNC_SOCKET_BUFFER b[3] = {{&byte, 1}, {&byte, 1}, {nullptr, 1}};
  send_recorder sent;
  EXPECT_EQ(async_socket_send_async(s.handle, b, 3, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_ERROR);
  EXPECT_EQ(sent.count(), 0U);
  EXPECT_TRUE(nothing_to_read(s.server()));
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_047_send_with_zero_length_buffer_fails) {
  open_pair s;
  unsigned char byte = 0;
  ASYNC_SOCKET_BUFFER b[2] = {{&byte, 1}, {&byte, 0}};
  send_recorder sent;
  EXPECT_EQ(async_socket_send_async(s.handle, b, 2, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_ERROR);
  EXPECT_EQ(sent.count(), 0U);
  EXPECT_TRUE(nothing_to_read(s.server()));
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_048_send_with_lengths_past_uint32_max_fails) {
  open_pair s;
  // The check comes before any byte is touched, so the buffers need not be that large.
  static unsigned char byte = 0;
  ASYNC_SOCKET_BUFFER b[2] = {{&byte, 0x80000000U}, {&byte, 0x80000000U}};
  send_recorder sent;
  EXPECT_EQ(async_socket_send_async(s.handle, b, 2, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_ERROR);
  ASYNC_SOCKET_BUFFER c[3] = {{&byte, UINT32_MAX}, {&byte, 1}, {&byte, 1}};
  EXPECT_EQ(async_socket_send_async(s.handle, c, 3, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_ERROR);
  EXPECT_EQ(sent.count(), 0U);
  EXPECT_TRUE(nothing_to_read(s.server()));
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_049_send_with_null_callback_fails) {
  open_pair s;
  unsigned char byte = 0;
  ASYNC_SOCKET_BUFFER b{&byte, 1};
  EXPECT_EQ(async_socket_send_async(s.handle, &b, 1, nullptr, nullptr), ASYNC_SOCKET_SEND_SYNC_ERROR);
  EXPECT_TRUE(nothing_to_read(s.server()));
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_050_send_context_may_be_null) {
  open_pair s;
  static std::atomic<int> calls{0};
  calls = 0;
  auto callback = [](void* context, ASYNC_SOCKET_SEND_RESULT r) {
    EXPECT_EQ(context, nullptr);
    EXPECT_EQ(r, ASYNC_SOCKET_SEND_OK);
    ++calls;
  };
  unsigned char byte = 'n';
  ASYNC_SOCKET_BUFFER b{&byte, 1};
  EXPECT_EQ(async_socket_send_async(s.handle, &b, 1, callback, nullptr), ASYNC_SOCKET_SEND_SYNC_OK);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(read_exactly(s.server(), 1).at(0), 'n');
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_051_send_when_not_open_is_abandoned) {
  tcp_pair p = make_tcp_pair();
  ASYNC_SOCKET_HANDLE h = async_socket_create(nullptr, p.client.release());
  ASSERT_NE(h, nullptr);
  unsigned char byte = 0;
  ASYNC_SOCKET_BUFFER b{&byte, 1};
  send_recorder sent;
  EXPECT_EQ(async_socket_send_async(h, &b, 1, on_send, &sent),
            ASYNC_SOCKET_SEND_SYNC_ABANDONED);  // never opened
  ASSERT_EQ(async_socket_open_async(h, ignore_open, nullptr), 0);
  async_socket_close(h);
  EXPECT_EQ(async_socket_send_async(h, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_ABANDONED);  // closed
  EXPECT_EQ(sent.count(), 0U);
  EXPECT_TRUE(nothing_to_read(p.server.get()));
  async_socket_destroy(h);
}

// MSG_NOSIGNAL: sending on a connection the peer reset, or on a TCP socket that was never
// connected (EPIPE), fails without SIGPIPE (whose default action would end this test program).
// And the send is made on the calling thread.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_052_send_uses_msg_nosignal_on_the_calling_thread) {
  ASSERT_EQ(::signal(SIGPIPE, SIG_DFL), SIG_DFL) << "the test needs SIGPIPE's default action";
  fd_owner unconnected(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASYNC_SOCKET_HANDLE h = open_socket(unconnected);
  ASSERT_NE(h, nullptr);
  unsigned char byte = 1;
  ASYNC_SOCKET_BUFFER b{&byte, 1};
  send_recorder sent;
  EXPECT_EQ(async_socket_send_async(h, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_ABANDONED);
  async_socket_destroy(h);

  open_pair s;
  EXPECT_EQ(async_socket_send_async(s.handle, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  ASSERT_EQ(sent.count(), 1U);
  EXPECT_EQ(sent.at(0).thread, std::this_thread::get_id());
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_053_send_sends_the_whole_payload) {
  open_pair s;
  // 200 buffers of 1 to 200 bytes: more buffers than one system call takes in senet's batch.
  std::vector<unsigned char> data = pattern(200 * 201 / 2);
  std::vector<ASYNC_SOCKET_BUFFER> buffers;
  std::size_t at = 0;
  for (std::uint32_t n = 1; n <= 200; ++n) {
    buffers.push_back({data.data() + at, n});
    at += n;
  }
  send_recorder sent;
  std::thread reader([&] { EXPECT_EQ(read_exactly(s.server(), data.size()), data); });
  EXPECT_EQ(async_socket_send_async(s.handle, buffers.data(), 200, on_send, &sent),
            ASYNC_SOCKET_SEND_SYNC_OK);
  reader.join();
  ASSERT_TRUE(sent.wait());
  EXPECT_EQ(sent.at(0).result, ASYNC_SOCKET_SEND_OK);
  EXPECT_EQ(sent.count(), 1U);
}

// When send cannot take all the data (the kernel's buffers are full: EAGAIN), the send is not a
// failure: the call returns OK and the rest goes out when the peer reads.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_054_send_that_would_block_is_not_a_failure) {
  open_pair s(true);
  std::vector<unsigned char> data = pattern(big);
  ASYNC_SOCKET_BUFFER b{data.data(), static_cast<std::uint32_t>(data.size())};
  send_recorder sent;
  EXPECT_EQ(async_socket_send_async(s.handle, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  EXPECT_EQ(sent.count(), 0U) << "the whole megabyte went out at once: the test proves nothing";
  EXPECT_EQ(read_exactly(s.server(), big), data);
  ASSERT_TRUE(sent.wait());
  EXPECT_EQ(sent.at(0).result, ASYNC_SOCKET_SEND_OK);
}

// EAGAIN: the rest is sent asynchronously: the callback comes on the port's thread, after the call.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_055_send_on_eagain_completes_asynchronously) {
  open_pair s(true);
  std::vector<unsigned char> data = pattern(big);
  ASYNC_SOCKET_BUFFER b{data.data(), static_cast<std::uint32_t>(data.size())};
  send_recorder sent;
  ASSERT_EQ(async_socket_send_async(s.handle, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  EXPECT_EQ(sent.count(), 0U);
  read_exactly(s.server(), big);
  ASSERT_TRUE(sent.wait());
  EXPECT_NE(sent.at(0).thread, std::this_thread::get_id());
  EXPECT_EQ(sent.count(), 1U);
}

// The context keeps what it needs: the caller's ASYNC_SOCKET_BUFFER array may be overwritten as soon
// as the call returns, and the callback gets the context it was given.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_056_send_context_stores_payload_and_callback) {
  open_pair s(true);
  std::vector<unsigned char> first = pattern(big / 2, 1);
  std::vector<unsigned char> second = pattern(big / 2, 2);
  auto* array = new ASYNC_SOCKET_BUFFER[2]{{first.data(), static_cast<std::uint32_t>(first.size())},
                                           {second.data(), static_cast<std::uint32_t>(second.size())}};
  send_recorder sent;
  ASSERT_EQ(async_socket_send_async(s.handle, array, 2, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  array[0] = {nullptr, 0};
  array[1] = {nullptr, 0};
  delete[] array;
  std::vector<unsigned char> got = read_exactly(s.server(), big);
  EXPECT_TRUE(std::equal(first.begin(), first.end(), got.begin()));
  EXPECT_TRUE(
      std::equal(second.begin(), second.end(), got.begin() + static_cast<std::ptrdiff_t>(first.size())));
  ASSERT_TRUE(sent.wait());  // the recorder is the context given: it was called
  EXPECT_EQ(sent.at(0).result, ASYNC_SOCKET_SEND_OK);
}

// Visible consequence of waiting on the completion port for EPOLLOUT: the pending send makes
// progress exactly when the peer makes room, and completes on the port's thread.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_057_send_waits_for_writability_on_the_port) {
  open_pair s(true);
  std::vector<unsigned char> data = pattern(big);
  ASYNC_SOCKET_BUFFER b{data.data(), static_cast<std::uint32_t>(data.size())};
  send_recorder sent;
  ASSERT_EQ(async_socket_send_async(s.handle, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  // Until the peer reads, there is no room, and the send waits: a readiness wait on the port for
  // the descriptor to become writable (a barrier through the port proves that the wait is armed
  // and did not complete on its own).
  notify_recorder barrier;
  ASSERT_EQ(async_socket_notify_io_async(s.handle, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, on_notify, &barrier), 0);
  unsigned char c = 0;
  write_all(s.server(), &c, 1);
  ASSERT_TRUE(barrier.wait());
  EXPECT_EQ(sent.count(), 0U);
  std::vector<unsigned char> got = read_exactly(s.server(), big);
  EXPECT_EQ(got, data);
  ASSERT_TRUE(sent.wait());
  EXPECT_NE(sent.at(0).thread, std::this_thread::get_id());
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_059_send_on_a_gone_connection_is_abandoned) {
  unsigned char byte = 1;
  ASYNC_SOCKET_BUFFER b{&byte, 1};
  send_recorder sent;
  // EPIPE: a TCP socket that was never connected.
  {
    fd_owner fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASYNC_SOCKET_HANDLE h = open_socket(fd);
    EXPECT_EQ(async_socket_send_async(h, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_ABANDONED);
    async_socket_destroy(h);
  }
  // ENOTCONN: a local stream socket that was never connected.
  {
    fd_owner fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASYNC_SOCKET_HANDLE h = open_socket(fd);
    EXPECT_EQ(async_socket_send_async(h, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_ABANDONED);
    async_socket_destroy(h);
  }
  // ECONNRESET: the peer reset the connection.
  {
    tcp_pair p = make_tcp_pair();
    int fd = p.client.get();
    ASYNC_SOCKET_HANDLE h = open_socket(p.client);
    close_with_reset(p.server);
    ::pollfd pf{fd, POLLIN, 0};
    ASSERT_EQ(::poll(&pf, 1, static_cast<int>(std::chrono::milliseconds(patience).count())), 1);
    EXPECT_EQ(async_socket_send_async(h, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_ABANDONED);
    async_socket_destroy(h);
  }
  EXPECT_EQ(sent.count(), 0U);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_060_send_other_errors_fail) {
  // EDESTADDRREQ: a datagram socket with no peer.
  auto [udp, addr] = make_udp();
  ASYNC_SOCKET_HANDLE h = open_socket(udp);
  ASSERT_NE(h, nullptr);
  unsigned char byte = 1;
  ASYNC_SOCKET_BUFFER b{&byte, 1};
  send_recorder sent;
  EXPECT_EQ(async_socket_send_async(h, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_ERROR);
  EXPECT_EQ(sent.count(), 0U);
  async_socket_destroy(h);
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_061_send_success_calls_callback_with_ok) {
  open_pair s;
  unsigned char data[3] = {1, 2, 3};
  ASYNC_SOCKET_BUFFER b[2] = {{data, 1}, {data + 1, 2}};
  send_recorder sent;
  ASSERT_EQ(async_socket_send_async(s.handle, b, 2, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  // All of it went out at once: the callback ran before the call returned, on this thread, once.
  ASSERT_EQ(sent.count(), 1U);
  EXPECT_EQ(sent.at(0).result, ASYNC_SOCKET_SEND_OK);
  EXPECT_EQ(sent.at(0).thread, std::this_thread::get_id());
  EXPECT_EQ(read_exactly(s.server(), 3), std::vector<unsigned char>({1, 2, 3}));
}

TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_062_send_returns_ok) {
  open_pair s;
  unsigned char byte = 9;
  ASYNC_SOCKET_BUFFER b{&byte, 1};
  EXPECT_EQ(async_socket_send_async(s.handle, &b, 1, ignore_send, nullptr), ASYNC_SOCKET_SEND_SYNC_OK);
  open_pair t(true);
  std::vector<unsigned char> data = pattern(big);
  ASYNC_SOCKET_BUFFER bb{data.data(), static_cast<std::uint32_t>(data.size())};
  send_recorder sent;
  EXPECT_EQ(async_socket_send_async(t.handle, &bb, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  read_exactly(t.server(), big);
  EXPECT_TRUE(sent.wait());
}

// Errors of the system call other than the connection's end fail the call: a datagram larger than
// UDP allows (EMSGSIZE) on a connected datagram socket; and no callback comes.
TEST_P(async_socket_srs, SRS_ASYNC_SOCKET_LINUX_11_063_send_errors_fail_with_error) {
  auto [peer, peer_addr] = make_udp();
  auto [udp, addr] = make_udp();
  ASSERT_EQ(::connect(udp.get(), reinterpret_cast<::sockaddr*>(&peer_addr), sizeof(peer_addr)), 0);
  ASYNC_SOCKET_HANDLE h = open_socket(udp);
  ASSERT_NE(h, nullptr);
  std::vector<unsigned char> data(70000);
  ASYNC_SOCKET_BUFFER b{data.data(), static_cast<std::uint32_t>(data.size())};
  send_recorder sent;
  EXPECT_EQ(async_socket_send_async(h, &b, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_ERROR);
  EXPECT_EQ(sent.count(), 0U);
  // A datagram that fits goes out.
  ASYNC_SOCKET_BUFFER small{data.data(), 100};
  EXPECT_EQ(async_socket_send_async(h, &small, 1, on_send, &sent), ASYNC_SOCKET_SEND_SYNC_OK);
  EXPECT_EQ(sent.count(), 1U);
  async_socket_destroy(h);
}

SENET_C_TEST_BACKENDS(async_socket_srs);

}  // namespace
}  // namespace senet::c_test
