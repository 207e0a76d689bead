// SPDX-License-Identifier: BSL-1.0
#include <senet/stream/deflate_sink.hpp>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/test_network.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/basic_stream_socket.hpp>
#include <senet/stream/any_write_sink.hpp>
#include <senet/stream/chunked_sink.hpp>
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
#include <stdexcept>
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
using senet::stream::deflate_flush;
using senet::stream::deflate_format;
using senet::stream::deflate_options;
using senet::stream::deflate_sink;
using senet::test::decode_chunked;
using senet::test::inflate_all;
using senet::test::recording_stream;
using result = std::tuple<std::error_code, std::size_t>;
using eof_result = std::tuple<std::error_code>;

result ok(std::size_t n) {
  return result{std::error_code{}, n};
}

static_assert(senet::stream::write_sink<deflate_sink<recording_stream>>);
static_assert(senet::stream::write_sink<deflate_sink<chunked_sink<tcp::socket>>>);
static_assert(senet::stream::write_sink<deflate_sink<tcp::socket>>);

template <class T>
T sync(task<T> t) {
  auto r = ex::sync_wait(std::move(t));
  if (!r) {
    throw std::runtime_error("stopped");
  }
  if constexpr (!std::is_void_v<T>) {
    return std::get<0>(std::move(*r));
  }
}

/** Text that compresses (repeated words), `n` bytes. */
std::string text(std::size_t n) {
  static constexpr std::string_view words[] = {"senet ",      "streams ",  "and ",
                                               "coroutines ", "compress ", "well\n"};
  std::string s;
  for (std::size_t i = 0; s.size() < n; ++i) {
    s += words[(i * 7 + i / 3) % 6];
  }
  s.resize(n);
  return s;
}

/** Bytes that do not compress, `n` of them. */
std::string noise(std::size_t n) {
  std::string s(n, '\0');
  std::uint32_t x = 2463534242u;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

int window_bits(deflate_format f) {
  return f == deflate_format::raw ? -15 : f == deflate_format::zlib ? 15 : 31;
}

// ---- the independent decoder is itself tested ----

TEST(inflate_decoder, rejects_a_truncated_or_corrupt_stream) {
  recording_stream s;
  deflate_sink sink(s, {.format = deflate_format::gzip});
  std::string in = text(5000);
  auto body = [&]() -> task<result> { co_return co_await sink.write_eof(senet::buffer(in)); };
  EXPECT_EQ(sync(body()), ok(in.size()));
  EXPECT_EQ(inflate_all(s.data, 31), in);
  EXPECT_FALSE(inflate_all(s.data.substr(0, s.data.size() - 1), 31));
  std::string corrupt = s.data;
  corrupt[corrupt.size() - 3] ^= 0x55;  // the gzip trailer's length
  EXPECT_FALSE(inflate_all(corrupt, 31));
  EXPECT_FALSE(inflate_all(s.data, 15));  // not a zlib stream
}

// ---- the three formats, on a stream in memory ----

class deflate_formats : public ::testing::TestWithParam<deflate_format> {};
INSTANTIATE_TEST_SUITE_P(all, deflate_formats,
                         ::testing::Values(deflate_format::raw, deflate_format::zlib, deflate_format::gzip),
                         [](const auto& info) {
                           return info.param == deflate_format::raw    ? std::string("raw")
                                  : info.param == deflate_format::zlib ? std::string("zlib")
                                                                       : std::string("gzip");
                         });

TEST_P(deflate_formats, what_inflate_decodes_is_what_was_written) {
  recording_stream s;
  deflate_sink sink(s, {.format = GetParam()});
  std::string a = text(10000);
  std::string b = noise(3000);
  std::array<senet::const_buffer, 3> parts{senet::buffer("x", 1), senet::const_buffer(),
                                           senet::buffer("yz", 2)};
  auto body = [&]() -> task<std::vector<result>> {
    std::vector<result> out;
    out.push_back(co_await sink.write(senet::buffer(a)));
    out.push_back(co_await sink.write_some(senet::buffer(b)));
    out.push_back(co_await sink.write_eof(parts));
    co_return out;
  };
  EXPECT_EQ(sync(body()), (std::vector<result>{ok(a.size()), ok(b.size()), ok(3)}));
  EXPECT_TRUE(sink.finished());
  EXPECT_EQ(inflate_all(s.data, window_bits(GetParam())), a + b + "xyz");
  EXPECT_LT(s.data.size(), a.size() / 2 + b.size() + 100);  // the text compressed
}

TEST_P(deflate_formats, write_eof_without_data_finishes_the_stream) {
  recording_stream s;
  deflate_sink sink(s, {.format = GetParam()});
  auto body = [&]() -> task<std::pair<result, eof_result>> {
    result a = co_await sink.write(senet::buffer("abc", 3));
    auto [ec] = co_await sink.write_eof();
    co_return std::pair{a, eof_result{ec}};
  };
  auto [a, b] = sync(body());
  EXPECT_EQ(a, ok(3));
  EXPECT_FALSE(std::get<0>(b));
  EXPECT_EQ(inflate_all(s.data, window_bits(GetParam())), "abc");
}

// ---- behaviour ----

TEST(deflate_sink, write_eof_finishes_in_the_same_call_as_the_last_data) {
  // Through a chunked sink: the last compressed block, the gzip trailer and the last chunk are one
  // write_some of the stream below.
  recording_stream s;
  chunked_sink chunked(s);
  deflate_sink gz(chunked);
  std::string a = text(2000);
  auto body = [&]() -> task<std::pair<result, result>> {
    result r1 = co_await gz.write(senet::buffer(a));
    result r2 = co_await gz.write_eof(senet::buffer("the end", 7));
    co_return std::pair{r1, r2};
  };
  auto [r1, r2] = sync(body());
  EXPECT_EQ(r1, ok(a.size()));
  EXPECT_EQ(r2, ok(7));
  ASSERT_EQ(s.calls.size(), 1u);  // nothing before the end: zlib kept it all (flush none)
  EXPECT_TRUE(s.calls[0].ends_with("\r\n0\r\n\r\n"));
  EXPECT_TRUE(chunked.finished());
  auto body_bytes = decode_chunked(s.data);
  ASSERT_TRUE(body_bytes);
  EXPECT_EQ(inflate_all(*body_bytes, 31), a + "the end");
}

TEST(deflate_sink, sync_flush_makes_each_write_decodable_at_once) {
  recording_stream s;
  deflate_sink sink(s, {.format = deflate_format::zlib, .flush = deflate_flush::sync});
  std::vector<std::string> parts{"first line\n", text(3000), "third\n"};
  auto body = [&]() -> task<void> {
    std::string so_far;
    for (const auto& p : parts) {
      auto [ec, n] = co_await sink.write(senet::buffer(p));
      EXPECT_FALSE(ec);
      EXPECT_EQ(n, p.size());
      so_far += p;
      EXPECT_EQ(senet::test::inflate_prefix(s.data, 15), so_far);
    }
    auto [ec] = co_await sink.write_eof();
    EXPECT_FALSE(ec);
  };
  sync(body());
  EXPECT_EQ(inflate_all(s.data, 15), parts[0] + parts[1] + parts[2]);
}

TEST(deflate_sink, empty_writes_complete_at_once_and_write_nothing) {
  recording_stream s;
  deflate_sink sink(s, {.flush = deflate_flush::sync});
  int suspensions = 0;
  auto body = [&]() -> task<result> {
    co_return co_await senet::test::counted(sink.write(senet::const_buffer()), &suspensions);
  };
  EXPECT_EQ(sync(body()), ok(0));
  EXPECT_EQ(suspensions, 0);
  EXPECT_TRUE(s.calls.empty());
}

TEST(deflate_sink, small_output_buffer_and_partial_writes_of_the_stream) {
  recording_stream s;
  s.max_per_call = 7;
  deflate_sink sink(s, {.format = deflate_format::gzip, .buffer_size = 64});
  std::string in = noise(20000) + text(20000);
  auto body = [&]() -> task<result> { co_return co_await sink.write_eof(senet::buffer(in)); };
  EXPECT_EQ(sync(body()), ok(in.size()));
  EXPECT_GT(s.calls.size(), 20000u / 7);
  for (const auto& c : s.calls) {
    EXPECT_LE(c.size(), 7u);
  }
  EXPECT_EQ(inflate_all(s.data, 31), in);
}

TEST(deflate_sink, rejects_writes_after_the_end_and_reset_starts_a_new_stream) {
  recording_stream s;
  deflate_sink sink(s, {.format = deflate_format::raw});
  auto body = [&]() -> task<std::tuple<result, result, eof_result>> {
    result a = co_await sink.write_eof(senet::buffer("one", 3));
    result b = co_await sink.write(senet::buffer("two", 3));
    auto [ec] = co_await sink.write_eof();
    co_return std::tuple{a, b, eof_result{ec}};
  };
  auto [a, b, c] = sync(body());
  EXPECT_EQ(a, ok(3));
  EXPECT_EQ(std::get<0>(b), senet::error::write_after_eof);
  EXPECT_EQ(std::get<1>(b), 0u);
  EXPECT_EQ(std::get<0>(c), senet::error::write_after_eof);
  std::string first = s.data;
  EXPECT_EQ(inflate_all(first, -15), "one");

  sink.reset();
  s.data.clear();
  auto again = [&]() -> task<result> { co_return co_await sink.write_eof(senet::buffer("three", 5)); };
  EXPECT_EQ(sync(again()), ok(5));
  EXPECT_EQ(inflate_all(s.data, -15), "three");
}

TEST(deflate_sink, a_stream_error_ends_the_operation_and_fails_the_sink) {
  recording_stream s;
  s.fail_after = 100;
  deflate_sink sink(s, {.format = deflate_format::gzip, .buffer_size = 64});
  std::string in = noise(100000);  // enough for zlib to emit blocks before the end
  auto body = [&]() -> task<std::pair<result, result>> {
    result a = co_await sink.write(senet::buffer(in));
    result b = co_await sink.write(senet::buffer("more", 4));
    co_return std::pair{a, b};
  };
  auto [a, b] = sync(body());
  EXPECT_EQ(std::get<0>(a), std::errc::connection_reset);
  EXPECT_GT(std::get<1>(a), 0u);
  EXPECT_LT(std::get<1>(a), in.size());
  EXPECT_EQ(std::get<0>(b), std::errc::connection_reset);
  EXPECT_EQ(std::get<1>(b), 0u);
  EXPECT_EQ(s.data.size(), 100u);
}

TEST(deflate_sink, zlib_errors_have_their_own_category) {
  recording_stream s;
  try {
    deflate_sink sink(s, {.level = 42});
    FAIL() << "an invalid level was accepted";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), senet::stream::make_zlib_error(Z_STREAM_ERROR));
    EXPECT_EQ(e.code(), std::errc::invalid_argument);
    EXPECT_STREQ(e.code().category().name(), "zlib");
    EXPECT_NE(std::string(e.what()).find("deflateInit2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(deflate_sink(s, {.buffer_size = 10}), std::invalid_argument);
  std::error_code mem = senet::stream::make_zlib_error(Z_MEM_ERROR);
  EXPECT_EQ(mem, std::errc::not_enough_memory);
  EXPECT_NE(mem.message().find("out of memory"), std::string::npos) << mem.message();
  EXPECT_NE(senet::stream::make_zlib_error(Z_DATA_ERROR).message().find("Z_DATA_ERROR"), std::string::npos);
}

}  // namespace

// Named, not anonymous: the suite's coroutine templates keep the harness types in their frames.
namespace senet_http_harnesses {

// ---- the conformance suite (sync flush, so that what was written can be decoded at once) ----

/** What the other side decodes from `compressed`: the whole stream when the run ended it (and it
    must then be complete), else what was flushed so far. */
std::string inflated(std::string_view compressed, bool ends_stream, int bits) {
  if (!ends_stream) {
    return senet::test::inflate_prefix(compressed, bits);
  }
  auto all = inflate_all(compressed, bits);
  EXPECT_TRUE(all) << "not a complete compressed stream";
  return all.value_or("<incomplete>");
}

/** `S` with only its write_stream face (`write_some`), so that the sink loops write_some. */
template <class S>
struct write_stream_only {
  S* s;
  template <class Buffers>
  auto write_some(Buffers&& buffers) {
    return s->write_some(std::forward<Buffers>(buffers));
  }
};
static_assert(!senet::stream::write_sink<write_stream_only<senet::test::scripted_stream>>);

/** A gzip deflate sink over the scripted stream (a write_sink, or with `StreamOnly` only its
    write_some): partial writes of 1, 7, then 4096 bytes, suspending when `Suspend`. */
template <bool Suspend, bool StreamOnly>
struct deflate_scripted_harness {
  using next_type = std::conditional_t<StreamOnly, write_stream_only<senet::test::scripted_stream>,
                                       senet::test::scripted_stream>;
  using stream_type = deflate_sink<next_type>;
  deflate_scripted_harness() {
    s.script_writes({{.max_bytes = 1}, {.max_bytes = 7, .suspend = Suspend}});
    s.write_default = {.max_bytes = 4096, .suspend = Suspend};
  }
  stream_type& stream() { return sink; }
  template <class T>
  T run(task<T> body, bool ends_stream) {
    ends_stream_ = ends_stream;
    T v = senet::test::value_of(ctx, std::move(body));
    if (ends_stream && !StreamOnly) {
      EXPECT_TRUE(s.eof_written()) << "the end did not reach the sink below";
    }
    return v;
  }
  std::string received() { return inflated(s.written(), ends_stream_, 31); }
  void fail_destination() {
    s.write_default = {.error = std::make_error_code(std::errc::io_error)};
    s.script_writes({});
  }
  bool is_destination_error(std::error_code ec) { return ec == std::errc::io_error; }

  io::io_context ctx{io::backend_kind::epoll};
  senet::test::scripted_stream s;
  write_stream_only<senet::test::scripted_stream> only{&s};
  stream_type sink{next(),
                   {.format = deflate_format::gzip, .flush = deflate_flush::sync, .buffer_size = 1024}};
  bool ends_stream_ = false;

 private:
  next_type& next() {
    if constexpr (StreamOnly) {
      return only;
    } else {
      return s;
    }
  }
};

/** The HTTP pipeline: a zlib-format deflate sink over a chunked sink over a TCP socket on
    `Backend`; the peer reads until the harness shuts the socket down after the body. */
template <class Backend>
struct deflate_chunked_socket_harness : senet::test::tcp_peer<Backend::kind> {
  using stream_type = deflate_sink<chunked_sink<tcp::socket>>;
  stream_type& stream() { return sink; }
  std::string received() {
    bool ended = false;
    auto body = senet::test::decode_chunks(this->wire, ended);
    EXPECT_TRUE(body) << "malformed chunked body";
    EXPECT_EQ(ended, this->ends_stream_);
    return inflated(body.value_or(""), this->ends_stream_, 15);
  }
  chunked_sink<tcp::socket> chunked{this->pair.client};
  stream_type sink{chunked, {.format = deflate_format::zlib, .flush = deflate_flush::sync}};
};

using deflate_harnesses =
    ::testing::Types<deflate_scripted_harness<false, false>, deflate_scripted_harness<true, false>,
                     deflate_scripted_harness<false, true>, deflate_scripted_harness<true, true>,
                     deflate_chunked_socket_harness<senet::test::epoll_backend>,
                     deflate_chunked_socket_harness<senet::test::uring_backend>,
                     deflate_chunked_socket_harness<senet::test::test_backend>>;

}  // namespace senet_http_harnesses

SENET_TEST_WRITE_SINK_CONFORMANCE(deflate, senet_http_harnesses::deflate_harnesses);
namespace senet::test {  // this file has no read side
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(read_stream_conformance);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(read_source_conformance);
}  // namespace senet::test

namespace {

// ---- the compression pipeline on sockets, every backend ----

template <class Backend>
class deflate_sink_socket : public senet::test::backend_fixture<Backend> {
 protected:
  void SetUp() override {
    senet::test::backend_fixture<Backend>::SetUp();
    if (this->IsSkipped()) {
      return;
    }
    acceptor_.emplace(senet::test::listen_tcp(tcp::v4()));
    pair_ = senet::test::connect_pair(this->ctx(), *acceptor_);
  }

  void make_buffers_small() {
    if constexpr (Backend::kind == io::backend_kind::test) {
      io::test_network::of(this->ctx()).set_send_buffer_limit(4096);
    } else {
      pair_.client.set_option(tcp::socket::send_buffer_size(4096));
      pair_.server.set_option(tcp::socket::receive_buffer_size(4096));
    }
  }

  /** Reads until the peer shuts down its sending side, or a chunked body ends. */
  task<std::string> read_body(bool chunked) {
    std::string in;
    in.reserve(3 << 20);  // no allocation while the writer's are counted
    char buf[4096];
    for (;;) {
      auto [ec, n] = co_await pair_.server.read_some(senet::buffer(buf));
      if (ec) {
        break;
      }
      in.append(buf, n);
      if (chunked && in.ends_with("\r\n0\r\n\r\n")) {
        break;
      }
    }
    co_return in;
  }

  std::optional<tcp::acceptor> acceptor_;
  senet::test::stream_pair<tcp> pair_;
};
TYPED_TEST_SUITE(deflate_sink_socket, senet::test::all_backends, senet::test::backend_names);

// The seed's compression pipeline: data -> deflate_sink -> chunked_sink -> socket.
TYPED_TEST(deflate_sink_socket, gzip_through_chunked_to_the_peer) {
  // More than the socket buffers hold while the reader has not run: the writer has to wait.
  if constexpr (TypeParam::kind == io::backend_kind::test) {
    this->make_buffers_small();
  } else {
    this->pair_.client.set_option(tcp::socket::send_buffer_size(4096));
  }
  std::string in = text(1 << 16) + noise(1 << 19);
  int suspensions = 0;
  auto writer = [&]() -> task<result> {
    chunked_sink chunked(this->pair_.client);
    deflate_sink gz(chunked, {.format = deflate_format::gzip});
    co_return co_await senet::test::counted(gz.write_eof(senet::buffer(in)), &suspensions);
  };
  auto r = this->run(ex::when_all(writer(), this->read_body(true)));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), ok(in.size()));
  EXPECT_EQ(suspensions, 1);  // the socket's buffer is small: the writer had to wait
  auto body = decode_chunked(std::get<1>(*r));
  ASSERT_TRUE(body);
  EXPECT_EQ(inflate_all(*body, 31), in);
}

// The seed's HTTP response body: a handler writes through a type-erased sink, not knowing whether
// the body is chunked or compressed; the peer decodes what it receives.
task<void> send_response(senet::stream::any_write_sink& body, std::string_view headers,
                         std::string_view text) {
  auto [ec1, n1] = co_await body.write(senet::buffer(headers));
  EXPECT_FALSE(ec1) << ec1.message();
  if (ec1) {
    co_return;
  }
  auto [ec2, n2] = co_await body.write_eof(senet::buffer(text));
  EXPECT_FALSE(ec2) << ec2.message();
  EXPECT_EQ(n2, text.size());
}

TYPED_TEST(deflate_sink_socket, an_http_response_body_through_any_write_sink) {
  const std::string headers = "X-Generated-By: senet\r\n";
  const std::string content = text(50000);
  auto chunked_writer = [&]() -> task<void> {
    chunked_sink chunked(this->pair_.client);
    senet::stream::any_write_sink body(chunked);
    co_await send_response(body, headers, content);
  };
  auto r1 = this->run(ex::when_all(chunked_writer(), this->read_body(true)));
  ASSERT_TRUE(r1);
  EXPECT_EQ(decode_chunked(std::get<0>(*r1)), headers + content);

  auto gzip_writer = [&]() -> task<void> {
    chunked_sink chunked(this->pair_.client);
    deflate_sink gz(chunked, {.format = deflate_format::gzip});
    senet::stream::any_write_sink body(gz);
    co_await send_response(body, headers, content);
  };
  auto r2 = this->run(ex::when_all(gzip_writer(), this->read_body(true)));
  ASSERT_TRUE(r2);
  auto compressed = decode_chunked(std::get<0>(*r2));
  ASSERT_TRUE(compressed);
  EXPECT_LT(compressed->size(), content.size() / 4);
  EXPECT_EQ(inflate_all(*compressed, 31), headers + content);
}

/** A socket's write_stream face that counts the bytes its write_some calls wrote. */
struct byte_counting_socket {
  tcp::socket* sock;
  std::size_t written = 0;

  template <class Inner>
  struct awaiter {
    Inner inner;
    std::size_t* written;
    void bind_io_environment(io::io_context* ctx, ex::inplace_stop_token token) noexcept {
      inner.bind_io_environment(ctx, token);
    }
    bool await_ready() { return inner.await_ready(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
      return inner.await_suspend(h);
    }
    result await_resume() {
      result r = inner.await_resume();
      *written += std::get<1>(r);
      return r;
    }
  };
  template <class Buffers>
  awaiter<decltype(std::declval<tcp::socket&>().write_some(std::declval<Buffers>()))> write_some(
      Buffers&& buffers) {
    return {sock->write_some(std::forward<Buffers>(buffers)), &written};
  }
};

TYPED_TEST(deflate_sink_socket, on_a_bare_socket_no_allocation_per_write) {
  std::size_t allocations = 1;
  std::string part = text(1000);
  byte_counting_socket counting{&this->pair_.client};
  auto writer = [&]() -> task<std::string> {
    std::string wire;
    wire.reserve(1 << 16);
    deflate_sink z(counting, {.format = deflate_format::zlib, .flush = deflate_flush::sync});
    // The first two rounds let the test backend's simulated socket buffer grow and make the
    // frame of a write that waits (every 16 operations completed at once in one handler, the
    // next goes through the loop: io_context.hpp, "Fairness"; the first to do so allocates the
    // frame that the later ones reuse). The last four are counted, and write less (the dictionary
    // knows the text by then).
    allocations = 0;
    for (int round = 0; round < 6; ++round) {
      std::size_t before = counting.written;
      senet::test::allocation_scope scope;
      for (int i = 0; i < 10; ++i) {
        auto [ec, n] = co_await z.write(senet::buffer(part));
        EXPECT_FALSE(ec) << ec.message();
      }
      if (round >= 2) {
        allocations += scope.count();
      }
      std::size_t at = wire.size();
      wire.resize(at + counting.written - before);
      co_await net::async_read(this->pair_.server, senet::buffer(wire.data() + at, wire.size() - at));
    }
    auto [ec] = co_await z.write_eof();
    EXPECT_FALSE(ec) << ec.message();
    this->pair_.client.shutdown(tcp::socket::shutdown_send);
    std::string rest = co_await this->read_body(false);
    co_return wire + rest;
  };
  auto r = this->run(writer());
  ASSERT_TRUE(r);
  EXPECT_EQ(allocations, 0u);
  std::string expected;
  for (int i = 0; i < 60; ++i) {
    expected += part;
  }
  EXPECT_EQ(inflate_all(std::get<0>(*r), 15), expected);
}

}  // namespace
