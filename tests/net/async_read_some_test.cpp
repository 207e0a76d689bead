// SPDX-License-Identifier: BSL-1.0
#include <senet/net/async_read_some.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/net/async_write_some.hpp>
#include <senet/net/sockets.hpp>

#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace {

namespace ex = senet::ex;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

template <class Backend>
class async_read_some_test : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(async_read_some_test, senet::test::all_backends, senet::test::backend_names);

// A stream that is not a socket customises the operation with a member.
struct fake_stream {
  int calls = 0;
  template <class Buffers>
  auto async_read_some(Buffers&& buffers) {
    ++calls;
    return ex::just(senet::buffer_size(buffers));
  }
};

TYPED_TEST(async_read_some_test, is_async_receive_on_a_socket) {
  auto pair = this->tcp_pair();
  std::string data = "some";
  std::array<char, 4> in{};
  auto r = this->run(ex::when_all(net::async_write_some(pair.client, buffer(data)),
                                  net::async_read_some(pair.server, buffer(in))));
  ASSERT_TRUE(r.has_value());
  EXPECT_GT(std::get<1>(*r), 0U);
  EXPECT_EQ(std::string(in.data(), std::get<1>(*r)), data.substr(0, std::get<1>(*r)));
  using sndr = decltype(net::async_read_some(pair.server, buffer(in)));
  static_assert(
      std::is_same_v<typename sndr::completion_signatures,
                     ex::completion_signatures<ex::set_value_t(std::size_t), ex::set_error_t(std::error_code),
                                               ex::set_stopped_t()>>);
}

TYPED_TEST(async_read_some_test, zero_at_end_of_stream) {
  auto pair = this->tcp_pair();
  pair.client.close();
  std::array<char, 4> in{};
  EXPECT_EQ(this->value_of(net::async_read_some(pair.server, buffer(in))), 0U);
}

TYPED_TEST(async_read_some_test, explicit_scheduler_form) {
  auto pair = this->tcp_pair();
  std::string data = "x";
  std::array<char, 1> in{};
  auto sch = this->scheduler();
  auto r = this->run(ex::when_all(net::async_write_some(sch, pair.client, buffer(data)),
                                  net::async_read_some(sch, pair.server, buffer(in))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(in[0], 'x');
}

TYPED_TEST(async_read_some_test, member_customisation) {
  fake_stream s;
  std::array<char, 6> in{};
  auto r = ex::sync_wait(net::async_read_some(s, buffer(in)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 6U);
  EXPECT_EQ(s.calls, 1);
}

}  // namespace
