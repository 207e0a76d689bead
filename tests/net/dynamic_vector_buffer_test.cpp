// SPDX-License-Identifier: BSL-1.0
#include <senet/net/dynamic_vector_buffer.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

// The header is self-contained, and the class works alone (dynamic_buffer_test.cpp tests the
// members through net::dynamic_buffer).
TEST(dynamic_vector_buffer, constructs_over_its_container) {
  std::vector<unsigned char> v{1, 2, 3};
  senet::net::dynamic_vector_buffer<unsigned char> b(v);
  EXPECT_EQ(b.size(), 3U);
  (void)b.prepare(2);
  b.commit(1);
  EXPECT_EQ(v.size(), 4U);
}

}  // namespace
