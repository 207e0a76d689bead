// SPDX-License-Identifier: BSL-1.0
// The concrete sinks and sources (socket_sink, socket_source, buffered_writer, file_sink,
// file_source), each run through the stream conformance suite, and the scripted stream of
// tests/support that the layered sinks are tested over.
#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/socket_base.hpp>
#include <senet/stream/buffered_writer.hpp>
#include <senet/stream/file_sink.hpp>
#include <senet/stream/file_source.hpp>
#include <senet/stream/socket_sink.hpp>
#include <senet/stream/socket_source.hpp>
#include <senet/task.hpp>

#include "stream/suspension_counter.hpp"
#include "support/allocation_counter.hpp"
#include "support/backend_fixture.hpp"
#include "support/loopback.hpp"
#include "support/run.hpp"
#include "support/scripted_stream.hpp"
#include "support/stream_conformance.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
using senet::task;
using senet::ip::tcp;
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

// ---- socket_sink and socket_source over loopback TCP, on io_uring and epoll -------------------------

namespace {

template <class Backend>
const char* backend_unavailable() {
  return io::io_context::is_available(Backend::kind) ? nullptr : "the backend is not available here";
}

/** Closes `s` with a reset (SO_LINGER 0): the other end's next operation fails. */
void reset_close(tcp::socket& s) {
  ::linger l{1, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  s.close();
}

/** A connection on `Backend`; the server end is the other side of what is tested on the client. */
template <class Backend>
struct connection_harness {
  static const char* unavailable() { return backend_unavailable<Backend>(); }

  // Reads the server end until end of stream or an error.
  task<void> collect() {
    std::vector<char> buf(1 << 16);
    for (;;) {
      auto [ec, n] = co_await conn.server.read_some(senet::buffer(buf));
      if (ec) {
        end = ec;
        co_return;
      }
      got.append(buf.data(), n);
    }
  }

  /** The write side's run: `body` beside a collector on the server end. */
  template <class T>
  T run_writer(task<T> body, bool ends_stream) {
    auto then_end = [](connection_harness& self, task<T> b, bool ends) -> task<T> {
      T v = co_await std::move(b);
      if (!ends) {
        std::error_code ec;  // the body may have reset the connection
        self.conn.client.shutdown(senet::net::socket_base::shutdown_send, ec);
      }
      co_return v;
    };
    T v = senet::test::value_of(ctx, ex::when_all(then_end(*this, std::move(body), ends_stream), collect()));
    if (ends_stream) {
      EXPECT_EQ(end, senet::error::eof) << "the peer did not read end of stream: " << end.message();
    }
    return v;
  }

  /** The read side's run: `body` beside a writer on the server end. */
  template <class T>
  T run_reader(task<T> body) {
    auto writer = [](connection_harness& self) -> task<void> {
      if (self.failed) {
        co_return;
      }
      co_await senet::net::async_write(self.conn.server, senet::buffer(self.input));
      self.conn.server.shutdown(senet::net::socket_base::shutdown_send);
    };
    return senet::test::value_of(ctx, ex::when_all(std::move(body), writer(*this)));
  }

  void fail_other_side() {
    failed = true;
    reset_close(conn.server);
  }
  static bool is_reset(std::error_code ec) {
    return ec == std::errc::connection_reset || ec == std::errc::broken_pipe;
  }

  io::io_context ctx{Backend::kind};
  senet::test::tcp_connection conn = senet::test::tcp_pair(ctx);
  std::string got;
  std::error_code end;
  std::string input;
  bool failed = false;
};

template <class Backend>
struct socket_sink_harness : connection_harness<Backend> {
  using stream_type = senet::stream::socket_sink<tcp::socket>;
  stream_type& stream() { return sink; }
  template <class T>
  T run(task<T> body, bool ends_stream) {
    return this->run_writer(std::move(body), ends_stream);
  }
  std::string received() { return this->got; }
  void fail_destination() { this->fail_other_side(); }
  bool is_destination_error(std::error_code ec) { return this->is_reset(ec); }

  stream_type sink{this->conn.client};
};

/** The raw socket, as the write_stream it is. */
template <class Backend>
struct socket_stream_harness : socket_sink_harness<Backend> {
  using stream_type = tcp::socket;
  stream_type& stream() { return this->conn.client; }
};

template <class Backend>
struct socket_source_harness : connection_harness<Backend> {
  using stream_type = senet::stream::socket_source<tcp::socket>;
  stream_type& stream() { return source; }
  void provide(std::string bytes) { this->input = std::move(bytes); }
  template <class T>
  T run(task<T> body) {
    return this->run_reader(std::move(body));
  }
  void fail_source() { this->fail_other_side(); }
  bool is_source_error(std::error_code ec) { return ec == std::errc::connection_reset; }

  stream_type source{this->conn.client};
};

/** `Base`'s object under a buffered_writer of `Capacity` bytes. */
template <class Base, std::size_t Capacity>
struct buffered_harness : Base {
  using stream_type = senet::stream::buffered_writer<typename Base::stream_type>;
  stream_type& stream() { return writer; }
  stream_type writer{Base::stream(), Capacity};
};

// ---- file_sink and file_source over a temporary file ----

/** A fresh temporary file, removed on destruction. */
struct temp_file {
  temp_file() {
    char name[] = "/tmp/senet-file-sink-XXXXXX";
    int fd = ::mkstemp(name);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path = name;
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  ~temp_file() { ::unlink(path.c_str()); }

  std::string contents() const {
    std::string out;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    char buf[65536];
    for (;;) {
      ::ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) {
        break;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
  }

  std::string path;
};

/** Puts `path` (opened with `flags`) in place of descriptor `fd`: later operations on `fd` meet it. */
void replace_descriptor(int fd, const char* path, int flags) {
  int other = ::open(path, flags | O_CLOEXEC);
  ASSERT_GE(other, 0);
  ASSERT_EQ(::dup2(other, fd), fd);
  ::close(other);
}

struct file_sink_harness {
  using stream_type = senet::stream::file_sink;
  stream_type& stream() { return sink; }
  template <class T>
  T run(task<T> body, bool /*ends_stream: a file shows no end*/) {
    return senet::test::value_of(ctx, std::move(body));
  }
  std::string received() { return file.contents(); }
  // Writes to /dev/full fail with ENOSPC.
  void fail_destination() { replace_descriptor(sink.native_handle(), "/dev/full", O_WRONLY); }
  bool is_destination_error(std::error_code ec) { return ec == std::errc::no_space_on_device; }

  io::io_context ctx{io::backend_kind::epoll};
  temp_file file;
  stream_type sink{file.path};
};

struct file_source_harness {
  using stream_type = senet::stream::file_source;
  stream_type& stream() { return *source; }
  void provide(const std::string& bytes) {
    senet::stream::file_sink out(file.path);
    auto [ec, n] = out.write(senet::buffer(bytes)).await_resume();
    ASSERT_FALSE(ec);
    ASSERT_EQ(n, bytes.size());
    source.emplace(file.path);
  }
  template <class T>
  T run(task<T> body) {
    if (!source) {
      source.emplace(file.path);
    }
    return senet::test::value_of(ctx, std::move(body));
  }
  // Reading a directory fails with EISDIR.
  void fail_source() {
    source.emplace(file.path);
    replace_descriptor(source->native_handle(), "/tmp", O_RDONLY | O_DIRECTORY);
  }
  bool is_source_error(std::error_code ec) { return ec == std::errc::is_a_directory; }

  io::io_context ctx{io::backend_kind::epoll};
  temp_file file;
  std::optional<stream_type> source;
};

using senet::test::epoll_backend;
using senet::test::uring_backend;
using socket_sink_harnesses =
    ::testing::Types<socket_sink_harness<uring_backend>, socket_sink_harness<epoll_backend>>;
using socket_stream_harnesses =
    ::testing::Types<socket_stream_harness<uring_backend>, socket_stream_harness<epoll_backend>>;
using socket_source_harnesses =
    ::testing::Types<socket_source_harness<uring_backend>, socket_source_harness<epoll_backend>>;

using file_sink_harnesses = ::testing::Types<file_sink_harness, buffered_harness<file_sink_harness, 1000>>;
using buffered_harnesses = ::testing::Types<buffered_harness<scripted_harness<false, 4096>, 100>,
                                            buffered_harness<scripted_harness<true, 3>, 64>,
                                            buffered_harness<socket_sink_harness<uring_backend>, 8192>,
                                            buffered_harness<socket_sink_harness<epoll_backend>, 8192>>;

}  // namespace

SENET_TEST_WRITE_SINK_CONFORMANCE(socket_sink, socket_sink_harnesses);
SENET_TEST_WRITE_SINK_CONFORMANCE(buffered_writer, buffered_harnesses);
SENET_TEST_WRITE_STREAM_CONFORMANCE(socket, socket_stream_harnesses);
SENET_TEST_READ_SOURCE_CONFORMANCE(socket_source, socket_source_harnesses);
SENET_TEST_WRITE_SINK_CONFORMANCE(file_sink, file_sink_harnesses);
SENET_TEST_READ_SOURCE_CONFORMANCE(file_source, file_source_harness);

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
