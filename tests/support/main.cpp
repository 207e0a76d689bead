// SPDX-License-Identifier: BSL-1.0
// The main() of every senet test executable.
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
