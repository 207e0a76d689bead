// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_EXAMPLE_PROCESS_HPP
#define SENET_TEST_SUPPORT_EXAMPLE_PROCESS_HPP

/* The harness of the tests that run the example programs (tests/examples/): finding the programs,
   running one as a child process and reading the port it reports, raw loopback connections to it,
   bounded waits, and the out-of-descriptors check the echo servers share.

   The programs are found through the environment variable SENET_EXAMPLES_DIR (set by
   tests/CMakeLists.txt for every test), else in ../examples next to the test's executable (the
   build tree's layout). */

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
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace senet::test {

// The folder holding every one of `programs` (SENET_EXAMPLES_DIR, else ../examples next to this
// executable), or nullopt.
inline std::optional<std::filesystem::path> examples_dir(std::initializer_list<const char*> programs) {
  namespace fs = std::filesystem;
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
    if (std::all_of(programs.begin(), programs.end(), [&](const char* p) { return fs::exists(dir / p); })) {
      return dir;
    }
  }
  return std::nullopt;
}

// The port in `line` ("<prefix><port>", e.g. "listening on port 40123"), with a test failure
// (naming `detail` when not empty) and "" when there is no line or it does not start so.
inline std::string port_from_line(const std::optional<std::string>& line, const std::string& prefix,
                                  const std::string& detail = {}) {
  EXPECT_TRUE(line.has_value()) << "the server did not report its port" << (detail.empty() ? "" : ": ")
                                << detail;
  if (!line) {
    return {};
  }
  EXPECT_EQ(line->rfind(prefix, 0), 0U) << *line;
  return line->substr(prefix.size());
}

// A TCP connection to 127.0.0.1:port, or -1.
inline int connect_loopback(const std::string& port) {
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
inline std::string echo_once(int fd, const std::string& text, std::chrono::milliseconds timeout) {
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

// The whole content of the file at `path` ("" if unreadable).
inline std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// How many times `what` occurs (without overlap) in `text`.
inline std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + what.size())) {
    ++n;
  }
  return n;
}

// The RLIMIT_NOFILE that leaves process `pid` exactly `spare` descriptors to open: descriptors are
// numbered lowest-free first, and it may have holes (inherited descriptors); -1 if unreadable.
inline int limit_leaving(pid_t pid, int spare) {
  namespace fs = std::filesystem;
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

// A child process started with posix_spawn, killed (SIGKILL) and reaped by the destructor if
// still running.
class example_process {
 public:
  // `capture_stdout`: stdout goes to a pipe that read_line reads. `stderr_file`, when not empty,
  // receives the child's stderr. `env`, when not empty, is added to this process's environment
  // for the child ("NAME=value").
  example_process(const std::filesystem::path& program, const std::vector<std::string>& args,
                  bool capture_stdout, const std::filesystem::path& stderr_file = {},
                  const std::vector<std::string>& env = {}) {
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
  example_process(const example_process&) = delete;
  example_process& operator=(const example_process&) = delete;
  ~example_process() {
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
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling another process; bounded
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

// Runs `program` (a client) to its end, at most 60 s, and returns its exit status (-1, with a
// test failure, if it did not finish).
inline int run_to_exit(const std::filesystem::path& program, const std::vector<std::string>& args,
                       const std::vector<std::string>& env = {}) {
  using namespace std::chrono_literals;
  example_process client(program, args, false, {}, env);
  auto status = client.wait(60s);
  EXPECT_TRUE(status.has_value()) << "the client did not finish within 60 s";
  return status.value_or(-1);
}

// Sends SIGTERM to `server`, which must exit with 0 within 10 s.
inline void stop_with_sigterm(example_process& server) {
  using namespace std::chrono_literals;
  server.signal(SIGTERM);
  auto status = server.wait(10s);
  ASSERT_TRUE(status.has_value()) << "the server did not exit within 10 s of SIGTERM";
  EXPECT_EQ(*status, 0);
}

// The out-of-descriptors check of the echo servers, on `server` (started with its stderr in
// `log`, listening on `port`): RLIMIT_NOFILE lowered to a few above what it has open, then more
// clients than that, so that accept fails with EMFILE. It must say so once per burst, keep
// running, and serve new connections once the clients have gone. The caller stops the server
// afterwards unless this failed fatally (::testing::Test::HasFatalFailure()).
inline void check_out_of_descriptors(example_process& server, const std::string& port,
                                     const std::filesystem::path& log) {
  using namespace std::chrono_literals;
  constexpr int spare = 4;  // descriptors left for accepted connections
  int limit = limit_leaving(server.pid(), spare);
  ASSERT_GT(limit, 0);
  rlimit lim{};
  ASSERT_EQ(::prlimit(server.pid(), RLIMIT_NOFILE, nullptr, &lim), 0);
  rlimit low = lim;
  low.rlim_cur = static_cast<rlim_t>(limit);
  ASSERT_EQ(::prlimit(server.pid(), RLIMIT_NOFILE, &low, nullptr), 0) << std::strerror(errno);

  // More clients than the server has descriptors for; the rest wait in its listen backlog.
  std::vector<int> clients;
  for (int i = 0; i < 3 * spare; ++i) {
    int fd = connect_loopback(port);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    clients.push_back(fd);
  }
  // The first connections are served meanwhile.
  EXPECT_EQ(echo_once(clients.front(), "first", 10s), "first");
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (file_text(log).find("Too many open files") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);  // polling a file another process writes; bounded
  }
  std::string text = file_text(log);
  ASSERT_NE(text.find("Too many open files"), std::string::npos) << "the server never ran out: " << text;
  EXPECT_FALSE(server.wait(0ms).has_value()) << "the server exited: " << text;

  for (int fd : clients) {
    ::close(fd);
  }
  // The server accepts (and ends) the closed connections from its backlog, then this one.
  int fresh = connect_loopback(port);
  ASSERT_GE(fresh, 0);
  EXPECT_EQ(echo_once(fresh, "served again", 20s), "served again");
  ::close(fresh);

  text = file_text(log);
  EXPECT_NE(text.find("accepting again"), std::string::npos) << text;
  // Once per burst, not once per retry: the backlog of 3 * spare connections makes at most a few bursts.
  EXPECT_LE(occurrences(text, "Too many open files"), static_cast<std::size_t>(3 * spare)) << text;
  EXPECT_EQ(occurrences(text, "Too many open files"), occurrences(text, "accepting again")) << text;
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_EXAMPLE_PROCESS_HPP
