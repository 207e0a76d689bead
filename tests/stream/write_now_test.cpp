// SPDX-License-Identifier: BSL-1.0
#include <senet/stream/write_now.hpp>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/test_network.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/basic_stream_socket.hpp>
#include <senet/task.hpp>

#include "stream/archetypes.hpp"
#include "stream/suspension_counter.hpp"
#include "support/allocation_counter.hpp"
#include "support/backend_fixture.hpp"
#include "support/loopback.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
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
using senet::stream::write_now;
using senet::test::counted;
using result = std::tuple<std::error_code, std::size_t>;
result ok(std::size_t n) {
  return result{std::error_code{}, n};
}

template <class Backend>
class write_now_socket : public senet::test::backend_fixture<Backend> {
 protected:
  void SetUp() override {
    senet::test::backend_fixture<Backend>::SetUp();
    if (this->IsSkipped()) {
      return;
    }
    acceptor_.emplace(senet::test::listen_tcp(tcp::v4()));
    pair_ = senet::test::connect_pair(this->ctx(), *acceptor_);
  }

  // Small socket buffers, so that a large write must wait for the peer.
  void make_buffers_small() {
    if constexpr (Backend::kind == io::backend_kind::test) {
      io::test_network::of(this->ctx()).set_send_buffer_limit(4096);
    } else {
      pair_.client.set_option(tcp::socket::send_buffer_size(4096));
      pair_.server.set_option(tcp::socket::receive_buffer_size(4096));
    }
  }

  std::string read_exactly(std::size_t n) {
    std::string in(n, '\0');
    EXPECT_TRUE(this->run(net::async_read(pair_.server, senet::buffer(in))));
    return in;
  }

  std::optional<tcp::acceptor> acceptor_;
  senet::test::stream_pair<tcp> pair_;
};
TYPED_TEST_SUITE(write_now_socket, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(write_now_socket, completes_in_await_ready_when_every_write_some_does) {
  int suspensions = 0;
  std::size_t allocations = 1;
  auto body = [&]() -> task<std::vector<result>> {
    write_now wn(this->pair_.client);
    std::vector<result> out;
    out.reserve(4);
    // A first round lets the test backend's simulated socket buffer reach its size (it allocates
    // as it stores bytes); the second is counted.
    out.push_back(co_await counted(wn(senet::buffer("hello", 5)), &suspensions));
    out.push_back(co_await counted(wn(senet::buffer("world", 5)), &suspensions));
    std::string first(10, '\0');
    co_await net::async_read(this->pair_.server, senet::buffer(first));
    EXPECT_EQ(first, "helloworld");
    senet::test::allocation_scope scope;
    out.push_back(co_await counted(wn(senet::buffer("hello", 5)), &suspensions));
    out.push_back(co_await counted(wn(senet::buffer("world", 5)), &suspensions));
    allocations = scope.count();
    co_return out;
  };
  auto r = this->run(body());
  ASSERT_TRUE(r);
  auto& results = std::get<0>(*r);
  for (auto& res : results) {
    EXPECT_EQ(res, ok(5));
  }
  EXPECT_EQ(suspensions, 0);
  EXPECT_EQ(allocations, 0u);  // no frame: nothing waited
  EXPECT_EQ(this->read_exactly(10), "helloworld");
}

TYPED_TEST(write_now_socket, reuses_one_cached_frame_when_writes_wait) {
  this->make_buffers_small();
  // Each call must wait for the reader (the buffers are 4 KiB), but not for long: with buffers this
  // small, megabytes take a minute on loopback (zero-window probes), kernel-side.
  constexpr std::size_t chunk = 1 << 16;
  constexpr int calls = 3;
  std::vector<char> out(chunk * calls);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(i * 13 + i / 251);
  }
  std::vector<char> in(out.size());
  std::array<int, calls> suspensions{};
  std::array<std::size_t, calls> allocations{};
  auto writer = [&]() -> task<void> {
    write_now wn(this->pair_.client);
    for (int i = 0; i < calls; ++i) {
      senet::test::allocation_scope scope;
      auto [ec, n] = co_await counted(wn(senet::buffer(out.data() + i * chunk, chunk)), &suspensions[i]);
      allocations[i] = scope.count();
      EXPECT_FALSE(ec) << ec.message();
      EXPECT_EQ(n, chunk);
    }
  };
  auto reader = [&]() -> task<std::size_t> {
    co_return co_await net::async_read(this->pair_.server, senet::buffer(in));
  };
  auto r = this->run(ex::when_all(writer(), reader()));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), out.size());
  EXPECT_TRUE(in == out);
  for (int i = 0; i < calls; ++i) {
    EXPECT_EQ(suspensions[i], 1) << "call " << i << " did not wait (the test needs it to)";
  }
  EXPECT_GE(allocations[0], 1u);  // the loop's frame
  EXPECT_EQ(allocations[1], 0u);
  EXPECT_EQ(allocations[2], 0u);
}

TYPED_TEST(write_now_socket, a_buffer_sequence) {
  std::array<senet::const_buffer, 3> out{senet::buffer("ab", 2), senet::const_buffer(),
                                         senet::buffer("cde", 3)};
  auto body = [&]() -> task<result> {
    write_now wn(this->pair_.client);
    co_return co_await wn(out);
  };
  auto r = this->run(body());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), ok(5));
  EXPECT_EQ(this->read_exactly(5), "abcde");
}

TYPED_TEST(write_now_socket, empty_buffers_complete_at_once) {
  int suspensions = 0;
  auto body = [&]() -> task<result> {
    write_now wn(this->pair_.client);
    co_return co_await counted(wn(senet::const_buffer()), &suspensions);
  };
  auto r = this->run(body());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), ok(0));
  EXPECT_EQ(suspensions, 0);
}

TYPED_TEST(write_now_socket, a_stop_request_ends_it_with_operation_aborted_and_the_count) {
  this->make_buffers_small();
  std::vector<char> big(4 << 20);
  std::optional<result> got;
  auto writer = [&]() -> task<void> {
    write_now wn(this->pair_.client);
    got = co_await wn(senet::buffer(big));
  };
  auto stopper = [&]() -> task<void> {
    co_await ex::schedule(this->ctx().get_scheduler());
    co_await ex::just_stopped();
  };
  auto r = this->run(ex::when_all(writer(), stopper()));
  EXPECT_FALSE(r);
  ASSERT_TRUE(got);
  EXPECT_EQ(std::get<0>(*got), senet::error::operation_aborted);
  EXPECT_LT(std::get<1>(*got), big.size());
}

TYPED_TEST(write_now_socket, a_closed_peer_ends_it_with_the_error) {
  this->pair_.server.close();
  std::vector<char> big(4 << 20);
  auto body = [&]() -> task<result> {
    write_now wn(this->pair_.client);
    co_return co_await wn(senet::buffer(big));
  };
  auto r = this->run(body());
  ASSERT_TRUE(r);
  auto [ec, n] = std::get<0>(*r);
  EXPECT_TRUE(ec == std::errc::broken_pipe || ec == std::errc::connection_reset) << ec.message();
  EXPECT_LT(n, big.size());
}

// ---- on a stream that is not a socket ----

/** A write_stream in memory that takes at most 3 bytes per write_some, at once. */
struct trickle_stream {
  std::string data;
  template <class Buffers>
  senet::test::stream_archetypes::ready_awaiter<result> write_some(const Buffers& buffers) {
    std::size_t n = 0;
    for (auto it = senet::buffer_sequence_begin(buffers); it != senet::buffer_sequence_end(buffers) && n < 3;
         ++it) {
      senet::const_buffer b(*it);
      std::size_t take = std::min<std::size_t>(b.size(), 3 - n);
      data.append(static_cast<const char*>(b.data()), take);
      n += take;
    }
    return {result{std::error_code{}, n}};
  }
};
static_assert(senet::stream::write_stream<trickle_stream>);

TEST(write_now, loops_write_some_of_any_write_stream_without_suspending) {
  trickle_stream s;
  int suspensions = 0;
  std::array<senet::const_buffer, 2> out{senet::buffer("hello ", 6), senet::buffer("trickle", 7)};
  auto body = [&]() -> task<result> {
    write_now wn(s);
    co_return co_await counted(wn(out), &suspensions);
  };
  auto r = ex::sync_wait(body());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), ok(13));
  EXPECT_EQ(s.data, "hello trickle");
  EXPECT_EQ(suspensions, 0);
}

/** A write_stream whose write_some fails after `limit` bytes. */
struct failing_stream {
  std::size_t limit;
  std::size_t taken = 0;
  template <class Buffers>
  senet::test::stream_archetypes::ready_awaiter<result> write_some(const Buffers& buffers) {
    if (taken >= limit) {
      return {result{std::make_error_code(std::errc::no_space_on_device), 0}};
    }
    std::size_t n = std::min(senet::buffer_size(buffers), limit - taken);
    taken += n;
    return {result{std::error_code{}, n}};
  }
};

TEST(write_now, reports_the_bytes_written_before_an_error) {
  failing_stream s{4};
  auto body = [&]() -> task<result> {
    write_now wn(s);
    co_return co_await wn(senet::buffer("0123456789", 10));
  };
  auto r = ex::sync_wait(body());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(std::get<0>(*r)), std::errc::no_space_on_device);
  EXPECT_EQ(std::get<1>(std::get<0>(*r)), 4u);
}

}  // namespace
