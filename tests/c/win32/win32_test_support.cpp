// SPDX-License-Identifier: BSL-1.0
#include "win32_test_support.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

std::atomic<std::int64_t> live{0};

/** Winsock, started for the whole test program. */
class winsock_environment : public ::testing::Environment {
 public:
  void SetUp() override {
    WSADATA data;
    ASSERT_EQ(::WSAStartup(MAKEWORD(2, 2), &data), 0);
  }
  void TearDown() override { ::WSACleanup(); }
};

[[maybe_unused]] const auto* const winsock = ::testing::AddGlobalTestEnvironment(new winsock_environment);

}  // namespace

// The replaced global allocation functions: count the live blocks, allocate with malloc.
void* operator new(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) {
    throw std::bad_alloc();
  }
  live.fetch_add(1, std::memory_order_relaxed);
  return p;
}
void* operator new[](std::size_t n) {
  return operator new(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p != nullptr) {
    live.fetch_add(1, std::memory_order_relaxed);
  }
  return p;
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
  return operator new(n, t);
}
void operator delete(void* p) noexcept {
  if (p != nullptr) {
    live.fetch_sub(1, std::memory_order_relaxed);
    std::free(p);
  }
}
void operator delete[](void* p) noexcept {
  operator delete(p);
}
void operator delete(void* p, std::size_t) noexcept {
  operator delete(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  operator delete(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  operator delete(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  operator delete(p);
}

namespace wintest {

std::int64_t live_allocations() noexcept {
  return live.load(std::memory_order_relaxed);
}

tcp_pair make_tcp_pair() {
  tcp_pair p;
  SOCKET l = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (l == INVALID_SOCKET) {
    return p;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  int len = sizeof a;
  if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l, 1) != 0 ||
      ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::closesocket(l);
    return p;
  }
  SOCKET c = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (c == INVALID_SOCKET || ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (c != INVALID_SOCKET) {
      ::closesocket(c);
    }
    ::closesocket(l);
    return p;
  }
  SOCKET s = ::accept(l, nullptr, nullptr);
  ::closesocket(l);
  if (s == INVALID_SOCKET) {
    ::closesocket(c);
    return p;
  }
  p.client = c;
  p.server = s;
  return p;
}

void reset_socket(SOCKET s) {
  linger lg{1, 0};
  ::setsockopt(s, SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&lg), sizeof lg);
  ::closesocket(s);
}

bool recv_all(SOCKET s, char* data, int n) {
  while (n > 0) {
    int r = ::recv(s, data, n, 0);
    if (r <= 0) {
      return false;
    }
    data += r;
    n -= r;
  }
  return true;
}

bool send_all(SOCKET s, const char* data, int n) {
  while (n > 0) {
    int r = ::send(s, data, n, 0);
    if (r <= 0) {
      return false;
    }
    data += r;
    n -= r;
  }
  return true;
}

void on_open(void* context, ASYNC_SOCKET_OPEN_RESULT result) {
  static_cast<callback_record*>(context)->record(context, result, 0);
}
void on_send(void* context, ASYNC_SOCKET_SEND_RESULT result) {
  static_cast<callback_record*>(context)->record(context, result, 0);
}
void on_receive(void* context, ASYNC_SOCKET_RECEIVE_RESULT result, std::uint32_t bytes) {
  static_cast<callback_record*>(context)->record(context, result, bytes);
}

}  // namespace wintest
