// SPDX-License-Identifier: BSL-1.0
// The io_uring backend (src/senet/backend/uring/): how io_context chooses it, and its behaviour at
// the backend boundary (docs/design/io_core.md), driven through raw operation records so that
// every path of the backend (ring, backlog, cancellation, release, shutdown) is reached directly.
#include <senet/io/io_context.hpp>

#include <senet/execution.hpp>
#include <senet/io/detail/descriptor.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/net/async_wait.hpp>

#include <support/child_process.hpp>
#include <support/descriptor_pair.hpp>
#include <support/operation_record.hpp>
#include <support/refuse_io_uring.hpp>
#include <support/run.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace io = senet::io;
namespace iod = senet::io::detail;
namespace net = senet::net;

// ---- helpers ------------------------------------------------------------------------------------

/** Sets or clears SENET_BACKEND for the lifetime of the object, restoring the previous value. */
class backend_env {
 public:
  explicit backend_env(const char* value) {
    if (const char* old = std::getenv("SENET_BACKEND")) {
      saved_ = old;
    }
    if (value == nullptr) {
      ::unsetenv("SENET_BACKEND");
    } else {
      ::setenv("SENET_BACKEND", value, 1);
    }
  }
  backend_env(const backend_env&) = delete;
  backend_env& operator=(const backend_env&) = delete;
  ~backend_env() {
    if (saved_) {
      ::setenv("SENET_BACKEND", saved_->c_str(), 1);
    } else {
      ::unsetenv("SENET_BACKEND");
    }
  }

 private:
  std::optional<std::string> saved_;
};

using senet::test::bound_socket;
using senet::test::record;
using senet::test::socket_pair;
using senet::test::start_pending;
using senet::test::test_fd;
using senet::test::transfer_record;

using senet::test::start_at_once;

void cancel(io::io_context& ctx, record& r) {
  senet::test::cancel_record(ctx, r);
}

void release(io::io_context& ctx, test_fd& fd) {
  iod::context_scope scope(ctx);
  fd.close();
}

/** Turns the loop until `done()`, within senet::test::wait_limit. */
template <class Pred>
void run_until(io::io_context& ctx, Pred done) {
  senet::test::run_records_until(ctx, done);
}

void write_all(int fd, const void* data, std::size_t size) {
  ASSERT_EQ(::send(fd, data, size, MSG_NOSIGNAL), static_cast<::ssize_t>(size));
}

/** The uring tests: SKIPPED (never passed) where the kernel refuses io_uring. */
class uring_backend : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!io::io_context::is_available(io::uring)) {
      GTEST_SKIP() << "io_uring is not available here (refused by the kernel, seccomp or "
                      "kernel.io_uring_disabled); the io_context falls back to epoll";
    }
  }
};

// ---- choosing the backend -----------------------------------------------------------------------

TEST_F(uring_backend, is_the_default_when_available) {
  backend_env env(nullptr);
  io::io_context ctx;
  EXPECT_EQ(ctx.backend(), io::backend_kind::uring);
  EXPECT_GE(ctx.wait_descriptor(), 0);
}

TEST_F(uring_backend, constructor_argument_chooses) {
  backend_env env(nullptr);
  io::io_context u{io::uring};
  EXPECT_EQ(u.backend(), io::backend_kind::uring);
  io::io_context e{io::epoll};
  EXPECT_EQ(e.backend(), io::backend_kind::epoll);
}

TEST_F(uring_backend, environment_variable_overrides_the_default) {
  {
    backend_env env("epoll");
    io::io_context ctx;
    EXPECT_EQ(ctx.backend(), io::backend_kind::epoll);
  }
  {
    backend_env env("uring");
    io::io_context ctx;
    EXPECT_EQ(ctx.backend(), io::backend_kind::uring);
  }
  {
    backend_env env("kqueue");
    EXPECT_THROW(io::io_context ctx, std::invalid_argument);
  }
}

int check_fallback_in_child() {
  // Fails io_uring_setup the way a seccomp policy does.
  if (!senet::test::refuse_io_uring_setup(EPERM)) {
    return senet::test::refused_child_no_seccomp;
  }
  ::unsetenv("SENET_BACKEND");
  int failures = 0;
  try {
    io::io_context ctx;
    failures += ctx.backend() != io::backend_kind::epoll;
    // The fallback context works: a timer completes on it.
    failures += !ctx.run_until(net::async_wait_for(1ms)).has_value();  // a child process: no watchdog
  } catch (...) {
    failures += 100;
  }
  failures += io::io_context::is_available(io::uring) ? 1 : 0;
  try {
    io::io_context ctx{io::uring};
    failures += 10;
  } catch (const std::system_error& e) {
    failures += e.code() != std::errc::function_not_supported;
  }
  ::setenv("SENET_BACKEND", "uring", 1);
  try {
    io::io_context ctx;
    failures += 10;
  } catch (const std::system_error&) {
  }
  return failures == 0 ? senet::test::refused_child_ok : 1;
}

SENET_TEST_CHILD(uring_backend_fallback) {
  return check_fallback_in_child();
}

// Not a uring_backend test: it runs (and means something) whether or not this kernel allows
// io_uring, since it takes io_uring away itself.
TEST(uring_fallback, io_context_falls_back_to_epoll_when_io_uring_setup_is_refused) {
  senet::test::expect_refused_child("uring_backend_fallback");
}

// ---- socket operations --------------------------------------------------------------------------

TEST_F(uring_backend, receive_and_send_on_a_stream_socket) {
  io::io_context ctx{io::uring};
  socket_pair p;
  transfer_record<16> rx;
  rx.prepare(iod::op_code::receive, p.b.d);
  start_pending(ctx, rx);
  ctx.poll();
  EXPECT_EQ(rx.completions, 0);

  transfer_record<16> tx;
  tx.prepare(iod::op_code::send, p.a.d, 5);
  std::copy_n("hello", 5, tx.data.begin());
  start_pending(ctx, tx);
  run_until(ctx, [&] { return rx.completions == 1 && tx.completions == 1; });
  EXPECT_EQ(tx.result, 5);
  ASSERT_EQ(rx.result, 5);
  EXPECT_EQ(std::string(rx.data.data(), 5), "hello");
}

TEST_F(uring_backend, receive_at_end_of_stream_completes_with_zero) {
  io::io_context ctx{io::uring};
  socket_pair p;
  transfer_record<16> rx;
  rx.prepare(iod::op_code::receive, p.b.d);
  start_pending(ctx, rx);
  ::shutdown(p.a.d.fd, SHUT_WR);
  run_until(ctx, [&] { return rx.completions == 1; });
  EXPECT_EQ(rx.result, 0);
}

TEST_F(uring_backend, send_to_a_closed_peer_fails_with_epipe_not_sigpipe) {
  io::io_context ctx{io::uring};
  socket_pair p;
  p.b.close();
  transfer_record<16> tx;
  tx.prepare(iod::op_code::send, p.a.d);
  start_pending(ctx, tx);
  run_until(ctx, [&] { return tx.completions == 1; });
  EXPECT_EQ(tx.result, -EPIPE);
}

TEST_F(uring_backend, gathering_send_and_receive_from_use_the_message_header) {
  io::io_context ctx{io::uring};
  ::sockaddr_in rx_addr{};
  ::sockaddr_in tx_addr{};
  test_fd rx_fd(bound_socket(SOCK_DGRAM, false, rx_addr));
  test_fd tx_fd(bound_socket(SOCK_DGRAM, false, tx_addr));

  transfer_record<32> rx;
  rx.prepare(iod::op_code::receive, rx_fd.d);
  ::sockaddr_storage peer{};
  rx.msg_.msg_name = &peer;
  rx.msg_.msg_namelen = sizeof peer;
  start_pending(ctx, rx);

  record tx;
  std::array<::iovec, 2> iov{{{const_cast<char*>("ab"), 2}, {const_cast<char*>("cde"), 3}}};
  tx.code_ = iod::op_code::send;
  tx.descriptor_ = &tx_fd.d;
  tx.msg_.msg_iov = iov.data();
  tx.msg_.msg_iovlen = iov.size();
  tx.msg_.msg_name = &rx_addr;
  tx.msg_.msg_namelen = sizeof rx_addr;
  start_pending(ctx, tx);

  run_until(ctx, [&] { return rx.completions == 1 && tx.completions == 1; });
  EXPECT_EQ(tx.result, 5);
  ASSERT_EQ(rx.result, 5);
  EXPECT_EQ(std::string(rx.data.data(), 5), "abcde");
  ASSERT_EQ(rx.msg_.msg_namelen, sizeof(::sockaddr_in));
  auto* from = reinterpret_cast<::sockaddr_in*>(&peer);
  EXPECT_EQ(from->sin_port, tx_addr.sin_port);
  EXPECT_EQ(from->sin_addr.s_addr, tx_addr.sin_addr.s_addr);
}

TEST_F(uring_backend, accept_and_connect_on_loopback) {
  io::io_context ctx{io::uring};
  ::sockaddr_in listen_addr{};
  test_fd listener(bound_socket(SOCK_STREAM, true, listen_addr));

  record acc;
  ::sockaddr_storage peer{};
  acc.code_ = iod::op_code::accept;
  acc.descriptor_ = &listener.d;
  acc.msg_.msg_name = &peer;
  acc.msg_.msg_namelen = sizeof peer;
  start_pending(ctx, acc);

  test_fd client(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  record con;
  con.code_ = iod::op_code::connect;
  con.descriptor_ = &client.d;
  con.msg_.msg_name = &listen_addr;
  con.msg_.msg_namelen = sizeof listen_addr;
  start_pending(ctx, con);

  run_until(ctx, [&] { return acc.completions == 1 && con.completions == 1; });
  EXPECT_EQ(con.result, 0);
  ASSERT_GE(acc.result, 0);
  test_fd accepted(static_cast<int>(acc.result));
  EXPECT_EQ(acc.msg_.msg_namelen, sizeof(::sockaddr_in));
  ::sockaddr_in client_addr{};
  ::socklen_t len = sizeof client_addr;
  ASSERT_EQ(::getsockname(client.d.fd, reinterpret_cast<::sockaddr*>(&client_addr), &len), 0);
  EXPECT_EQ(reinterpret_cast<::sockaddr_in*>(&peer)->sin_port, client_addr.sin_port);
  // The accepted socket is non-blocking and close-on-exec, like one from accept4.
  EXPECT_NE(::fcntl(accepted.d.fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(accepted.d.fd, F_GETFD) & FD_CLOEXEC, 0);
}

TEST_F(uring_backend, connect_to_a_port_nobody_listens_on_is_refused) {
  io::io_context ctx{io::uring};
  ::sockaddr_in addr{};
  // Bound but not listening: a SYN to it is answered with a reset.
  test_fd closed_port(bound_socket(SOCK_STREAM, false, addr));
  test_fd client(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  record con;
  con.code_ = iod::op_code::connect;
  con.descriptor_ = &client.d;
  con.msg_.msg_name = &addr;
  con.msg_.msg_namelen = sizeof addr;
  start_pending(ctx, con);
  run_until(ctx, [&] { return con.completions == 1; });
  EXPECT_EQ(con.result, -ECONNREFUSED);
}

TEST_F(uring_backend, polls_complete_with_the_events_that_occurred) {
  io::io_context ctx{io::uring};
  socket_pair p;
  record readable;
  readable.code_ = iod::op_code::poll;
  readable.flags_ = static_cast<int>(io::poll_events::readable);
  readable.descriptor_ = &p.b.d;
  record writable;
  writable.code_ = iod::op_code::poll;
  writable.flags_ = static_cast<int>(io::poll_events::writable);
  writable.descriptor_ = &p.a.d;
  start_pending(ctx, readable);
  start_pending(ctx, writable);
  run_until(ctx, [&] { return writable.completions == 1; });
  EXPECT_EQ(writable.result, static_cast<std::int64_t>(io::poll_events::writable));
  ctx.poll();
  EXPECT_EQ(readable.completions, 0);
  write_all(p.a.d.fd, "x", 1);
  run_until(ctx, [&] { return readable.completions == 1; });
  EXPECT_EQ(readable.result, static_cast<std::int64_t>(io::poll_events::readable));
}

TEST_F(uring_backend, bad_descriptor_and_foreign_context_complete_at_once) {
  io::io_context ctx{io::uring};
  test_fd none;
  record r;
  r.code_ = iod::op_code::receive;
  r.descriptor_ = &none.d;
  {
    iod::context_scope scope(ctx);
    ASSERT_TRUE(iod::start_operation(ctx, r));
  }
  EXPECT_EQ(r.result_, -EBADF);

  // A descriptor registered with one context cannot be used by another until it is released.
  socket_pair p;
  transfer_record<4> rx;
  rx.prepare(iod::op_code::receive, p.b.d);
  start_pending(ctx, rx);
  io::io_context other{io::uring};
  transfer_record<4> rx2;
  rx2.prepare(iod::op_code::receive, p.b.d);
  {
    iod::context_scope scope(other);
    ASSERT_TRUE(iod::start_operation(other, rx2));
  }
  EXPECT_EQ(rx2.result_, -EBUSY);
  write_all(p.a.d.fd, "x", 1);
  run_until(ctx, [&] { return rx.completions == 1; });
  EXPECT_EQ(rx.result, 1);
}

TEST_F(uring_backend, timers_and_schedule_run_on_it) {
  io::io_context ctx{io::uring};
  auto before = std::chrono::steady_clock::now();
  EXPECT_TRUE(senet::test::run(ctx, net::async_wait_for(20ms)).has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - before, 20ms);
  EXPECT_TRUE(senet::test::run(ctx, ctx.get_scheduler().schedule()).has_value());
}

// ---- many operations, a small ring --------------------------------------------------------------

// 10,000 receives started at once, on 400 sockets: one per socket goes to the ring at a time (the
// others queue behind it, for order), 400 on a 256-entry submission queue, so the backlog feeds
// the ring; nothing fails, and every receive completes once data arrives, the receives of one
// socket in start order (the completion queue overflows into the kernel's overflow list on the
// way).
TEST_F(uring_backend, ten_thousand_receives_in_flight_on_a_256_entry_ring) {
  constexpr int pairs = 400;
  constexpr int per_pair = 25;
  io::io_context ctx{io::uring};
  std::vector<std::unique_ptr<socket_pair>> sockets;
  for (int i = 0; i < pairs; ++i) {
    sockets.push_back(std::make_unique<socket_pair>());
  }
  auto records = std::make_unique<transfer_record<1>[]>(pairs * per_pair);
  for (int i = 0; i < pairs * per_pair; ++i) {
    records[i].prepare(iod::op_code::receive, sockets[i / per_pair]->b.d);
    start_pending(ctx, records[i]);
  }
  // Submits them all (the ring holds 256 at a time); none can complete yet.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ctx.poll(), 0U);
  }
  for (int i = 0; i < pairs * per_pair; ++i) {
    ASSERT_EQ(records[i].completions, 0) << i;
  }
  std::array<char, per_pair> payload{};
  for (int i = 0; i < per_pair; ++i) {
    payload[i] = static_cast<char>(i);
  }
  for (auto& s : sockets) {
    write_all(s->a.d.fd, payload.data(), payload.size());
  }
  senet::test::bounded_run(ctx);
  for (int pair = 0; pair < pairs; ++pair) {
    for (int j = 0; j < per_pair; ++j) {
      auto& r = records[pair * per_pair + j];
      ASSERT_EQ(r.completions, 1);
      ASSERT_EQ(r.result, 1);
      ASSERT_EQ(static_cast<unsigned char>(r.data[0]), j)
          << "receives of one socket take bytes in start order";
    }
  }
}

TEST_F(uring_backend, ten_thousand_waits_on_one_descriptor) {
  constexpr int count = 10'000;
  io::io_context ctx{io::uring};
  socket_pair p;
  auto records = std::make_unique<record[]>(count);
  for (int i = 0; i < count; ++i) {
    records[i].code_ = iod::op_code::poll;
    records[i].flags_ = static_cast<int>(io::poll_events::readable);
    records[i].descriptor_ = &p.b.d;
    start_pending(ctx, records[i]);
  }
  EXPECT_EQ(ctx.poll(), 0U);
  write_all(p.a.d.fd, "x", 1);
  EXPECT_EQ(senet::test::bounded_run(ctx), static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    ASSERT_EQ(records[i].completions, 1);
    ASSERT_EQ(records[i].result, static_cast<std::int64_t>(io::poll_events::readable));
  }
}

// ---- shutdown -----------------------------------------------------------------------------------

// Destroying the context cancels every operation, whether it reached the kernel, waits in the
// ring, in the backlog or in its socket's queue, and reaps them all before the ring is freed (ASan
// would see a kernel write into a freed record otherwise... and the records would not have
// completed). 500 sockets: more receives are handed to the ring than it holds.
void destroy_with_operations_in_flight(bool submitted) {
  constexpr int pairs = 500;
  constexpr int count = 10'000;
  std::vector<std::unique_ptr<socket_pair>> sockets;
  for (int i = 0; i < pairs; ++i) {
    sockets.push_back(std::make_unique<socket_pair>());
  }
  auto records = std::make_unique<transfer_record<8>[]>(count);
  {
    io::io_context ctx{io::uring};
    for (int i = 0; i < count; ++i) {
      records[i].prepare(iod::op_code::receive, sockets[static_cast<std::size_t>(i % pairs)]->b.d);
      start_pending(ctx, records[i]);
    }
    if (submitted) {
      EXPECT_EQ(ctx.poll(), 0U);
    }
  }
  for (int i = 0; i < count; ++i) {
    ASSERT_EQ(records[i].completions, 1) << i;
    ASSERT_EQ(records[i].result, -ECANCELED) << i;
  }
  // The sockets outlived the context: their descriptor states were orphaned and are freed on
  // release.
  for (auto& p : sockets) {
    p->b.close();
  }
}

TEST_F(uring_backend, destruction_cancels_and_reaps_submitted_operations) {
  destroy_with_operations_in_flight(true);
}

TEST_F(uring_backend, destruction_cancels_operations_never_submitted) {
  destroy_with_operations_in_flight(false);
}

// ---- cancellation -------------------------------------------------------------------------------

TEST_F(uring_backend, cancel_an_operation_the_kernel_holds) {
  io::io_context ctx{io::uring};
  socket_pair p;
  transfer_record<8> rx;
  rx.prepare(iod::op_code::receive, p.b.d);
  start_pending(ctx, rx);
  ctx.poll();
  cancel(ctx, rx);
  EXPECT_EQ(rx.completions, 0) << "cancellation never completes inline";
  run_until(ctx, [&] { return rx.completions == 1; });
  EXPECT_EQ(rx.result, -ECANCELED);
  // The socket is still usable.
  rx.prepare(iod::op_code::receive, p.b.d);
  start_pending(ctx, rx);
  write_all(p.a.d.fd, "y", 1);
  run_until(ctx, [&] { return rx.completions == 2; });
  EXPECT_EQ(rx.result, 1);
}

TEST_F(uring_backend, cancel_an_operation_not_yet_submitted) {
  io::io_context ctx{io::uring};
  socket_pair p;
  transfer_record<8> rx;
  rx.prepare(iod::op_code::receive, p.b.d);
  start_pending(ctx, rx);
  cancel(ctx, rx);
  run_until(ctx, [&] { return rx.completions == 1; });
  EXPECT_EQ(rx.result, -ECANCELED);
}

TEST_F(uring_backend, cancel_operations_in_the_backlog_and_in_the_ring) {
  constexpr int count = 600;  // more than the ring holds, one per socket
  io::io_context ctx{io::uring};
  std::vector<std::unique_ptr<socket_pair>> sockets;
  for (int i = 0; i < count; ++i) {
    sockets.push_back(std::make_unique<socket_pair>());
  }
  auto records = std::make_unique<transfer_record<8>[]>(count);
  for (int i = 0; i < count; ++i) {
    records[i].prepare(iod::op_code::receive, sockets[static_cast<std::size_t>(i)]->b.d);
    start_pending(ctx, records[i]);
  }
  // The last one waits in the backlog, the first one in the ring.
  cancel(ctx, records[count - 1]);
  cancel(ctx, records[0]);
  run_until(ctx, [&] { return records[0].completions == 1 && records[count - 1].completions == 1; });
  EXPECT_EQ(records[0].result, -ECANCELED);
  EXPECT_EQ(records[count - 1].result, -ECANCELED);
  for (int i = 1; i < count - 1; ++i) {
    ASSERT_EQ(records[i].completions, 0);
  }
  for (int i = 1; i < count - 1; ++i) {
    cancel(ctx, records[i]);
  }
  senet::test::bounded_run(ctx);
  for (int i = 0; i < count; ++i) {
    ASSERT_EQ(records[i].completions, 1);
    ASSERT_EQ(records[i].result, -ECANCELED);
  }
}

TEST_F(uring_backend, cancel_after_completion_does_nothing) {
  io::io_context ctx{io::uring};
  socket_pair p;
  transfer_record<8> rx;
  rx.prepare(iod::op_code::receive, p.b.d);
  write_all(p.a.d.fd, "z", 1);
  start_pending(ctx, rx);
  run_until(ctx, [&] { return rx.completions == 1; });
  cancel(ctx, rx);
  ctx.poll();
  EXPECT_EQ(rx.completions, 1);
  EXPECT_EQ(rx.result, 1);
}

// ---- release ------------------------------------------------------------------------------------

TEST_F(uring_backend, release_aborts_operations_the_kernel_holds) {
  io::io_context ctx{io::uring};
  socket_pair p;
  transfer_record<8> rx;
  rx.prepare(iod::op_code::receive, p.b.d);
  record wait;
  wait.code_ = iod::op_code::poll;
  wait.flags_ = static_cast<int>(io::poll_events::readable);
  wait.descriptor_ = &p.b.d;
  start_pending(ctx, rx);
  start_pending(ctx, wait);
  ctx.poll();
  release(ctx, p.b);
  run_until(ctx, [&] { return rx.completions == 1 && wait.completions == 1; });
  EXPECT_EQ(rx.result, iod::io_operation::aborted);
  EXPECT_EQ(wait.result, iod::io_operation::aborted);
}

// A receive whose SQE is still in the ring when its socket is closed must never reach the kernel:
// the descriptor number is reused at once by the next socket, whose data it would steal.
TEST_F(uring_backend, release_before_submission_never_touches_a_reused_descriptor) {
  io::io_context ctx{io::uring};
  auto p = std::make_unique<socket_pair>();
  int old_fd = p->b.d.fd;
  transfer_record<8> rx;
  rx.prepare(iod::op_code::receive, p->b.d);
  start_pending(ctx, rx);
  release(ctx, p->b);
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  test_fd reused(fds[0]);
  test_fd writer(fds[1]);
  ASSERT_EQ(reused.d.fd, old_fd) << "the test relies on the kernel reusing the lowest free descriptor";
  write_all(writer.d.fd, "q", 1);
  run_until(ctx, [&] { return rx.completions == 1; });
  EXPECT_EQ(rx.result, iod::io_operation::aborted);
  ctx.poll();
  char c = 0;
  EXPECT_EQ(::recv(reused.d.fd, &c, 1, 0), 1);
  EXPECT_EQ(c, 'q');
}

// The ring is filled by 300 receives on other sockets, so the first receive of p.b waits in the
// backlog and the others in p.b's queue: release aborts them all, and the others stay pending.
TEST_F(uring_backend, release_aborts_operations_in_the_backlog) {
  constexpr int others = 300;
  constexpr int count = 10;
  // The records outlive the context (declared first), so that a failed assertion cannot leave the
  // kernel writing into freed memory.
  auto fillers = std::make_unique<transfer_record<8>[]>(others);
  auto records = std::make_unique<transfer_record<8>[]>(count);
  io::io_context ctx{io::uring};
  std::vector<std::unique_ptr<socket_pair>> sockets;
  for (int i = 0; i < others; ++i) {
    sockets.push_back(std::make_unique<socket_pair>());
    fillers[i].prepare(iod::op_code::receive, sockets.back()->b.d);
    start_pending(ctx, fillers[i]);
  }
  socket_pair p;
  for (int i = 0; i < count; ++i) {
    records[i].prepare(iod::op_code::receive, p.b.d);
    start_pending(ctx, records[i]);
  }
  release(ctx, p.b);
  run_until(ctx, [&] {
    return std::all_of(&records[0], &records[0] + count, [](const record& r) { return r.completions == 1; });
  });
  for (int i = 0; i < count; ++i) {
    ASSERT_EQ(records[i].completions, 1) << i;
    ASSERT_EQ(records[i].result, iod::io_operation::aborted) << i;
  }
  ctx.poll();
  for (int i = 0; i < others; ++i) {
    ASSERT_EQ(fillers[i].completions, 0);
  }
  for (int i = 0; i < others; ++i) {
    cancel(ctx, fillers[i]);
  }
  senet::test::bounded_run(ctx);
  for (int i = 0; i < others; ++i) {
    ASSERT_EQ(fillers[i].result, -ECANCELED);
  }
}

TEST_F(uring_backend, a_cancelled_operation_stays_stopped_when_its_descriptor_is_released) {
  io::io_context ctx{io::uring};
  socket_pair p;
  transfer_record<8> rx;
  rx.prepare(iod::op_code::receive, p.b.d);
  start_pending(ctx, rx);
  ctx.poll();
  cancel(ctx, rx);
  release(ctx, p.b);
  run_until(ctx, [&] { return rx.completions == 1; });
  EXPECT_EQ(rx.result, -ECANCELED);
}

// ---- linked timeouts ----------------------------------------------------------------------------

TEST_F(uring_backend, links_timeouts) {
  io::io_context ctx{io::uring};
  EXPECT_TRUE(iod::links_timeouts(ctx));
  io::io_context epoll{io::epoll};
  EXPECT_FALSE(iod::links_timeouts(epoll));
}

TEST_F(uring_backend, linked_timeout_expires_and_does_not_when_data_comes_first) {
  io::io_context ctx{io::uring};
  socket_pair p;
  transfer_record<8> rx;
  rx.prepare(iod::op_code::receive, p.b.d);
  rx.link_timeout_ns_ = std::chrono::nanoseconds(20ms).count();
  start_pending(ctx, rx);
  run_until(ctx, [&] { return rx.completions == 1; });
  EXPECT_EQ(rx.result, -ETIMEDOUT);

  rx.prepare(iod::op_code::receive, p.b.d);
  rx.link_timeout_ns_ = std::chrono::nanoseconds(60s).count();
  write_all(p.a.d.fd, "t", 1);
  start_pending(ctx, rx);
  run_until(ctx, [&] { return rx.completions == 2; });
  EXPECT_EQ(rx.result, 1);
}

TEST_F(uring_backend, linked_timeout_leaves_the_socket_usable) {
  io::io_context ctx{io::uring};
  socket_pair p;
  transfer_record<8> rx;
  rx.prepare(iod::op_code::receive, p.b.d);
  rx.link_timeout_ns_ = 1;
  start_pending(ctx, rx);
  run_until(ctx, [&] { return rx.completions == 1; });
  EXPECT_EQ(rx.result, -ETIMEDOUT);
  // A later receive without a limit gets the data.
  rx.prepare(iod::op_code::receive, p.b.d);
  rx.link_timeout_ns_ = 0;
  start_pending(ctx, rx);
  write_all(p.a.d.fd, "u", 1);
  run_until(ctx, [&] { return rx.completions == 2; });
  EXPECT_EQ(rx.result, 1);
  EXPECT_EQ(rx.data[0], 'u');
}

TEST_F(uring_backend, a_stopped_linked_operation_completes_cancelled_not_timed_out) {
  io::io_context ctx{io::uring};
  socket_pair p;
  transfer_record<8> rx;
  // Cancelled while its SQE is still in the ring, then while the kernel holds it.
  for (bool submitted : {false, true}) {
    int before = rx.completions;
    rx.prepare(iod::op_code::receive, p.b.d);
    rx.link_timeout_ns_ = std::chrono::nanoseconds(60s).count();
    start_pending(ctx, rx);
    if (submitted) {
      ctx.poll();
    }
    cancel(ctx, rx);
    run_until(ctx, [&] { return rx.completions == before + 1; });
    EXPECT_EQ(rx.result, -ECANCELED) << submitted;
  }
}

TEST_F(uring_backend, a_released_linked_operation_is_aborted) {
  io::io_context ctx{io::uring};
  socket_pair p;
  socket_pair q;
  transfer_record<8> held;
  transfer_record<8> unsent;
  held.prepare(iod::op_code::receive, p.b.d);
  held.link_timeout_ns_ = std::chrono::nanoseconds(60s).count();
  start_pending(ctx, held);
  ctx.poll();
  unsent.prepare(iod::op_code::receive, q.b.d);
  unsent.link_timeout_ns_ = std::chrono::nanoseconds(60s).count();
  start_pending(ctx, unsent);
  release(ctx, p.b);
  release(ctx, q.b);
  run_until(ctx, [&] { return held.completions == 1 && unsent.completions == 1; });
  EXPECT_EQ(held.result, iod::io_operation::aborted);
  EXPECT_EQ(unsent.result, iod::io_operation::aborted);
  // Nothing is left: no linked timeout still names a record.
  senet::test::bounded_run(ctx);
}

// A linked operation takes two SQEs: more of them than the ring holds go through the backlog, in
// pairs, and every one of them times out. (One per socket, so that all are handed to the ring.)
TEST_F(uring_backend, linked_operations_beyond_the_ring_all_time_out) {
  constexpr int count = 301;  // 602 SQEs on a 256-entry ring
  io::io_context ctx{io::uring};
  socket_pair p;
  std::vector<std::unique_ptr<socket_pair>> sockets;
  auto records = std::make_unique<transfer_record<8>[]>(count);
  for (int i = 0; i < count; ++i) {
    sockets.push_back(std::make_unique<socket_pair>());
    records[i].prepare(iod::op_code::receive, sockets.back()->b.d);
    records[i].link_timeout_ns_ = std::chrono::nanoseconds(5ms).count();
    start_pending(ctx, records[i]);
  }
  senet::test::bounded_run(ctx);
  for (int i = 0; i < count; ++i) {
    ASSERT_EQ(records[i].completions, 1) << i;
    ASSERT_EQ(records[i].result, -ETIMEDOUT) << i;
  }
  transfer_record<8> rx;
  rx.prepare(iod::op_code::receive, p.b.d);
  rx.link_timeout_ns_ = std::chrono::nanoseconds(60s).count();
  start_pending(ctx, rx);
  write_all(p.a.d.fd, "v", 1);
  run_until(ctx, [&] { return rx.completions == 1; });
  EXPECT_EQ(rx.result, 1);
}

// MSG_DONTWAIT makes io_uring complete a receive that finds no data with -EAGAIN instead of
// waiting: the backend then retries after a POLL_ADD, which must keep the limit (an unlinked poll
// would wait for ever).
TEST_F(uring_backend, a_retried_linked_operation_keeps_its_limit) {
  io::io_context ctx{io::uring};
  socket_pair p;
  transfer_record<8> rx;
  rx.prepare(iod::op_code::receive, p.b.d);
  rx.flags_ = MSG_DONTWAIT;
  rx.link_timeout_ns_ = std::chrono::nanoseconds(20ms).count();
  start_pending(ctx, rx);
  run_until(ctx, [&] { return rx.completions == 1; });
  EXPECT_EQ(rx.result, -ETIMEDOUT);

  // Data that comes while the retry polls is received.
  rx.prepare(iod::op_code::receive, p.b.d);
  rx.flags_ = MSG_DONTWAIT;
  rx.link_timeout_ns_ = std::chrono::nanoseconds(60s).count();
  start_pending(ctx, rx);
  ctx.poll();
  ctx.poll();
  EXPECT_EQ(rx.completions, 1);
  write_all(p.a.d.fd, "w", 1);
  run_until(ctx, [&] { return rx.completions == 2; });
  EXPECT_EQ(rx.result, 1);

  // A stop request during the retry still gives -ECANCELED.
  rx.prepare(iod::op_code::receive, p.b.d);
  rx.flags_ = MSG_DONTWAIT;
  rx.link_timeout_ns_ = std::chrono::nanoseconds(60s).count();
  start_pending(ctx, rx);
  ctx.poll();
  ctx.poll();
  cancel(ctx, rx);
  run_until(ctx, [&] { return rx.completions == 3; });
  EXPECT_EQ(rx.result, -ECANCELED);
}

// ---- order within a direction -------------------------------------------------------------------

// Only one receive of a socket is handed to the ring at a time; the next waits in the socket's queue
// and follows when it completes, so the receives take the bytes in start order.
TEST_F(uring_backend, receives_of_one_socket_take_the_bytes_in_start_order) {
  io::io_context ctx{io::uring};
  socket_pair p;
  std::array<transfer_record<1>, 3> rx;
  for (auto& r : rx) {
    r.prepare(iod::op_code::receive, p.b.d);
    start_pending(ctx, r);
  }
  write_all(p.a.d.fd, "abc", 3);
  run_until(ctx, [&] { return rx[2].completions == 1; });
  for (std::size_t i = 0; i < rx.size(); ++i) {
    ASSERT_EQ(rx[i].completions, 1);
    ASSERT_EQ(rx[i].result, 1);
    EXPECT_EQ(rx[i].data[0], "abc"[i]);
  }
}

// A cancelled queued receive completes at once (through the ready queue) and the others keep
// their order; cancelling the one the kernel holds hands on to the next once the kernel is done.
TEST_F(uring_backend, cancel_queued_and_active_receives_keeps_the_order_of_the_others) {
  io::io_context ctx{io::uring};
  socket_pair p;
  std::array<transfer_record<1>, 4> rx;
  for (auto& r : rx) {
    r.prepare(iod::op_code::receive, p.b.d);
    start_pending(ctx, r);
  }
  ctx.poll();
  cancel(ctx, rx[2]);
  EXPECT_EQ(rx[2].completions, 0) << "cancellation never completes inline";
  run_until(ctx, [&] { return rx[2].completions == 1; });
  EXPECT_EQ(rx[2].result, -ECANCELED);
  cancel(ctx, rx[0]);
  run_until(ctx, [&] { return rx[0].completions == 1; });
  EXPECT_EQ(rx[0].result, -ECANCELED);
  write_all(p.a.d.fd, "xy", 2);
  run_until(ctx, [&] { return rx[3].completions == 1; });
  EXPECT_EQ(rx[1].result, 1);
  EXPECT_EQ(rx[1].data[0], 'x');
  EXPECT_EQ(rx[3].result, 1);
  EXPECT_EQ(rx[3].data[0], 'y');
}

TEST_F(uring_backend, release_aborts_queued_operations) {
  io::io_context ctx{io::uring};
  socket_pair p;
  std::array<transfer_record<8>, 3> rx;
  for (auto& r : rx) {
    r.prepare(iod::op_code::receive, p.b.d);
    start_pending(ctx, r);
  }
  ctx.poll();
  release(ctx, p.b);
  run_until(ctx, [&] { return rx[0].completions == 1 && rx[1].completions == 1 && rx[2].completions == 1; });
  for (auto& r : rx) {
    EXPECT_EQ(r.result, iod::io_operation::aborted);
  }
}

// A queued receive with a time limit is not in the kernel yet, so no linked timeout runs for it:
// the backend times it out itself, even behind a receive that waits without a limit.
TEST_F(uring_backend, a_queued_operation_times_out_behind_one_without_a_limit) {
  io::io_context ctx{io::uring};
  socket_pair p;
  transfer_record<1> first;
  transfer_record<1> limited;
  transfer_record<1> last;
  first.prepare(iod::op_code::receive, p.b.d);
  limited.prepare(iod::op_code::receive, p.b.d);
  limited.link_timeout_ns_ = std::chrono::nanoseconds(20ms).count();
  last.prepare(iod::op_code::receive, p.b.d);
  start_pending(ctx, first);
  start_pending(ctx, limited);
  start_pending(ctx, last);
  run_until(ctx, [&] { return limited.completions == 1; });
  EXPECT_EQ(limited.result, -ETIMEDOUT);
  EXPECT_EQ(first.completions, 0);
  EXPECT_EQ(last.completions, 0);
  write_all(p.a.d.fd, "12", 2);
  run_until(ctx, [&] { return last.completions == 1; });
  EXPECT_EQ(first.data[0], '1');
  EXPECT_EQ(last.data[0], '2');
}

// Sends queue like receives: an eager send that finds the socket's buffer full goes to the ring,
// and the sends started after it wait behind it (none tries the system call first while it
// waits), so the bytes leave in start order.
TEST_F(uring_backend, a_send_queued_behind_a_waiting_send_is_not_tried_first) {
  io::io_context ctx{io::uring};
  socket_pair p;
  p.a.d.eager |= iod::eager_send;
  int size = 4096;
  ASSERT_EQ(::setsockopt(p.a.d.fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size), 0);
  // Fill a's send buffer (and b's receive buffer).
  std::array<char, 4096> filler{};
  while (::send(p.a.d.fd, filler.data(), filler.size(), MSG_DONTWAIT | MSG_NOSIGNAL) > 0) {
  }
  transfer_record<4096> blocked;
  blocked.prepare(iod::op_code::send, p.a.d);
  blocked.data.fill('B');
  start_pending(ctx, blocked);
  // Make room: the next send could be written at once, but must wait behind the blocked one.
  std::vector<char> sink(1 << 20);
  ::ssize_t drained = 0;
  for (::ssize_t n; (n = ::recv(p.b.d.fd, sink.data(), sink.size(), MSG_DONTWAIT)) > 0;) {
    drained += n;
  }
  ASSERT_GT(drained, 0);
  transfer_record<1> after;
  after.prepare(iod::op_code::send, p.a.d);
  after.data[0] = 'A';
  start_pending(ctx, after);
  run_until(ctx, [&] { return after.completions == 1; });
  ASSERT_EQ(blocked.completions, 1);
  ASSERT_GT(blocked.result, 0);
  EXPECT_EQ(after.result, 1);
  std::string got;
  for (int i = 0; i < 1000 && got.size() < static_cast<std::size_t>(blocked.result) + 1; ++i) {
    ::ssize_t n = ::recv(p.b.d.fd, sink.data(), sink.size(), MSG_DONTWAIT);
    if (n > 0) {
      got.append(sink.data(), static_cast<std::size_t>(n));
    } else {
      ::pollfd pfd{p.b.d.fd, POLLIN, 0};
      ::poll(&pfd, 1, 10);
    }
  }
  ASSERT_EQ(got.size(), static_cast<std::size_t>(blocked.result) + 1);
  EXPECT_EQ(got.back(), 'A');
  EXPECT_EQ(got.find('A'), got.size() - 1);
}

// ---- trying first ---------------------------------------------------------------------------------

// Without eager_send a send goes to the ring (the default, chosen by measurement); with it, a send
// the socket has room for completes inside start, and once a send failed with EPIPE there too.
TEST_F(uring_backend, an_eager_send_with_room_completes_inside_start) {
  io::io_context ctx{io::uring};
  socket_pair p;
  transfer_record<5> plain;
  plain.prepare(iod::op_code::send, p.a.d);
  start_pending(ctx, plain);
  run_until(ctx, [&] { return plain.completions == 1; });
  EXPECT_EQ(plain.result, 5);
  p.a.d.eager |= iod::eager_send;
  transfer_record<5> tx;
  tx.prepare(iod::op_code::send, p.a.d);
  std::copy_n("hello", 5, tx.data.begin());
  start_at_once(ctx, tx);
  EXPECT_EQ(tx.completions, 1);
  EXPECT_EQ(tx.result, 5);
  char got[10];
  EXPECT_EQ(::recv(p.b.d.fd, got, 10, MSG_DONTWAIT), 10);
  EXPECT_EQ(ctx.poll(), 0U) << "nothing went through the ring";
  p.b.close();
  tx.prepare(iod::op_code::send, p.a.d);
  start_at_once(ctx, tx);
  EXPECT_EQ(tx.result, -EPIPE);
}

TEST_F(uring_backend, a_send_to_a_full_socket_goes_to_the_ring) {
  io::io_context ctx{io::uring};
  socket_pair p;
  std::array<char, 4096> filler{};
  while (::send(p.a.d.fd, filler.data(), filler.size(), MSG_DONTWAIT | MSG_NOSIGNAL) > 0) {
  }
  transfer_record<64> tx;
  tx.prepare(iod::op_code::send, p.a.d);
  start_pending(ctx, tx);
  ctx.poll();
  EXPECT_EQ(tx.completions, 0);
  std::vector<char> sink(1 << 20);
  while (::recv(p.b.d.fd, sink.data(), sink.size(), MSG_DONTWAIT) > 0) {
  }
  run_until(ctx, [&] { return tx.completions == 1; });
  EXPECT_EQ(tx.result, 64);
}

// Without the socket's eager_receive setting a receive goes to the ring even when data waits (the
// behaviour does not change); with it, it completes inside start when data waits, and goes to the
// ring when none does.
TEST_F(uring_backend, a_receive_tries_first_only_when_its_descriptor_asks) {
  io::io_context ctx{io::uring};
  socket_pair p;
  write_all(p.a.d.fd, "ab", 2);
  transfer_record<1> rx;
  rx.prepare(iod::op_code::receive, p.b.d);
  start_pending(ctx, rx);
  run_until(ctx, [&] { return rx.completions == 1; });
  EXPECT_EQ(rx.result, 1);
  EXPECT_EQ(rx.data[0], 'a');

  p.b.d.eager |= iod::eager_receive;
  rx.prepare(iod::op_code::receive, p.b.d);
  start_at_once(ctx, rx);
  EXPECT_EQ(rx.completions, 2);
  EXPECT_EQ(rx.result, 1);
  EXPECT_EQ(rx.data[0], 'b');

  rx.prepare(iod::op_code::receive, p.b.d);
  start_pending(ctx, rx);
  write_all(p.a.d.fd, "c", 1);
  run_until(ctx, [&] { return rx.completions == 3; });
  EXPECT_EQ(rx.result, 1);
  EXPECT_EQ(rx.data[0], 'c');

  // At end of stream an eager receive completes inside start with 0.
  ::shutdown(p.a.d.fd, SHUT_WR);
  rx.prepare(iod::op_code::receive, p.b.d);
  start_at_once(ctx, rx);
  EXPECT_EQ(rx.result, 0);
}

}  // namespace
