// SPDX-License-Identifier: BSL-1.0
#include <senet/net/async_write_some.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/net/async_read_some.hpp>
#include <senet/net/sockets.hpp>

#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <string>

namespace {

namespace ex = senet::ex;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

template <class Backend>
class async_write_some_test : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(async_write_some_test, senet::test::all_backends, senet::test::backend_names);

// A stream that is not a socket customises the operation with a member.
struct fake_stream {
  std::string written;
  template <class Buffers>
  auto async_write_some(Buffers&& buffers) {
    std::size_t n = senet::buffer_size(buffers);
    written.append(static_cast<const char*>(senet::const_buffer(buffers).data()), n);
    return ex::just(n);
  }
};

TYPED_TEST(async_write_some_test, is_async_send_on_a_socket) {
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  auto pair = senet::test::connect_pair(this->ctx(), acceptor);
  std::string data = "written";
  std::array<char, 7> in{};
  auto r = this->run(ex::when_all(net::async_write_some(pair.client, buffer(data)),
                                  net::async_read_some(pair.server, buffer(in))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), data.size());
  // What the peer read is what was written (all of it, or a first part).
  std::size_t n = std::get<1>(*r);
  EXPECT_GT(n, 0U);
  EXPECT_EQ(std::string(in.data(), n), data.substr(0, n));
}

TYPED_TEST(async_write_some_test, error_after_the_peer_is_gone) {
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  auto pair = senet::test::connect_pair(this->ctx(), acceptor);
  char c = 'q';
  ASSERT_EQ(this->value_of(net::async_write_some(pair.server, buffer(&c, 1))), 1U);
  char peeked = 0;
  ASSERT_EQ(this->value_of(net::async_receive(pair.client, net::message_flags::peek, buffer(&peeked, 1))),
            1U);
  pair.client.close();
  std::error_code ec;
  for (int i = 0; i < 100 && !ec; ++i) {
    auto r = this->run(ex::let_error(net::async_write_some(pair.server, buffer(&c, 1)) |
                                         ex::then([](std::size_t) noexcept { return std::error_code(); }),
                                     [](std::error_code e) noexcept { return ex::just(e); }));
    ASSERT_TRUE(r.has_value());
    ec = std::get<0>(*r);
  }
  EXPECT_TRUE(ec == std::errc::broken_pipe || ec == std::errc::connection_reset) << ec.message();
}

TYPED_TEST(async_write_some_test, member_customisation) {
  fake_stream s;
  std::string data = "custom";
  auto r = ex::sync_wait(net::async_write_some(s, buffer(data)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 6U);
  EXPECT_EQ(s.written, "custom");
}

}  // namespace
