// SPDX-License-Identifier: BSL-1.0
// Runs examples/c_echo.c (the C API's echo server and client, one program) against itself: the
// server on a free port, clients against it, then SIGTERM to the server, which must exit with 0.
// Also: the epoll backend (SENET_BACKEND=epoll), --exit-after, running out of descriptors, bad
// arguments, no server.
//
// The program is found through the environment variable SENET_EXAMPLES_DIR (set by
// tests/CMakeLists.txt for every test), else in ../examples next to this test's executable (the
// build tree's layout). The test is skipped, saying so, when it is not built.
#include <support/example_process.hpp>
#include <support/sanitizers.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using senet::test::connect_loopback;
using senet::test::echo_once;
using child = senet::test::example_process;

using namespace std::chrono_literals;

class c_echo_example : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = senet::test::examples_dir({"c_echo"});
    if (!dir_) {
      GTEST_SKIP() << "the example program c_echo was not found (set SENET_EXAMPLES_DIR to the folder "
                      "holding it, or build with SENET_BUILD_EXAMPLES=ON)";
    }
  }

  // Starts the server on a free port and returns the port it reports.
  std::string start_server(std::optional<child>& server, const std::vector<std::string>& extra = {},
                           const fs::path& stderr_file = {}, const std::vector<std::string>& env = {}) {
    std::vector<std::string> args{"server", "--port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    server.emplace(*dir_ / "c_echo", args, true, stderr_file, env);
    return senet::test::port_from_line(server->read_line(10s), "listening on port ");
  }

  int run_client(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    std::vector<std::string> all{"client"};
    all.insert(all.end(), args.begin(), args.end());
    return senet::test::run_to_exit(*dir_ / "c_echo", all, env);
  }

  void stop_server(std::optional<child>& server) { senet::test::stop_with_sigterm(*server); }

  std::optional<fs::path> dir_;
};

TEST_F(c_echo_example, many_connections_small_messages) {
  std::optional<child> server;
  std::string port = start_server(server);
  ASSERT_FALSE(port.empty());
  EXPECT_EQ(run_client({"--port", port, "--connections", "16", "--messages", "100", "--size", "64"}), 0);
  stop_server(server);
}

TEST_F(c_echo_example, large_messages) {
  std::optional<child> server;
  std::string port = start_server(server);
  ASSERT_FALSE(port.empty());
  EXPECT_EQ(run_client({"--port", port, "--connections", "2", "--messages", "2", "--size", "3000000"}), 0);
  stop_server(server);
}

TEST_F(c_echo_example, epoll_backend_and_open_connection_at_shutdown) {
  std::optional<child> server;
  std::string port = start_server(server, {}, {}, {"SENET_BACKEND=epoll"});
  ASSERT_FALSE(port.empty());
  EXPECT_EQ(run_client({"--port", port, "--connections", "4", "--messages", "10"}, {"SENET_BACKEND=epoll"}),
            0);
  // A connection still open (and one in the middle of a message) when the server is told to stop
  // must not keep it from exiting.
  int idle = connect_loopback(port);
  ASSERT_GE(idle, 0);
  int busy = connect_loopback(port);
  ASSERT_GE(busy, 0);
  EXPECT_EQ(echo_once(busy, "ping", 10s), "ping");
  stop_server(server);
  ::close(idle);
  ::close(busy);
}

TEST_F(c_echo_example, exit_after_serving_n_connections) {
  std::optional<child> server;
  std::string port = start_server(server, {"--exit-after", "3"});
  ASSERT_FALSE(port.empty());
  EXPECT_EQ(run_client({"--port", port, "--connections", "3", "--messages", "5"}), 0);
  auto status = server->wait(10s);
  ASSERT_TRUE(status.has_value()) << "the server did not exit within 10 s of its third connection's end";
  EXPECT_EQ(*status, 0);
}

// The server runs out of descriptors (RLIMIT_NOFILE lowered to a few above what it has open, then
// more clients than that): accept fails with EMFILE. It must say so once, keep running, and serve
// new connections once the clients have gone.
TEST_F(c_echo_example, keeps_serving_after_running_out_of_descriptors) {
#if SENET_TEST_ADDRESS_SANITIZER
  // As in tests/examples/echo_test.cpp: an UndefinedBehaviorSanitizer build (the asan preset) needs
  // a pipe for its vptr check, which a process without descriptors cannot make (libsenet is C++).
  GTEST_SKIP() << "an UndefinedBehaviorSanitizer build cannot run out of descriptors (its vptr check "
                  "needs a pipe)";
#endif
  fs::path log = fs::temp_directory_path() / ("senet_c_echo_emfile_" + std::to_string(::getpid()) + ".log");
  std::optional<child> server;
  std::string port = start_server(server, {}, log);
  ASSERT_FALSE(port.empty());
  senet::test::check_out_of_descriptors(*server, port, log);
  if (HasFatalFailure()) {
    return;
  }
  stop_server(server);
  std::error_code ec;
  fs::remove(log, ec);
}

TEST_F(c_echo_example, client_fails_without_server) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string port = std::to_string(ntohs(addr.sin_port));
  ::close(fd);
  EXPECT_EQ(run_client({"--port", port, "--messages", "1"}), 1);
}

TEST_F(c_echo_example, bad_arguments_are_refused) {
  EXPECT_EQ(run_client({"--connections", "0", "--port", "1"}), 2);
  EXPECT_EQ(run_client({"--messages", "1"}), 2);  // no port
  EXPECT_EQ(run_client({"--port", "1", "--size"}), 2);
  for (const char* mode : {"server", "neither"}) {
    std::optional<child> server;
    std::vector<std::string> args{mode, "--port", "70000"};
    server.emplace(*dir_ / "c_echo", args, true);
    auto status = server->wait(10s);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(*status, 2) << mode;
  }
}

}  // namespace
