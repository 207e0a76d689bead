// SPDX-License-Identifier: BSL-1.0
// Runs examples/echo_server_coro.cpp (the coroutine echo server) on a free port, with
// examples/echo_client_senders.cpp and raw sockets against it, then SIGTERM to the server, which
// must exit with 0. The same cases as tests/examples/echo_test.cpp for the sender server.
//
// The programs are found through the environment variable SENET_EXAMPLES_DIR (set by
// tests/CMakeLists.txt for every test), else in ../examples next to this test's executable (the
// build tree's layout). The test is skipped, saying so, when they are not built.
#include <support/example_process.hpp>
#include <support/sanitizers.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
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

class echo_server_coro : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = senet::test::examples_dir({"echo_server_coro", "echo_client_senders"});
    if (!dir_) {
      GTEST_SKIP()
          << "the example programs echo_server_coro and echo_client_senders were not found "
             "(set SENET_EXAMPLES_DIR to the folder holding them, or build with SENET_BUILD_EXAMPLES=ON)";
    }
  }

  // Starts the server on a free port and returns the port it reports.
  std::string start_server(std::optional<child>& server, const std::vector<std::string>& extra = {},
                           const fs::path& stderr_file = {}) {
    std::vector<std::string> args{"--port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    server.emplace(*dir_ / "echo_server_coro", args, true, stderr_file);
    return senet::test::port_from_line(server->read_line(10s), "listening on port ");
  }

  int run_client(const std::vector<std::string>& args) {
    return senet::test::run_to_exit(*dir_ / "echo_client_senders", args);
  }

  void stop_server(std::optional<child>& server) { senet::test::stop_with_sigterm(*server); }

  void out_of_descriptors(const std::vector<std::string>& extra);

  std::optional<fs::path> dir_;
};

TEST_F(echo_server_coro, many_connections_small_messages) {
  std::optional<child> server;
  std::string port = start_server(server);
  ASSERT_FALSE(port.empty());
  EXPECT_EQ(run_client({"--port", port, "--connections", "16", "--messages", "100", "--size", "64"}), 0);
  stop_server(server);
}

TEST_F(echo_server_coro, large_messages) {
  std::optional<child> server;
  std::string port = start_server(server);
  ASSERT_FALSE(port.empty());
  EXPECT_EQ(run_client({"--port", port, "--connections", "2", "--messages", "2", "--size", "3000000"}), 0);
  stop_server(server);
}

TEST_F(echo_server_coro, epoll_backend_and_open_connection_at_shutdown) {
  std::optional<child> server;
  std::string port = start_server(server, {"--backend", "epoll"});
  ASSERT_FALSE(port.empty());
  EXPECT_EQ(run_client({"--port", port, "--messages", "10", "--backend", "epoll"}), 0);
  // A connection still open when the server is told to stop must not keep it from exiting.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(port)));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  stop_server(server);
  ::close(fd);
}

// The server runs out of descriptors (RLIMIT_NOFILE lowered to a few above what it has open, then
// more clients than that): accept fails with EMFILE. It must say so once, keep running, and serve
// new connections once the clients have gone.
void echo_server_coro::out_of_descriptors(const std::vector<std::string>& extra) {
#if SENET_TEST_ADDRESS_SANITIZER
  // The asan preset builds the server with UndefinedBehaviorSanitizer too, whose vptr check
  // probes memory through a pipe (sanitizer_common's IsAccessibleMemoryRange): with no descriptor
  // left it cannot make one, and it reports the next virtual call as made on an invalid object
  // and ends the process. Neither suppressions (which need /proc/self/maps opened) nor anything
  // else turns that off at run time, so this test runs in the other presets only.
  GTEST_SKIP() << "an UndefinedBehaviorSanitizer build cannot run out of descriptors (its vptr check "
                  "needs a pipe)";
#endif
  fs::path log = fs::temp_directory_path() / ("senet_coro_echo_emfile_" + std::to_string(::getpid()) + "_" +
                                              std::to_string(extra.size()) + ".log");
  std::optional<child> server;
  std::string port = start_server(server, extra, log);
  ASSERT_FALSE(port.empty());
  senet::test::check_out_of_descriptors(*server, port, log);
  if (HasFatalFailure()) {
    return;
  }
  stop_server(server);
  std::error_code ec;
  fs::remove(log, ec);
}

TEST_F(echo_server_coro, keeps_serving_after_running_out_of_descriptors) {
  out_of_descriptors({});
}

TEST_F(echo_server_coro, keeps_serving_after_running_out_of_descriptors_epoll) {
  out_of_descriptors({"--backend", "epoll"});
}

TEST_F(echo_server_coro, open_sessions_end_at_shutdown) {
  std::optional<child> server;
  std::string port = start_server(server);
  ASSERT_FALSE(port.empty());
  std::vector<int> clients;
  for (int i = 0; i < 8; ++i) {
    int fd = connect_loopback(port);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    clients.push_back(fd);
    EXPECT_EQ(echo_once(fd, "session " + std::to_string(i), 10s), "session " + std::to_string(i));
  }
  // Eight sessions wait in read_some: the stop must end each of them, and the server must exit.
  stop_server(server);
  for (int fd : clients) {
    char byte;
    pollfd pfd{fd, POLLIN, 0};
    ASSERT_EQ(::poll(&pfd, 1, 10000), 1) << "the connection was not closed";
    EXPECT_LE(::recv(fd, &byte, 1, 0), 0);  // end of stream (or reset)
    ::close(fd);
  }
}

TEST_F(echo_server_coro, bad_arguments_are_refused) {
  std::optional<child> server;
  server.emplace(*dir_ / "echo_server_coro", std::vector<std::string>{"--port", "70000"}, true);
  auto status = server->wait(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 2);
}

}  // namespace
