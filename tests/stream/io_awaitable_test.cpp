// SPDX-License-Identifier: BSL-1.0
#include <senet/stream/io_awaitable.hpp>

#include "archetypes.hpp"

#include <gtest/gtest.h>

namespace {

namespace sa = senet::test::stream_archetypes;
using senet::stream::io_awaitable;

struct no_resume {
  bool await_ready() const noexcept { return true; }
};
struct no_ready {
  int await_resume() const noexcept { return 0; }
};

TEST(io_awaitable, accepts_an_awaiter_and_rejects_the_rest) {
  static_assert(io_awaitable<sa::ready_awaiter<sa::size_result>>);
  static_assert(io_awaitable<sa::void_awaiter>);
  static_assert(!io_awaitable<no_resume>);
  static_assert(!io_awaitable<no_ready>);
  static_assert(!io_awaitable<int>);
  SUCCEED();
}

}  // namespace
