// SPDX-License-Identifier: BSL-1.0
#include <senet/stream/write_sink.hpp>

#include "archetypes.hpp"

#include <gtest/gtest.h>

namespace {

namespace sa = senet::test::stream_archetypes;
using senet::stream::write_sink;

TEST(write_sink, refines_write_stream_with_write_and_both_write_eofs) {
  static_assert(write_sink<sa::sink>);
  static_assert(!write_sink<sa::writer>);                      // a stream is not a sink
  static_assert(!write_sink<sa::sink_without_bare_eof>);       // write_eof() is required
  static_assert(!write_sink<sa::sink_with_wrong_eof_result>);  // write_eof() gives (error_code)
  SUCCEED();
}

}  // namespace
