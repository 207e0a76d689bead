// SPDX-License-Identifier: BSL-1.0
#include <senet/net/async_read_until.hpp>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/dynamic_buffer.hpp>
#include <senet/net/sockets.hpp>

#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace {

namespace ex = senet::ex;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

template <class Backend>
class async_read_until_test : public senet::test::backend_fixture<Backend> {
 protected:
  void send(ip::tcp::socket& s, std::string_view data) {
    ASSERT_EQ(this->value_of(net::async_send(s, buffer(data.data(), data.size()))), data.size());
  }
};

TYPED_TEST_SUITE(async_read_until_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(async_read_until_test, completion_signatures) {
  ip::tcp::socket s;
  std::string str;
  using sndr = decltype(net::async_read_until(s, net::dynamic_buffer(str), '\n'));
  static_assert(
      std::is_same_v<typename sndr::completion_signatures,
                     ex::completion_signatures<ex::set_value_t(std::size_t), ex::set_error_t(std::error_code),
                                               ex::set_stopped_t()>>);
  SUCCEED();
}

TYPED_TEST(async_read_until_test, reads_a_line_and_keeps_what_follows) {
  auto p = this->tcp_pair();
  this->send(p.client, "hello\nworld");
  std::string str;
  std::size_t n = this->value_of(net::async_read_until(p.server, net::dynamic_buffer(str), '\n'));
  EXPECT_EQ(n, 6U);
  EXPECT_EQ(str.substr(0, n), "hello\n");
  EXPECT_EQ(str, "hello\nworld") << "the bytes after the delimiter stay in the buffer";
  str.erase(0, n);
  this->send(p.client, "!\n");
  n = this->value_of(net::async_read_until(p.server, net::dynamic_buffer(str), '\n'));
  EXPECT_EQ(str.substr(0, n), "world!\n");
}

// The first read takes 512 bytes (the least it prepares), ending with "\r": the delimiter "\r\n"
// is split across two reads, and "tail" arrives after it.
TYPED_TEST(async_read_until_test, finds_a_delimiter_split_across_two_reads) {
  auto p = this->tcp_pair();
  std::string data = std::string(511, 'x') + "\r\ntail";
  this->send(p.client, data);
  std::string str;
  std::size_t n =
      this->value_of(net::async_read_until(p.server, net::dynamic_buffer(str), std::string_view("\r\n")));
  EXPECT_EQ(n, 513U);
  EXPECT_EQ(str, data);
}

TYPED_TEST(async_read_until_test, leftover_data_is_searched_before_reading) {
  auto p = this->tcp_pair();
  this->send(p.client, "a\nb\n");
  p.client.shutdown(ip::tcp::socket::shutdown_send);
  std::string str;
  std::size_t n = this->value_of(net::async_read_until(p.server, net::dynamic_buffer(str), '\n'));
  EXPECT_EQ(str.substr(0, n), "a\n");
  str.erase(0, n);
  // "b\n" is already in the buffer: found without a read (a read would give end of stream).
  n = this->value_of(net::async_read_until(p.server, net::dynamic_buffer(str), '\n'));
  EXPECT_EQ(str.substr(0, n), "b\n");
  str.erase(0, n);
  EXPECT_EQ(this->error_of(net::async_read_until(p.server, net::dynamic_buffer(str), '\n')),
            senet::error::eof);
}

TYPED_TEST(async_read_until_test, end_of_stream_before_the_delimiter_keeps_the_data) {
  auto p = this->tcp_pair();
  this->send(p.client, "partial");
  p.client.shutdown(ip::tcp::socket::shutdown_send);
  std::string str;
  EXPECT_EQ(this->error_of(net::async_read_until(p.server, net::dynamic_buffer(str), '\n')),
            senet::error::eof);
  EXPECT_EQ(str, "partial");
}

TYPED_TEST(async_read_until_test, max_size_reached_is_not_found) {
  auto p = this->tcp_pair();
  this->send(p.client, "0123456789\n");
  std::string str;
  EXPECT_EQ(this->error_of(net::async_read_until(p.server, net::dynamic_buffer(str, 8), '\n')),
            senet::error::not_found);
  EXPECT_EQ(str, "01234567") << "the buffer holds what fitted";
  // A larger limit finds the rest.
  std::size_t n = this->value_of(net::async_read_until(p.server, net::dynamic_buffer(str, 64), '\n'));
  EXPECT_EQ(str.substr(0, n), "0123456789\n");
}

TYPED_TEST(async_read_until_test, vector_buffer_and_explicit_scheduler) {
  auto p = this->tcp_pair();
  this->send(p.client, "key: value\r\n\r\nbody");
  std::vector<char> vec;
  std::size_t n = this->value_of(net::async_read_until(this->scheduler(), p.server, net::dynamic_buffer(vec),
                                                       std::string_view("\r\n\r\n")));
  EXPECT_EQ(std::string(vec.data(), n), "key: value\r\n\r\n");
  EXPECT_EQ(std::string(vec.begin(), vec.end()), "key: value\r\n\r\nbody");
}

TYPED_TEST(async_read_until_test, empty_delimiter_is_invalid) {
  auto p = this->tcp_pair();
  std::string str;
  EXPECT_EQ(this->error_of(net::async_read_until(p.server, net::dynamic_buffer(str), std::string_view())),
            std::errc::invalid_argument);
}

TYPED_TEST(async_read_until_test, stop_request_cancels_the_pending_read) {
  auto p = this->tcp_pair();
  std::string str = "no newline";
  auto r = this->run(ex::when_any(net::async_read_until(p.server, net::dynamic_buffer(str), '\n') |
                                      ex::then([](std::size_t) { return 1; }),
                                  ex::just(2)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 2);
  EXPECT_EQ(str, "no newline") << "the buffer keeps its readable bytes and nothing else";
  // The socket stays usable.
  this->send(p.client, "!\n");
  std::size_t n = this->value_of(net::async_read_until(p.server, net::dynamic_buffer(str), '\n'));
  EXPECT_EQ(str.substr(0, n), "no newline!\n");
}

TYPED_TEST(async_read_until_test, closed_socket_fails) {
  ip::tcp::socket closed;
  std::string str;
  std::error_code ec = this->error_of(net::async_read_until(closed, net::dynamic_buffer(str), '\n'));
  EXPECT_TRUE(ec);
  EXPECT_TRUE(str.empty());
}

}  // namespace
