// SPDX-License-Identifier: BSL-1.0
// The main() of every senet test executable. Every test runs under a deadline_guard of
// senet::test::test_limit (support/deadline.hpp): a test that hangs anywhere fails with its name
// instead of running into ctest's timeout. A child process started by senet::test::run_child
// (support/child_process.hpp) runs its function and nothing else.
#include <support/child_process.hpp>
#include <support/deadline.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace {

class test_deadline : public ::testing::EmptyTestEventListener {
 public:
  void OnTestStart(::testing::TestInfo const& info) override {
    name_ = std::string("the test ") + info.test_suite_name() + "." + info.name();
    guard_.emplace(name_.c_str(), nullptr, senet::test::test_limit);
  }
  void OnTestEnd(::testing::TestInfo const&) override { guard_.reset(); }

 private:
  std::string name_;
  std::optional<senet::test::deadline_guard> guard_;
};

}  // namespace

int main(int argc, char** argv) {
  // A child process of a test (support/child_process.hpp): its function only.
  if (int code = 0; senet::test::run_child_if_asked(argc, argv, code)) {
    return code;
  }
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::UnitTest::GetInstance()->listeners().Append(new test_deadline);
  return RUN_ALL_TESTS();
}
