// SPDX-License-Identifier: BSL-1.0
#include <senet/net/async_wait_until.hpp>

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>

#include <support/backend_fixture.hpp>

#include <gtest/gtest.h>

#include <chrono>

// The timer tests are in async_wait_for_test.cpp; this one checks that the header stands alone.

namespace {

using namespace std::chrono_literals;
namespace net = senet::net;

template <class Backend>
class async_wait_until_test : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(async_wait_until_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(async_wait_until_test, completes_at_its_time_point_on_both_forms) {
  auto start = senet::io::detail::now(this->ctx());
  EXPECT_TRUE(this->run(net::async_wait_until(start + 5ms)).has_value());
  EXPECT_GE(senet::io::detail::now(this->ctx()), start + 5ms);
  EXPECT_TRUE(this->run(net::async_wait_until(this->scheduler(), start)).has_value());
}

}  // namespace
