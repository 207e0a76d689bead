// SPDX-License-Identifier: BSL-1.0
#include <senet/io/backend_kind.hpp>

#include <gtest/gtest.h>

namespace {

namespace io = senet::io;

TEST(backend_kind, names_and_constants) {
  static_assert(io::epoll == io::backend_kind::epoll);
  static_assert(io::uring == io::backend_kind::uring);
  static_assert(io::test == io::backend_kind::test);
  EXPECT_EQ(io::to_string(io::backend_kind::epoll), "epoll");
  EXPECT_EQ(io::to_string(io::backend_kind::uring), "uring");
  EXPECT_EQ(io::to_string(io::backend_kind::test), "test");
  EXPECT_EQ(io::to_string(static_cast<io::backend_kind>(42)), "unknown");
}

}  // namespace
