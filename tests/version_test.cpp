// SPDX-License-Identifier: BSL-1.0
#include <senet/version.hpp>

#include <gtest/gtest.h>

#include <string>

TEST(version, matches_config) {
  std::string expected = std::to_string(SENET_VERSION_MAJOR) + "." + std::to_string(SENET_VERSION_MINOR) + "." +
                         std::to_string(SENET_VERSION_PATCH);
  EXPECT_EQ(expected, senet::version());
}
