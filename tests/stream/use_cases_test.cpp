// SPDX-License-Identifier: BSL-1.0
// The seed's use cases (write-sink-concept-design.txt), written as the seed writes them, each
// checked by the bytes that arrive on the other side of a loopback TCP connection, on io_uring and
// epoll: serialising JSON, relaying a streaming body, writing complete messages, the buffered
// writer, write_now on a raw stream, and an HTTP response body through any_write_sink.
#include <senet/stream/relay.hpp>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_write.hpp>
#include <senet/stream/any_write_sink.hpp>
#include <senet/stream/buffered_writer.hpp>
#include <senet/stream/file_source.hpp>
#include <senet/stream/socket_sink.hpp>
#include <senet/stream/write_now.hpp>
#include <senet/stream/write_sink.hpp>
#include <senet/stream/write_stream.hpp>
#include <senet/task.hpp>

#include "stream/harnesses.hpp"
#include "support/allocation_counter.hpp"
#include "support/backend_fixture.hpp"
#include "support/loopback.hpp"

#include <gtest/gtest.h>

#include <map>
#include <span>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

namespace {

namespace ex = senet::ex;
namespace net = senet::net;
using senet::task;
using senet::ip::tcp;
using senet::stream::write_sink;
using senet::stream::write_stream;
using size_result = std::tuple<std::error_code, std::size_t>;

// ---- the seed's functions (errors returned, so that the tests can see them) ----

/** A JSON object of string keys and integer values, the fields without braces. */
std::string serialize_fields(const std::map<std::string, int>& object) {
  std::string out;
  for (const auto& [key, value] : object) {
    if (!out.empty()) {
      out += ',';
    }
    out += '"' + key + "\":" + std::to_string(value);
  }
  return out;
}

template <write_sink Sink>
task<std::error_code> serialize_json(Sink& sink, const std::map<std::string, int>& jv) {
  auto [ec1, n1] = co_await sink.write(senet::buffer("{", 1));
  if (ec1) {
    co_return ec1;
  }
  auto body = serialize_fields(jv);
  auto [ec2, n2] = co_await sink.write(senet::buffer(body));
  if (ec2) {
    co_return ec2;
  }
  auto [ec3, n3] = co_await sink.write_eof(senet::buffer("}", 1));
  co_return ec3;
}

template <write_sink Sink>
task<std::error_code> send_messages(Sink& sink, std::span<const std::string> messages) {
  for (const auto& msg : messages) {
    auto [ec, n] = co_await sink.write(senet::buffer(msg));
    if (ec) {
      co_return ec;
    }
  }
  auto [ec] = co_await sink.write_eof();
  co_return ec;
}

template <write_sink Sink>
task<std::error_code> buffered_output(Sink& sink) {
  auto [ec1, n1] = co_await sink.write(senet::buffer("key: ", 5));
  if (ec1) {
    co_return ec1;
  }
  auto [ec2, n2] = co_await sink.write(senet::buffer("value\r\n", 7));
  if (ec2) {
    co_return ec2;
  }
  auto [ec3, n3] = co_await sink.write_eof(senet::buffer("end\r\n", 5));
  co_return ec3;
}

template <write_stream Stream>
task<std::error_code> send_data(Stream& stream) {
  senet::stream::write_now wn(stream);
  auto [ec1, n1] = co_await wn(senet::buffer("hello", 5));
  if (ec1) {
    co_return ec1;
  }
  auto [ec2, n2] = co_await wn(senet::buffer("world", 5));
  co_return ec2;
}

struct response {
  int status;
  std::string body;
};

std::string format_headers(const response& resp) {
  return "HTTP/1.1 " + std::to_string(resp.status) +
         " OK\r\nContent-Length: " + std::to_string(resp.body.size()) + "\r\n\r\n";
}

task<std::error_code> send_response(senet::stream::any_write_sink& body, const response& resp) {
  auto headers = format_headers(resp);
  auto [ec1, n1] = co_await body.write(senet::buffer(headers));
  if (ec1) {
    co_return ec1;
  }
  auto [ec2, n2] = co_await body.write_eof(senet::buffer(resp.body));
  co_return ec2;
}

// ---- the fixture: a connection; the server end reads what arrives, to the end ----

template <class Backend>
class use_cases : public senet::test::backend_fixture<Backend> {
 protected:
  void SetUp() override {
    senet::test::backend_fixture<Backend>::SetUp();
    if (this->IsSkipped()) {
      return;
    }
    conn_.emplace(this->tcp_pair());
  }

  tcp::socket& client() { return conn_->client; }

  /** Everything the server end reads up to end of stream; fails the test if the stream does not
      end (with the end of stream, not an error). */
  task<std::string> read_to_end() {
    std::string all;
    std::vector<char> buf(1 << 16);
    for (;;) {
      auto [ec, n] = co_await conn_->server.read_some(senet::buffer(buf));
      if (ec) {
        EXPECT_EQ(ec, senet::error::eof) << ec.message();
        co_return all;
      }
      all.append(buf.data(), n);
    }
  }

  /** Runs `writer` beside `read_to_end()`: the writer's result and what arrived. */
  template <class T>
  std::pair<T, std::string> exchange(task<T> writer) {
    auto [r, got] = this->value_of(ex::when_all(std::move(writer), read_to_end()));
    return {std::move(r), std::move(got)};
  }

  std::optional<senet::test::tcp_connection> conn_;
};
TYPED_TEST_SUITE(use_cases, senet::test::kernel_backends, senet::test::backend_names);

const std::map<std::string, int> document{{"alpha", 1}, {"beta", -22}, {"gamma", 333}};
const std::string document_json = R"({"alpha":1,"beta":-22,"gamma":333})";

TYPED_TEST(use_cases, serializing_json_to_a_socket_sink) {
  senet::stream::socket_sink sink(this->client());
  auto [ec, got] = this->exchange(serialize_json(sink, document));
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(got, document_json);  // and read_to_end saw the end: write_eof("}") shut it down
}

TYPED_TEST(use_cases, serializing_json_through_a_buffered_writer_and_any_write_sink) {
  senet::stream::socket_sink sink(this->client());
  senet::stream::buffered_writer buffered(sink, 16);  // smaller than the document: one spill
  senet::stream::any_write_sink any(buffered);
  auto [ec, got] = this->exchange(serialize_json(any, document));
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(got, document_json);
}

TYPED_TEST(use_cases, writing_complete_messages) {
  std::vector<std::string> messages;
  for (int i = 0; i < 50; ++i) {
    messages.push_back("message " + std::to_string(i) + std::string(static_cast<std::size_t>(i) * 100, '.') +
                       "\n");
  }
  std::string expected;
  for (auto& m : messages) {
    expected += m;
  }
  senet::stream::socket_sink sink(this->client());
  auto [ec, got] = this->exchange(send_messages(sink, messages));
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(got == expected) << got.size() << " bytes of " << expected.size();
}

TYPED_TEST(use_cases, the_buffered_writer_sends_its_lines_at_once_with_the_end) {
  senet::stream::socket_sink sink(this->client());
  senet::stream::buffered_writer w(sink);
  auto [ec, got] = this->exchange(buffered_output(w));
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(got, "key: value\r\nend\r\n");
  EXPECT_TRUE(w.finished());
  EXPECT_TRUE(sink.finished());  // the socket sink below was ended by the writer's write_eof
}

TYPED_TEST(use_cases, write_now_on_a_raw_stream_and_its_frame_is_not_allocated_when_nothing_waits) {
  std::size_t allocations = 99;
  auto writer = [](tcp::socket& s, std::size_t* allocations) -> task<std::error_code> {
    // send_data's frame is made before counting starts: whether it is an allocation depends on the
    // compiler (clang builds it inside this frame when it can, g++ never does). Writing with
    // write_now, when nothing waits, allocates nothing.
    auto sending = send_data(s);
    senet::test::allocation_scope scope;
    auto ec = co_await std::move(sending);
    *allocations = scope.count();
    s.shutdown(net::socket_base::shutdown_send);  // a raw stream has no write_eof: end it here
    co_return ec;
  };
  auto [ec, got] = this->exchange(writer(this->client(), &allocations));
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(got, "helloworld");
  EXPECT_EQ(allocations, 0u);
}

TYPED_TEST(use_cases, relaying_a_streaming_body_from_one_connection_to_another) {
  // The body arrives on `upstream` (its peer writes it in pieces, then ends it) and is relayed to
  // this fixture's client socket, whose peer reads it to the end.
  auto upstream = this->tcp_pair();
  std::string body(1 << 20, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) {
    body[i] = static_cast<char>('a' + (i * 7 + i / 1000) % 26);
  }
  auto producer = [](tcp::socket& s, const std::string& body) -> task<void> {
    for (std::size_t off = 0; off < body.size(); off += 10000) {
      co_await net::async_write(
          s, senet::buffer(body.data() + off, std::min<std::size_t>(10000, body.size() - off)));
    }
    s.shutdown(net::socket_base::shutdown_send);
  };
  senet::stream::socket_sink dest(this->client());
  auto r = this->value_of(ex::when_all(senet::stream::relay(upstream.server, dest),
                                       producer(upstream.client, body), this->read_to_end()));
  auto [ec, n] = std::get<0>(r);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(n, body.size());
  EXPECT_TRUE(std::get<1>(r) == body) << std::get<1>(r).size() << " bytes of " << body.size();
  EXPECT_TRUE(dest.finished());
}

TYPED_TEST(use_cases, relaying_a_file_to_a_connection_through_a_buffer_of_the_callers) {
  senet::test::stream_harnesses::temp_file file;
  const std::string contents(100000, 'f');
  {
    senet::stream::file_sink out(file.path);
    ASSERT_FALSE(std::get<0>(out.write_eof(senet::buffer(contents)).await_resume()));
  }
  senet::stream::file_source in(file.path);
  senet::stream::socket_sink dest(this->client());
  std::array<char, 1000> buf;
  auto [r, got] = this->exchange(senet::stream::relay(in, dest, senet::buffer(buf)));
  EXPECT_EQ(r, (size_result{std::error_code{}, contents.size()}));
  EXPECT_TRUE(got == contents);
}

TYPED_TEST(use_cases, a_relay_whose_source_fails_reports_it_and_does_not_end_the_sink) {
  auto upstream = this->tcp_pair();
  upstream.client.send(senet::buffer("partial", 7));
  senet::test::stream_harnesses::reset_close(upstream.client);
  senet::stream::socket_sink dest(this->client());
  auto relay_then_end = [](tcp::socket& src,
                           senet::stream::socket_sink<tcp::socket>& dest) -> task<size_result> {
    auto r = co_await senet::stream::relay(src, dest);
    EXPECT_FALSE(dest.finished());  // a truncated body must not look complete
    dest.socket().shutdown(net::socket_base::shutdown_send);
    co_return r;
  };
  auto [r, got] = this->exchange(relay_then_end(upstream.server, dest));
  EXPECT_EQ(std::get<0>(r), std::errc::connection_reset) << std::get<0>(r).message();
  EXPECT_EQ(got.substr(0, std::get<1>(r)), std::string("partial").substr(0, std::get<1>(r)));
}

TYPED_TEST(use_cases, an_http_response_body_through_any_write_sink) {
  senet::stream::socket_sink sink(this->client());
  senet::stream::buffered_writer buffered(sink);  // a content-length body: headers and body in one write
  senet::stream::any_write_sink body(buffered);
  const response resp{200, "<html>hello</html>"};
  auto [ec, got] = this->exchange(send_response(body, resp));
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(got, "HTTP/1.1 200 OK\r\nContent-Length: 18\r\n\r\n<html>hello</html>");
}

}  // namespace
