// SPDX-License-Identifier: BSL-1.0
// Runs examples/c_echo.c (the C API's echo server and client, one program) against itself: the
// server on a free port, clients against it, then SIGTERM to the server, which must exit with 0.
// Also: the epoll backend (SENET_BACKEND=epoll), --exit-after, running out of descriptors, bad
// arguments, no server.
//
// The program is found through the environment variable SENET_EXAMPLES_DIR (set by
// tests/CMakeLists.txt for every test), else in ../examples next to this test's executable (the
// build tree's layout). The test is skipped, saying so, when it is not built.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;

// A TCP connection to 127.0.0.1:port, or -1.
int connect_loopback(const std::string& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(port)));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `text` on `fd` and reads until as many bytes came back or `timeout` passed.
std::string echo_once(int fd, const std::string& text, std::chrono::milliseconds timeout) {
  if (::send(fd, text.data(), text.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(text.size())) {
    return {};
  }
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got.size() < text.size()) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd pfd{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
      break;
    }
    char chunk[256];
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      break;
    }
    got.append(chunk, static_cast<std::size_t>(n));
  }
  return got;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + what.size())) {
    ++n;
  }
  return n;
}

// The RLIMIT_NOFILE that leaves process `pid` exactly `spare` descriptors to open: descriptors are
// numbered lowest-free first, and it may have holes (inherited descriptors); -1 if unreadable.
int limit_leaving(pid_t pid, int spare) {
  std::vector<int> open;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path("/proc") / std::to_string(pid) / "fd", ec)) {
    open.push_back(std::stoi(entry.path().filename().string()));
  }
  if (ec || open.empty()) {
    return -1;
  }
  int fd = 0;
  for (int free_found = 0;; ++fd) {
    if (std::find(open.begin(), open.end(), fd) == open.end() && ++free_found == spare) {
      return fd + 1;
    }
  }
}

std::optional<fs::path> examples_dir() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("SENET_EXAMPLES_DIR"); env != nullptr && *env != '\0') {
    candidates.emplace_back(env);
  }
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(self.parent_path().parent_path() / "examples");
  }
  for (const auto& dir : candidates) {
    if (fs::exists(dir / "c_echo")) {
      return dir;
    }
  }
  return std::nullopt;
}

// A child process, killed (SIGKILL) and reaped by the destructor if still running.
class child {
 public:
  // `stderr_file`, when not empty, receives the child's stderr.
  // `env`, when not empty, is added to this process's environment for the child ("NAME=value").
  child(const fs::path& program, const std::vector<std::string>& args, bool capture_stdout,
        const fs::path& stderr_file = {}, const std::vector<std::string>& env = {}) {
    std::vector<char*> argv;
    std::string prog = program.string();
    argv.push_back(prog.data());
    std::vector<std::string> copies = args;
    for (auto& a : copies) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    int fds[2] = {-1, -1};
    if (capture_stdout) {
      EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
      posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    }
    if (!stderr_file.empty()) {
      posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_file.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0600);
    }
    std::vector<std::string> env_copies = env;
    std::vector<char*> envp;
    for (auto& e : env_copies) {
      envp.push_back(e.data());
    }
    for (char** e = environ; *e != nullptr; ++e) {
      envp.push_back(*e);
    }
    envp.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, prog.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      ADD_FAILURE() << "cannot start " << prog << ": " << rc;
    }
    if (capture_stdout) {
      ::close(fds[1]);
      out_ = fds[0];
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

  // Reads stdout until a whole line arrives or `timeout` passes.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto pos = buffer_.find('\n'); pos != std::string::npos) {
        std::string line = buffer_.substr(0, pos);
        buffer_.erase(0, pos + 1);
        return line;
      }
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return std::nullopt;
      }
      pollfd pfd{out_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
        continue;
      }
      char chunk[256];
      ssize_t n = ::read(out_, chunk, sizeof(chunk));
      if (n <= 0) {
        return std::nullopt;
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // Waits at most `timeout` for the exit status; nullopt if the process is still running.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::nullopt;
  }

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

  void signal(int sig) {
    if (pid_ > 0) {
      ::kill(pid_, sig);
    }
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffer_;
};

using namespace std::chrono_literals;

class c_echo_example : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = examples_dir();
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
    auto line = server->read_line(10s);
    EXPECT_TRUE(line.has_value()) << "the server did not report its port";
    if (!line) {
      return {};
    }
    const std::string prefix = "listening on port ";
    EXPECT_EQ(line->rfind(prefix, 0), 0U) << *line;
    return line->substr(prefix.size());
  }

  int run_client(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    std::vector<std::string> all{"client"};
    all.insert(all.end(), args.begin(), args.end());
    child client(*dir_ / "c_echo", all, false, {}, env);
    auto status = client.wait(60s);
    EXPECT_TRUE(status.has_value()) << "the client did not finish within 60 s";
    return status.value_or(-1);
  }

  void stop_server(std::optional<child>& server) {
    server->signal(SIGTERM);
    auto status = server->wait(10s);
    ASSERT_TRUE(status.has_value()) << "the server did not exit within 10 s of SIGTERM";
    EXPECT_EQ(*status, 0);
  }

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
#if defined(__SANITIZE_ADDRESS__)
  // As in tests/examples/echo_test.cpp: an UndefinedBehaviorSanitizer build (the asan preset) needs
  // a pipe for its vptr check, which a process without descriptors cannot make (libsenet is C++).
  GTEST_SKIP() << "an UndefinedBehaviorSanitizer build cannot run out of descriptors (its vptr check "
                  "needs a pipe)";
#endif
  fs::path log = fs::temp_directory_path() / ("senet_c_echo_emfile_" + std::to_string(::getpid()) + ".log");
  std::optional<child> server;
  std::string port = start_server(server, {}, log);
  ASSERT_FALSE(port.empty());
  constexpr int spare = 4;  // descriptors left for accepted connections
  int limit = limit_leaving(server->pid(), spare);
  ASSERT_GT(limit, 0);
  rlimit lim{};
  ASSERT_EQ(::prlimit(server->pid(), RLIMIT_NOFILE, nullptr, &lim), 0);
  rlimit low = lim;
  low.rlim_cur = static_cast<rlim_t>(limit);
  ASSERT_EQ(::prlimit(server->pid(), RLIMIT_NOFILE, &low, nullptr), 0) << std::strerror(errno);

  std::vector<int> clients;
  for (int i = 0; i < 3 * spare; ++i) {
    int fd = connect_loopback(port);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    clients.push_back(fd);
  }
  EXPECT_EQ(echo_once(clients.front(), "first", 10s), "first");
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (read_file(log).find("Too many open files") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);  // polling a file another process writes; bounded
  }
  std::string text = read_file(log);
  ASSERT_NE(text.find("Too many open files"), std::string::npos) << "the server never ran out: " << text;
  EXPECT_FALSE(server->wait(0ms).has_value()) << "the server exited: " << text;

  for (int fd : clients) {
    ::close(fd);
  }
  int fresh = connect_loopback(port);
  ASSERT_GE(fresh, 0);
  EXPECT_EQ(echo_once(fresh, "served again", 20s), "served again");
  ::close(fresh);

  text = read_file(log);
  EXPECT_NE(text.find("accepting again"), std::string::npos) << text;
  EXPECT_LE(count(text, "Too many open files"), static_cast<std::size_t>(3 * spare)) << text;
  EXPECT_EQ(count(text, "Too many open files"), count(text, "accepting again")) << text;
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
