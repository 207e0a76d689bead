// SPDX-License-Identifier: BSL-1.0
#include <senet/net/detail/wait_ready.hpp>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/sockets.hpp>

#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <chrono>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace ip = senet::ip;
namespace net = senet::net;
using net::detail::readiness;
using senet::buffer;

template <class Backend>
class wait_ready_test : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(wait_ready_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(wait_ready_test, writable_at_once_readable_after_data) {
  auto pair = this->tcp_pair();
  ASSERT_TRUE(this->run(net::detail::wait_ready(pair.client, readiness::writable)).has_value());
  char c = 'r';
  auto r = this->run(ex::when_all(net::detail::wait_ready(pair.server, readiness::readable),
                                  ex::schedule(this->scheduler()) | ex::let_value([&] {
                                    return net::async_send(pair.client, buffer(&c, 1));
                                  })));
  ASSERT_TRUE(r.has_value());
  // The data is still there: waiting consumed nothing.
  char in = 0;
  EXPECT_EQ(this->value_of(net::async_receive(pair.server, buffer(&in, 1))), 1U);
  EXPECT_EQ(in, 'r');
}

TYPED_TEST(wait_ready_test, readable_when_data_is_already_there) {
  auto pair = this->tcp_pair();
  char c = 'a';
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(&c, 1))), 1U);
  char in = 0;
  ASSERT_EQ(this->value_of(net::async_receive(pair.server, net::message_flags::peek, buffer(&in, 1))), 1U);
  ASSERT_TRUE(
      this->run(net::detail::wait_ready(this->scheduler(), pair.server, readiness::readable)).has_value());
}

TYPED_TEST(wait_ready_test, cancel_then_closing_aborts) {
  auto pair = this->tcp_pair();
  bool stopped = false;
  auto r = this->run(ex::when_any(
      net::detail::wait_ready(pair.server, readiness::readable) | ex::upon_stopped([&] { stopped = true; }),
      net::async_wait_for(2ms)));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(stopped);
  std::error_code ec =
      this->error_of(ex::when_all(net::detail::wait_ready(pair.server, readiness::readable),
                                  ex::schedule(this->scheduler()) | ex::then([&] { pair.server.close(); })));
  EXPECT_EQ(ec, senet::error::operation_aborted);
}

}  // namespace
