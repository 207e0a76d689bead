// SPDX-License-Identifier: BSL-1.0
// any_write_sink and any_read_source: the conformance suite over each kind of sink and source they
// erase, no allocation per operation, no suspension when the erased operation has none.
#include <senet/stream/any_write_sink.hpp>

#include <senet/stream/any_read_source.hpp>

#include "stream/harnesses.hpp"

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/async_read.hpp>
#include <senet/stream/buffered_writer.hpp>
#include <senet/stream/socket_sink.hpp>
#include <senet/stream/socket_source.hpp>
#include <senet/stream/write_sink.hpp>
#include <senet/task.hpp>

#include "stream/suspension_counter.hpp"
#include "support/allocation_counter.hpp"
#include "support/backend_fixture.hpp"
#include "support/run.hpp"
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
using senet::task;
using senet::stream::any_read_source;
using senet::stream::any_write_sink;
using size_result = std::tuple<std::error_code, std::size_t>;
using namespace senet::test::stream_harnesses;

static_assert(senet::stream::write_sink<any_write_sink>);
static_assert(senet::stream::read_source<any_read_source>);

/** `Base`'s sink behind an any_write_sink. */
template <class Base>
struct any_sink_harness : Base {
  using stream_type = any_write_sink;
  stream_type& stream() { return any; }
  stream_type any{Base::stream()};
};

/** `Base`'s source behind an any_read_source. */
template <class Base>
struct any_source_harness : Base {
  using stream_type = any_read_source;
  stream_type& stream() { return any; }
  stream_type any{Base::stream()};
};

using any_sink_harnesses = ::testing::Types<any_sink_harness<scripted_harness<true, 4096>>,
                                            any_sink_harness<socket_sink_harness<uring_backend>>,
                                            any_sink_harness<socket_sink_harness<epoll_backend>>,
                                            any_sink_harness<buffered_harness<file_sink_harness, 100>>>;
using any_source_harnesses = ::testing::Types<any_source_harness<scripted_harness<true, 4096>>,
                                              any_source_harness<socket_source_harness<uring_backend>>,
                                              any_source_harness<socket_source_harness<epoll_backend>>,
                                              any_source_harness<file_source_harness>>;

}  // namespace

SENET_TEST_WRITE_SINK_CONFORMANCE(any_write_sink, any_sink_harnesses);
SENET_TEST_READ_SOURCE_CONFORMANCE(any_read_source, any_source_harnesses);

namespace {

template <class Backend>
class any_sink_socket : public senet::test::backend_fixture<Backend> {};
TYPED_TEST_SUITE(any_sink_socket, senet::test::kernel_backends, senet::test::backend_names);

TYPED_TEST(any_sink_socket, allocates_once_when_made_and_never_per_operation) {
  auto conn = this->tcp_pair();
  senet::stream::socket_sink sink(conn.client);
  std::size_t at_construction = 0;
  std::optional<any_write_sink> any;
  {
    senet::test::allocation_scope scope;
    any.emplace(sink);
    at_construction = scope.count();
  }
  std::array<senet::const_buffer, 2> pair{senet::buffer("ab", 2), senet::buffer("cd", 2)};
  std::size_t steady = 99;
  int suspensions = 0;
  auto body = [&]() -> task<std::vector<size_result>> {
    std::vector<size_result> out;
    out.reserve(302);  // nothing of the test's own allocates in the counted scope
    // A first round: the socket sink's own frame (for write) is allocated by its first write.
    out.push_back(co_await any->write(senet::buffer("x", 1)));
    senet::test::allocation_scope scope;
    for (int i = 0; i < 100; ++i) {
      out.push_back(co_await senet::test::counted(any->write_some(senet::buffer("y", 1)), &suspensions));
      out.push_back(co_await senet::test::counted(any->write(senet::buffer("zz", 2)), &suspensions));
      out.push_back(co_await senet::test::counted(any->write(pair), &suspensions));
    }
    out.push_back(co_await senet::test::counted(any->write_eof(senet::buffer("!", 1)), &suspensions));
    steady = scope.count();
    co_return out;
  };
  auto r = this->value_of(body());
  EXPECT_EQ(at_construction, 1u);  // the frame
  EXPECT_EQ(steady, 0u);
  // The kernel took every byte at once; every 16 operations completed at once in one handler,
  // the next went through the loop (io_context.hpp, "Fairness"), without allocating either.
  EXPECT_GE(suspensions, 1);
  EXPECT_LE(suspensions, 301 / 16 + 1);
  ASSERT_EQ(r.size(), 302u);
  for (std::size_t i = 1; i < r.size(); ++i) {
    EXPECT_FALSE(std::get<0>(r[i])) << i;
  }
  std::string expected = "x";
  for (int i = 0; i < 100; ++i) {
    expected += "yzzabcd";
  }
  expected += "!";
  std::string in(expected.size(), '\0');
  EXPECT_EQ(this->value_of(senet::net::async_read(conn.server, senet::buffer(in))), in.size());
  EXPECT_EQ(in, expected);
  char more;
  EXPECT_EQ(this->error_of(senet::net::async_read(conn.server, senet::buffer(&more, 1))), senet::error::eof);
}

TYPED_TEST(any_sink_socket, a_read_source_allocates_nothing_per_read) {
  auto conn = this->tcp_pair();
  senet::stream::socket_source source(conn.client);
  any_read_source any(source);
  std::string data(1000, 'q');
  conn.server.send(senet::buffer(data));
  std::size_t steady = 99;
  int suspensions = 0;
  auto body = [&]() -> task<std::string> {
    std::string got;
    got.reserve(1000);
    char buf[10];
    // First round: the socket source's own frame (for read).
    auto [ec0, n0] = co_await any.read(senet::buffer(buf));
    got.append(buf, n0);
    senet::test::allocation_scope scope;
    for (int i = 0; i < 99; ++i) {
      auto [ec, n] = co_await senet::test::counted(any.read(senet::buffer(buf)), &suspensions);
      got.append(buf, n);
    }
    steady = scope.count();
    co_return got;
  };
  EXPECT_EQ(this->value_of(body()), data);
  EXPECT_EQ(steady, 0u);
  // Every read found its bytes there; every 16 completed at once in one handler, the next went
  // through the loop (io_context.hpp, "Fairness").
  EXPECT_GE(suspensions, 1);
  EXPECT_LE(suspensions, 99 / 16 + 1);
}

TYPED_TEST(any_sink_socket, a_read_that_must_wait_suspends_once_and_completes) {
  auto conn = this->tcp_pair();
  senet::stream::socket_source source(conn.client);
  any_read_source any(source);
  int suspensions = 0;
  auto reader = [&]() -> task<size_result> {
    char buf[6];
    auto r = co_await senet::test::counted(any.read(senet::buffer(buf)), &suspensions);
    EXPECT_EQ(std::string(buf, 6), "later!");
    co_return r;
  };
  auto writer = [&]() -> task<void> {
    co_await ex::schedule(this->ctx().get_scheduler());
    conn.server.send(senet::buffer("later!", 6));
  };
  auto r = this->run(ex::when_all(reader(), writer()));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), (size_result{std::error_code{}, 6}));
  EXPECT_EQ(suspensions, 1);
}

}  // namespace
