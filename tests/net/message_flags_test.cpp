// SPDX-License-Identifier: BSL-1.0
#include <senet/net/message_flags.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>

namespace {

using senet::net::message_flags;

TEST(message_flags, values_are_the_posix_flags) {
  static_assert(static_cast<int>(message_flags{}) == 0);
  static_assert(static_cast<int>(message_flags::none) == 0);
  static_assert(static_cast<int>(message_flags::peek) == MSG_PEEK);
  static_assert(static_cast<int>(message_flags::out_of_band) == MSG_OOB);
  static_assert(static_cast<int>(message_flags::do_not_route) == MSG_DONTROUTE);
  static_assert(static_cast<int>(message_flags::truncate) == MSG_TRUNC);
  static_assert(static_cast<int>(message_flags::more) == MSG_MORE);
  SUCCEED();
}

TEST(message_flags, is_a_bitmask_type) {
  constexpr message_flags both = message_flags::peek | message_flags::out_of_band;
  static_assert(static_cast<int>(both) == (MSG_PEEK | MSG_OOB));
  static_assert((both & message_flags::peek) == message_flags::peek);
  static_assert((both ^ message_flags::peek) == message_flags::out_of_band);
  static_assert((~message_flags::none & message_flags::peek) == message_flags::peek);
  message_flags f = message_flags::peek;
  f |= message_flags::more;
  EXPECT_EQ(static_cast<int>(f), MSG_PEEK | MSG_MORE);
  f &= message_flags::more;
  EXPECT_EQ(f, message_flags::more);
  f ^= message_flags::more;
  EXPECT_EQ(f, message_flags{});
}

}  // namespace
