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
// on epoll (tests/fault/backend_fault_test.cpp provokes the faults for real on io_uring).
//
// The test backend's control, `test_network::fail_next`, must do what these faults do on epoll:
// `test_backend_table` injects every errno of the tables below both ways, on an epoll context
// and on a test context, and checks that the results and what follows them are the same.
#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/test_network.hpp>
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
#include <stdexcept>
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
using senet::test::system_error_of;
using senet::test::value_of;

/** ASSERT_TRUE in a function that returns a `std::error_code`. */
#define ASSERT_TRUE_OR_RETURN(cond) \
  do {                              \
    if (!(cond)) {                  \
      ADD_FAILURE() << #cond;       \
      return std::error_code{};     \
    }                               \
  } while (false)

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

/** Two bytes each way on `pair`, on `ctx`: the connection still works and carries nothing else. */
void expect_round_trip(io::io_context& ctx, senet::test::tcp_connection& pair) {
  for (auto [from, to] : {std::pair{&pair.client, &pair.server}, std::pair{&pair.server, &pair.client}}) {
    std::string out = "ok";
    std::string in(2, '\0');
    auto r = senet::test::run(ctx, ex::when_all(net::async_write(*from, senet::buffer(out)),
                                                net::async_read(*to, senet::buffer(in))));
    ASSERT_TRUE(r);
    EXPECT_EQ(in, out);
  }
}

class syscall_fault : public ::testing::Test {
 protected:
  void TearDown() override { armed = fault{}; }

  /** `expect_round_trip` on this context. */
  void expect_usable(senet::test::tcp_connection& pair) { expect_round_trip(ctx_, pair); }

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

// ---- the same faults through the test backend's fail_next -----------------------------------------

using op = io::test_network::operation;

/** Each errno of a table injected on epoll (interposed system call) and on the test backend
    (`fail_next`): `fault(ctx, e, on_epoll)` makes one operation fail and returns its error and
    checks what follows; the two must agree with each other and with `e`. */
template <class Fault>
void compare_table(const std::vector<int>& errors, Fault fault) {
  for (int e : errors) {
    SCOPED_TRACE(std::strerror(e));
    io::io_context epoll_ctx{io::epoll};
    io::io_context test_ctx{io::test};
    std::error_code on_epoll = fault(epoll_ctx, e, true);
    std::error_code on_test = fault(test_ctx, e, false);
    EXPECT_EQ(on_test, on_epoll);
    EXPECT_EQ(on_test, system_error_of(e));
    EXPECT_EQ(&on_test.category(), &std::system_category());
  }
}

class test_backend_table : public ::testing::Test {
 protected:
  void TearDown() override { armed = fault{}; }
};

TEST_F(test_backend_table, send_fails_with_each_errno_as_on_epoll_and_sends_nothing) {
  compare_table(send_errors, [](io::io_context& ctx, int e, bool on_epoll) {
    auto pair = senet::test::tcp_pair(ctx);
    if (on_epoll) {
      arm(call::sendmsg, pair.client.native_handle(), e);
    } else {
      io::test_network::of(ctx).fail_next(pair.client, op::send, system_error_of(e));
    }
    std::error_code ec = error_of(ctx, net::async_send(pair.client, senet::buffer(std::string_view("x"))));
    EXPECT_EQ(on_epoll ? armed.times
                       : static_cast<int>(io::test_network::of(ctx).faults_left(pair.client, op::send)),
              0);
    // Nothing was sent: the round trip reads exactly its own bytes.
    expect_round_trip(ctx, pair);
    return ec;
  });
}

TEST_F(test_backend_table, receive_fails_with_each_errno_as_on_epoll_and_takes_nothing) {
  compare_table(receive_errors, [](io::io_context& ctx, int e, bool on_epoll) {
    auto pair = senet::test::tcp_pair(ctx);
    ASSERT_TRUE_OR_RETURN(
        senet::test::run(ctx, net::async_write(pair.client, senet::buffer(std::string_view("a")))));
    if (on_epoll) {
      arm(call::recvmsg, pair.server.native_handle(), e);
    } else {
      io::test_network::of(ctx).fail_next(pair.server, op::receive, system_error_of(e));
    }
    char c = 0;
    std::error_code ec = error_of(ctx, net::async_receive(pair.server, senet::buffer(&c, 1)));
    // The byte is still there for the next receive.
    EXPECT_EQ(value_of(ctx, net::async_receive(pair.server, senet::buffer(&c, 1))), 1U);
    EXPECT_EQ(c, 'a');
    expect_round_trip(ctx, pair);
    return ec;
  });
}

TEST_F(test_backend_table, accept_fails_with_each_errno_as_on_epoll_and_leaves_the_connection) {
  compare_table(accept_errors, [](io::io_context& ctx, int e, bool on_epoll) {
    tcp::acceptor acceptor = senet::test::listen_tcp(tcp::v4());
    tcp::socket client(tcp::v4());
    ASSERT_TRUE_OR_RETURN(senet::test::run(ctx, net::async_connect(client, acceptor.local_endpoint())));
    if (on_epoll) {
      arm(call::accept4, acceptor.native_handle(), e);
    } else {
      io::test_network::of(ctx).fail_next(acceptor, op::accept, system_error_of(e));
    }
    std::error_code ec = error_of(ctx, net::async_accept(acceptor));
    // The connection waited in the backlog: the next accept takes it.
    auto r = senet::test::run(ctx, net::async_accept(acceptor));
    EXPECT_TRUE(r);
    if (r) {
      EXPECT_EQ(std::get<1>(*r), client.local_endpoint());
    }
    return ec;
  });
}

TEST_F(test_backend_table, connect_fails_with_each_errno_as_on_epoll_and_the_socket_connects_after) {
  compare_table(connect_errors, [](io::io_context& ctx, int e, bool on_epoll) {
    tcp::acceptor acceptor = senet::test::listen_tcp(tcp::v4());
    tcp::socket client(tcp::v4());
    if (on_epoll) {
      arm(call::connect, client.native_handle(), e);
    } else {
      io::test_network::of(ctx).fail_next(client, op::connect, system_error_of(e));
    }
    std::error_code ec = error_of(ctx, net::async_connect(client, acceptor.local_endpoint()));
    // Nothing happened to the socket (not even an implicit bind): the same socket connects.
    EXPECT_EQ(client.local_endpoint().port(), 0);
    auto r = senet::test::run(ctx, ex::when_all(net::async_accept(acceptor),
                                                net::async_connect(client, acceptor.local_endpoint())));
    EXPECT_TRUE(r);
    if (r) {
      EXPECT_EQ(std::get<1>(*r), client.local_endpoint());
    }
    return ec;
  });
}

TEST_F(test_backend_table, what_epoll_retries_or_waits_on_is_refused_by_fail_next) {
  // EINTR is retried and EAGAIN waited on (send, receive, accept): not results, so fail_next
  // refuses them rather than inventing a completion no backend gives.
  io::io_context ctx{io::test};
  auto& net = io::test_network::of(ctx);
  tcp::socket s(tcp::v4());
  for (op o : {op::send, op::receive, op::accept, op::connect}) {
    EXPECT_THROW(net.fail_next(s, o, system_error_of(EINTR)), std::invalid_argument);
  }
  for (op o : {op::send, op::receive, op::accept}) {
    EXPECT_THROW(net.fail_next(s, o, system_error_of(EAGAIN)), std::invalid_argument);
  }
}

}  // namespace
