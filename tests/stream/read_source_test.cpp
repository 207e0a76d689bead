// SPDX-License-Identifier: BSL-1.0
#include <senet/stream/read_source.hpp>

#include "archetypes.hpp"

#include <gtest/gtest.h>

namespace {

namespace sa = senet::test::stream_archetypes;
using senet::stream::read_source;

TEST(read_source, refines_read_stream_with_read) {
  static_assert(read_source<sa::source>);
  static_assert(!read_source<sa::reader>);  // read_some alone is a stream, not a source
  static_assert(!read_source<sa::sink>);
  SUCCEED();
}

}  // namespace
