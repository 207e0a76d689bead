// SPDX-License-Identifier: BSL-1.0
#include <senet/io/poll_events.hpp>

#include <gtest/gtest.h>

#include <type_traits>

namespace {

using senet::io::poll_events;

TEST(poll_events, is_a_bitmask) {
  static_assert(std::is_enum_v<poll_events>);
  constexpr poll_events rw = poll_events::readable | poll_events::writable;
  static_assert((rw & poll_events::readable) == poll_events::readable);
  static_assert((rw & poll_events::error) == poll_events::none);
  static_assert((rw ^ poll_events::readable) == poll_events::writable);
  static_assert((~poll_events::none & poll_events::peer_closed) == poll_events::peer_closed);
  // ~ keeps to the six events.
  static_assert(static_cast<unsigned>(~poll_events::none) == 0x3FU);
  poll_events e = poll_events::none;
  e |= poll_events::hangup;
  e |= poll_events::error;
  e &= poll_events::error;
  EXPECT_EQ(e, poll_events::error);
  e ^= poll_events::error;
  EXPECT_EQ(e, poll_events::none);
}

TEST(poll_events, has_needs_every_event) {
  constexpr poll_events rw = poll_events::readable | poll_events::writable;
  static_assert(has(rw, poll_events::readable));
  static_assert(has(rw, rw));
  static_assert(!has(rw, poll_events::readable | poll_events::error));
  static_assert(!has(rw, poll_events::none));
  static_assert(!has(poll_events::none, poll_events::none));
}

TEST(poll_events, to_string_names_each_event) {
  EXPECT_EQ(to_string(poll_events::none), "none");
  EXPECT_EQ(to_string(poll_events::readable), "readable");
  EXPECT_EQ(to_string(poll_events::readable | poll_events::peer_closed), "readable|peer_closed");
  EXPECT_EQ(to_string(poll_events::readable | poll_events::writable | poll_events::priority |
                      poll_events::error | poll_events::hangup | poll_events::peer_closed),
            "readable|writable|priority|error|hangup|peer_closed");
  // Bits outside the six events are not named.
  EXPECT_EQ(to_string(static_cast<poll_events>(0x40U)), "none");
}

}  // namespace
