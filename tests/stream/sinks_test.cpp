// SPDX-License-Identifier: BSL-1.0
// The concrete sinks and sources (socket_sink, socket_source, buffered_writer, file_sink,
// file_source), each run through the stream conformance suite, and the scripted stream of
// tests/support that the layered sinks are tested over.
#include <senet/stream/socket_sink.hpp>

#include "stream/harnesses.hpp"

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/stream/buffered_writer.hpp>
#include <senet/stream/file_sink.hpp>
#include <senet/stream/file_source.hpp>
#include <senet/task.hpp>

#include "stream/suspension_counter.hpp"
#include "support/run.hpp"
#include "support/scripted_stream.hpp"
#include "support/stream_conformance.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
using senet::task;
using senet::test::scripted_stream;
using size_result = std::tuple<std::error_code, std::size_t>;

using namespace senet::test::stream_harnesses;

}  // namespace

// Each type through the suite: the scripted stream itself (so that the suite and the mock check each
// other), the sockets on io_uring and epoll, the buffered writer over each kind of destination, the
// file sink and source.
SENET_TEST_WRITE_SINK_CONFORMANCE(scripted, stream_harnesses::scripted_harnesses);
SENET_TEST_READ_SOURCE_CONFORMANCE(scripted, stream_harnesses::scripted_harnesses);
SENET_TEST_WRITE_SINK_CONFORMANCE(socket_sink, stream_harnesses::socket_sink_harnesses);
SENET_TEST_WRITE_SINK_CONFORMANCE(buffered_writer, stream_harnesses::buffered_harnesses);
SENET_TEST_WRITE_STREAM_CONFORMANCE(socket, stream_harnesses::socket_stream_harnesses);
SENET_TEST_READ_SOURCE_CONFORMANCE(socket_source, stream_harnesses::socket_source_harnesses);
SENET_TEST_WRITE_SINK_CONFORMANCE(file_sink, stream_harnesses::file_sink_harnesses);
SENET_TEST_READ_SOURCE_CONFORMANCE(file_source, stream_harnesses::file_source_harness);

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

// ---- buffered_writer -----------------------------------------------------------------------------

TEST(buffered_writer, small_writes_are_copied_at_once_and_go_out_in_one_write_with_the_end) {
  io::io_context ctx(io::backend_kind::epoll);
  scripted_stream s;
  senet::stream::buffered_writer w(s, 64);
  int suspensions = 0;
  auto body = [&]() -> task<std::vector<size_result>> {
    std::vector<size_result> out;
    for (int i = 0; i < 10; ++i) {
      out.push_back(co_await senet::test::counted(w.write(senet::buffer("abcde", 5)), &suspensions));
    }
    EXPECT_EQ(s.steps_taken(), 0u);  // nothing written yet
    EXPECT_EQ(w.buffered(), 50u);
    out.push_back(co_await senet::test::counted(w.write_eof(senet::buffer("END", 3)), &suspensions));
    co_return out;
  };
  auto r = senet::test::value_of(ctx, body());
  ASSERT_EQ(r.size(), 11u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(r[i], (size_result{std::error_code{}, 5}));
  }
  EXPECT_EQ(r[10], (size_result{std::error_code{}, 3}));
  EXPECT_EQ(suspensions, 0);
  EXPECT_EQ(s.written(), std::string(50, ' ').replace(0, 50, [] {
    std::string x;
    for (int i = 0; i < 10; ++i) {
      x += "abcde";
    }
    return x;
  }()) + "END");
  // One write of the next layer for the buffered bytes and the last ones, gathered, with the end.
  EXPECT_EQ(s.write_sizes(), (std::vector<std::size_t>{53}));
  EXPECT_EQ(s.write_buffer_counts(), (std::vector<std::size_t>{2}));
  EXPECT_TRUE(s.eof_written());
  EXPECT_TRUE(w.finished());
}

TEST(buffered_writer, a_write_that_does_not_fit_goes_out_gathered_with_the_buffer_without_a_copy) {
  io::io_context ctx(io::backend_kind::epoll);
  scripted_stream s;
  senet::stream::buffered_writer w(s, 16);
  const std::string big(100, 'x');
  auto body = [&]() -> task<std::vector<size_result>> {
    std::vector<size_result> out;
    out.push_back(co_await w.write(senet::buffer("head", 4)));
    out.push_back(co_await w.write(senet::buffer(big)));
    out.push_back(co_await w.write(senet::buffer("tail", 4)));
    co_return out;
  };
  auto r = senet::test::value_of(ctx, body());
  EXPECT_EQ(r, (std::vector<size_result>{
                   {std::error_code{}, 4}, {std::error_code{}, 100}, {std::error_code{}, 4}}));
  EXPECT_EQ(s.written(), "head" + big);
  EXPECT_EQ(s.write_buffer_counts(), (std::vector<std::size_t>{2}));  // buffer + big, one gather write
  EXPECT_EQ(w.buffered(), 4u);                                        // "tail" waits
}

TEST(buffered_writer, write_some_copies_what_fits_and_writes_the_buffer_out_when_full) {
  io::io_context ctx(io::backend_kind::epoll);
  scripted_stream s;
  senet::stream::buffered_writer w(s, 8);
  auto body = [&]() -> task<std::vector<size_result>> {
    std::vector<size_result> out;
    out.push_back(co_await w.write_some(senet::buffer("0123456789", 10)));  // 8 fit
    out.push_back(co_await w.write_some(senet::buffer("89", 2)));           // full: out, then copy
    co_return out;
  };
  auto r = senet::test::value_of(ctx, body());
  EXPECT_EQ(r, (std::vector<size_result>{{std::error_code{}, 8}, {std::error_code{}, 2}}));
  EXPECT_EQ(s.written(), "01234567");
  EXPECT_EQ(w.buffered(), 2u);
}

TEST(buffered_writer, an_error_below_is_reported_by_the_operation_that_sends_and_the_bytes_stay) {
  io::io_context ctx(io::backend_kind::epoll);
  scripted_stream s;
  s.script_writes({{.error = injected()}});
  senet::stream::buffered_writer w(s, 8);
  auto body = [&]() -> task<std::vector<size_result>> {
    std::vector<size_result> out;
    out.push_back(co_await w.write(senet::buffer("abc", 3)));
    out.push_back(co_await w.flush());
    out.push_back(co_await w.flush());
    co_return out;
  };
  auto r = senet::test::value_of(ctx, body());
  EXPECT_EQ(r, (std::vector<size_result>{{std::error_code{}, 3}, {injected(), 0}, {std::error_code{}, 3}}));
  EXPECT_EQ(s.written(), "abc");
}

/** A write_stream that is not a sink. */
struct raw {
  scripted_stream* s;
  template <class B>
  auto write_some(B&& b) {
    return s->write_some(std::forward<B>(b));
  }
};

TEST(buffered_writer, over_a_raw_stream_write_eof_flushes_and_finishes_only_the_writer) {
  // The writer cannot end the stream below, only itself.
  static_assert(senet::stream::write_stream<raw> && !senet::stream::write_sink<raw>);
  io::io_context ctx(io::backend_kind::epoll);
  scripted_stream s;
  raw r{&s};
  senet::stream::buffered_writer w(r, 8);
  static_assert(senet::stream::write_sink<decltype(w)>);
  auto body = [&]() -> task<std::vector<size_result>> {
    std::vector<size_result> out;
    out.push_back(co_await w.write(senet::buffer("abc", 3)));
    out.push_back(co_await w.write_eof(senet::buffer("def", 3)));
    out.push_back(co_await w.write(senet::buffer("g", 1)));
    co_return out;
  };
  auto res = senet::test::value_of(ctx, body());
  EXPECT_EQ(res, (std::vector<size_result>{
                     {std::error_code{}, 3}, {std::error_code{}, 3}, {senet::error::write_after_eof, 0}}));
  EXPECT_EQ(s.written(), "abcdef");
  EXPECT_FALSE(s.eof_written());
  EXPECT_TRUE(w.finished());
}

TEST(buffered_writer, a_capacity_of_zero_is_refused) {
  scripted_stream s;
  EXPECT_THROW(senet::stream::buffered_writer(s, 0), std::invalid_argument);
}

// ---- file_sink and file_source ----------------------------------------------------------------

TEST(file_sink, completes_without_suspending_and_borrowed_descriptors_stay_open) {
  temp_file file;
  int fd = ::open(file.path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  int suspensions = 0;
  {
    senet::stream::file_sink sink(fd, senet::stream::file_ownership::borrow);
    auto body = [&]() -> task<size_result> {
      co_return co_await senet::test::counted(sink.write_eof(senet::buffer("hello", 5)), &suspensions);
    };
    auto r = ex::sync_wait(body());  // no I/O context needed
    ASSERT_TRUE(r);
    EXPECT_EQ(std::get<0>(*r), (size_result{std::error_code{}, 5}));
  }
  EXPECT_EQ(suspensions, 0);
  EXPECT_EQ(::fcntl(fd, F_GETFD), FD_CLOEXEC);  // still open: borrowed
  ::close(fd);
  EXPECT_EQ(file.contents(), "hello");
}

TEST(file_sink, an_adopted_descriptor_is_closed_and_a_closed_sink_says_not_open) {
  temp_file file;
  int fd = ::open(file.path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  senet::stream::file_sink sink(fd, senet::stream::file_ownership::adopt);
  EXPECT_FALSE(sink.close());
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed
  auto [ec, n] = sink.write(senet::buffer("x", 1)).await_resume();
  EXPECT_EQ(ec, senet::error::not_open);
  EXPECT_EQ(n, 0u);
}

TEST(file_sink, opening_a_path_that_cannot_be_opened_throws_with_the_path) {
  try {
    senet::stream::file_sink sink("/nonexistent-dir/x");
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x"), std::string::npos) << e.what();
  }
}

TEST(file_sink, a_descriptor_that_would_block_fails_instead_of_waiting) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
  senet::stream::file_sink sink(p[1], senet::stream::file_ownership::adopt);
  std::string big(1 << 20, 'x');  // more than a pipe holds
  auto [ec, n] = sink.write(senet::buffer(big)).await_resume();
  EXPECT_EQ(ec, std::errc::operation_would_block);
  EXPECT_LT(n, big.size());
  ::close(p[0]);
}

}  // namespace
