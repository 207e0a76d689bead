// SPDX-License-Identifier: BSL-1.0
#include <senet/stream/awaitable_decomposes_to.hpp>

#include "archetypes.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <system_error>
#include <utility>

namespace {

namespace sa = senet::test::stream_archetypes;
using senet::stream::awaitable_decomposes_to;

TEST(awaitable_decomposes_to, matches_exact_element_types_in_order) {
  using pair_awaiter = sa::ready_awaiter<sa::size_result>;
  static_assert(awaitable_decomposes_to<pair_awaiter, std::error_code, std::size_t>);
  static_assert(!awaitable_decomposes_to<pair_awaiter, std::size_t, std::error_code>);
  static_assert(!awaitable_decomposes_to<pair_awaiter, std::error_code>);
  static_assert(!awaitable_decomposes_to<pair_awaiter, std::error_code, std::size_t, int>);
  static_assert(!awaitable_decomposes_to<pair_awaiter, std::error_code, int>);
  static_assert(awaitable_decomposes_to<sa::ready_awaiter<sa::ec_result>, std::error_code>);
  static_assert(awaitable_decomposes_to<sa::ready_awaiter<std::pair<std::error_code, std::size_t>>,
                                        std::error_code, std::size_t>);
  // Not tuple-like: no decomposition is promised.
  static_assert(!awaitable_decomposes_to<sa::ready_awaiter<std::size_t>, std::size_t>);
  static_assert(!awaitable_decomposes_to<sa::void_awaiter>);
  SUCCEED();
}

}  // namespace
