// SPDX-License-Identifier: BSL-1.0
// Runs examples/echo_server_reuseport.cpp (one io_context per thread, all on one port through
// SO_REUSEPORT) against examples/echo_client_senders.cpp: it must serve every connection, exit by
// itself with 0 after --exit-after connections and on SIGTERM, and keep serving when accept fails
// with EMFILE (its descriptor limit lowered in the child process only).
//
// The programs are found through SENET_EXAMPLES_DIR (set by tests/CMakeLists.txt), else in
// ../examples next to this test's executable; the tests are skipped, saying so, when they are not
// built.
#include <support/example_process.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A child process whose stdout and stderr go to one pipe the test reads; `max_fds` > 0 lowers its
// RLIMIT_NOFILE (in the child only). Killed (SIGKILL) and reaped by the destructor if still running.
class child {
 public:
  child(const fs::path& program, std::vector<std::string> args, rlim_t max_fds = 0) {
    std::string prog = program.string();
    std::vector<char*> argv{prog.data()};
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    int fds[2] = {-1, -1};
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2 failed";
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      // In the child: only async-signal-safe calls until exec.
      ::dup2(fds[1], STDOUT_FILENO);
      ::dup2(fds[1], STDERR_FILENO);
      if (max_fds > 0) {
        rlimit limit{max_fds, max_fds};
        ::setrlimit(RLIMIT_NOFILE, &limit);
      }
      ::execv(prog.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
    if (pid_ < 0) {
      ADD_FAILURE() << "fork failed";
    }
  }
  child(const child&) = delete;
  child& operator=(const child&) = delete;
  ~child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) {
      ::close(out_);
    }
  }

  // Reads output until a whole line arrives or `timeout` passes.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto pos = output_.find('\n', consumed_); pos != std::string::npos) {
        std::string line = output_.substr(consumed_, pos - consumed_);
        consumed_ = pos + 1;
        return line;
      }
      if (!read_some(deadline)) {
        return std::nullopt;
      }
    }
  }

  // Waits at most `timeout` for the exit status, reading the output meanwhile (so that a full
  // pipe cannot block the child); nullopt if it is still running.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        while (read_some(std::chrono::steady_clock::now() + 1s)) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return std::nullopt;
      }
      read_some(std::chrono::steady_clock::now() + 10ms);
    }
    return std::nullopt;
  }

  void signal(int sig) {
    if (pid_ > 0) {
      ::kill(pid_, sig);
    }
  }

  // Everything the child wrote so far.
  [[nodiscard]] const std::string& output() const noexcept { return output_; }

 private:
  // Reads what is there (waiting until `deadline`); false at end of output or timeout.
  bool read_some(std::chrono::steady_clock::time_point deadline) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd pfd{out_, POLLIN, 0};
    if (left.count() < 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
      return false;
    }
    char chunk[512];
    ssize_t n = ::read(out_, chunk, sizeof(chunk));
    if (n <= 0) {
      return false;
    }
    output_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string output_;
  std::size_t consumed_ = 0;
};

class echo_server_reuseport : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = senet::test::examples_dir({"echo_server_reuseport", "echo_client_senders"});
    if (!dir_) {
      GTEST_SKIP()
          << "the example programs echo_server_reuseport and echo_client_senders were not found "
             "(set SENET_EXAMPLES_DIR to the folder holding them, or build with SENET_BUILD_EXAMPLES=ON)";
    }
  }

  // Starts the server and returns the port it reports.
  std::string start_server(std::optional<child>& server, std::vector<std::string> args, rlim_t max_fds = 0) {
    args.insert(args.begin(), {"--port", "0"});
    server.emplace(*dir_ / "echo_server_reuseport", std::move(args), max_fds);
    return senet::test::port_from_line(server->read_line(10s), "listening on port ", server->output());
  }

  int run_client(const std::string& port, const std::string& connections, const std::string& messages) {
    child client(*dir_ / "echo_client_senders",
                 {"--port", port, "--connections", connections, "--messages", messages, "--size", "100"});
    auto status = client.wait(60s);
    EXPECT_TRUE(status.has_value()) << "the client did not finish within 60 s";
    EXPECT_EQ(status.value_or(-1), 0) << client.output();
    return status.value_or(-1);
  }

  std::optional<fs::path> dir_;
};

// echo_client_senders first makes one probe connection to find the server, then its connections:
// a client of C connections is C + 1 for --exit-after.

TEST_F(echo_server_reuseport, serves_every_connection_and_exits_after_the_count) {
  std::optional<child> server;
  std::string port = start_server(server, {"--threads", "3", "--exit-after", "33"});
  ASSERT_FALSE(port.empty());
  run_client(port, "32", "20");
  auto status = server->wait(10s);
  ASSERT_TRUE(status.has_value()) << "the server did not exit after 33 connections";
  EXPECT_EQ(*status, 0) << server->output();
  EXPECT_NE(server->output().find("33 connection(s) served by 3 thread(s)"), std::string::npos)
      << server->output();
}

TEST_F(echo_server_reuseport, exits_cleanly_on_sigterm) {
  std::optional<child> server;
  std::string port = start_server(server, {"--threads", "2"});
  ASSERT_FALSE(port.empty());
  run_client(port, "8", "10");
  server->signal(SIGTERM);
  auto status = server->wait(10s);
  ASSERT_TRUE(status.has_value()) << "the server did not exit within 10 s of SIGTERM";
  EXPECT_EQ(*status, 0) << server->output();
}

// With 24 descriptors, one thread cannot hold 24 connections at once: the test holds 24 open
// (so accept fails with EMFILE whatever the pace of the machine), waits for the server to say it
// backs off, lets them go, and the server must go on serving: 24 + a client of 16 (17 with its
// probe) = 41 connections.
TEST_F(echo_server_reuseport, keeps_serving_when_accept_fails_with_emfile) {
  std::optional<child> server;
  std::string port = start_server(server, {"--threads", "1", "--exit-after", "41"}, 24);
  ASSERT_FALSE(port.empty());
  std::vector<int> held;
  for (int i = 0; i < 24; ++i) {
    int fd = senet::test::connect_loopback(port);
    ASSERT_GE(fd, 0) << "connection " << i;
    held.push_back(fd);
  }
  bool backed_off = false;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!backed_off && std::chrono::steady_clock::now() < deadline) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto line = server->read_line(left);
    if (!line) {
      break;
    }
    backed_off = line->find("Too many open files; backing off") != std::string::npos;
  }
  for (int fd : held) {
    ::close(fd);
  }
  EXPECT_TRUE(backed_off) << "accept did not fail with EMFILE within 20 s: " << server->output();
  run_client(port, "16", "5");
  auto status = server->wait(20s);
  ASSERT_TRUE(status.has_value()) << "the server did not exit after 41 connections";
  EXPECT_EQ(*status, 0) << server->output();
  EXPECT_NE(server->output().find("41 connection(s) served"), std::string::npos) << server->output();
}

TEST_F(echo_server_reuseport, bad_arguments_are_refused) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--threads", "0"}, std::vector<std::string>{"--port", "70000"},
        std::vector<std::string>{"--exit-after", "-3"}, std::vector<std::string>{"--bogus", "1"}}) {
    child server(*dir_ / "echo_server_reuseport", args);
    auto status = server.wait(10s);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(*status, 2) << args[0] << " " << args[1];
  }
}

}  // namespace
