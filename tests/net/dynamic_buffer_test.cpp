// SPDX-License-Identifier: BSL-1.0
#include <senet/net/dynamic_buffer.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace {

namespace net = senet::net;

static_assert(std::is_same_v<decltype(net::dynamic_buffer(std::declval<std::string&>())),
                             net::dynamic_string_buffer<char, std::char_traits<char>, std::allocator<char>>>);
static_assert(std::is_same_v<decltype(net::dynamic_buffer(std::declval<std::vector<unsigned char>&>(), 4)),
                             net::dynamic_vector_buffer<unsigned char, std::allocator<unsigned char>>>);

TEST(dynamic_buffer, string_prepare_commit_consume) {
  std::string s = "ab";
  auto b = net::dynamic_buffer(s);
  EXPECT_EQ(b.size(), 2U);
  EXPECT_EQ(b.data().size(), 2U);
  senet::mutable_buffer m = b.prepare(5);
  EXPECT_EQ(m.size(), 5U);
  std::memcpy(m.data(), "cdefg", 5);
  EXPECT_EQ(b.size(), 2U) << "prepared bytes are not readable yet";
  b.commit(3);  // "cde"; "fg" dropped
  EXPECT_EQ(b.size(), 5U);
  EXPECT_EQ(s, "abcde");
  b.commit(10);  // nothing prepared: no change
  EXPECT_EQ(s, "abcde");
  b.consume(2);
  EXPECT_EQ(s, "cde");
  EXPECT_EQ(b.size(), 3U);
  EXPECT_EQ(std::string(static_cast<const char*>(b.data().data()), b.data().size()), "cde");
  b.consume(100);
  EXPECT_EQ(b.size(), 0U);
  EXPECT_TRUE(s.empty());
}

TEST(dynamic_buffer, max_size_limits_prepare) {
  std::string s = "abc";
  auto b = net::dynamic_buffer(s, 5);
  EXPECT_EQ(b.max_size(), 5U);
  EXPECT_LE(b.capacity(), 5U);
  EXPECT_THROW((void)b.prepare(3), std::length_error);
  EXPECT_EQ(s, "abc") << "a refused prepare changes nothing";
  EXPECT_EQ(b.prepare(2).size(), 2U);
  b.commit(2);
  EXPECT_EQ(b.size(), 5U);
  EXPECT_THROW((void)b.prepare(1), std::length_error);
  EXPECT_EQ(b.prepare(0).size(), 0U);
}

TEST(dynamic_buffer, vector_of_bytes) {
  std::vector<std::byte> v;
  auto b = net::dynamic_buffer(v);
  senet::mutable_buffer m = b.prepare(4);
  std::memcpy(m.data(), "wxyz", 4);
  b.commit(4);
  ASSERT_EQ(v.size(), 4U);
  EXPECT_EQ(v[3], std::byte{'z'});
  b.consume(1);
  EXPECT_EQ(v.size(), 3U);
  EXPECT_EQ(v[0], std::byte{'x'});
  EXPECT_GE(b.capacity(), 3U);
}

TEST(dynamic_buffer, copies_refer_to_the_same_container) {
  std::string s;
  auto a = net::dynamic_buffer(s);
  auto b = a;
  (void)b.prepare(2);
  b.commit(2);
  EXPECT_EQ(s.size(), 2U);
  EXPECT_EQ(a.size(), 0U) << "each buffer object keeps its own count, as Asio's v1 buffers";
  EXPECT_EQ(net::dynamic_buffer(s).size(), 2U);
}

}  // namespace
