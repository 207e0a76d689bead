// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TESTS_STREAM_HARNESSES_HPP
#define SENET_TESTS_STREAM_HARNESSES_HPP

/* Harnesses of the stream conformance suite (support/stream_conformance.hpp) for senet's sinks and
   sources, shared by the tests of tests/stream/ that run the suite or need the same set-ups: a
   scripted stream, loopback TCP connections on a backend, temporary files, and a buffered writer
   over any of them. */

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

#include "support/backend_fixture.hpp"
#include "support/loopback.hpp"
#include "support/run.hpp"
#include "support/scripted_stream.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

namespace senet::test::stream_harnesses {

namespace ex = senet::ex;
namespace io = senet::io;
using senet::task;
using senet::ip::tcp;
using senet::test::script_step;
using senet::test::scripted_stream;

/** The error the harnesses inject. */
inline std::error_code injected() {
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

template <class Backend>
const char* backend_unavailable() {
  return io::io_context::is_available(Backend::kind) ? nullptr : "the backend is not available here";
}

/** Closes `s` with a reset (SO_LINGER 0): the other end's next operation fails. */
inline void reset_close(tcp::socket& s) {
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
inline void replace_descriptor(int fd, const char* path, int flags) {
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

}  // namespace senet::test::stream_harnesses

#endif  // SENET_TESTS_STREAM_HARNESSES_HPP
