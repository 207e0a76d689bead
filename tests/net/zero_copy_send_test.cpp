// SPDX-License-Identifier: BSL-1.0
// Zero-copy sends above a socket's threshold (basic_socket::zero_copy_threshold): io_uring sends
// them as IORING_OP_SEND_ZC / SENDMSG_ZC and completes them only after the kernel's notification;
// epoll and the test backend accept the setting and copy.
#include <senet/net/basic_socket.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/sockets.hpp>
#include <senet/net/timeout.hpp>
#include <senet/task.hpp>

#include <support/allocation_counter.hpp>
#include <support/backend_fixture.hpp>
#include <support/io_probe.hpp>
#include <support/loopback.hpp>
#include <support/operation_record.hpp>
#include "stream/suspension_counter.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace iod = senet::io::detail;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

constexpr std::size_t big = 4 * 1024 * 1024;
constexpr std::size_t threshold = 64 * 1024;

// Byte `i` of the data the tests send: no period that a lost or repeated chunk could hide behind.
char pattern(std::size_t i) noexcept {
  return static_cast<char>((i * 131 + i / 4093) & 0xff);
}

std::vector<char> patterned(std::size_t n) {
  std::vector<char> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = pattern(i);
  }
  return v;
}

// The offset of the first byte of `got` that is not `pattern(from + i)`, or got.size().
std::size_t first_wrong(const std::vector<char>& got, std::size_t from = 0) {
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != pattern(from + i)) {
      return i;
    }
  }
  return got.size();
}

// ---- on every backend: the setting, and sends over it -------------------------------------------

template <class Backend>
class zero_copy_send_test : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(zero_copy_send_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(zero_copy_send_test, the_threshold_is_off_by_default_and_moves_with_the_socket) {
  ip::tcp::socket s;
  EXPECT_EQ(s.zero_copy_threshold(), 0U);
  s.zero_copy_threshold(threshold);
  EXPECT_EQ(s.zero_copy_threshold(), threshold);
  ip::tcp::socket moved(std::move(s));
  EXPECT_EQ(moved.zero_copy_threshold(), threshold);
  moved.zero_copy_threshold(std::size_t{1} << 40);  // saturates: no value is refused
  EXPECT_EQ(moved.zero_copy_threshold(), std::size_t{0xffffffffU});
  moved.zero_copy_threshold(0);
  EXPECT_EQ(moved.zero_copy_threshold(), 0U);
}

// async_write of 4 MiB over the threshold to a peer with a small receive buffer (it drains slowly):
// the write completes once with every byte, and the buffer is overwritten the moment it
// completes; the peer still gets exactly the original bytes (none was read from the buffer after
// the completion).
TYPED_TEST(zero_copy_send_test, a_write_over_the_threshold_delivers_the_original_bytes) {
  auto pair = this->tcp_pair();
  if (this->kind != io::backend_kind::test) {
    pair.server.set_option(net::socket_base::receive_buffer_size{128 * 1024});
  }
  pair.client.zero_copy_threshold(threshold);
  std::vector<char> out = patterned(big);
  std::vector<char> in(big);
  int completions = 0;
  auto write = net::async_write(pair.client, buffer(out)) | ex::then([&](std::size_t n) {
                 ++completions;
                 std::fill(out.begin(), out.end(), 'X');
                 return n;
               });
  auto r = this->run(ex::when_all(std::move(write), net::async_read(pair.server, buffer(in))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), big);
  EXPECT_EQ(std::get<1>(*r), big);
  EXPECT_EQ(completions, 1);
  EXPECT_EQ(first_wrong(in), big);
}

// A coroutine's write_some makes its system call itself when it can (socket_awaitable.hpp), and
// a send record tries it first inside start(): both would copy, so neither happens for a write
// over the threshold. On io_uring it then goes to the ring (zero-copy) and the coroutine suspends;
// below the threshold it completes without suspending, as it does on epoll and the test backend.
TYPED_TEST(zero_copy_send_test, a_coroutine_write_over_the_threshold_is_not_made_directly) {
  auto pair = this->tcp_pair();
  pair.client.zero_copy_threshold(threshold);
  std::vector<char> out = patterned(threshold);
  std::vector<char> in(2 * threshold);
  auto write = [&](std::size_t n, int& suspensions) -> senet::task<std::size_t> {
    auto [ec, written] =
        co_await senet::test::counted(pair.client.write_some(buffer(out.data(), n)), &suspensions);
    EXPECT_FALSE(ec) << ec.message();
    co_return written;
  };
  std::size_t sent = 0;
  for (int i = 0; i < 2; ++i) {  // the first registers the socket; the second may be made directly
    int suspensions = 0;
    auto r = this->run(write(100, suspensions));
    ASSERT_TRUE(r.has_value());
    sent += std::get<0>(*r);
    EXPECT_EQ(suspensions, 0) << "a write below the threshold, " << i;
  }
  int suspensions = 0;
  auto r = this->run(write(threshold, suspensions));
  ASSERT_TRUE(r.has_value());
  sent += std::get<0>(*r);
  EXPECT_EQ(suspensions, this->kind == io::backend_kind::uring ? 1 : 0);
  ASSERT_EQ(this->value_of(net::async_read(pair.server, buffer(in.data(), sent))), sent);
}

// ---- on the kernel backends: records, cancellation, close, allocations -----------------------------

/** A send record over a heap buffer that, when it completes, overwrites the buffer at once (as a
    program that reuses its buffer would) and remembers the flags its completion came with. */
struct overwriting_send : iod::io_operation {
  std::vector<char> data;
  ::iovec iov{};
  int completions = 0;
  std::int64_t result = 0;
  std::uint8_t flags = 0;

  overwriting_send(iod::descriptor& d, std::size_t n) : data(patterned(n)) {
    complete_ = &overwriting_send::on_complete;
    iov = {data.data(), data.size()};
    msg_.msg_iov = &iov;
    msg_.msg_iovlen = 1;
    code_ = iod::op_code::send;
    descriptor_ = &d;
  }

  static void on_complete(iod::io_operation* op) noexcept {
    auto& self = static_cast<overwriting_send&>(*op);
    ++self.completions;
    self.result = self.result_;
    self.flags = self.completion_flags_;
    std::memset(self.data.data(), 'X', self.data.size());
  }
};

template <class Backend>
class zero_copy_record_test : public senet::test::backend_fixture<Backend> {
 protected:
  // Starts `op` as the context's thread would; delivers it at once if it completed in start()
  // (epoll tries a send first).
  void start(iod::io_operation& op) {
    iod::context_scope scope(this->ctx());
    if (iod::start_operation(this->ctx(), op)) {
      op.complete_(&op);
    }
  }

  // Runs `op` (a send of the pattern) to completion while the peer `s` reads at most 16 KiB per
  // turn of the loop; then reads the rest of what it reported sent and checks every byte.
  void send_and_check(overwriting_send& op, ip::tcp::socket& s) {
    std::vector<char> in(op.data.size());
    std::size_t got = 0;
    start(op);
    senet::test::deadline_guard limit("send_and_check");
    while (op.completions == 0 && !limit.expired()) {
      this->ctx().run_for(1ms);
      ::ssize_t n = ::recv(s.native_handle(), in.data() + got,
                           std::min<std::size_t>(16 * 1024, in.size() - got), MSG_DONTWAIT);
      got += n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    ASSERT_EQ(op.completions, 1);
    ASSERT_GT(op.result, 0);
    auto sent = static_cast<std::size_t>(op.result);
    ASSERT_LE(got, sent);
    while (got < sent) {
      got += this->value_of(net::async_receive(s, buffer(in.data() + got, sent - got)));
    }
    in.resize(sent);
    EXPECT_EQ(first_wrong(in), sent);
  }

  // Fills the connection from `s` (64 KiB buffers both ways): sends until one would block, again
  // until the socket has stayed unwritable for 50 ms (acknowledgements can free room after the
  // first refusal). Returns the bytes sent, which the peer has to read.
  static std::size_t fill(ip::tcp::socket& s, ip::tcp::socket& peer) {
    s.set_option(net::socket_base::send_buffer_size{64 * 1024});
    peer.set_option(net::socket_base::receive_buffer_size{64 * 1024});
    std::vector<char> chunk(64 * 1024, 'f');
    std::size_t sent = 0;
    for (int i = 0; i < 10'000; ++i) {
      ::ssize_t n = ::send(s.native_handle(), chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
        continue;
      }
      EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << std::strerror(errno);
      ::pollfd p{s.native_handle(), POLLOUT, 0};
      if (::poll(&p, 1, 50) == 0) {
        return sent;
      }
    }
    ADD_FAILURE() << "the connection never filled up";
    return sent;
  }

  // A connection whose client has the threshold and has filled it (`filled_` bytes the peer has to
  // read), `data_` to send (1 MiB) and the outcome of that send.
  void fill_connection() {
    pair_ = this->tcp_pair();
    pair_.client.zero_copy_threshold(threshold);
    filled_ = fill(pair_.client, pair_.server);
  }

  // The send of data_ on the client, reporting to outcome_.
  auto connect_send() {
    return ex::connect(net::async_send(pair_.client, buffer(data_)),
                       senet::test::io_probe<std::size_t>{&this->ctx(), &outcome_});
  }

  // Starts `op` on the filled connection: it waits.
  template <class Op>
  void start_waiting(Op& op) {
    ex::start(op);
    this->ctx().poll();
    EXPECT_FALSE(outcome_.done.load()) << "the socket's buffers should still be full";
  }

  // A zero-copy send whose result has come but not its notification (its data waits in the socket
  // for a peer that does not read): a stop request or close then finds nothing to cancel, and the
  // send completes once, after the notification, which comes when the peer has read the data: with
  // its bytes when stopped, operation_aborted when closed. (epoll copies: the send completes at once.)
  // `elsewhere`: the stop or close comes from another thread while nobody runs the context.
  void end_a_send_waiting_for_its_notification(bool close, bool elsewhere = false) {
    pair_ = this->tcp_pair();
    auto& pair = pair_;
    pair.client.set_option(net::socket_base::send_buffer_size{2 * 1024 * 1024});
    pair.server.set_option(net::socket_base::receive_buffer_size{128 * 1024});
    pair.client.zero_copy_threshold(threshold);
    int peer = pair.server.native_handle();
    auto op = connect_send();
    ex::start(op);
    this->ctx().run_for(100ms);
    if (this->kind == io::backend_kind::uring) {
      ASSERT_FALSE(outcome_.done.load()) << "completed before its notification: " << outcome_.describe();
      auto end = [&] {
        if (close) {
          pair.client.close();
        } else {
          outcome_.stop.request_stop();
        }
      };
      if (elsewhere) {
        std::thread(end).join();
      } else {
        end();
      }
      this->ctx().run_for(100ms);
      ASSERT_FALSE(outcome_.done.load()) << "completed before its notification: " << outcome_.describe();
    }
    std::vector<char> in(data_.size());
    std::size_t got = 0;
    senet::test::deadline_guard limit("draining the peer");
    while (!outcome_.done.load() && !limit.expired()) {
      this->ctx().run_for(1ms);
      ::ssize_t n = ::recv(peer, in.data() + got, in.size() - got, MSG_DONTWAIT);
      got += n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    if (close && this->kind == io::backend_kind::uring) {
      EXPECT_TRUE(outcome_.error_once(senet::error::operation_aborted)) << outcome_.describe();
      return;
    }
    ASSERT_TRUE(outcome_.value_once()) << outcome_.describe();
    EXPECT_GT(std::get<0>(*outcome_.value), 0U);
  }

  senet::test::tcp_connection pair_;
  std::size_t filled_ = 0;
  std::vector<char> data_ = std::vector<char>(1024 * 1024, 'z');
  senet::test::io_outcome<std::size_t> outcome_;
};

TYPED_TEST_SUITE(zero_copy_record_test, senet::test::kernel_backends, senet::test::backend_names);

// The "not reused early" check: the record's buffer is overwritten in its completion, and the
// receiver still gets the original bytes. On io_uring the completion waited for the notification.
TYPED_TEST(zero_copy_record_test, a_send_over_the_threshold_completes_after_its_notification) {
  auto pair = this->tcp_pair();
  pair.client.zero_copy_threshold(threshold);
  auto op = std::make_unique<overwriting_send>(pair.client.io_descriptor(), big);
  this->send_and_check(*op, pair.server);
  bool notified = (op->flags & iod::completion_notification) != 0;
  EXPECT_EQ(notified, this->kind == io::backend_kind::uring);
  if (notified) {
    ::testing::Test::RecordProperty("kernel_copied",
                                    (op->flags & iod::completion_copied) != 0 ? "yes" : "no");
  }
  // The record is restarted as a plain send below the threshold: no notification any more.
  auto small = std::make_unique<overwriting_send>(pair.client.io_descriptor(), threshold - 1);
  this->send_and_check(*small, pair.server);
  EXPECT_EQ(small->flags & iod::completion_notification, 0);
}

TYPED_TEST(zero_copy_record_test, with_threshold_zero_a_send_is_never_zero_copy) {
  auto pair = this->tcp_pair();
  ASSERT_EQ(pair.client.zero_copy_threshold(), 0U);
  auto op = std::make_unique<overwriting_send>(pair.client.io_descriptor(), big);
  this->send_and_check(*op, pair.server);
  EXPECT_EQ(op->flags & iod::completion_notification, 0);
}

// The threshold counts the bytes of all buffers of a gather send (IORING_OP_SENDMSG_ZC).
TYPED_TEST(zero_copy_record_test, a_gather_send_over_the_threshold_in_all_is_zero_copy) {
  auto pair = this->tcp_pair();
  pair.client.zero_copy_threshold(threshold);
  auto op = std::make_unique<overwriting_send>(pair.client.io_descriptor(), threshold);
  std::array<::iovec, 2> iovs{
      {{op->data.data(), threshold / 2}, {op->data.data() + threshold / 2, threshold / 2}}};
  op->msg_.msg_iov = iovs.data();
  op->msg_.msg_iovlen = iovs.size();
  this->send_and_check(*op, pair.server);
  EXPECT_EQ((op->flags & iod::completion_notification) != 0, this->kind == io::backend_kind::uring);
}

TYPED_TEST(zero_copy_record_test, stopping_a_waiting_send_completes_it_once_with_set_stopped) {
  this->fill_connection();
  auto op = this->connect_send();
  this->start_waiting(op);
  this->outcome_.stop.request_stop();
  senet::test::run_until_done(this->ctx(), this->outcome_);
  EXPECT_TRUE(this->outcome_.stopped_once()) << this->outcome_.describe();
  // The socket still writes (zero-copy) once the peer reads: what the fill sent, then the data. (A
  // zero-copy send completes only when its data has left the socket, so the peer reads it all.)
  std::vector<char> in(this->filled_ + this->data_.size());
  auto r = this->run(ex::when_all(net::async_write(this->pair_.client, buffer(this->data_)),
                                  net::async_read(this->pair_.server, buffer(in))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), this->data_.size());
  EXPECT_TRUE(std::all_of(in.begin() + static_cast<std::ptrdiff_t>(this->filled_), in.end(),
                          [](char c) { return c == 'z'; }));
}

TYPED_TEST(zero_copy_record_test, closing_the_socket_while_a_send_waits_aborts_it_once) {
  this->fill_connection();
  auto op = this->connect_send();
  this->start_waiting(op);
  this->pair_.client.close();
  senet::test::run_until_done(this->ctx(), this->outcome_);
  EXPECT_TRUE(this->outcome_.error_once(senet::error::operation_aborted)) << this->outcome_.describe();
}

TYPED_TEST(zero_copy_record_test, a_waiting_send_with_a_time_limit_times_out_once) {
  this->fill_connection();
  EXPECT_EQ(this->error_of(net::timeout(net::async_send(this->pair_.client, buffer(this->data_)), 50ms)),
            std::errc::timed_out);
}

TYPED_TEST(zero_copy_record_test, stopping_a_send_waiting_for_its_notification_keeps_its_bytes) {
  this->end_a_send_waiting_for_its_notification(false);
}

TYPED_TEST(zero_copy_record_test, closing_while_a_send_waits_for_its_notification_aborts_it_after) {
  this->end_a_send_waiting_for_its_notification(true);
}

TYPED_TEST(zero_copy_record_test, a_stop_from_another_thread_of_a_send_waiting_for_its_notification) {
  this->end_a_send_waiting_for_its_notification(false, true);
}

TYPED_TEST(zero_copy_record_test, a_close_on_another_thread_of_a_send_waiting_for_its_notification) {
  this->end_a_send_waiting_for_its_notification(true, true);
}

// Shutdown while a zero-copy send waits: the context's destructor cancels it, and it completes once
// (set_stopped) before the destructor returns.
TYPED_TEST(zero_copy_record_test, shutdown_while_a_send_waits_stops_it_once) {
  this->fill_connection();
  auto op = this->connect_send();
  this->start_waiting(op);
  this->ctx_.reset();
  EXPECT_TRUE(this->outcome_.stopped_once()) << this->outcome_.describe();
}

// Zero-copy writes back to back on three connections allocate nothing (after the first round,
// which registers the descriptors).
TYPED_TEST(zero_copy_record_test, back_to_back_sends_on_several_sockets_allocate_nothing) {
  constexpr std::size_t size = 256 * 1024;
  std::array<senet::test::tcp_connection, 3> pairs{this->tcp_pair(), this->tcp_pair(), this->tcp_pair()};
  std::vector<char> out = patterned(size);
  std::array<std::vector<char>, 3> in{std::vector<char>(size), std::vector<char>(size),
                                      std::vector<char>(size)};
  for (auto& p : pairs) {
    p.client.zero_copy_threshold(16 * 1024);
  }
  auto round = [&] {
    auto r = this->run(ex::when_all(
        net::async_write(pairs[0].client, buffer(out)), net::async_read(pairs[0].server, buffer(in[0])),
        net::async_write(pairs[1].client, buffer(out)), net::async_read(pairs[1].server, buffer(in[1])),
        net::async_write(pairs[2].client, buffer(out)), net::async_read(pairs[2].server, buffer(in[2]))));
    return r.has_value() && std::get<0>(*r) == size && std::get<1>(*r) == size && std::get<2>(*r) == size &&
           std::get<3>(*r) == size && std::get<4>(*r) == size && std::get<5>(*r) == size;
  };
  ASSERT_TRUE(round());
  senet::test::allocation_scope scope;
  bool ok = true;
  for (int i = 0; i < 50; ++i) {
    ok = round() && ok;
  }
  std::size_t allocations = scope.count();
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0U);
  for (const auto& v : in) {
    EXPECT_EQ(first_wrong(v), size);
  }
}

}  // namespace
