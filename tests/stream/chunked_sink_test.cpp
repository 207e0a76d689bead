// SPDX-License-Identifier: BSL-1.0
#include <senet/stream/chunked_sink.hpp>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/basic_stream_socket.hpp>
#include <senet/stream/write_sink.hpp>
#include <senet/task.hpp>

#include "stream/http_decoders.hpp"
#include "stream/suspension_counter.hpp"
#include "support/allocation_counter.hpp"
#include "support/backend_fixture.hpp"
#include "support/loopback.hpp"
#include "support/run.hpp"
#include "support/scripted_stream.hpp"
#include "support/stream_conformance.hpp"

#include <gtest/gtest.h>

#include <array>
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
using senet::stream::chunked_sink;
using senet::test::decode_chunked;
using senet::test::recording_stream;
using result = std::tuple<std::error_code, std::size_t>;
using eof_result = std::tuple<std::error_code>;

result ok(std::size_t n) {
  return result{std::error_code{}, n};
}

static_assert(senet::stream::write_sink<chunked_sink<recording_stream>>);
static_assert(senet::stream::write_sink<chunked_sink<tcp::socket>>);

template <class T>
T sync(task<T> t) {
  auto r = ex::sync_wait(std::move(t));
  if (!r) {
    throw std::runtime_error("stopped");
  }
  return std::get<0>(std::move(*r));
}

// ---- the decoder written for these tests is itself tested ----

TEST(chunked_decoder, accepts_a_well_formed_body_and_rejects_broken_ones) {
  std::size_t chunks = 0;
  EXPECT_EQ(decode_chunked("5\r\nhello\r\nA\r\n0123456789\r\n0\r\n\r\n", &chunks), "hello0123456789");
  EXPECT_EQ(chunks, 2u);
  EXPECT_EQ(decode_chunked("0\r\n\r\n"), "");
  EXPECT_FALSE(decode_chunked("5\r\nhello\r\n"));           // no last chunk
  EXPECT_FALSE(decode_chunked("5\r\nhell\r\n0\r\n\r\n"));   // size does not match
  EXPECT_FALSE(decode_chunked("0\r\n\r\n5\r\nhello\r\n"));  // bytes after the end
  EXPECT_FALSE(decode_chunked("x\r\nhello\r\n0\r\n\r\n"));  // not hex
  EXPECT_FALSE(decode_chunked("\r\nhello\r\n0\r\n\r\n"));   // empty size line
}

// ---- on a stream in memory ----

TEST(chunked_sink, write_eof_sends_the_last_data_and_the_end_in_one_write_some) {
  recording_stream s;
  chunked_sink sink(s);
  auto body = [&]() -> task<result> { co_return co_await sink.write_eof(senet::buffer("hello", 5)); };
  EXPECT_EQ(sync(body()), ok(5));
  ASSERT_EQ(s.calls.size(), 1u);
  EXPECT_EQ(s.calls[0], "5\r\nhello\r\n0\r\n\r\n");
  EXPECT_TRUE(sink.finished());
}

TEST(chunked_sink, each_write_is_one_chunk_in_one_write_some) {
  recording_stream s;
  chunked_sink sink(s);
  std::string big(300, 'x');
  auto body = [&]() -> task<std::vector<result>> {
    std::vector<result> out;
    out.push_back(co_await sink.write(senet::buffer("{", 1)));
    out.push_back(co_await sink.write(senet::buffer(big)));
    out.push_back(co_await sink.write_eof(senet::buffer("}", 1)));
    co_return out;
  };
  EXPECT_EQ(sync(body()), (std::vector<result>{ok(1), ok(300), ok(1)}));
  ASSERT_EQ(s.calls.size(), 3u);
  EXPECT_EQ(s.calls[0], "1\r\n{\r\n");
  EXPECT_EQ(s.calls[1], "12c\r\n" + big + "\r\n");
  std::size_t chunks = 0;
  EXPECT_EQ(decode_chunked(s.data, &chunks), "{" + big + "}");
  EXPECT_EQ(chunks, 3u);
}

TEST(chunked_sink, a_buffer_sequence_is_one_chunk) {
  recording_stream s;
  chunked_sink sink(s);
  std::array<senet::const_buffer, 4> parts{senet::buffer("ab", 2), senet::const_buffer(),
                                           senet::buffer("cde", 3), senet::buffer("f", 1)};
  auto body = [&]() -> task<result> { co_return co_await sink.write_eof(parts); };
  EXPECT_EQ(sync(body()), ok(6));
  ASSERT_EQ(s.calls.size(), 1u);
  EXPECT_EQ(s.calls[0], "6\r\nabcdef\r\n0\r\n\r\n");
}

TEST(chunked_sink, empty_writes_emit_no_chunk) {
  recording_stream s;
  chunked_sink sink(s);
  int suspensions = 0;
  auto body = [&]() -> task<std::vector<result>> {
    std::vector<result> out;
    out.push_back(co_await senet::test::counted(sink.write(senet::const_buffer()), &suspensions));
    out.push_back(co_await sink.write_some(std::array<senet::const_buffer, 2>{}));
    out.push_back(co_await sink.write(senet::buffer("a", 1)));
    out.push_back(co_await sink.write(senet::const_buffer()));
    co_return out;
  };
  EXPECT_EQ(sync(body()), (std::vector<result>{ok(0), ok(0), ok(1), ok(0)}));
  EXPECT_EQ(suspensions, 0);
  EXPECT_EQ(s.data, "1\r\na\r\n");  // no "0\r\n\r\n": the body is not ended
  EXPECT_FALSE(sink.finished());
}

TEST(chunked_sink, write_eof_of_nothing_writes_the_last_chunk_alone) {
  recording_stream s;
  chunked_sink sink(s);
  auto body = [&]() -> task<std::pair<result, eof_result>> {
    result a = co_await sink.write(senet::buffer("abc", 3));
    auto [ec] = co_await sink.write_eof();
    co_return std::pair{a, eof_result{ec}};
  };
  auto [a, b] = sync(body());
  EXPECT_EQ(a, ok(3));
  EXPECT_FALSE(std::get<0>(b));
  ASSERT_EQ(s.calls.size(), 2u);
  EXPECT_EQ(s.calls[1], "0\r\n\r\n");
  EXPECT_EQ(decode_chunked(s.data), "abc");

  recording_stream s2;
  chunked_sink sink2(s2);
  auto body2 = [&]() -> task<result> { co_return co_await sink2.write_eof(senet::const_buffer()); };
  EXPECT_EQ(sync(body2()), ok(0));
  EXPECT_EQ(s2.data, "0\r\n\r\n");
}

TEST(chunked_sink, rejects_writes_after_the_end_and_writes_nothing) {
  recording_stream s;
  chunked_sink sink(s);
  auto body = [&]() -> task<std::tuple<result, result, result, eof_result>> {
    result a = co_await sink.write_eof(senet::buffer("x", 1));
    result b = co_await sink.write(senet::buffer("y", 1));
    result c = co_await sink.write_eof(senet::buffer("z", 1));
    auto [ec] = co_await sink.write_eof();
    co_return std::tuple{a, b, c, eof_result{ec}};
  };
  auto [a, b, c, d] = sync(body());
  EXPECT_EQ(a, ok(1));
  EXPECT_EQ(std::get<0>(b), senet::error::write_after_eof);
  EXPECT_EQ(std::get<1>(b), 0u);
  EXPECT_EQ(std::get<0>(c), senet::error::write_after_eof);
  EXPECT_EQ(std::get<0>(d), senet::error::write_after_eof);
  EXPECT_EQ(s.data, "1\r\nx\r\n0\r\n\r\n");
  sink.reset();  // a new body
  auto again = [&]() -> task<result> { co_return co_await sink.write_eof(senet::buffer("y", 1)); };
  EXPECT_EQ(sync(again()), ok(1));
  EXPECT_EQ(s.data, "1\r\nx\r\n0\r\n\r\n1\r\ny\r\n0\r\n\r\n");
}

TEST(chunked_sink, partial_writes_of_the_stream_still_give_whole_chunks) {
  recording_stream s;
  s.max_per_call = 3;
  chunked_sink sink(s);
  auto body = [&]() -> task<std::vector<result>> {
    std::vector<result> out;
    out.push_back(co_await sink.write(senet::buffer("hello ", 6)));
    out.push_back(co_await sink.write_eof(senet::buffer("partial world", 13)));
    co_return out;
  };
  EXPECT_EQ(sync(body()), (std::vector<result>{ok(6), ok(13)}));
  EXPECT_GT(s.calls.size(), 5u);
  EXPECT_EQ(decode_chunked(s.data), "hello partial world");
}

TEST(chunked_sink, an_error_reports_the_data_bytes_written_and_fails_the_sink) {
  // "a\r\n" (3) + 4 data bytes reach the stream, then it fails.
  recording_stream s;
  s.fail_after = 7;
  chunked_sink sink(s);
  auto body = [&]() -> task<std::pair<result, result>> {
    result a = co_await sink.write(senet::buffer("0123456789", 10));
    result b = co_await sink.write(senet::buffer("more", 4));
    co_return std::pair{a, b};
  };
  auto [a, b] = sync(body());
  EXPECT_EQ(std::get<0>(a), std::errc::connection_reset);
  EXPECT_EQ(std::get<1>(a), 4u);
  EXPECT_EQ(std::get<0>(b), std::errc::connection_reset);  // the body is cut: no more chunks
  EXPECT_EQ(std::get<1>(b), 0u);
  EXPECT_EQ(s.data, "a\r\n0123");

  recording_stream s2;  // failing inside the chunk-size line: no data byte went out
  s2.fail_after = 1;
  chunked_sink sink2(s2);
  auto body2 = [&]() -> task<result> { co_return co_await sink2.write_eof(senet::buffer("0123456789", 10)); };
  auto r = sync(body2());
  EXPECT_EQ(std::get<0>(r), std::errc::connection_reset);
  EXPECT_EQ(std::get<1>(r), 0u);
  EXPECT_FALSE(sink2.finished());
}

TEST(chunked_sink, hex_sizes_of_large_chunks) {
  recording_stream s;
  chunked_sink sink(s);
  std::string big(0x12345, 'q');
  auto body = [&]() -> task<result> { co_return co_await sink.write_eof(senet::buffer(big)); };
  EXPECT_EQ(sync(body()), ok(big.size()));
  EXPECT_EQ(s.data.substr(0, 7), "12345\r\n");
  EXPECT_EQ(decode_chunked(s.data), big);
}

}  // namespace

// Named, not anonymous: the suite's coroutine templates keep the harness types in their frames.
namespace senet_http_harnesses {

// ---- the conformance suite ----

/** The received side of a chunked body: the data of its chunks, checked to be well formed and ended
    (or not) as the run said. */
std::string chunked_received(std::string_view wire, bool ends_stream) {
  bool ended = false;
  auto body = senet::test::decode_chunks(wire, ended);
  EXPECT_TRUE(body) << "malformed chunked body: " << wire.substr(0, 200);
  EXPECT_EQ(ended, ends_stream) << "the last chunk was " << (ended ? "" : "not ") << "written";
  return body.value_or("<malformed>");
}

/** A chunked sink over the scripted stream: partial writes of 1, 7, then `Piece` bytes, suspending
    when `Suspend`. */
template <bool Suspend, std::size_t Piece>
struct chunked_scripted_harness {
  using stream_type = chunked_sink<senet::test::scripted_stream>;
  chunked_scripted_harness() {
    s.script_writes({{.max_bytes = 1}, {.max_bytes = 7, .suspend = Suspend}});
    s.write_default = {.max_bytes = Piece, .suspend = Suspend};
  }
  stream_type& stream() { return sink; }
  template <class T>
  T run(task<T> body, bool ends_stream) {
    ends_stream_ = ends_stream;
    return senet::test::value_of(ctx, std::move(body));
  }
  std::string received() { return chunked_received(s.written(), ends_stream_); }
  void fail_destination() {
    s.write_default = {.error = std::make_error_code(std::errc::io_error)};
    s.script_writes({});
  }
  bool is_destination_error(std::error_code ec) { return ec == std::errc::io_error; }

  io::io_context ctx{io::backend_kind::epoll};
  senet::test::scripted_stream s;
  stream_type sink{s};
  bool ends_stream_ = false;
};

/** A chunked sink over a connected TCP socket on `Backend`; the peer reads until the harness shuts
    the socket down after the body. */
template <class Backend>
struct chunked_socket_harness : senet::test::tcp_peer<Backend::kind> {
  using stream_type = chunked_sink<tcp::socket>;
  stream_type& stream() { return sink; }
  std::string received() { return chunked_received(this->wire, this->ends_stream_); }
  stream_type sink{this->pair.client};
};

using chunked_harnesses =
    ::testing::Types<chunked_scripted_harness<false, 4096>, chunked_scripted_harness<true, 65536>,
                     chunked_socket_harness<senet::test::epoll_backend>,
                     chunked_socket_harness<senet::test::uring_backend>,
                     chunked_socket_harness<senet::test::test_backend>>;

}  // namespace senet_http_harnesses

SENET_TEST_WRITE_SINK_CONFORMANCE(chunked, senet_http_harnesses::chunked_harnesses);
namespace senet::test {  // this file has no read side
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(read_stream_conformance);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(read_source_conformance);
}  // namespace senet::test

namespace {

// ---- on sockets, every backend ----

/** A socket's write_stream face that counts its write_some calls. */
struct counting_socket {
  tcp::socket* sock;
  int calls = 0;
  template <class Buffers>
  auto write_some(Buffers&& buffers) {
    ++calls;
    return sock->write_some(std::forward<Buffers>(buffers));
  }
};

template <class Backend>
class chunked_sink_socket : public senet::test::backend_fixture<Backend> {
 protected:
  void SetUp() override {
    senet::test::backend_fixture<Backend>::SetUp();
    if (this->IsSkipped()) {
      return;
    }
    acceptor_.emplace(senet::test::listen_tcp(tcp::v4()));
    pair_ = senet::test::connect_pair(this->ctx(), *acceptor_);
  }

  std::string read_exactly(std::size_t n) {
    std::string in(n, '\0');
    EXPECT_TRUE(this->run(net::async_read(pair_.server, senet::buffer(in))));
    return in;
  }

  std::optional<tcp::acceptor> acceptor_;
  senet::test::stream_pair<tcp> pair_;
};
TYPED_TEST_SUITE(chunked_sink_socket, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(chunked_sink_socket, write_eof_is_one_system_call_and_the_peer_decodes_the_body) {
  counting_socket cs{&this->pair_.client};
  int suspensions = 0;
  auto body = [&]() -> task<std::pair<result, result>> {
    chunked_sink sink(cs);
    result a = co_await sink.write(senet::buffer("first chunk, ", 13));
    result b = co_await senet::test::counted(sink.write_eof(senet::buffer("last chunk", 10)), &suspensions);
    co_return std::pair{a, b};
  };
  auto r = this->run(body());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r).first, ok(13));
  EXPECT_EQ(std::get<0>(*r).second, ok(10));
  EXPECT_EQ(cs.calls, 2);  // one sendmsg per operation, the last chunk included
  EXPECT_EQ(suspensions, 0);
  std::string expected = "d\r\nfirst chunk, \r\na\r\nlast chunk\r\n0\r\n\r\n";
  std::string wire = this->read_exactly(expected.size());
  EXPECT_EQ(wire, expected);
  EXPECT_EQ(decode_chunked(wire), "first chunk, last chunk");
}

TYPED_TEST(chunked_sink_socket, no_allocation_per_write) {
  std::size_t allocations = 1;
  auto body = [&]() -> task<void> {
    chunked_sink sink(this->pair_.client);
    std::string one = "a\r\n0123456789\r\n";
    std::string expected;
    for (int i = 0; i < 8; ++i) {
      expected += one;
    }
    // The first two rounds let the test backend's simulated socket buffer grow (it allocates as
    // it stores bytes), and make the frame of a write that waits: every 16 operations completed
    // at once in one handler, the next goes through the loop (io_context.hpp, "Fairness"), and the
    // first to do so allocates the frame that the later ones reuse. The last four are counted:
    // 32 writes, some of them through the loop.
    allocations = 0;
    for (int round = 0; round < 6; ++round) {
      senet::test::allocation_scope scope;
      for (int i = 0; i < 8; ++i) {
        auto [ec, n] = co_await sink.write(senet::buffer("0123456789", 10));
        EXPECT_FALSE(ec) << ec.message();
      }
      if (round >= 2) {
        allocations += scope.count();
      }
      std::string in(expected.size(), '\0');
      co_await net::async_read(this->pair_.server, senet::buffer(in));
      EXPECT_EQ(in, expected);
    }
    auto [ec] = co_await sink.write_eof();
    EXPECT_FALSE(ec) << ec.message();
  };
  ASSERT_TRUE(this->run(body()));
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(this->read_exactly(5), "0\r\n\r\n");
}

TYPED_TEST(chunked_sink_socket, a_closed_peer_fails_the_write) {
  this->pair_.server.close();
  std::vector<char> big(4 << 20, 'b');
  auto body = [&]() -> task<result> {
    chunked_sink sink(this->pair_.client);
    co_return co_await sink.write_eof(senet::buffer(big));
  };
  auto r = this->run(body());
  ASSERT_TRUE(r);
  auto [ec, n] = std::get<0>(*r);
  EXPECT_TRUE(ec == std::errc::broken_pipe || ec == std::errc::connection_reset) << ec.message();
  EXPECT_LT(n, big.size());
}

}  // namespace
