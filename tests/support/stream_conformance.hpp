// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_STREAM_CONFORMANCE_HPP
#define SENET_TEST_SUPPORT_STREAM_CONFORMANCE_HPP

/* The stream conformance suite: the semantic requirements of the stream concepts
   (include/senet/stream/: write_stream, write_sink, read_stream, read_source) as GoogleTest
   typed-parameterized suites, which every stream, sink and source of senet runs.

   To run it for a new type, write a *harness* (a class that makes one fresh object under test and
   its other side) and instantiate the suites for it:

     struct my_sink_harness { ... };   // the write harness below
     SENET_TEST_WRITE_SINK_CONFORMANCE(my_sink, my_sink_harness);      // write_stream + write_sink
     SENET_TEST_WRITE_STREAM_CONFORMANCE(my_stream, my_harness);       // write_stream only
     SENET_TEST_READ_SOURCE_CONFORMANCE(my_source, my_read_harness);   // read_stream + read_source
     SENET_TEST_READ_STREAM_CONFORMANCE(my_reader, my_read_harness);   // read_stream only

   (Several harnesses at once: a type alias `using hs = ::testing::Types<h1, h2>;` in place of the
   harness, e.g. one per backend; not the `Types<...>` itself, whose comma splits the macro's
   arguments. The macros go at global scope.) Each test makes one harness, default-constructed, after asking
   `Harness::unavailable()` (optional, static: a reason to skip, or nullptr).

   A write harness provides:
     using stream_type = ...;                      // the type under test
     stream_type& stream();                        // the object under test
     template <class T> T run(senet::task<T> body, bool ends_stream);
         // Runs `body` to completion (on an io_context if the type needs one) and returns its value
         // (failing the test if it has none). Meanwhile and after it, collects what reaches the
         // other side, decoded if the type encodes (a chunked sink's harness decodes the chunks).
         // `ends_stream`: the body ended the stream with a successful write_eof, and the other side
         // must see that end (a socket's peer reads to end of stream: EOF; a harness over a
         // scripted_stream checks `eof_written()`); otherwise the harness ends the other side
         // itself after the body, if it needs to for its collector to stop. Called once per test.
     std::string received();                       // what the run collected
   and optionally, for the error tests:
     void fail_destination();                      // from now on, writes to the other side fail
     bool is_destination_error(std::error_code ec) // ec is what that failure reports
   The optional `static constexpr std::size_t large_size` (default 256 KiB) is the size of the
   "large" writes: larger than any buffer of the type, so that they reach the other side.

   A read harness provides:
     using stream_type = ...;
     stream_type& stream();
     void provide(std::string bytes);              // before run: the bytes the stream will yield,
                                                   // followed by its end (EOF)
     template <class T> T run(senet::task<T> body);
   and optionally `void fail_source()` (before run: the next read fails, with nothing provided)
   and `bool is_source_error(std::error_code ec)`.

   What the suites check, per concept:
   - write_stream: empty buffers complete at once with (no error, 0); write_some moves a prefix
     (1 <= n <= size) and exactly those bytes arrive (for a sink, which may keep bytes until its
     end, after a write_eof() that ends each of these bodies); a write_some loop over a sequence with empty
     buffers delivers it in order; a failing destination gives (error, 0).
   - write_sink: write delivers everything and n == size, for one buffer and for sequences; many
     small writes arrive in order; write_eof(buffers) writes then ends, and the other side sees the
     end; write_eof() after writes; empty write / write_eof; after a successful write_eof (with or
     without data) write_some, write, write_eof(buffers) and write_eof() fail with
     `senet::error::write_after_eof` and n == 0, and nothing more arrives; a failing destination's
     error reaches the caller of write or write_eof.
   - read_stream: empty buffers complete at once with (no error, 0); read_some gives a prefix of
     the bytes; reading to the end gives every byte, in order, then (eof, 0), and again (eof, 0);
     an empty stream gives (eof, 0) at once; a failing source gives (error, 0).
   - read_source: read fills the buffers exactly (one buffer, a sequence); read past the end gives
     (eof, n) with the n bytes that were there; an empty read gives (no error, 0). */

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/stream/read_source.hpp>
#include <senet/stream/read_stream.hpp>
#include <senet/stream/write_sink.hpp>
#include <senet/stream/write_stream.hpp>
#include <senet/task.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

namespace senet::test {

namespace conformance {

using size_result = std::tuple<std::error_code, std::size_t>;

/** `n` bytes of a pattern that does not repeat at short periods (a misplaced piece shows). */
inline std::string pattern(std::size_t n, unsigned seed = 1) {
  std::string s(n, '\0');
  unsigned x = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>('a' + (x >> 16) % 26);
  }
  return s;
}

template <class H>
constexpr std::size_t large_size() {
  if constexpr (requires { H::large_size; }) {
    return H::large_size;
  } else {
    return std::size_t{256} << 10;
  }
}

template <class H>
constexpr bool can_fail_destination = requires(H& h, std::error_code ec) {
  h.fail_destination();
  { h.is_destination_error(ec) } -> std::convertible_to<bool>;
};

template <class H>
constexpr bool can_fail_source = requires(H& h, std::error_code ec) {
  h.fail_source();
  { h.is_source_error(ec) } -> std::convertible_to<bool>;
};

/** The fixture of every suite: one fresh harness per test, or a skip. */
template <class H>
class fixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if constexpr (requires { H::unavailable(); }) {
      if (const char* why = H::unavailable()) {
        GTEST_SKIP() << why;
      }
    }
    harness_.emplace();
  }
  void TearDown() override { harness_.reset(); }

  H& h() { return *harness_; }
  auto& s() { return harness_->stream(); }

  std::optional<H> harness_;
};

inline std::error_code ok{};

/** Whether the write_stream suite's bodies end with `write_eof()`: a sink may keep bytes (a buffer,
    a compressor) until then, and its other side sees them only after it. */
template <class H>
constexpr bool ends_with_eof = senet::stream::write_sink<typename H::stream_type>;

/** In a write_stream suite's body: `write_eof()` for a sink (expecting success), nothing for a
    plain stream. */
template <class Stream>
senet::task<void> end_if_sink(Stream& s) {
  if constexpr (senet::stream::write_sink<Stream>) {
    auto [ec] = co_await s.write_eof();
    EXPECT_FALSE(ec) << "write_eof: " << ec.message();
  }
  co_return;
}

}  // namespace conformance

// ---- write_stream ----------------------------------------------------------------------------------

template <class H>
class write_stream_conformance : public conformance::fixture<H> {};
TYPED_TEST_SUITE_P(write_stream_conformance);

TYPED_TEST_P(write_stream_conformance, empty_buffers_complete_with_zero) {
  using R = std::vector<conformance::size_result>;
  auto& s = this->s();
  R r = this->h().run(
      [](auto& s) -> senet::task<R> {
        R out;
        out.push_back(co_await s.write_some(senet::const_buffer()));
        std::array<senet::const_buffer, 2> none{senet::const_buffer(), senet::const_buffer()};
        out.push_back(co_await s.write_some(none));
        co_await conformance::end_if_sink(s);
        co_return out;
      }(s),
      conformance::ends_with_eof<TypeParam>);
  for (auto& x : r) {
    EXPECT_EQ(x, (conformance::size_result{conformance::ok, 0}));
  }
  EXPECT_EQ(this->h().received(), "");
}

TYPED_TEST_P(write_stream_conformance, write_some_moves_a_prefix) {
  const std::string data = conformance::pattern(conformance::large_size<TypeParam>());
  auto& s = this->s();
  auto [ec, n] = this->h().run(
      [](auto& s, const std::string& d) -> senet::task<conformance::size_result> {
        auto r = co_await s.write_some(senet::buffer(d));
        co_await conformance::end_if_sink(s);
        co_return r;
      }(s, data),
      conformance::ends_with_eof<TypeParam>);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_GE(n, 1u);
  EXPECT_LE(n, data.size());
  const std::string got = this->h().received();
  EXPECT_TRUE(got == data.substr(0, n))
      << "received " << got.size() << " bytes, the first " << n << " expected";
}

TYPED_TEST_P(write_stream_conformance, a_write_some_loop_delivers_a_sequence_in_order) {
  const std::string a = conformance::pattern(1000, 2);
  const std::string b = conformance::pattern(conformance::large_size<TypeParam>(), 3);
  auto& s = this->s();
  std::size_t total = this->h().run(
      [](auto& s, const std::string& a, const std::string& b) -> senet::task<std::size_t> {
        std::array<senet::const_buffer, 4> seq{senet::const_buffer(), senet::buffer(a), senet::const_buffer(),
                                               senet::buffer(b)};
        std::size_t done = 0;
        const std::size_t size = senet::buffer_size(seq);
        while (done < size) {
          // The rest of the sequence: the first buffer that is not done, from its offset, then the
          // others.
          std::array<senet::const_buffer, 4> rest{};
          std::size_t skip = done;
          std::size_t k = 0;
          for (auto& x : seq) {
            if (skip >= x.size()) {
              skip -= x.size();
              continue;
            }
            rest[k++] = x + skip;
            skip = 0;
          }
          auto [ec, n] = co_await s.write_some(std::span<const senet::const_buffer>(rest.data(), k));
          if (ec) {
            ADD_FAILURE() << ec.message();
            co_return done;
          }
          EXPECT_GE(n, 1u);
          if (n == 0) {
            co_return done;
          }
          done += n;
        }
        co_await conformance::end_if_sink(s);
        co_return done;
      }(s, a, b),
      conformance::ends_with_eof<TypeParam>);
  EXPECT_EQ(total, a.size() + b.size());
  EXPECT_TRUE(this->h().received() == a + b);
}

TYPED_TEST_P(write_stream_conformance, a_failing_destination_gives_error_and_zero) {
  if constexpr (!conformance::can_fail_destination<TypeParam>) {
    GTEST_SKIP() << "the harness cannot make its destination fail";
  } else {
    this->h().fail_destination();
    const std::string data = conformance::pattern(conformance::large_size<TypeParam>());
    auto& s = this->s();
    // The kernel may take a first write before it knows the peer is gone: write until it fails.
    auto [ec, n] = this->h().run(
        [](auto& s, const std::string& d) -> senet::task<conformance::size_result> {
          for (int i = 0; i < 64; ++i) {
            auto r = co_await s.write_some(senet::buffer(d));
            if (std::get<0>(r)) {
              co_return r;
            }
          }
          co_return conformance::size_result{};
        }(s, data),
        false);
    EXPECT_TRUE(this->h().is_destination_error(ec)) << ec.message();
    EXPECT_EQ(n, 0u);
  }
}

REGISTER_TYPED_TEST_SUITE_P(write_stream_conformance, empty_buffers_complete_with_zero,
                            write_some_moves_a_prefix, a_write_some_loop_delivers_a_sequence_in_order,
                            a_failing_destination_gives_error_and_zero);

// ---- write_sink ------------------------------------------------------------------------------------

template <class H>
class write_sink_conformance : public conformance::fixture<H> {
  static_assert(senet::stream::write_sink<typename H::stream_type>,
                "the harness's stream_type is not a write_sink");
};
TYPED_TEST_SUITE_P(write_sink_conformance);

TYPED_TEST_P(write_sink_conformance, write_delivers_everything_and_write_eof_ends) {
  const std::string a = conformance::pattern(conformance::large_size<TypeParam>(), 4);
  const std::string b = conformance::pattern(777, 5);
  const std::string c = conformance::pattern(3, 6);
  using R = std::vector<conformance::size_result>;
  auto& s = this->s();
  R r = this->h().run(
      [](auto& s, const std::string& a, const std::string& b, const std::string& c) -> senet::task<R> {
        R out;
        out.push_back(co_await s.write(senet::buffer(a)));
        std::array<senet::const_buffer, 3> seq{senet::buffer(b), senet::const_buffer(), senet::buffer(c)};
        out.push_back(co_await s.write(seq));
        auto [ec] = co_await s.write_eof();
        out.push_back({ec, 0});
        co_return out;
      }(s, a, b, c),
      true);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], (conformance::size_result{conformance::ok, a.size()}));
  EXPECT_EQ(r[1], (conformance::size_result{conformance::ok, b.size() + c.size()}));
  EXPECT_EQ(r[2], (conformance::size_result{conformance::ok, 0}));
  EXPECT_TRUE(this->h().received() == a + b + c);
}

TYPED_TEST_P(write_sink_conformance, many_small_writes_arrive_in_order) {
  const std::string data = conformance::pattern(20000, 7);
  auto& s = this->s();
  auto [ec, n] = this->h().run(
      [](auto& s, const std::string& d) -> senet::task<conformance::size_result> {
        std::size_t done = 0;
        std::size_t piece = 1;
        while (done < d.size()) {
          std::size_t k = std::min(piece, d.size() - done);
          auto [ec, n] = co_await s.write(senet::buffer(d.data() + done, k));
          if (ec || n != k) {
            co_return conformance::size_result{ec, done + n};
          }
          done += k;
          piece = piece % 97 + 1;
        }
        auto [ec] = co_await s.write_eof();
        co_return conformance::size_result{ec, done};
      }(s, data),
      true);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(n, data.size());
  EXPECT_TRUE(this->h().received() == data);
}

TYPED_TEST_P(write_sink_conformance, write_eof_with_buffers_writes_them_then_ends) {
  const std::string head = conformance::pattern(10, 8);
  const std::string tail = conformance::pattern(conformance::large_size<TypeParam>(), 9);
  using R = std::vector<conformance::size_result>;
  auto& s = this->s();
  R r = this->h().run(
      [](auto& s, const std::string& head, const std::string& tail) -> senet::task<R> {
        R out;
        out.push_back(co_await s.write(senet::buffer(head)));
        std::array<senet::const_buffer, 2> seq{senet::buffer(tail.data(), 5), senet::buffer(tail) + 5};
        out.push_back(co_await s.write_eof(seq));
        co_return out;
      }(s, head, tail),
      true);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], (conformance::size_result{conformance::ok, head.size()}));
  EXPECT_EQ(r[1], (conformance::size_result{conformance::ok, tail.size()}));
  EXPECT_TRUE(this->h().received() == head + tail);
}

TYPED_TEST_P(write_sink_conformance, empty_writes_complete_with_zero_and_empty_write_eof_ends) {
  using R = std::vector<conformance::size_result>;
  auto& s = this->s();
  R r = this->h().run(
      [](auto& s) -> senet::task<R> {
        R out;
        out.push_back(co_await s.write(senet::const_buffer()));
        out.push_back(co_await s.write_some(senet::const_buffer()));
        out.push_back(co_await s.write_eof(senet::const_buffer()));
        co_return out;
      }(s),
      true);
  for (auto& x : r) {
    EXPECT_EQ(x, (conformance::size_result{conformance::ok, 0}));
  }
  EXPECT_EQ(this->h().received(), "");
}

TYPED_TEST_P(write_sink_conformance, every_write_after_write_eof_fails_with_write_after_eof) {
  const std::string data = conformance::pattern(100, 10);
  using R = std::vector<conformance::size_result>;
  auto& s = this->s();
  R r = this->h().run(
      [](auto& s, const std::string& d) -> senet::task<R> {
        R out;
        out.push_back(co_await s.write(senet::buffer(d)));
        auto [ec] = co_await s.write_eof();
        out.push_back({ec, 0});
        out.push_back(co_await s.write_some(senet::buffer(d)));
        out.push_back(co_await s.write(senet::buffer(d)));
        out.push_back(co_await s.write_eof(senet::buffer(d)));
        auto [ec2] = co_await s.write_eof();
        out.push_back({ec2, 0});
        co_return out;
      }(s, data),
      true);
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0], (conformance::size_result{conformance::ok, data.size()}));
  EXPECT_EQ(r[1], (conformance::size_result{conformance::ok, 0}));
  const conformance::size_result rejected{senet::error::write_after_eof, 0};
  for (std::size_t i = 2; i < r.size(); ++i) {
    EXPECT_EQ(r[i], rejected) << "operation " << i << ": " << std::get<0>(r[i]).message();
  }
  EXPECT_EQ(this->h().received(), data);
}

TYPED_TEST_P(write_sink_conformance, writes_after_write_eof_with_buffers_fail_too) {
  const std::string data = conformance::pattern(100, 11);
  using R = std::vector<conformance::size_result>;
  auto& s = this->s();
  R r = this->h().run(
      [](auto& s, const std::string& d) -> senet::task<R> {
        R out;
        out.push_back(co_await s.write_eof(senet::buffer(d)));
        out.push_back(co_await s.write(senet::buffer(d)));
        auto [ec] = co_await s.write_eof();
        out.push_back({ec, 0});
        // Empty buffers after the end: also rejected (the sink is finished), not (no error, 0).
        out.push_back(co_await s.write(senet::const_buffer()));
        co_return out;
      }(s, data),
      true);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0], (conformance::size_result{conformance::ok, data.size()}));
  const conformance::size_result rejected{senet::error::write_after_eof, 0};
  EXPECT_EQ(r[1], rejected);
  EXPECT_EQ(r[2], rejected);
  EXPECT_EQ(r[3], rejected);
  EXPECT_EQ(this->h().received(), data);
}

TYPED_TEST_P(write_sink_conformance, a_failing_destination_error_reaches_write_or_write_eof) {
  if constexpr (!conformance::can_fail_destination<TypeParam>) {
    GTEST_SKIP() << "the harness cannot make its destination fail";
  } else {
    this->h().fail_destination();
    const std::string data = conformance::pattern(conformance::large_size<TypeParam>(), 12);
    auto& s = this->s();
    // A sink may keep a write (a buffer, a compressor's state): the error must then come from a
    // later write or from write_eof, which delivers everything.
    auto [ec, n] = this->h().run(
        [](auto& s, const std::string& d) -> senet::task<conformance::size_result> {
          for (int i = 0; i < 16; ++i) {
            auto r = co_await s.write(senet::buffer(d));
            if (std::get<0>(r)) {
              co_return r;
            }
          }
          co_return co_await s.write_eof(senet::buffer(d));
        }(s, data),
        false);
    EXPECT_TRUE(this->h().is_destination_error(ec)) << ec.message();
    EXPECT_LT(n, data.size());
  }
}

REGISTER_TYPED_TEST_SUITE_P(write_sink_conformance, write_delivers_everything_and_write_eof_ends,
                            many_small_writes_arrive_in_order, write_eof_with_buffers_writes_them_then_ends,
                            empty_writes_complete_with_zero_and_empty_write_eof_ends,
                            every_write_after_write_eof_fails_with_write_after_eof,
                            writes_after_write_eof_with_buffers_fail_too,
                            a_failing_destination_error_reaches_write_or_write_eof);

// ---- read_stream -----------------------------------------------------------------------------------

template <class H>
class read_stream_conformance : public conformance::fixture<H> {};
TYPED_TEST_SUITE_P(read_stream_conformance);

TYPED_TEST_P(read_stream_conformance, empty_buffers_complete_with_zero) {
  this->h().provide("abc");
  using R = std::vector<conformance::size_result>;
  auto& s = this->s();
  R r = this->h().run([](auto& s) -> senet::task<R> {
    R out;
    out.push_back(co_await s.read_some(senet::mutable_buffer()));
    std::array<senet::mutable_buffer, 2> none{};
    out.push_back(co_await s.read_some(none));
    // Drain, so that the harness's writer ends.
    char buf[8];
    for (;;) {
      auto [ec, n] = co_await s.read_some(senet::buffer(buf));
      if (ec) {
        break;
      }
    }
    co_return out;
  }(s));
  for (auto& x : r) {
    EXPECT_EQ(x, (conformance::size_result{conformance::ok, 0}));
  }
}

TYPED_TEST_P(read_stream_conformance, read_some_gives_a_prefix) {
  const std::string data = conformance::pattern(5000, 13);
  this->h().provide(data);
  auto& s = this->s();
  auto [first, rest] = this->h().run([](auto& s) -> senet::task<std::pair<std::string, std::string>> {
    std::string buf(8192, '\0');
    auto [ec, n] = co_await s.read_some(senet::buffer(buf));
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_GE(n, 1u);
    buf.resize(n);
    std::string more;
    char b[4096];
    for (;;) {
      auto [ec2, n2] = co_await s.read_some(senet::buffer(b));
      if (ec2) {
        break;
      }
      more.append(b, n2);
    }
    co_return std::pair{buf, more};
  }(s));
  EXPECT_EQ(first, data.substr(0, first.size()));
  EXPECT_TRUE(first + rest == data);
}

TYPED_TEST_P(read_stream_conformance, reading_to_the_end_gives_every_byte_then_eof_twice) {
  const std::string data = conformance::pattern(conformance::large_size<TypeParam>(), 14);
  this->h().provide(data);
  auto& s = this->s();
  auto [got, ends] = this->h().run(
      [](auto& s) -> senet::task<std::pair<std::string, std::vector<conformance::size_result>>> {
        std::string all;
        std::vector<conformance::size_result> ends;
        std::array<char, 7> a{};
        std::array<char, 1000> b{};
        for (;;) {
          std::array<senet::mutable_buffer, 2> seq{senet::buffer(a), senet::buffer(b)};
          auto r = co_await s.read_some(seq);
          auto [ec, n] = r;
          if (ec) {
            ends.push_back(r);
            break;
          }
          std::size_t k = std::min(n, a.size());
          all.append(a.data(), k);
          all.append(b.data(), n - k);
        }
        ends.push_back(co_await s.read_some(senet::buffer(a)));
        co_return std::pair{all, ends};
      }(s));
  EXPECT_TRUE(got == data) << got.size() << " bytes of " << data.size();
  const conformance::size_result eof{senet::error::eof, 0};
  ASSERT_EQ(ends.size(), 2u);
  EXPECT_EQ(ends[0], eof) << std::get<0>(ends[0]).message();
  EXPECT_EQ(ends[1], eof) << std::get<0>(ends[1]).message();
}

TYPED_TEST_P(read_stream_conformance, an_empty_stream_gives_eof) {
  this->h().provide("");
  auto& s = this->s();
  auto r = this->h().run([](auto& s) -> senet::task<conformance::size_result> {
    char buf[16];
    co_return co_await s.read_some(senet::buffer(buf));
  }(s));
  EXPECT_EQ(r, (conformance::size_result{senet::error::eof, 0})) << std::get<0>(r).message();
}

TYPED_TEST_P(read_stream_conformance, a_failing_source_gives_error_and_zero) {
  if constexpr (!conformance::can_fail_source<TypeParam>) {
    GTEST_SKIP() << "the harness cannot make its source fail";
  } else {
    this->h().fail_source();
    auto& s = this->s();
    auto [ec, n] = this->h().run([](auto& s) -> senet::task<conformance::size_result> {
      char buf[16];
      co_return co_await s.read_some(senet::buffer(buf));
    }(s));
    EXPECT_TRUE(this->h().is_source_error(ec)) << ec.message();
    EXPECT_EQ(n, 0u);
  }
}

REGISTER_TYPED_TEST_SUITE_P(read_stream_conformance, empty_buffers_complete_with_zero,
                            read_some_gives_a_prefix, reading_to_the_end_gives_every_byte_then_eof_twice,
                            an_empty_stream_gives_eof, a_failing_source_gives_error_and_zero);

// ---- read_source -----------------------------------------------------------------------------------

template <class H>
class read_source_conformance : public conformance::fixture<H> {
  static_assert(senet::stream::read_source<typename H::stream_type>,
                "the harness's stream_type is not a read_source");
};
TYPED_TEST_SUITE_P(read_source_conformance);

TYPED_TEST_P(read_source_conformance, read_fills_the_buffers_exactly) {
  const std::string data = conformance::pattern(conformance::large_size<TypeParam>() + 100, 15);
  this->h().provide(data);
  using R = std::vector<conformance::size_result>;
  auto& s = this->s();
  auto [r, got] = this->h().run([](auto& s, std::size_t size) -> senet::task<std::pair<R, std::string>> {
    R out;
    std::string a(10, '\0');
    std::string b(size - 100, '\0');
    std::string c(90, '\0');
    out.push_back(co_await s.read(senet::buffer(a)));
    out.push_back(co_await s.read(senet::mutable_buffer()));
    std::array<senet::mutable_buffer, 3> seq{senet::buffer(b), senet::mutable_buffer(), senet::buffer(c)};
    out.push_back(co_await s.read(seq));
    co_return std::pair{out, a + b + c};
  }(s, data.size()));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], (conformance::size_result{conformance::ok, 10}));
  EXPECT_EQ(r[1], (conformance::size_result{conformance::ok, 0}));
  EXPECT_EQ(r[2], (conformance::size_result{conformance::ok, data.size() - 10}));
  EXPECT_TRUE(got == data);
}

TYPED_TEST_P(read_source_conformance, read_past_the_end_gives_eof_and_the_bytes_that_were_there) {
  const std::string data = conformance::pattern(3000, 16);
  this->h().provide(data);
  auto& s = this->s();
  auto [r, got, again] = this->h().run(
      [](auto& s)
          -> senet::task<std::tuple<conformance::size_result, std::string, conformance::size_result>> {
        std::string buf(5000, '\0');
        auto r = co_await s.read(senet::buffer(buf));
        buf.resize(std::get<1>(r));
        char more[4];
        auto again = co_await s.read(senet::buffer(more));
        co_return std::tuple{r, buf, again};
      }(s));
  EXPECT_EQ(r, (conformance::size_result{senet::error::eof, data.size()})) << std::get<0>(r).message();
  EXPECT_TRUE(got == data);
  EXPECT_EQ(again, (conformance::size_result{senet::error::eof, 0})) << std::get<0>(again).message();
}

REGISTER_TYPED_TEST_SUITE_P(read_source_conformance, read_fills_the_buffers_exactly,
                            read_past_the_end_gives_eof_and_the_bytes_that_were_there);

}  // namespace senet::test

// The instantiation macros: use them at global scope (outside any namespace), after the harness.

/** Runs the write_stream suite for a harness (or `::testing::Types<...>` of harnesses). */
#define SENET_TEST_WRITE_STREAM_CONFORMANCE(prefix, harness)                 \
  namespace senet::test {                                                    \
  INSTANTIATE_TYPED_TEST_SUITE_P(prefix, write_stream_conformance, harness); \
  }                                                                          \
  static_assert(true, "")
/** Runs the write_stream and write_sink suites. */
#define SENET_TEST_WRITE_SINK_CONFORMANCE(prefix, harness)                   \
  namespace senet::test {                                                    \
  INSTANTIATE_TYPED_TEST_SUITE_P(prefix, write_stream_conformance, harness); \
  INSTANTIATE_TYPED_TEST_SUITE_P(prefix, write_sink_conformance, harness);   \
  }                                                                          \
  static_assert(true, "")
/** Runs the read_stream suite. */
#define SENET_TEST_READ_STREAM_CONFORMANCE(prefix, harness)                 \
  namespace senet::test {                                                   \
  INSTANTIATE_TYPED_TEST_SUITE_P(prefix, read_stream_conformance, harness); \
  }                                                                         \
  static_assert(true, "")
/** Runs the read_stream and read_source suites. */
#define SENET_TEST_READ_SOURCE_CONFORMANCE(prefix, harness)                 \
  namespace senet::test {                                                   \
  INSTANTIATE_TYPED_TEST_SUITE_P(prefix, read_stream_conformance, harness); \
  INSTANTIATE_TYPED_TEST_SUITE_P(prefix, read_source_conformance, harness); \
  }                                                                         \
  static_assert(true, "")

#endif  // SENET_TEST_SUPPORT_STREAM_CONFORMANCE_HPP
