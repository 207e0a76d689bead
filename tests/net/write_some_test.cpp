// SPDX-License-Identifier: BSL-1.0
#include <senet/net/write_some.hpp>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/detail/descriptor.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/test_network.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/basic_stream_socket.hpp>
#include <senet/stream/write_stream.hpp>
#include <senet/task.hpp>

#include "stream/suspension_counter.hpp"
#include "support/backend_fixture.hpp"
#include "support/expect_receiver.hpp"
#include "support/loopback.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
using senet::task;
using senet::ip::tcp;
using senet::test::counted;
using result = std::tuple<std::error_code, std::size_t>;
result ok(std::size_t n) {
  return result{std::error_code{}, n};
}

static_assert(senet::stream::write_stream<tcp::socket>);
static_assert(senet::stream::write_stream<senet::local::stream_protocol::socket>);

template <class Backend>
class write_some : public senet::test::backend_fixture<Backend> {
 protected:
  void SetUp() override {
    senet::test::backend_fixture<Backend>::SetUp();
    if (this->IsSkipped()) {
      return;
    }
    acceptor_.emplace(senet::test::listen_tcp(tcp::v4()));
    pair_ = senet::test::connect_pair(this->ctx(), *acceptor_);
  }

  // Brings the client socket to where write_some makes its system call itself, without a record
  // (io::detail::may_perform_directly): a read that waited (which registers the socket with the
  // context on every backend), then a write that went out at once. The test backend never allows
  // it; the kernel backends must.
  void prime_direct_writes() {
    std::array<char, 8> buf{};
    auto reader = [&]() -> task<result> {
      co_return co_await this->pair_.client.read_some(senet::buffer(buf));
    };
    auto writer = [&]() -> task<void> {
      co_await ex::schedule(this->ctx().get_scheduler());
      co_await net::async_write(this->pair_.server, senet::buffer("w", 1));
    };
    auto waited = this->run(ex::when_all(reader(), writer()));
    ASSERT_TRUE(waited);
    ASSERT_EQ(std::get<0>(*waited), ok(1u));
    auto at_once = this->run(
        [&]() -> task<result> { co_return co_await this->pair_.client.write_some(senet::buffer("p", 1)); }());
    ASSERT_TRUE(at_once);
    ASSERT_EQ(std::get<0>(*at_once), ok(1u));
    char p = 0;
    ASSERT_EQ(this->value_of(net::async_read(this->pair_.server, senet::buffer(&p, 1))), 1u);
    const auto* head = static_cast<const io::detail::descriptor_state_head*>(
        pair_.client.io_descriptor().context_state.load());
    EXPECT_EQ(head != nullptr && (head->direct & io::detail::direct_send) != 0,
              this->kind != io::backend_kind::test);
  }

  std::optional<tcp::acceptor> acceptor_;
  senet::test::stream_pair<tcp> pair_;
};
TYPED_TEST_SUITE(write_some, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(write_some, room_in_the_socket_completes_without_suspending) {
  int suspensions = 0;
  std::string out = "hello";
  auto body = [&]() -> task<result> {
    co_return co_await counted(this->pair_.client.write_some(senet::buffer(out)), &suspensions);
  };
  auto r = this->run(body());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), ok(5));
  EXPECT_EQ(suspensions, 0);
  std::string in(5, '\0');
  ASSERT_TRUE(this->run(net::async_read(this->pair_.server, senet::buffer(in))));
  EXPECT_EQ(in, "hello");
}

TYPED_TEST(write_some, a_buffer_sequence_and_the_free_function) {
  std::array<senet::const_buffer, 2> out{senet::buffer("abc", 3), senet::buffer("defg", 4)};
  auto body = [&]() -> task<result> { co_return co_await net::write_some(this->pair_.client, out); };
  auto r = this->run(body());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), ok(7));
  std::string in(7, '\0');
  ASSERT_TRUE(this->run(net::async_read(this->pair_.server, senet::buffer(in))));
  EXPECT_EQ(in, "abcdefg");
}

TYPED_TEST(write_some, empty_buffer_completes_at_once_with_zero) {
  int suspensions = 0;
  auto body = [&]() -> task<result> {
    co_return co_await counted(this->pair_.client.write_some(senet::const_buffer()), &suspensions);
  };
  auto r = this->run(body());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), ok(0));
  EXPECT_EQ(suspensions, 0);
}

// A full send buffer: write_some suspends until the peer reads, and every byte arrives in order.
TYPED_TEST(write_some, a_full_socket_suspends_until_the_peer_reads) {
  if constexpr (TypeParam::kind == io::backend_kind::test) {
    io::test_network::of(this->ctx()).set_send_buffer_limit(4096);
  }
  constexpr std::size_t total = 8 << 20;
  std::vector<char> out(total);
  for (std::size_t i = 0; i < total; ++i) {
    out[i] = static_cast<char>(i * 7);
  }
  std::vector<char> in(total);
  int suspensions = 0;
  auto writer = [&]() -> task<std::size_t> {
    std::size_t done = 0;
    while (done < total) {
      auto [ec, n] = co_await counted(
          this->pair_.client.write_some(senet::buffer(out.data() + done, total - done)), &suspensions);
      if (ec) {
        ADD_FAILURE() << ec.message();
        co_return done;
      }
      EXPECT_GE(n, 1u);
      done += n;
    }
    co_return done;
  };
  auto reader = [&]() -> task<std::size_t> {
    // Starts after the writer filled the socket (the writer runs first, until it suspends).
    co_return co_await net::async_read(this->pair_.server, senet::buffer(in));
  };
  auto r = this->run(ex::when_all(writer(), reader()));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), total);
  EXPECT_EQ(std::get<1>(*r), total);
  EXPECT_GE(suspensions, 1);
  EXPECT_TRUE(in == out);
}

// The direct path (socket_awaitable.hpp): a write started behind pending sends goes out after them
// (order is per send: each send's bytes, as many as it reports, then the next one's).
TYPED_TEST(write_some, a_write_started_behind_pending_sends_goes_out_after_them) {
  this->prime_direct_writes();
  if constexpr (TypeParam::kind == io::backend_kind::test) {
    io::test_network::of(this->ctx()).set_send_buffer_limit(4096);
  }
  std::vector<char> big(8 << 20, 'b');
  int suspensions = 0;
  auto after = [&]() -> task<result> {
    co_return co_await counted(this->pair_.client.write_some(senet::buffer("X", 1)), &suspensions);
  };
  // Reads until the 'X', counting the bytes before it.
  auto reader = [&]() -> task<std::size_t> {
    std::vector<char> chunk(1 << 16);
    std::size_t before = 0;
    for (;;) {
      std::size_t n = co_await net::async_receive(this->pair_.server, senet::buffer(chunk));
      if (n == 0) {
        ADD_FAILURE() << "end of stream before the X";
        co_return before;
      }
      auto end = chunk.begin() + static_cast<std::ptrdiff_t>(n);
      auto x = std::find(chunk.begin(), end, 'X');
      before += static_cast<std::size_t>(x - chunk.begin());
      if (x != end) {
        EXPECT_EQ(x + 1, end) << "bytes after the X";
        co_return before;
      }
    }
  };
  // when_all starts its children in order: the first send fills the socket (or waits), the second
  // waits behind it, write_some starts behind both, then the reader drains the socket.
  auto r =
      this->run(ex::when_all(net::async_send(this->pair_.client, senet::buffer(big)),
                             net::async_send(this->pair_.client, senet::buffer(big)), after(), reader()));
  ASSERT_TRUE(r);
  auto [first, second, x, before] = *r;
  EXPECT_GT(second, 0u);
  EXPECT_EQ(x, ok(1u));
  EXPECT_EQ(before, first + second);
  EXPECT_EQ(suspensions, 1);
}

// A send started outside the loop is handed to it; write_some inside run_until, with the direct
// path open, must not make its system call before that send has started.
TYPED_TEST(write_some, a_send_handed_to_the_loop_goes_out_before_a_direct_write) {
  this->prime_direct_writes();
  const std::string first(64, 'a');
  auto op =
      ex::connect(net::async_send(this->ctx().get_scheduler(), this->pair_.client, senet::buffer(first)),
                  senet::test::expect_value_receiver<std::size_t>{64u});
  ex::start(op);
  auto second = this->run([&]() -> task<result> {
    co_return co_await this->pair_.client.write_some(senet::buffer("bbbb", 4));
  }());
  ASSERT_TRUE(second);
  EXPECT_EQ(std::get<0>(*second), ok(4u));
  std::string got(68, '?');
  ASSERT_EQ(this->value_of(net::async_read(this->pair_.server, senet::buffer(got))), 68u);
  EXPECT_EQ(got, first + "bbbb");
}

TYPED_TEST(write_some, a_stop_request_gives_operation_aborted) {
  if constexpr (TypeParam::kind == io::backend_kind::test) {
    io::test_network::of(this->ctx()).set_send_buffer_limit(1024);
  }
  std::vector<char> big(8 << 20);
  std::optional<result> last;
  auto writer = [&]() -> task<void> {
    for (;;) {
      last = co_await this->pair_.client.write_some(senet::buffer(big));
      if (std::get<0>(*last)) {
        co_return;
      }
    }
  };
  auto stopper = [&]() -> task<void> {
    co_await ex::schedule(this->ctx().get_scheduler());
    co_await ex::just_stopped();
  };
  auto r = this->run(ex::when_all(writer(), stopper()));
  EXPECT_FALSE(r);
  ASSERT_TRUE(last);
  EXPECT_EQ(std::get<0>(*last), senet::error::operation_aborted);
  EXPECT_EQ(std::get<1>(*last), 0u);
}

TYPED_TEST(write_some, a_closed_peer_is_an_error_result) {
  this->pair_.server.close();
  std::vector<char> data(1 << 16);
  auto body = [&]() -> task<std::error_code> {
    // The first writes may still be accepted; the reset shows within a few.
    for (int i = 0; i < 64; ++i) {
      auto [ec, n] = co_await this->pair_.client.write_some(senet::buffer(data));
      if (ec) {
        EXPECT_EQ(n, 0u);
        co_return ec;
      }
    }
    co_return std::error_code();
  };
  auto r = this->run(body());
  ASSERT_TRUE(r);
  auto ec = std::get<0>(*r);
  EXPECT_TRUE(ec == std::errc::broken_pipe || ec == std::errc::connection_reset) << ec.message();
}

}  // namespace
