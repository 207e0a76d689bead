// SPDX-License-Identifier: BSL-1.0
#include <senet/net/dynamic_string_buffer.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

// The header is self-contained, and the class works alone (dynamic_buffer_test.cpp tests the
// members through net::dynamic_buffer).
TEST(dynamic_string_buffer, constructs_over_its_container) {
  std::string s = "xy";
  senet::net::dynamic_string_buffer<char> b(s, 10);
  EXPECT_EQ(b.size(), 2U);
  EXPECT_EQ(b.max_size(), 10U);
  b.consume(1);
  EXPECT_EQ(s, "y");
}

}  // namespace
