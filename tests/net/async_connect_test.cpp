// SPDX-License-Identifier: BSL-1.0
#include <senet/net/async_connect.hpp>

#include <senet/execution.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/sockets.hpp>

#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;

template <class Backend>
class async_connect_test : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(async_connect_test, senet::test::all_backends, senet::test::backend_names);

// An endpoint where nothing listens: bound once, then closed.
ip::tcp::endpoint unused_endpoint(ip::tcp protocol) {
  ip::tcp::acceptor a(protocol);
  ip::address address = protocol == ip::tcp::v6() ? ip::address(ip::address_v6::loopback())
                                                  : ip::address(ip::address_v4::loopback());
  a.bind(ip::tcp::endpoint(address, 0));
  return a.local_endpoint();
}

TYPED_TEST(async_connect_test, completion_signatures_are_those_of_p2762) {
  ip::tcp::socket s;
  using sndr = decltype(net::async_connect(s, ip::tcp::endpoint()));
  static_assert(std::is_same_v<typename sndr::completion_signatures,
                               ex::completion_signatures<ex::set_value_t(), ex::set_error_t(std::error_code),
                                                         ex::set_stopped_t()>>);
  SUCCEED();
}

TYPED_TEST(async_connect_test, connects_an_open_socket) {
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  ip::tcp::socket client(ip::tcp::v4());
  auto r = this->run(
      ex::when_all(net::async_connect(client, acceptor.local_endpoint()), net::async_accept(acceptor)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<1>(*r), client.local_endpoint());
}

TYPED_TEST(async_connect_test, opens_a_closed_socket_for_the_endpoint_protocol) {
  if (!senet::test::ipv6_available()) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  auto acceptor = senet::test::listen_tcp(ip::tcp::v6());
  ip::tcp::socket client;
  ASSERT_FALSE(client.is_open());
  auto r = this->run(
      ex::when_all(net::async_connect(client, acceptor.local_endpoint()), net::async_accept(acceptor)));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(client.is_open());
  EXPECT_EQ(client.protocol(), ip::tcp::v6());
}

TYPED_TEST(async_connect_test, connection_refused) {
  ip::tcp::socket client;
  std::error_code ec = this->error_of(net::async_connect(client, unused_endpoint(ip::tcp::v4())));
  EXPECT_EQ(ec, std::errc::connection_refused) << ec.message();
}

TYPED_TEST(async_connect_test, connection_refused_ipv6) {
  if (!senet::test::ipv6_available()) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  ip::tcp::socket client;
  std::error_code ec = this->error_of(net::async_connect(client, unused_endpoint(ip::tcp::v6())));
  EXPECT_EQ(ec, std::errc::connection_refused) << ec.message();
}

// Linux leaves a TCP socket whose non-blocking connect failed in a state where the next connect(2)
// fails with ECONNABORTED without trying (and resets it). Every backend retries that once, so a
// second connect on the same socket is a real attempt: refused again, or connected.
TYPED_TEST(async_connect_test, connect_again_after_refused_is_refused_again) {
  ip::tcp::socket client;
  auto target = unused_endpoint(ip::tcp::v4());
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::error_code ec = this->error_of(net::async_connect(client, target));
    EXPECT_EQ(ec, std::errc::connection_refused) << "attempt " << attempt << ": " << ec.message();
  }
}

TYPED_TEST(async_connect_test, connect_again_after_refused_can_connect) {
  ip::tcp::socket client;
  std::error_code ec = this->error_of(net::async_connect(client, unused_endpoint(ip::tcp::v4())));
  ASSERT_EQ(ec, std::errc::connection_refused) << ec.message();
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  auto r = this->run(
      ex::when_all(net::async_connect(client, acceptor.local_endpoint()), net::async_accept(acceptor)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<1>(*r), client.local_endpoint());
}

TYPED_TEST(async_connect_test, local_stream) {
  senet::test::local_listener listener;
  senet::local::stream_protocol::socket client;
  auto r = this->run(ex::when_all(net::async_connect(client, listener.acceptor().local_endpoint()),
                                  net::async_accept(listener.acceptor())));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(client.is_open());
}

TYPED_TEST(async_connect_test, local_stream_without_listener_is_an_error) {
  std::string path;
  {
    senet::test::local_listener listener;
    path = listener.path();
  }
  senet::local::stream_protocol::socket client;
  std::error_code ec =
      this->error_of(net::async_connect(client, senet::local::stream_protocol::endpoint(path)));
  EXPECT_TRUE(ec == std::errc::no_such_file_or_directory || ec == std::errc::connection_refused)
      << ec.message();
}

TYPED_TEST(async_connect_test, explicit_scheduler_form) {
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  ip::tcp::socket client;
  auto r = this->run(ex::when_all(net::async_connect(this->scheduler(), client, acceptor.local_endpoint()),
                                  net::async_accept(this->scheduler(), acceptor)));
  ASSERT_TRUE(r.has_value());
}

}  // namespace
