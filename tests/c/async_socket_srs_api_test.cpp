// SPDX-License-Identifier: BSL-1.0
// The C API beyond the Linux SRS document: async_socket_notify_io_async and
// async_socket_create_with_transport (signatures of the Windows document), the enum names, and
// execution_engine.h.
// senet-test-labels: threaded (the completion port starts its loop thread)
#include <senet/c/async_socket.h>

#include <senet/c/execution_engine.h>

#include "c/async_socket_srs_support.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace senet::c_test {
namespace {

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

// ---- notify_io -----------------------------------------------------------------------------------

TEST_P(async_socket_api, notify_in_completes_when_readable) {
  open_pair s;
  notify_recorder notified;
  ASSERT_EQ(async_socket_notify_io_async(s.handle, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, on_notify, &notified), 0);
  // Not readable yet: a writability wait started after it completes first.
  notify_recorder writable;
  ASSERT_EQ(async_socket_notify_io_async(s.handle, ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT, on_notify, &writable), 0);
  ASSERT_TRUE(writable.wait());
  EXPECT_EQ(writable.at(0).result, ASYNC_SOCKET_NOTIFY_IO_RESULT_OUT);
  EXPECT_EQ(notified.count(), 0U);
  write_all(s.server(), "r", 1);
  ASSERT_TRUE(notified.wait());
  EXPECT_EQ(notified.at(0).result, ASYNC_SOCKET_NOTIFY_IO_RESULT_IN);
  EXPECT_NE(notified.at(0).thread, std::this_thread::get_id());
  // Nothing was consumed: a receive gets the byte.
  unsigned char c = 0;
  ASYNC_SOCKET_BUFFER b{&c, 1};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &received), 0);
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(c, 'r');
}

TEST_P(async_socket_api, notify_out_waits_for_room) {
  // Fill the connection before handing the descriptor over, until the kernel takes nothing more:
  // with the peer not reading, no room appears on its own.
  tcp_pair p = make_tcp_pair();
  small_buffers(p.client.get(), p.server.get());
  ASSERT_EQ(::fcntl(p.client.get(), F_SETFL, O_NONBLOCK), 0);
  // (TCP frees room for a while after the first EAGAIN, as queued segments are taken in and acked:
  // fill again until the socket has stayed unwritable for 300 ms, longer than a delayed ack.)
  std::vector<unsigned char> chunk(4096, 1);
  std::size_t queued = 0;
  ::pollfd pf{p.client.get(), POLLOUT, 0};
  int rounds = 0;
  do {
    for (;;) {
      ssize_t r = ::send(p.client.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (r < 0) {
        ASSERT_EQ(errno, EAGAIN);
        break;
      }
      queued += static_cast<std::size_t>(r);
    }
    ASSERT_LT(++rounds, 100) << "the connection never filled up";
  } while (::poll(&pf, 1, 300) != 0);
  ASYNC_SOCKET_HANDLE h = open_socket(p.client);
  ASSERT_NE(h, nullptr);
  notify_recorder notified;
  ASSERT_EQ(async_socket_notify_io_async(h, ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT, on_notify, &notified), 0);
  // A readability wait that completes proves the port has run past the writability wait.
  notify_recorder readable;
  ASSERT_EQ(async_socket_notify_io_async(h, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, on_notify, &readable), 0);
  write_all(p.server.get(), "x", 1);
  ASSERT_TRUE(readable.wait());
  EXPECT_EQ(notified.count(), 0U);
  read_exactly(p.server.get(), queued);
  ASSERT_TRUE(notified.wait());
  EXPECT_EQ(notified.at(0).result, ASYNC_SOCKET_NOTIFY_IO_RESULT_OUT);
  async_socket_destroy(h);
}

TEST_P(async_socket_api, notify_peer_close_is_readable_then_receive_reports_it) {
  open_pair s;
  notify_recorder notified;
  ASSERT_EQ(async_socket_notify_io_async(s.handle, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, on_notify, &notified), 0);
  s.pair.server.reset();
  ASSERT_TRUE(notified.wait());
  EXPECT_EQ(notified.at(0).result, ASYNC_SOCKET_NOTIFY_IO_RESULT_IN);
  unsigned char c;
  ASYNC_SOCKET_BUFFER b{&c, 1};
  receive_recorder received;
  ASSERT_EQ(async_socket_receive_async(s.handle, &b, 1, on_receive, &received), 0);
  ASSERT_TRUE(received.wait());
  EXPECT_EQ(received.at(0).result, ASYNC_SOCKET_RECEIVE_ABANDONED);
}

TEST_P(async_socket_api, notify_is_abandoned_by_close) {
  open_pair s;
  notify_recorder notified;
  ASSERT_EQ(async_socket_notify_io_async(s.handle, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, on_notify, &notified), 0);
  async_socket_close(s.handle);
  ASSERT_EQ(notified.count(), 1U);
  EXPECT_EQ(notified.at(0).result, ASYNC_SOCKET_NOTIFY_IO_RESULT_ABANDONED);
}

TEST_P(async_socket_api, notify_argument_checks) {
  open_pair s;
  notify_recorder notified;
  EXPECT_NE(async_socket_notify_io_async(nullptr, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, on_notify, &notified), 0);
  EXPECT_NE(async_socket_notify_io_async(s.handle, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, nullptr, &notified), 0);
  EXPECT_NE(async_socket_notify_io_async(s.handle, static_cast<ASYNC_SOCKET_NOTIFY_IO_TYPE>(2), on_notify,
                                         &notified),
            0);
  EXPECT_NE(async_socket_notify_io_async(s.handle, static_cast<ASYNC_SOCKET_NOTIFY_IO_TYPE>(-1), on_notify,
                                         &notified),
            0);
  // The context may be NULL.
  static std::atomic<int> calls{0};
  calls = 0;
  ASSERT_EQ(async_socket_notify_io_async(
                s.handle, ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT,
                [](void* context, ASYNC_SOCKET_NOTIFY_IO_RESULT r) {
                  EXPECT_EQ(context, nullptr);
                  EXPECT_EQ(r, ASYNC_SOCKET_NOTIFY_IO_RESULT_OUT);
                  ++calls;
                },
                nullptr),
            0);
  notify_recorder barrier;
  ASSERT_EQ(async_socket_notify_io_async(s.handle, ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT, on_notify, &barrier), 0);
  ASSERT_TRUE(barrier.wait());
  // Not open.
  tcp_pair p = make_tcp_pair();
  ASYNC_SOCKET_HANDLE h = async_socket_create(nullptr, p.client.release());
  ASSERT_NE(h, nullptr);
  EXPECT_NE(async_socket_notify_io_async(h, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, on_notify, &notified), 0);
  async_socket_destroy(h);
  EXPECT_EQ(notified.count(), 0U);
  EXPECT_EQ(calls, 1);
}

// ---- create_with_transport -------------------------------------------------------------------------

extern "C" int transport_send(void*, ASYNC_SOCKET_HANDLE, const void*, size_t) {
  ADD_FAILURE() << "the transport was used";
  return -1;
}
extern "C" int transport_recv(void*, ASYNC_SOCKET_HANDLE, void*, size_t) {
  ADD_FAILURE() << "the transport was used";
  return -1;
}

TEST_P(async_socket_api, create_with_transport_is_not_available) {
  int threads = thread_count();
  EXPECT_EQ(async_socket_create_with_transport(nullptr, transport_send, nullptr, transport_recv, nullptr),
            nullptr);
  EXECUTION_ENGINE_HANDLE engine = execution_engine_create(nullptr);
  ASSERT_NE(engine, nullptr);
  int context = 0;
  EXPECT_EQ(async_socket_create_with_transport(engine, transport_send, &context, transport_recv, &context),
            nullptr);
  EXPECT_EQ(async_socket_create_with_transport(engine, nullptr, nullptr, nullptr, nullptr), nullptr);
  execution_engine_dec_ref(engine);
  EXPECT_EQ(wait_thread_count(threads), threads);
}

// ---- enum names ------------------------------------------------------------------------------------

TEST_P(async_socket_api, every_enumerator_has_its_name) {
  EXPECT_STREQ(async_socket_open_result_to_string(ASYNC_SOCKET_OPEN_OK), "ASYNC_SOCKET_OPEN_OK");
  EXPECT_STREQ(async_socket_open_result_to_string(ASYNC_SOCKET_OPEN_ERROR), "ASYNC_SOCKET_OPEN_ERROR");
  EXPECT_STREQ(async_socket_send_sync_result_to_string(ASYNC_SOCKET_SEND_SYNC_OK),
               "ASYNC_SOCKET_SEND_SYNC_OK");
  EXPECT_STREQ(async_socket_send_sync_result_to_string(ASYNC_SOCKET_SEND_SYNC_ERROR),
               "ASYNC_SOCKET_SEND_SYNC_ERROR");
  EXPECT_STREQ(async_socket_send_sync_result_to_string(ASYNC_SOCKET_SEND_SYNC_ABANDONED),
               "ASYNC_SOCKET_SEND_SYNC_ABANDONED");
  EXPECT_STREQ(async_socket_send_sync_result_to_string(ASYNC_SOCKET_SEND_SYNC_NOT_OPEN),
               "ASYNC_SOCKET_SEND_SYNC_NOT_OPEN");
  EXPECT_STREQ(async_socket_send_result_to_string(ASYNC_SOCKET_SEND_OK), "ASYNC_SOCKET_SEND_OK");
  EXPECT_STREQ(async_socket_send_result_to_string(ASYNC_SOCKET_SEND_ERROR), "ASYNC_SOCKET_SEND_ERROR");
  EXPECT_STREQ(async_socket_send_result_to_string(ASYNC_SOCKET_SEND_ABANDONED),
               "ASYNC_SOCKET_SEND_ABANDONED");
  EXPECT_STREQ(async_socket_receive_result_to_string(ASYNC_SOCKET_RECEIVE_OK), "ASYNC_SOCKET_RECEIVE_OK");
  EXPECT_STREQ(async_socket_receive_result_to_string(ASYNC_SOCKET_RECEIVE_ERROR),
               "ASYNC_SOCKET_RECEIVE_ERROR");
  EXPECT_STREQ(async_socket_receive_result_to_string(ASYNC_SOCKET_RECEIVE_ABANDONED),
               "ASYNC_SOCKET_RECEIVE_ABANDONED");
  EXPECT_STREQ(async_socket_notify_io_type_to_string(ASYNC_SOCKET_NOTIFY_IO_TYPE_IN),
               "ASYNC_SOCKET_NOTIFY_IO_TYPE_IN");
  EXPECT_STREQ(async_socket_notify_io_type_to_string(ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT),
               "ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT");
  EXPECT_STREQ(async_socket_notify_io_result_to_string(ASYNC_SOCKET_NOTIFY_IO_RESULT_IN),
               "ASYNC_SOCKET_NOTIFY_IO_RESULT_IN");
  EXPECT_STREQ(async_socket_notify_io_result_to_string(ASYNC_SOCKET_NOTIFY_IO_RESULT_OUT),
               "ASYNC_SOCKET_NOTIFY_IO_RESULT_OUT");
  EXPECT_STREQ(async_socket_notify_io_result_to_string(ASYNC_SOCKET_NOTIFY_IO_RESULT_ABANDONED),
               "ASYNC_SOCKET_NOTIFY_IO_RESULT_ABANDONED");
  EXPECT_STREQ(async_socket_notify_io_result_to_string(ASYNC_SOCKET_NOTIFY_IO_RESULT_ERROR),
               "ASYNC_SOCKET_NOTIFY_IO_RESULT_ERROR");
  // A value that is no enumerator.
  EXPECT_STREQ(async_socket_open_result_to_string(static_cast<ASYNC_SOCKET_OPEN_RESULT>(77)), "UNKNOWN");
  EXPECT_STREQ(async_socket_send_sync_result_to_string(static_cast<ASYNC_SOCKET_SEND_SYNC_RESULT>(-1)),
               "UNKNOWN");
  EXPECT_STREQ(async_socket_send_result_to_string(static_cast<ASYNC_SOCKET_SEND_RESULT>(3)), "UNKNOWN");
  EXPECT_STREQ(async_socket_receive_result_to_string(static_cast<ASYNC_SOCKET_RECEIVE_RESULT>(3)), "UNKNOWN");
  EXPECT_STREQ(async_socket_notify_io_type_to_string(static_cast<ASYNC_SOCKET_NOTIFY_IO_TYPE>(2)), "UNKNOWN");
  EXPECT_STREQ(async_socket_notify_io_result_to_string(static_cast<ASYNC_SOCKET_NOTIFY_IO_RESULT>(4)),
               "UNKNOWN");
}

// ---- execution_engine ------------------------------------------------------------------------------

TEST_P(async_socket_api, execution_engine_reference_counting) {
  int threads = thread_count();
  execution_engine_inc_ref(nullptr);
  execution_engine_dec_ref(nullptr);
  EXECUTION_ENGINE_HANDLE engine = execution_engine_create(nullptr);
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(thread_count(), threads + 1) << "the engine runs the completion port's thread";
  EXECUTION_ENGINE_HANDLE other = execution_engine_create(nullptr);
  ASSERT_NE(other, nullptr);
  EXPECT_NE(engine, other);
  EXPECT_EQ(thread_count(), threads + 1) << "one port for the process";
  execution_engine_inc_ref(engine);
  execution_engine_dec_ref(engine);
  execution_engine_dec_ref(other);
  EXPECT_EQ(thread_count(), threads + 1);
  execution_engine_dec_ref(engine);
  EXPECT_EQ(wait_thread_count(threads), threads);
  // Created again after the last reference went: a new port.
  engine = execution_engine_create(nullptr);
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(thread_count(), threads + 1);
  execution_engine_dec_ref(engine);
  EXPECT_EQ(wait_thread_count(threads), threads);
}

// Engines and sockets taken and released from many threads at once.
TEST_P(async_socket_api, execution_engine_from_many_threads) {
  int threads = thread_count();
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([] {
      for (int i = 0; i < 200; ++i) {
        EXECUTION_ENGINE_HANDLE engine = execution_engine_create(nullptr);
        ASSERT_NE(engine, nullptr);
        execution_engine_inc_ref(engine);
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASYNC_SOCKET_HANDLE h = async_socket_create(engine, fd);
        ASSERT_NE(h, nullptr);
        execution_engine_dec_ref(engine);
        execution_engine_dec_ref(engine);
        ASSERT_EQ(async_socket_open_async(h, ignore_open, nullptr), 0);
        async_socket_destroy(h);
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  EXPECT_EQ(wait_thread_count(threads), threads);
}

SENET_C_TEST_BACKENDS(async_socket_api);

}  // namespace
}  // namespace senet::c_test
