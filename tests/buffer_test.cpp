// SPDX-License-Identifier: BSL-1.0
#include <senet/buffer.hpp>

#ifndef _WIN32  // iovec_view is Linux-only (readv/writev/sendmsg's iovec): its cases are left out on Windows
#include <senet/detail/iovec_view.hpp>
#endif

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <deque>
#include <list>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using senet::const_buffer;
using senet::mutable_buffer;

// ---- the buffer types -----------------------------------------------------------------------------

static_assert(std::is_same_v<decltype(senet::buffer(std::declval<std::string&>())), mutable_buffer>);
static_assert(std::is_same_v<decltype(senet::buffer(std::declval<const std::string&>())), const_buffer>);
static_assert(std::is_convertible_v<mutable_buffer, const_buffer>);
static_assert(!std::is_convertible_v<const_buffer, mutable_buffer>);
#ifndef _WIN32  // the iovec layout is Linux-only (no iovec on Windows)
static_assert(sizeof(const_buffer) == sizeof(::iovec) && sizeof(mutable_buffer) == sizeof(::iovec));
#endif

TEST(buffer, default_is_empty) {
  mutable_buffer m;
  const_buffer c;
  EXPECT_EQ(nullptr, m.data());
  EXPECT_EQ(0u, m.size());
  EXPECT_EQ(nullptr, c.data());
  EXPECT_EQ(0u, c.size());
}

TEST(buffer, advance_and_clamp) {
  char data[10] = {};
  mutable_buffer m(data, sizeof data);
  m += 3;
  EXPECT_EQ(data + 3, m.data());
  EXPECT_EQ(7u, m.size());
  mutable_buffer m2 = m + 2;
  EXPECT_EQ(data + 5, m2.data());
  EXPECT_EQ(5u, m2.size());
  mutable_buffer m3 = 4 + m2;
  EXPECT_EQ(data + 9, m3.data());
  EXPECT_EQ(1u, m3.size());
  mutable_buffer past = m3 + 100;
  EXPECT_EQ(data + 10, past.data());
  EXPECT_EQ(0u, past.size());

  const_buffer c(data, sizeof data);
  c += 100;
  EXPECT_EQ(data + 10, c.data());
  EXPECT_EQ(0u, c.size());
  const_buffer c2 = const_buffer(data, 10) + 4;
  EXPECT_EQ(data + 4, c2.data());
  EXPECT_EQ(6u, c2.size());
  const_buffer c3 = 10 + const_buffer(data, 10);
  EXPECT_EQ(0u, c3.size());
}

TEST(buffer, mutable_converts_to_const) {
  char data[4] = {};
  mutable_buffer m(data, 4);
  const_buffer c = m;
  EXPECT_EQ(static_cast<const void*>(data), c.data());
  EXPECT_EQ(4u, c.size());
}

TEST(buffer, constexpr_usable) {
  static constexpr char data[3] = {};
  constexpr const_buffer c = senet::buffer(data);
  static_assert(c.size() == 3 && c.data() == data);
  constexpr const_buffer m = senet::buffer(c, 2);
  static_assert(m.size() == 2);
  SUCCEED();
}

// ---- buffer() overloads -----------------------------------------------------------------------------

TEST(buffer, pointer_and_size) {
  char data[8] = {};
  const char* cdata = data;
  auto m = senet::buffer(static_cast<void*>(data), 5);
  auto c = senet::buffer(static_cast<const void*>(cdata), 6);
  static_assert(std::is_same_v<decltype(m), mutable_buffer>);
  static_assert(std::is_same_v<decltype(c), const_buffer>);
  EXPECT_EQ(data, m.data());
  EXPECT_EQ(5u, m.size());
  EXPECT_EQ(cdata, c.data());
  EXPECT_EQ(6u, c.size());
}

TEST(buffer, existing_buffer) {
  char data[8] = {};
  mutable_buffer m(data, 8);
  const_buffer c(data, 8);
  EXPECT_EQ(8u, senet::buffer(m).size());
  EXPECT_EQ(3u, senet::buffer(m, 3).size());
  EXPECT_EQ(8u, senet::buffer(m, 30).size());
  EXPECT_EQ(data, senet::buffer(m, 3).data());
  static_assert(std::is_same_v<decltype(senet::buffer(m, 3)), mutable_buffer>);
  EXPECT_EQ(8u, senet::buffer(c).size());
  EXPECT_EQ(0u, senet::buffer(c, 0).size());
  EXPECT_EQ(8u, senet::buffer(c, 9).size());
  static_assert(std::is_same_v<decltype(senet::buffer(c, 3)), const_buffer>);
}

TEST(buffer, c_array) {
  std::uint32_t words[4] = {};
  const std::uint16_t halves[3] = {};
  auto m = senet::buffer(words);
  auto c = senet::buffer(halves);
  static_assert(std::is_same_v<decltype(m), mutable_buffer>);
  static_assert(std::is_same_v<decltype(c), const_buffer>);
  EXPECT_EQ(words, m.data());
  EXPECT_EQ(16u, m.size());
  EXPECT_EQ(halves, c.data());
  EXPECT_EQ(6u, c.size());
  EXPECT_EQ(5u, senet::buffer(words, 5).size());
  EXPECT_EQ(16u, senet::buffer(words, 500).size());
  EXPECT_EQ(6u, senet::buffer(halves, 6).size());
  // A string literal is a const char array: its terminating NUL is part of it.
  EXPECT_EQ(4u, senet::buffer("abc").size());
}

TEST(buffer, std_array) {
  std::array<std::uint64_t, 3> a{};
  const std::array<char, 5> ca{};
  auto m = senet::buffer(a);
  auto c = senet::buffer(ca);
  static_assert(std::is_same_v<decltype(m), mutable_buffer>);
  static_assert(std::is_same_v<decltype(c), const_buffer>);
  EXPECT_EQ(a.data(), m.data());
  EXPECT_EQ(24u, m.size());
  EXPECT_EQ(ca.data(), c.data());
  EXPECT_EQ(5u, c.size());
  EXPECT_EQ(7u, senet::buffer(a, 7).size());
  EXPECT_EQ(2u, senet::buffer(ca, 2).size());
  std::array<char, 0> empty{};
  EXPECT_EQ(0u, senet::buffer(empty).size());
}

TEST(buffer, std_vector) {
  std::vector<std::int16_t> v(10);
  const std::vector<char> cv(3);
  auto m = senet::buffer(v);
  auto c = senet::buffer(cv);
  static_assert(std::is_same_v<decltype(m), mutable_buffer>);
  static_assert(std::is_same_v<decltype(c), const_buffer>);
  EXPECT_EQ(v.data(), m.data());
  EXPECT_EQ(20u, m.size());
  EXPECT_EQ(cv.data(), c.data());
  EXPECT_EQ(3u, c.size());
  EXPECT_EQ(11u, senet::buffer(v, 11).size());
  EXPECT_EQ(3u, senet::buffer(cv, 100).size());
  std::vector<char> empty;
  empty.reserve(100);
  EXPECT_EQ(0u, senet::buffer(empty).size()) << "size, not capacity";
}

TEST(buffer, std_string_and_view) {
  std::string s = "hello";
  const std::string cs = "hi";
  std::string_view sv = "abcdef";
  std::u16string ws = u"wide";
  auto m = senet::buffer(s);
  auto c = senet::buffer(cs);
  auto v = senet::buffer(sv);
  static_assert(std::is_same_v<decltype(m), mutable_buffer>);
  static_assert(std::is_same_v<decltype(c), const_buffer>);
  static_assert(std::is_same_v<decltype(v), const_buffer>);
  EXPECT_EQ(s.data(), m.data());
  EXPECT_EQ(5u, m.size());
  EXPECT_EQ(cs.data(), c.data());
  EXPECT_EQ(2u, c.size());
  EXPECT_EQ(sv.data(), v.data());
  EXPECT_EQ(6u, v.size());
  EXPECT_EQ(8u, senet::buffer(ws).size());
  EXPECT_EQ(3u, senet::buffer(s, 3).size());
  EXPECT_EQ(2u, senet::buffer(cs, 3).size());
  EXPECT_EQ(4u, senet::buffer(sv, 4).size());
}

TEST(buffer, std_span) {
  std::array<std::uint32_t, 4> a{};
  std::span<std::uint32_t> s(a);
  std::span<const std::uint32_t, 4> cs(a);
  auto m = senet::buffer(s);
  auto c = senet::buffer(cs);
  static_assert(std::is_same_v<decltype(m), mutable_buffer>);
  static_assert(std::is_same_v<decltype(c), const_buffer>);
  EXPECT_EQ(a.data(), m.data());
  EXPECT_EQ(16u, m.size());
  EXPECT_EQ(16u, c.size());
  EXPECT_EQ(9u, senet::buffer(s, 9).size());
  EXPECT_EQ(16u, senet::buffer(cs, 90).size());
  EXPECT_EQ(0u, senet::buffer(std::span<std::byte>{}).size());
}

// ---- sequences ---------------------------------------------------------------------------------------

struct derived_buffer : mutable_buffer {
  using mutable_buffer::mutable_buffer;
};

static_assert(senet::const_buffer_sequence<const_buffer>);
static_assert(senet::const_buffer_sequence<mutable_buffer>);
static_assert(senet::mutable_buffer_sequence<mutable_buffer>);
static_assert(!senet::mutable_buffer_sequence<const_buffer>);
static_assert(senet::mutable_buffer_sequence<derived_buffer>);
static_assert(senet::const_buffer_sequence<std::vector<const_buffer>>);
static_assert(!senet::mutable_buffer_sequence<std::vector<const_buffer>>);
static_assert(senet::mutable_buffer_sequence<std::array<mutable_buffer, 2>>);
static_assert(senet::const_buffer_sequence<std::array<mutable_buffer, 2>>);
static_assert(senet::const_buffer_sequence<std::list<const_buffer>>);
static_assert(senet::const_buffer_sequence<std::span<const const_buffer>>);
static_assert(senet::mutable_buffer_sequence<mutable_buffer[3]>);
static_assert(!senet::const_buffer_sequence<std::string>);
static_assert(!senet::const_buffer_sequence<int>);
static_assert(!senet::const_buffer_sequence<std::vector<char>>);

TEST(buffer_sequence, single_buffer_begin_end) {
  char data[5] = {};
  mutable_buffer m(data, 5);
  auto b = senet::buffer_sequence_begin(m);
  auto e = senet::buffer_sequence_end(m);
  static_assert(std::is_same_v<decltype(b), const mutable_buffer*>);
  EXPECT_EQ(&m, b);
  EXPECT_EQ(1, e - b);
  const_buffer c(data, 5);
  EXPECT_EQ(&c, senet::buffer_sequence_begin(c));
  derived_buffer d(data, 2);
  EXPECT_EQ(static_cast<const mutable_buffer*>(&d), senet::buffer_sequence_begin(d));
  EXPECT_EQ(2u, senet::buffer_size(d));
}

TEST(buffer_sequence, buffer_size) {
  char data[100] = {};
  EXPECT_EQ(7u, senet::buffer_size(mutable_buffer(data, 7)));
  EXPECT_EQ(0u, senet::buffer_size(const_buffer()));
  std::vector<const_buffer> v{{data, 1}, {data, 0}, {data, 30}};
  EXPECT_EQ(31u, senet::buffer_size(v));
  std::list<mutable_buffer> l{{data, 5}, {data, 6}};
  EXPECT_EQ(11u, senet::buffer_size(l));
  EXPECT_EQ(0u, senet::buffer_size(std::vector<const_buffer>{}));
  auto b = senet::buffer_sequence_begin(v);
  EXPECT_EQ(v.begin(), b);
}

TEST(buffer_sequence, buffer_copy_across_boundaries) {
  std::string a = "hello", b = " ", c = "world";
  std::array<const_buffer, 3> source{senet::buffer(a), senet::buffer(b), senet::buffer(c)};
  char t1[3], t2[4], t3[20];
  std::list<mutable_buffer> target{senet::buffer(t1), mutable_buffer(), senet::buffer(t2), senet::buffer(t3)};
  EXPECT_EQ(11u, senet::buffer_copy(target, source));
  EXPECT_EQ("hel", std::string(t1, 3));
  EXPECT_EQ("lo w", std::string(t2, 4));
  EXPECT_EQ("orld", std::string(t3, 4));
}

TEST(buffer_sequence, buffer_copy_limits) {
  std::string src = "0123456789";
  char small[4] = {};
  EXPECT_EQ(4u, senet::buffer_copy(senet::buffer(small), senet::buffer(src)));
  EXPECT_EQ("0123", std::string(small, 4));
  char big[20] = {};
  EXPECT_EQ(10u, senet::buffer_copy(senet::buffer(big), senet::buffer(src)));
  EXPECT_EQ(src, std::string(big, 10));
  char limited[20] = {};
  EXPECT_EQ(6u, senet::buffer_copy(senet::buffer(limited), senet::buffer(src), 6));
  EXPECT_EQ("012345", std::string(limited, 6));
  EXPECT_EQ('\0', limited[6]);
  EXPECT_EQ(0u, senet::buffer_copy(senet::buffer(limited), senet::buffer(src), 0));
  EXPECT_EQ(0u, senet::buffer_copy(mutable_buffer(), senet::buffer(src)));
  EXPECT_EQ(0u, senet::buffer_copy(senet::buffer(limited), std::vector<const_buffer>{}));
}

// ---- iovec_view ------------------------------------------------------------------------------------
// Linux-only (iovec, for readv/writev/sendmsg): left out on Windows, which has no iovec.
#ifndef _WIN32

using senet::detail::iovec_view;

TEST(iovec_view, single_buffer_uses_inline_entry) {
  char data[9] = {};
  mutable_buffer m(data, 9);
  iovec_view<> view(m);
  EXPECT_FALSE(view.error());
  EXPECT_FALSE(view.in_place());
  ASSERT_EQ(1u, view.size());
  EXPECT_EQ(data, view.data()[0].iov_base);
  EXPECT_EQ(9u, view.data()[0].iov_len);
  EXPECT_EQ(9u, view.bytes());
  // A copy of an inline view refers to its own storage, not to the original's.
  iovec_view<> copy = view;
  EXPECT_NE(view.data(), copy.data());
  EXPECT_EQ(data, copy.data()[0].iov_base);
}

TEST(iovec_view, contiguous_ranges_are_used_in_place) {
  char data[10] = {};
  std::vector<const_buffer> v{{data, 1}, {data + 1, 0}, {data + 2, 8}};
  iovec_view<2> view(v);  // in place: the inline capacity does not limit it
  EXPECT_FALSE(view.error());
  EXPECT_TRUE(view.in_place());
  EXPECT_EQ(static_cast<const void*>(v.data()), static_cast<const void*>(view.data()));
  ASSERT_EQ(3u, view.size());
  EXPECT_EQ(9u, view.bytes());
  EXPECT_EQ(data + 2, view.data()[2].iov_base);
  EXPECT_EQ(8u, view.data()[2].iov_len);

  std::array<mutable_buffer, 2> a{mutable_buffer(data, 3), mutable_buffer(data + 3, 4)};
  iovec_view<> av(a);
  EXPECT_TRUE(av.in_place());
  EXPECT_EQ(static_cast<const void*>(a.data()), static_cast<const void*>(av.data()));
  EXPECT_EQ(7u, av.bytes());

  const_buffer c_array[2] = {{data, 1}, {data, 2}};
  iovec_view<> cv(c_array);
  EXPECT_TRUE(cv.in_place());
  EXPECT_EQ(static_cast<const void*>(c_array), static_cast<const void*>(cv.data()));

  std::span<const const_buffer> s(v);
  iovec_view<> sv(s);
  EXPECT_TRUE(sv.in_place());
  EXPECT_EQ(static_cast<const void*>(v.data()), static_cast<const void*>(sv.data()));

  std::vector<const_buffer> none;
  iovec_view<> nv(none);
  EXPECT_FALSE(nv.error());
  EXPECT_EQ(0u, nv.size());
  EXPECT_EQ(0u, nv.bytes());
}

TEST(iovec_view, other_ranges_are_copied) {
  char data[10] = {};
  std::list<const_buffer> l{{data, 1}, {data + 1, 2}, {data + 3, 0}};
  iovec_view<4> view(l);
  EXPECT_FALSE(view.error());
  EXPECT_FALSE(view.in_place());
  ASSERT_EQ(3u, view.size());
  EXPECT_EQ(data + 1, view.data()[1].iov_base);
  EXPECT_EQ(2u, view.data()[1].iov_len);
  EXPECT_EQ(0u, view.data()[2].iov_len) << "zero-size buffers are kept";
  EXPECT_EQ(3u, view.bytes());

  // A contiguous range of a type merely derived from a buffer is copied, not used in place.
  std::vector<derived_buffer> d{derived_buffer(data, 4)};
  iovec_view<> dv(d);
  EXPECT_FALSE(dv.in_place());
  ASSERT_EQ(1u, dv.size());
  EXPECT_EQ(4u, dv.data()[0].iov_len);

  std::deque<mutable_buffer> exactly(4, mutable_buffer(data, 1));
  iovec_view<4> full(exactly);
  EXPECT_FALSE(full.error());
  EXPECT_EQ(4u, full.size());
}

TEST(iovec_view, too_long_copied_sequence_is_an_error) {
  char data[1] = {};
  std::list<const_buffer> l(17, const_buffer(data, 1));
  iovec_view<16> view(l);
  EXPECT_EQ(std::errc::argument_list_too_long, view.error());
  EXPECT_EQ(0u, view.size()) << "never a silent truncation";
  EXPECT_EQ(0u, view.bytes());

  // assign() reports the same, and a later successful assign clears the error.
  iovec_view<16> again;
  EXPECT_EQ(std::errc::argument_list_too_long, again.assign(l));
  l.pop_back();
  EXPECT_FALSE(again.assign(l));
  EXPECT_FALSE(again.error());
  EXPECT_EQ(16u, again.size());
}

TEST(iovec_view, too_long_in_place_sequence_is_an_error) {
  char data[1] = {};
  std::vector<const_buffer> v(senet::detail::iov_max, const_buffer(data, 1));
  iovec_view<> view(v);
  EXPECT_FALSE(view.error());
  EXPECT_EQ(senet::detail::iov_max, view.size());
  v.emplace_back(data, 1);
  EXPECT_EQ(std::errc::argument_list_too_long, view.assign(v));
  EXPECT_EQ(0u, view.size());
}

#endif  // !_WIN32

}  // namespace
