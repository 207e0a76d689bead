// SPDX-License-Identifier: BSL-1.0
#include <senet/stream/write_stream.hpp>

#include "archetypes.hpp"

#include <gtest/gtest.h>

namespace {

namespace sa = senet::test::stream_archetypes;
using senet::stream::write_stream;

TEST(write_stream, requires_write_some_for_every_buffer_sequence) {
  static_assert(write_stream<sa::writer>);
  static_assert(write_stream<sa::sink>);  // every sink is a stream
  static_assert(!write_stream<sa::writer_single_buffer_only>);
  static_assert(!write_stream<sa::reader>);
  SUCCEED();
}

}  // namespace
