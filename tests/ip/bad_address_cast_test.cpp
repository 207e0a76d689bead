// SPDX-License-Identifier: BSL-1.0
#include <senet/ip/bad_address_cast.hpp>

#include <gtest/gtest.h>

#include <string>
#include <typeinfo>

TEST(bad_address_cast, is_a_bad_cast_with_a_message) {
  try {
    throw senet::ip::bad_address_cast();
  } catch (const std::bad_cast& e) {
    EXPECT_EQ(std::string("bad address cast"), e.what());
    return;
  }
  FAIL() << "not caught as std::bad_cast";
}
