// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TESTS_C_ASYNC_SOCKET_SRS_SUPPORT_HPP
#define SENET_TESTS_C_ASYNC_SOCKET_SRS_SUPPORT_HPP

/* Helpers of the SRS_ASYNC_SOCKET_LINUX_* tests (tests/c/async_socket_srs_*_test.cpp): real
   loopback sockets made with the POSIX calls a C program would use, and recorders for the
   callbacks that count every call, so that a callback called twice or never fails the test. */

#include <senet/c/async_socket.h>
#include <senet/io/io_context.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace senet::c_test {

using namespace std::chrono_literals;

/** The suite of the SRS tests: each runs once per kernel backend (io_uring, epoll). The completion
    port's io_context picks its backend as every io_context does, from SENET_BACKEND when set; the
    port is created by a test's first socket and torn down by its last, so each test gets a port
    on the backend it names. */
class async_socket_srs : public ::testing::TestWithParam<io::backend_kind> {
 protected:
  void SetUp() override {
    if (!io::io_context::is_available(GetParam())) {
      GTEST_SKIP() << "this kernel refuses the backend " << name(GetParam());
    }
    ::setenv("SENET_BACKEND", name(GetParam()), 1);
  }
  void TearDown() override { ::unsetenv("SENET_BACKEND"); }

 public:
  static const char* name(io::backend_kind kind) {
    return kind == io::backend_kind::uring ? "uring" : "epoll";
  }
  static std::string param_name(const ::testing::TestParamInfo<io::backend_kind>& info) {
    return name(info.param);
  }
};

/** The other tests of the C API (behaviour the SRS documents leave to the implementation), on the
    same two backends. */
class async_socket_api : public async_socket_srs {};

/** Instantiates `suite` (async_socket_srs or async_socket_api) for io_uring and epoll. */
#define SENET_C_TEST_BACKENDS(suite)                                                         \
  INSTANTIATE_TEST_SUITE_P(                                                                  \
      backends, suite,                                                                       \
      ::testing::Values(::senet::io::backend_kind::uring, ::senet::io::backend_kind::epoll), \
      suite::param_name)

/** How long any wait of these tests may take before it fails. */
inline constexpr std::chrono::seconds patience{10};

/** Keeps a callback running: the callback calls `hold()`, which returns once the test called
    `release()` (or `patience` passed); `wait_entered()` returns once the callback is inside. */
struct callback_gate {
  std::mutex m;
  std::condition_variable cv;
  bool entered = false;
  bool open = false;

  void hold() {
    std::unique_lock lock(m);
    entered = true;
    cv.notify_all();
    cv.wait_for(lock, patience, [&] { return open; });
  }
  bool wait_entered() {
    std::unique_lock lock(m);
    return cv.wait_for(lock, patience, [&] { return entered; });
  }
  void release() {
    {
      std::lock_guard lock(m);
      open = true;
    }
    cv.notify_all();
  }
};

/** An owned descriptor. */
class fd_owner {
 public:
  fd_owner() noexcept = default;
  explicit fd_owner(int fd) noexcept : fd_(fd) {}
  fd_owner(fd_owner&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  fd_owner& operator=(fd_owner&& o) noexcept {
    reset(std::exchange(o.fd_, -1));
    return *this;
  }
  ~fd_owner() { reset(); }
  [[nodiscard]] int get() const noexcept { return fd_; }
  /** Gives the descriptor away (to async_socket_create). */
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

/** A connected TCP pair over 127.0.0.1 (blocking descriptors, as accept and connect give them). */
struct tcp_pair {
  fd_owner client;
  fd_owner server;
};

inline tcp_pair make_tcp_pair() {
  fd_owner listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_GE(listener.get(), 0) << std::strerror(errno);
  ::sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(listener.get(), reinterpret_cast<::sockaddr*>(&addr), sizeof(addr)), 0)
      << std::strerror(errno);
  EXPECT_EQ(::listen(listener.get(), 4), 0) << std::strerror(errno);
  ::socklen_t len = sizeof(addr);
  EXPECT_EQ(::getsockname(listener.get(), reinterpret_cast<::sockaddr*>(&addr), &len), 0);
  tcp_pair p;
  p.client.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(::connect(p.client.get(), reinterpret_cast<::sockaddr*>(&addr), sizeof(addr)), 0)
      << std::strerror(errno);
  p.server.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  EXPECT_GE(p.server.get(), 0) << std::strerror(errno);
  return p;
}

/** A UDP socket bound to 127.0.0.1, port 0, and its address. */
inline std::pair<fd_owner, ::sockaddr_in> make_udp() {
  fd_owner s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ::sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(s.get(), reinterpret_cast<::sockaddr*>(&addr), sizeof(addr)), 0);
  ::socklen_t len = sizeof(addr);
  EXPECT_EQ(::getsockname(s.get(), reinterpret_cast<::sockaddr*>(&addr), &len), 0);
  return {std::move(s), addr};
}

/** Reads exactly `n` bytes from a blocking descriptor, at most `patience` long. */
inline std::vector<unsigned char> read_exactly(int fd, std::size_t n) {
  std::vector<unsigned char> out(n);
  std::size_t got = 0;
  auto deadline = std::chrono::steady_clock::now() + patience;
  while (got < n && std::chrono::steady_clock::now() < deadline) {
    ::pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      continue;
    }
    ssize_t r = ::recv(fd, out.data() + got, n - got, 0);
    if (r <= 0) {
      break;
    }
    got += static_cast<std::size_t>(r);
  }
  EXPECT_EQ(got, n) << "the peer did not receive every byte";
  out.resize(got);
  return out;
}

/** Writes all of `data` to a blocking descriptor. */
inline void write_all(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  while (n > 0) {
    ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL);
    ASSERT_GT(r, 0) << std::strerror(errno);
    p += r;
    n -= static_cast<std::size_t>(r);
  }
}

/** Shrinks the kernel's buffers so that a send of a megabyte has to wait for the peer. (The
    receiver's buffer stays larger than loopback's segment size: below it, TCP advertises windows
    smaller than a segment and the transfer crawls on zero-window probes.) */
inline void small_buffers(int sender, int receiver) {
  int send_size = 4096;
  int receive_size = 65536;
  ::setsockopt(sender, SOL_SOCKET, SO_SNDBUF, &send_size, sizeof(send_size));
  ::setsockopt(receiver, SOL_SOCKET, SO_RCVBUF, &receive_size, sizeof(receive_size));
}

/** Closes `fd` with a reset (SO_LINGER 0): the peer sees ECONNRESET. */
inline void close_with_reset(fd_owner& fd) {
  ::linger l{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  fd.reset();
}

/** The number of threads of this process (entries of /proc/self/task). */
inline int thread_count() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (::dirent* e = ::readdir(d)) {
      n += e->d_name[0] != '.' ? 1 : 0;
    }
    ::closedir(d);
  }
  return n;
}

/** Waits (bounded) until thread_count() == n; returns the last count seen. Threads leave
    /proc/self/task shortly after they are joined, so this polls. */
inline int wait_thread_count(int n) {
  auto deadline = std::chrono::steady_clock::now() + patience;
  int c = thread_count();
  while (c != n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
    c = thread_count();
  }
  return c;
}

/** Records every call of one kind of callback. */
template <class Result>
struct recorder {
  struct call {
    Result result;
    std::uint32_t bytes;
    std::thread::id thread;
  };
  std::mutex m;
  std::condition_variable cv;
  std::vector<call> calls;

  void add(Result r, std::uint32_t bytes = 0) {
    // Notified under the lock: the waiter may destroy the recorder as soon as it is released.
    std::lock_guard lock(m);
    calls.push_back({r, bytes, std::this_thread::get_id()});
    cv.notify_all();
  }
  /** Waits (bounded) until at least `n` calls came; true if they did. */
  bool wait(std::size_t n = 1) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, patience, [&] { return calls.size() >= n; });
  }
  std::size_t count() {
    std::lock_guard lock(m);
    return calls.size();
  }
  call at(std::size_t i) {
    std::lock_guard lock(m);
    return calls.at(i);
  }
};

using open_recorder = recorder<ASYNC_SOCKET_OPEN_RESULT>;
using send_recorder = recorder<ASYNC_SOCKET_SEND_RESULT>;
using receive_recorder = recorder<ASYNC_SOCKET_RECEIVE_RESULT>;
using notify_recorder = recorder<ASYNC_SOCKET_NOTIFY_IO_RESULT>;

extern "C" inline void on_open(void* context, ASYNC_SOCKET_OPEN_RESULT r) {
  static_cast<open_recorder*>(context)->add(r);
}
extern "C" inline void on_send(void* context, ASYNC_SOCKET_SEND_RESULT r) {
  static_cast<send_recorder*>(context)->add(r);
}
extern "C" inline void on_receive(void* context, ASYNC_SOCKET_RECEIVE_RESULT r, uint32_t bytes) {
  static_cast<receive_recorder*>(context)->add(r, bytes);
}
extern "C" inline void on_notify(void* context, ASYNC_SOCKET_NOTIFY_IO_RESULT r) {
  static_cast<notify_recorder*>(context)->add(r);
}
extern "C" inline void ignore_open(void*, ASYNC_SOCKET_OPEN_RESULT) {}
extern "C" inline void ignore_send(void*, ASYNC_SOCKET_SEND_RESULT) {}
extern "C" inline void ignore_receive(void*, ASYNC_SOCKET_RECEIVE_RESULT, uint32_t) {}

/** An async socket made from `fd` and opened; ASSERTs both. The caller destroys it. */
inline ASYNC_SOCKET_HANDLE open_socket(fd_owner& fd) {
  ASYNC_SOCKET_HANDLE h = async_socket_create(nullptr, fd.get());
  EXPECT_NE(h, nullptr);
  if (h == nullptr) {
    return nullptr;
  }
  fd.release();
  open_recorder opened;
  EXPECT_EQ(async_socket_open_async(h, on_open, &opened), 0);
  EXPECT_EQ(opened.count(), 1U);
  return h;
}

/** Whether `fd` is an open descriptor of this process. */
inline bool fd_is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

/** The bytes 0, 1, 2, ... (mod 251), `n` of them. */
inline std::vector<unsigned char> pattern(std::size_t n, unsigned seed = 0) {
  std::vector<unsigned char> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = static_cast<unsigned char>((i + seed) % 251);
  }
  return v;
}

}  // namespace senet::c_test

#endif  // SENET_TESTS_C_ASYNC_SOCKET_SRS_SUPPORT_HPP
