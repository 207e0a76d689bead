// SPDX-License-Identifier: BSL-1.0
// The concrete sinks and sources (socket_sink, socket_source, buffered_writer, file_sink,
// file_source), each run through the stream conformance suite, and the scripted stream of
// tests/support that the layered sinks are tested over.
#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/task.hpp>

#include "stream/suspension_counter.hpp"
#include "support/allocation_counter.hpp"
#include "support/run.hpp"
#include "support/scripted_stream.hpp"
#include "support/stream_conformance.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
using senet::task;
using senet::test::script_step;
using senet::test::scripted_stream;
using size_result = std::tuple<std::error_code, std::size_t>;

std::error_code injected() {
  return std::make_error_code(std::errc::io_error);
}

// ---- the scripted stream, checked by the suite (so that the suite and the mock check each other) --

/** The scripted stream as the object under test: partial writes of 1, 7, then `Piece` bytes, some
    suspending when `Suspend`. */
template <bool Suspend, std::size_t Piece>
struct scripted_harness {
  using stream_type = scripted_stream;
  scripted_harness() {
    s.script_writes({{.max_bytes = 1}, {.max_bytes = 7, .suspend = Suspend}});
    s.write_default = {.max_bytes = Piece, .suspend = Suspend};
    s.read_default = {.max_bytes = Piece, .suspend = Suspend};
  }
  stream_type& stream() { return s; }
  template <class T>
  T run(task<T> body, bool ends_stream = false) {
    T v = senet::test::value_of(ctx, std::move(body));
    if (ends_stream) {
      EXPECT_TRUE(s.eof_written()) << "the other side did not see the end";
    }
    return v;
  }
  std::string received() { return s.written(); }
  void fail_destination() {
    s.write_default = {.error = injected()};
    s.script_writes({});
  }
  bool is_destination_error(std::error_code ec) { return ec == injected(); }
  void provide(const std::string& bytes) {
    s.feed(bytes);
    s.feed_eof();
  }
  void fail_source() { s.read_default = {.error = injected()}; }
  bool is_source_error(std::error_code ec) { return ec == injected(); }

  io::io_context ctx{io::backend_kind::epoll};
  scripted_stream s;
};
using scripted_harnesses = ::testing::Types<scripted_harness<false, 4096>, scripted_harness<true, 65536>>;

}  // namespace

SENET_TEST_WRITE_SINK_CONFORMANCE(scripted, scripted_harnesses);
SENET_TEST_READ_SOURCE_CONFORMANCE(scripted, scripted_harnesses);

namespace {

TEST(scripted_stream, follows_its_script_of_sizes_errors_and_suspensions) {
  io::io_context ctx(io::backend_kind::epoll);
  scripted_stream s;
  s.script_writes({{.max_bytes = 2}, {.max_bytes = 3, .suspend = true}, {.error = injected()}});
  std::vector<int> suspensions(4);
  auto body = [&]() -> task<std::vector<size_result>> {
    std::vector<size_result> out;
    const char* d = "abcdefgh";
    out.push_back(co_await senet::test::counted(s.write_some(senet::buffer(d, 8)), &suspensions[0]));
    out.push_back(co_await senet::test::counted(s.write_some(senet::buffer(d + 2, 6)), &suspensions[1]));
    out.push_back(co_await senet::test::counted(s.write_some(senet::buffer(d + 5, 3)), &suspensions[2]));
    out.push_back(co_await senet::test::counted(s.write_some(senet::buffer(d + 5, 3)), &suspensions[3]));
    co_return out;
  };
  auto r = senet::test::value_of(ctx, body());
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0], (size_result{std::error_code{}, 2}));
  EXPECT_EQ(r[1], (size_result{std::error_code{}, 3}));
  EXPECT_EQ(r[2], (size_result{injected(), 0}));
  EXPECT_EQ(r[3], (size_result{std::error_code{}, 3}));
  EXPECT_EQ(suspensions, (std::vector<int>{0, 1, 0, 0}));
  EXPECT_EQ(s.written(), "abcdefgh");
  EXPECT_EQ(s.write_sizes(), (std::vector<std::size_t>{2, 3, 3}));
  EXPECT_EQ(s.steps_taken(), 4u);
}

TEST(scripted_stream, a_suspended_operation_whose_stop_was_requested_is_aborted_and_moves_nothing) {
  io::io_context ctx(io::backend_kind::epoll);
  scripted_stream s;
  s.write_default = {.suspend = true};
  std::optional<size_result> got;
  auto writer = [&]() -> task<void> { got = co_await s.write_some(senet::buffer("xyz", 3)); };
  // when_all asks the writer to stop when the other child completes stopped, which it does at once.
  auto r = senet::test::run(ctx, ex::when_all(writer(), ex::just_stopped()));
  EXPECT_FALSE(r);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, (size_result{senet::error::operation_aborted, 0}));
  EXPECT_EQ(s.written(), "");
}

TEST(scripted_stream, a_read_waits_for_feed) {
  io::io_context ctx(io::backend_kind::epoll);
  scripted_stream s;
  auto reader = [&]() -> task<std::string> {
    std::string all;
    char buf[4];
    for (;;) {
      auto [ec, n] = co_await s.read_some(senet::buffer(buf));
      if (ec == senet::error::eof) {
        co_return all;
      }
      all.append(buf, n);
    }
  };
  auto feeder = [&]() -> task<void> {
    co_await ex::schedule(ctx.get_scheduler());
    s.feed("hello ");
    co_await ex::schedule(ctx.get_scheduler());
    s.feed("world");
    s.feed_eof();
  };
  auto r = senet::test::run(ctx, ex::when_all(reader(), feeder()));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), "hello world");
}

}  // namespace
