// SPDX-License-Identifier: BSL-1.0
// Fault injection: every system call that a send, a receive, an accept and a connect makes on the
// epoll backend (sendmsg, recvmsg, accept4, connect) is made to fail, once, with each errno its
// manual page lists for a socket; the operation must complete with that errno as its
// `std::error_code` (system category), as each operation documents, and the socket and the
// io_context must stay usable: the same socket then transfers, accepts or (once closed and opened
// again) connects. EINTR is retried, not reported; EAGAIN on a receive waits for data. (Not
// injected: EAGAIN on a send and EINTR or EINPROGRESS on a connect, which make the backend wait for
// an edge that an injected error, unlike a real one, never brings.)
//
// How: this executable defines sendmsg, recvmsg, accept4 and connect itself. libsenet is linked
// into it statically, and a definition in the executable comes before libc's for every caller in
// the process, so the library's calls reach these, which fail when a fault is armed for that call
// and descriptor and otherwise call the next definition (libc's, or a sanitizer's interceptor).
// io_uring performs these operations in the kernel, without the system calls, so these tests run
// on epoll; the test backend simulates them.
#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/sockets.hpp>

#include <support/loopback.hpp>
#include <support/run.hpp>

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <vector>

namespace {

enum class call { sendmsg, recvmsg, accept4, connect };

/** The fault armed: the next `times` calls of `which` on `fd` fail with `error`. */
struct fault {
  call which = call::sendmsg;
  int fd = -1;
  int error = 0;
  int times = 0;
  int hits = 0;
};

fault armed;

bool inject(call which, int fd) noexcept {
  if (armed.times > 0 && armed.which == which && armed.fd == fd) {
    --armed.times;
    ++armed.hits;
    errno = armed.error;
    return true;
  }
  return false;
}

template <class Fn>
Fn next(const char* name) noexcept {
  return reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
  static const auto real = next<ssize_t (*)(int, const struct msghdr*, int)>("sendmsg");
  return inject(call::sendmsg, fd) ? -1 : real(fd, msg, flags);
}

ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
  static const auto real = next<ssize_t (*)(int, struct msghdr*, int)>("recvmsg");
  return inject(call::recvmsg, fd) ? -1 : real(fd, msg, flags);
}

int accept4(int fd, struct sockaddr* addr, socklen_t* len, int flags) {
  static const auto real = next<int (*)(int, struct sockaddr*, socklen_t*, int)>("accept4");
  return inject(call::accept4, fd) ? -1 : real(fd, addr, len, flags);
}

int connect(int fd, const struct sockaddr* addr, socklen_t len) {
  static const auto real = next<int (*)(int, const struct sockaddr*, socklen_t)>("connect");
  return inject(call::connect, fd) ? -1 : real(fd, addr, len);
}

}  // extern "C"

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
using senet::ip::tcp;
using senet::test::error_of;
using senet::test::value_of;

std::error_code system_error_of(int e) {
  return {e, std::system_category()};
}

void arm(call which, int fd, int error, int times = 1) {
  armed = fault{which, fd, error, times, 0};
}

// The errno values each call's manual page gives for a connected (or listening) TCP socket.
const std::vector<int> send_errors{EACCES,  ECONNRESET, EDESTADDRREQ, EFAULT, EINVAL,     EISCONN, EMSGSIZE,
                                   ENOBUFS, ENOMEM,     ENOTCONN,     EPIPE,  EOPNOTSUPP, EBADF,   ENOTSOCK};
const std::vector<int> receive_errors{ECONNREFUSED, ECONNRESET, EFAULT, EINVAL,  ENOMEM,
                                      ENOTCONN,     ETIMEDOUT,  EBADF,  ENOTSOCK};
const std::vector<int> accept_errors{ECONNABORTED, EINVAL, EMFILE, ENFILE, ENOBUFS,
                                     ENOMEM,       EPERM,  EPROTO, EBADF,  ENOTSOCK};
const std::vector<int> connect_errors{EACCES,      EPERM,    EADDRINUSE,   EADDRNOTAVAIL, EAFNOSUPPORT,
                                      EAGAIN,      EALREADY, ECONNREFUSED, EFAULT,        EISCONN,
                                      ENETUNREACH, ENOTSOCK, EPROTOTYPE,   ETIMEDOUT,     EHOSTUNREACH};

class syscall_fault : public ::testing::Test {
 protected:
  void TearDown() override { armed = fault{}; }

  /** One byte each way on `pair`: the connection still works. */
  void expect_usable(senet::test::tcp_connection& pair) {
    std::string out = "ok";
    std::string in(2, '\0');
    auto r = senet::test::run(ctx_, ex::when_all(net::async_write(pair.client, senet::buffer(out)),
                                                 net::async_read(pair.server, senet::buffer(in))));
    ASSERT_TRUE(r);
    EXPECT_EQ(in, out);
    auto back = senet::test::run(ctx_, ex::when_all(net::async_write(pair.server, senet::buffer(out)),
                                                    net::async_read(pair.client, senet::buffer(in))));
    ASSERT_TRUE(back);
    EXPECT_EQ(in, out);
  }

  io::io_context ctx_{io::epoll};
};

TEST_F(syscall_fault, send_reports_each_errno_of_sendmsg_and_the_socket_stays_usable) {
  auto pair = senet::test::tcp_pair(ctx_);
  for (int e : send_errors) {
    SCOPED_TRACE(std::strerror(e));
    arm(call::sendmsg, pair.client.native_handle(), e);
    EXPECT_EQ(error_of(ctx_, net::async_send(pair.client, senet::buffer(std::string_view("x")))),
              system_error_of(e));
    EXPECT_EQ(armed.hits, 1);
    expect_usable(pair);
  }
}

TEST_F(syscall_fault, send_retries_eintr) {
  auto pair = senet::test::tcp_pair(ctx_);
  arm(call::sendmsg, pair.client.native_handle(), EINTR, 3);
  EXPECT_EQ(value_of(ctx_, net::async_send(pair.client, senet::buffer(std::string_view("abc")))), 3U);
  EXPECT_EQ(armed.hits, 3);
  std::string in(3, '\0');
  ASSERT_TRUE(senet::test::run(ctx_, net::async_read(pair.server, senet::buffer(in))));
  EXPECT_EQ(in, "abc");
}

TEST_F(syscall_fault, receive_reports_each_errno_of_recvmsg_and_the_socket_stays_usable) {
  auto pair = senet::test::tcp_pair(ctx_);
  char c = 0;
  for (int e : receive_errors) {
    SCOPED_TRACE(std::strerror(e));
    arm(call::recvmsg, pair.server.native_handle(), e);
    EXPECT_EQ(error_of(ctx_, net::async_receive(pair.server, senet::buffer(&c, 1))), system_error_of(e));
    EXPECT_EQ(armed.hits, 1);
    expect_usable(pair);
  }
}

TEST_F(syscall_fault, receive_retries_eintr_and_waits_after_eagain) {
  auto pair = senet::test::tcp_pair(ctx_);
  char c = 0;
  arm(call::recvmsg, pair.server.native_handle(), EINTR, 2);
  ASSERT_TRUE(senet::test::run(ctx_, net::async_write(pair.client, senet::buffer(std::string_view("a")))));
  EXPECT_EQ(value_of(ctx_, net::async_receive(pair.server, senet::buffer(&c, 1))), 1U);
  EXPECT_EQ(c, 'a');
  EXPECT_EQ(armed.hits, 2);
  // EAGAIN with data there: the receive waits, and takes the next bytes when they arrive.
  arm(call::recvmsg, pair.server.native_handle(), EAGAIN);
  auto r = senet::test::run(
      ctx_, ex::when_all(net::async_receive(pair.server, senet::buffer(&c, 1)),
                         net::async_write(pair.client, senet::buffer(std::string_view("b")))));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), 1U);
  EXPECT_EQ(c, 'b');
  EXPECT_EQ(armed.hits, 1);
  expect_usable(pair);
}

TEST_F(syscall_fault, accept_reports_each_errno_of_accept4_and_the_acceptor_stays_usable) {
  tcp::acceptor acceptor = senet::test::listen_tcp(tcp::v4());
  for (int e : accept_errors) {
    SCOPED_TRACE(std::strerror(e));
    arm(call::accept4, acceptor.native_handle(), e);
    EXPECT_EQ(error_of(ctx_, net::async_accept(acceptor)), system_error_of(e));
    EXPECT_EQ(armed.hits, 1);
    // Usable: a connection is accepted.
    tcp::socket client(tcp::v4());
    auto r = senet::test::run(ctx_, ex::when_all(net::async_accept(acceptor),
                                                 net::async_connect(client, acceptor.local_endpoint())));
    ASSERT_TRUE(r);
    EXPECT_TRUE(std::get<0>(*r).is_open());
  }
}

TEST_F(syscall_fault, accept_retries_eintr) {
  tcp::acceptor acceptor = senet::test::listen_tcp(tcp::v4());
  tcp::socket client(tcp::v4());
  ASSERT_TRUE(senet::test::run(ctx_, net::async_connect(client, acceptor.local_endpoint())));
  arm(call::accept4, acceptor.native_handle(), EINTR, 2);
  auto r = senet::test::run(ctx_, net::async_accept(acceptor));
  ASSERT_TRUE(r);
  EXPECT_TRUE(std::get<0>(*r).is_open());
  EXPECT_EQ(armed.hits, 2);
}

TEST_F(syscall_fault, connect_reports_each_errno_of_connect_and_the_context_stays_usable) {
  tcp::acceptor acceptor = senet::test::listen_tcp(tcp::v4());
  for (int e : connect_errors) {
    SCOPED_TRACE(std::strerror(e));
    tcp::socket client(tcp::v4());
    arm(call::connect, client.native_handle(), e);
    EXPECT_EQ(error_of(ctx_, net::async_connect(client, acceptor.local_endpoint())), system_error_of(e));
    EXPECT_EQ(armed.hits, 1);
    // Usable: the same socket, closed and opened again, connects; and is accepted.
    client.close();
    client.open(tcp::v4());
    auto r = senet::test::run(ctx_, ex::when_all(net::async_accept(acceptor),
                                                 net::async_connect(client, acceptor.local_endpoint())));
    ASSERT_TRUE(r);
  }
}

}  // namespace
