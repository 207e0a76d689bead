// SPDX-License-Identifier: BSL-1.0
#include <senet/stream/read_stream.hpp>

#include "archetypes.hpp"

#include <gtest/gtest.h>

namespace {

namespace sa = senet::test::stream_archetypes;
using senet::stream::read_stream;

TEST(read_stream, requires_read_some_decomposing_to_error_and_size) {
  static_assert(read_stream<sa::reader>);
  static_assert(read_stream<sa::source>);
  static_assert(!read_stream<sa::reader_returning_size>);
  static_assert(!read_stream<sa::writer>);
  static_assert(!read_stream<int>);
  SUCCEED();
}

}  // namespace
