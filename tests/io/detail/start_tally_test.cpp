// SPDX-License-Identifier: BSL-1.0
// descriptor::on_its_way (io/detail/descriptor.hpp): the count of starts handed to a loop, which
// sticks at its 16-bit limit until a release settles it.
#include <senet/io/detail/descriptor.hpp>

#include <gtest/gtest.h>

#include <cstdint>

namespace {

using senet::io::detail::descriptor;
using senet::io::detail::start_tally;

TEST(start_tally, counts_starts_handed_over_and_taken) {
  start_tally t;
  EXPECT_EQ(t.count(), 0U);
  t.add();
  t.add();
  t.add();
  EXPECT_EQ(t.count(), 3U);
  t.remove();
  EXPECT_EQ(t.count(), 2U);
  // A release found one still on its way (the other's trampoline gives its own back).
  t.settle(1);
  EXPECT_EQ(t.count(), 1U);
  t.remove();
  EXPECT_EQ(t.count(), 0U);
  t.settle(0);
  EXPECT_EQ(t.count(), 0U);
}

TEST(start_tally, sticks_at_its_limit_until_a_release_settles_it) {
  start_tally t;
  for (std::uint32_t i = 0; i < start_tally::saturated; ++i) {
    t.add();
  }
  EXPECT_EQ(t.count(), start_tally::saturated);
  // Past the limit: neither more starts nor trampolines that finish change it (the count no
  // longer knows how many are on their way), so every release goes to the loop...
  t.add();
  EXPECT_EQ(t.count(), start_tally::saturated);
  t.remove();
  t.remove(7);
  EXPECT_EQ(t.count(), start_tally::saturated);
  // ...which marks every start still on its way and leaves none.
  t.settle(5);
  EXPECT_EQ(t.count(), 0U);
  t.add();
  EXPECT_EQ(t.count(), 1U);
}

TEST(start_tally, a_descriptor_moves_with_its_count_and_stays_within_32_bytes) {
  descriptor d;
  d.on_its_way.add();
  descriptor copy = d;
  EXPECT_EQ(copy.on_its_way.count(), 1U);
  copy = descriptor{};
  EXPECT_EQ(copy.on_its_way.count(), 0U);
  // The count takes what was padding: a socket is no larger for it than the pointer it needs.
  EXPECT_LE(sizeof(descriptor), 32U);
}

}  // namespace
