// SPDX-License-Identifier: BSL-1.0
// A program linked with libsenet alone, as a production program is: without senet::testing there
// is no test backend, and neither io_context{backend_kind::test} nor SENET_BACKEND=test can make
// one (tests/CMakeLists.txt builds this file without senet::testing).
#include <senet/io/io_context.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/sockets.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>

namespace {

namespace io = senet::io;
using senet::ip::tcp;

// Sets SENET_BACKEND for its lifetime.
class scoped_backend_variable {
 public:
  explicit scoped_backend_variable(const char* value) {
    const char* old = std::getenv("SENET_BACKEND");
    had_ = old != nullptr;
    if (had_) {
      saved_ = old;
    }
    ::setenv("SENET_BACKEND", value, 1);
  }
  scoped_backend_variable(const scoped_backend_variable&) = delete;
  scoped_backend_variable& operator=(const scoped_backend_variable&) = delete;
  ~scoped_backend_variable() {
    if (had_) {
      ::setenv("SENET_BACKEND", saved_.c_str(), 1);
    } else {
      ::unsetenv("SENET_BACKEND");
    }
  }

 private:
  bool had_ = false;
  std::string saved_;
};

TEST(without_testing_library, test_backend_is_not_available) {
  EXPECT_FALSE(io::io_context::is_available(io::backend_kind::test));
  EXPECT_TRUE(io::io_context::is_available(io::backend_kind::epoll));
}

TEST(without_testing_library, explicit_test_backend_fails_clearly) {
  try {
    io::io_context ctx{io::backend_kind::test};
    ADD_FAILURE() << "an io_context on the test backend was created without senet::testing";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::function_not_supported);
    EXPECT_NE(std::string(e.what()).find("senet::testing"), std::string::npos) << e.what();
  }
}

TEST(without_testing_library, environment_variable_cannot_switch_to_the_test_backend) {
  scoped_backend_variable env("test");
  try {
    io::io_context ctx;
    ADD_FAILURE() << "SENET_BACKEND=test switched a program without senet::testing onto the test backend";
  } catch (const std::invalid_argument& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("SENET_BACKEND=test"), std::string::npos) << what;
    EXPECT_NE(what.find("senet::testing"), std::string::npos) << what;
  }
}

TEST(without_testing_library, other_backends_still_follow_the_environment_variable) {
  scoped_backend_variable env("epoll");
  io::io_context ctx;
  EXPECT_EQ(ctx.backend(), io::backend_kind::epoll);
}

TEST(without_testing_library, kernel_sockets_report_the_kernel_errors) {
  // The socket classes ask the test backend only after ENOTCONN; without it that error stands.
  tcp::socket s(tcp::v4());
  std::error_code ec;
  s.shutdown(tcp::socket::shutdown_both, ec);
  EXPECT_EQ(ec, std::errc::not_connected);
  (void)s.remote_endpoint(ec);
  EXPECT_EQ(ec, std::errc::not_connected);
}

}  // namespace
