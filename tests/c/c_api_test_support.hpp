// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TESTS_C_C_API_TEST_SUPPORT_HPP
#define SENET_TESTS_C_C_API_TEST_SUPPORT_HPP

/* What the C API's integration and bad-input tests share: loopback TCP connections made with
   plain POSIX calls (as a C program makes them before handing a descriptor to
   async_socket_create), a record of callbacks with bounded waits, a raised RLIMIT_NOFILE, and the
   choice of the completion port's backend through SENET_BACKEND. Only the public C headers. */

#include <senet/c/async_socket.h>
#include <senet/c/execution_engine.h>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace capitest {

using namespace std::chrono_literals;

/** How long any single wait of these tests may take before it fails with a message. */
inline constexpr std::chrono::seconds wait_limit{20};

/** A TCP listener on 127.0.0.1, port 0 (blocking accept). */
class listener {
 public:
  listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0) << std::strerror(errno);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    EXPECT_EQ(::listen(fd_, SOMAXCONN), 0) << std::strerror(errno);
    socklen_t len = sizeof addr_;
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr_), &len), 0);
  }
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;
  ~listener() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }

  /** A connected pair {client, server} of blocking TCP descriptors, or {-1, -1}. */
  std::pair<int, int> connect_pair() const {
    int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0) {
      return {-1, -1};
    }
    if (::connect(c, reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_) != 0) {
      ::close(c);
      return {-1, -1};
    }
    int s = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (s < 0) {
      ::close(c);
      return {-1, -1};
    }
    int one = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return {c, s};
  }

  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] const sockaddr_in& address() const noexcept { return addr_; }

 private:
  int fd_ = -1;
  sockaddr_in addr_{};
};

/** Reads exactly `n` bytes from blocking descriptor `fd`, waiting at most `limit` for each chunk;
    fewer on EOF, error or time-out. */
inline std::string read_exactly(int fd, std::size_t n, std::chrono::milliseconds limit = wait_limit) {
  std::string got;
  while (got.size() < n) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(limit.count())) <= 0) {
      break;
    }
    char chunk[4096];
    ssize_t r = ::recv(fd, chunk, std::min(sizeof chunk, n - got.size()), 0);
    if (r <= 0) {
      break;
    }
    got.append(chunk, static_cast<std::size_t>(r));
  }
  return got;
}

/** Every call of one callback: how many, the last result and byte count, the threads. */
struct callback_record {
  std::mutex m;
  std::condition_variable cv;
  int calls = 0;
  int result = -1;
  std::uint32_t bytes = 0;
  std::thread::id thread;

  void record(int r, std::uint32_t n) {
    std::lock_guard lock(m);
    ++calls;
    result = r;
    bytes = n;
    thread = std::this_thread::get_id();
    cv.notify_all();
  }
  /** Waits until `n` calls happened, at most `limit`. */
  bool wait(int n = 1, std::chrono::milliseconds limit = wait_limit) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, limit, [&] { return calls >= n; });
  }
  int count() {
    std::lock_guard lock(m);
    return calls;
  }
  int last() {
    std::lock_guard lock(m);
    return result;
  }
  std::uint32_t last_bytes() {
    std::lock_guard lock(m);
    return bytes;
  }
};

extern "C" inline void record_open(void* context, ASYNC_SOCKET_OPEN_RESULT r) {
  static_cast<callback_record*>(context)->record(r, 0);
}
extern "C" inline void record_send(void* context, ASYNC_SOCKET_SEND_RESULT r) {
  static_cast<callback_record*>(context)->record(r, 0);
}
extern "C" inline void record_receive(void* context, ASYNC_SOCKET_RECEIVE_RESULT r, std::uint32_t n) {
  static_cast<callback_record*>(context)->record(r, n);
}
extern "C" inline void record_notify(void* context, ASYNC_SOCKET_NOTIFY_IO_RESULT r) {
  static_cast<callback_record*>(context)->record(r, 0);
}

/** An OPEN async_socket owning `fd` (NULL, with a test failure, if that did not work). */
inline ASYNC_SOCKET_HANDLE open_socket(int fd, EXECUTION_ENGINE_HANDLE engine = nullptr) {
  ASYNC_SOCKET_HANDLE s = async_socket_create(engine, fd);
  EXPECT_NE(s, nullptr) << "async_socket_create(" << fd << ")";
  if (s == nullptr) {
    ::close(fd);
    return nullptr;
  }
  callback_record opened;
  EXPECT_EQ(async_socket_open_async(s, record_open, &opened), 0);
  // The header: on_open_complete runs before async_socket_open_async returns.
  EXPECT_EQ(opened.count(), 1);
  EXPECT_EQ(opened.last(), ASYNC_SOCKET_OPEN_OK);
  return s;
}

/** Owns an async_socket: destroys it (an implicit close) at the end of the scope. */
class socket_guard {
 public:
  socket_guard() = default;
  explicit socket_guard(ASYNC_SOCKET_HANDLE s) : s_(s) {}
  socket_guard(const socket_guard&) = delete;
  socket_guard& operator=(const socket_guard&) = delete;
  socket_guard(socket_guard&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  socket_guard& operator=(socket_guard&& o) noexcept {
    reset();
    s_ = std::exchange(o.s_, nullptr);
    return *this;
  }
  ~socket_guard() { reset(); }
  void reset() { async_socket_destroy(std::exchange(s_, nullptr)); }
  [[nodiscard]] ASYNC_SOCKET_HANDLE get() const noexcept { return s_; }

 private:
  ASYNC_SOCKET_HANDLE s_ = nullptr;
};

/** Raises the soft RLIMIT_NOFILE to at least `wanted` (never above the hard limit) and restores it
    on destruction. `ok()` says whether `wanted` descriptors are allowed. */
class nofile_limit {
 public:
  explicit nofile_limit(rlim_t wanted) {
    if (::getrlimit(RLIMIT_NOFILE, &saved_) != 0) {
      return;
    }
    if (saved_.rlim_cur >= wanted) {
      ok_ = true;
      return;
    }
    rlimit raised = saved_;
    raised.rlim_cur = saved_.rlim_max == RLIM_INFINITY ? wanted : std::min<rlim_t>(wanted, saved_.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      changed_ = true;
      ok_ = raised.rlim_cur >= wanted;
    }
  }
  nofile_limit(const nofile_limit&) = delete;
  nofile_limit& operator=(const nofile_limit&) = delete;
  ~nofile_limit() {
    if (changed_) {
      ::setrlimit(RLIMIT_NOFILE, &saved_);
    }
  }
  [[nodiscard]] bool ok() const noexcept { return ok_; }
  [[nodiscard]] rlim_t hard() const noexcept { return saved_.rlim_max; }

 private:
  rlimit saved_{};
  bool changed_ = false;
  bool ok_ = false;
};

/** The kind of the completion port's backend, seen from outside: "uring" if this process holds an
    io_uring instance, "epoll" if it holds an epoll instance and no ring, "" if neither. */
inline std::string backend_in_use() {
  bool uring = false;
  bool epoll = false;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    std::error_code ec2;
    auto target = std::filesystem::read_symlink(entry.path(), ec2).string();
    uring = uring || target == "anon_inode:[io_uring]";
    epoll = epoll || target == "anon_inode:[eventpoll]";
  }
  return uring ? "uring" : epoll ? "epoll" : "";
}

/** The number of threads of this process named `name` (the completion port names its thread
    "senet-c-port"). */
inline int threads_named(const std::string& name) {
  int n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream comm(entry.path() / "comm");
    std::string text;
    std::getline(comm, text);
    n += text == name ? 1 : 0;
  }
  return n;
}

}  // namespace capitest

#endif  // SENET_TESTS_C_C_API_TEST_SUPPORT_HPP
