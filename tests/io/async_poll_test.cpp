// SPDX-License-Identifier: BSL-1.0
#include <senet/io/async_poll.hpp>

#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/forget_descriptor.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/poll_events.hpp>
#include <senet/net/async_wait.hpp>

#include <support/backend_fixture.hpp>
#include <support/io_probe.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <system_error>
#include <thread>
#include <tuple>
#include <type_traits>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
using io::poll_events;

/** A descriptor closed at the end of the test (after the context forgot it). */
struct fd_holder {
  int fd = -1;
  fd_holder() = default;
  explicit fd_holder(int f) : fd(f) {}
  fd_holder(const fd_holder&) = delete;
  fd_holder& operator=(const fd_holder&) = delete;
  ~fd_holder() { reset(); }
  void reset() {
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
  }
};

struct pipe_fds {
  fd_holder read_end;
  fd_holder write_end;
  pipe_fds() {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0) {
      read_end.fd = fds[0];
      write_end.fd = fds[1];
    }
  }
};

// A Unix stream socket pair that no senet socket owns ("another library's sockets").
struct foreign_socket_pair {
  fd_holder a;
  fd_holder b;
  foreign_socket_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0) {
      a.fd = fds[0];
      b.fd = fds[1];
    }
  }
};

void write_byte(int fd) {
  char c = 'p';
  ASSERT_EQ(::write(fd, &c, 1), 1);
}

template <class Backend>
class async_poll_test : public senet::test::backend_fixture<Backend> {
 protected:
  // Runs `fn` on the context's thread in a later turn (after the waits started).
  template <class Fn>
  auto later(Fn fn) {
    return ex::schedule(this->scheduler()) | ex::then(std::move(fn));
  }

  // Forgets every descriptor the test used before the holders close them.
  void forget(int fd) { io::forget_descriptor(this->ctx(), fd); }
};

TYPED_TEST_SUITE(async_poll_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(async_poll_test, completion_signatures) {
  using sender = decltype(io::async_poll(this->scheduler(), 0, poll_events::readable));
  static_assert(ex::sender<sender>);
  static_assert(
      std::is_same_v<typename sender::completion_signatures,
                     ex::completion_signatures<ex::set_value_t(poll_events), ex::set_error_t(std::error_code),
                                               ex::set_stopped_t()>>);
}

TYPED_TEST(async_poll_test, a_pipe_becomes_readable) {
  pipe_fds p;
  ASSERT_GE(p.read_end.fd, 0);
  auto r = this->run(ex::when_all(io::async_poll(this->scheduler(), p.read_end.fd, poll_events::readable),
                                  this->later([&] { write_byte(p.write_end.fd); })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), poll_events::readable) << io::to_string(std::get<0>(*r));
  // Level: still readable, nothing was read; a second wait on the same registration completes too.
  EXPECT_EQ(this->value_of(io::async_poll(this->scheduler(), p.read_end.fd, poll_events::readable)),
            poll_events::readable);
  this->forget(p.read_end.fd);
}

TYPED_TEST(async_poll_test, pipe_ends_report_hangup_and_error) {
  pipe_fds p;
  auto r = this->run(ex::when_all(io::async_poll(this->scheduler(), p.read_end.fd, poll_events::readable),
                                  this->later([&] { p.write_end.reset(); })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), poll_events::hangup) << io::to_string(std::get<0>(*r));
  this->forget(p.read_end.fd);

  pipe_fds q;
  q.read_end.reset();
  poll_events e = this->value_of(io::async_poll(this->scheduler(), q.write_end.fd, poll_events::writable));
  EXPECT_EQ(e, poll_events::writable | poll_events::error) << io::to_string(e);
  this->forget(q.write_end.fd);
}

TYPED_TEST(async_poll_test, two_waits_for_different_events_on_one_descriptor) {
  foreign_socket_pair s;
  ASSERT_GE(s.a.fd, 0);
  // Fill a's send queue, so that it is neither readable nor writable.
  char block[4096] = {};
  std::size_t filled = 0;
  while (::send(s.a.fd, block, sizeof block, MSG_DONTWAIT) > 0) {
    filled += sizeof block;
  }
  ASSERT_GT(filled, 0U);
  senet::test::io_outcome<poll_events> readable;
  senet::test::io_outcome<poll_events> writable;
  auto read_op = ex::connect(io::async_poll(this->scheduler(), s.a.fd, poll_events::readable),
                             senet::test::io_probe<poll_events>{&this->ctx(), &readable});
  auto write_op = ex::connect(io::async_poll(this->scheduler(), s.a.fd, poll_events::writable),
                              senet::test::io_probe<poll_events>{&this->ctx(), &writable});
  ex::start(read_op);
  ex::start(write_op);
  this->ctx().poll();
  EXPECT_FALSE(readable.done.load());
  EXPECT_FALSE(writable.done.load());
  // Data for a: only the read wait completes.
  write_byte(s.b.fd);
  senet::test::run_until_done(this->ctx(), readable);
  EXPECT_TRUE(readable.value_once() && readable.value == std::tuple(poll_events::readable));
  this->ctx().poll();
  EXPECT_FALSE(writable.done.load());
  // b drains a's queue: the write wait completes.
  while (::recv(s.b.fd, block, sizeof block, MSG_DONTWAIT) > 0) {
  }
  senet::test::run_until_done(this->ctx(), writable);
  ASSERT_TRUE(writable.value_once());
  EXPECT_TRUE(has(std::get<0>(*writable.value), poll_events::writable))
      << io::to_string(std::get<0>(*writable.value));
  this->forget(s.a.fd);
}

TYPED_TEST(async_poll_test, an_eventfd_wakes_every_wait) {
  fd_holder efd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  ASSERT_GE(efd.fd, 0);
  auto wait = [&] { return io::async_poll(this->scheduler(), efd.fd, poll_events::readable); };
  auto r = this->run(ex::when_all(wait(), wait(), wait(), this->later([&] {
    std::uint64_t one = 1;
    ASSERT_EQ(::write(efd.fd, &one, sizeof one), 8);
  })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, std::tuple(poll_events::readable, poll_events::readable, poll_events::readable));
  this->forget(efd.fd);
}

TYPED_TEST(async_poll_test, forgetting_aborts_a_pending_poll) {
  pipe_fds p;
  std::error_code ec = this->error_of(ex::when_all(
      io::async_poll(this->scheduler(), p.read_end.fd, poll_events::readable),
      this->later([&] { EXPECT_TRUE(io::forget_descriptor(this->scheduler(), p.read_end.fd)); })));
  EXPECT_EQ(ec, senet::error::operation_aborted);
  // Forgetting it again does nothing; a new wait registers it afresh.
  EXPECT_FALSE(io::forget_descriptor(this->ctx(), p.read_end.fd));
  write_byte(p.write_end.fd);
  EXPECT_EQ(this->value_of(io::async_poll(this->scheduler(), p.read_end.fd, poll_events::readable)),
            poll_events::readable);
  this->forget(p.read_end.fd);
}

TYPED_TEST(async_poll_test, a_forgotten_descriptor_can_be_closed_and_its_number_reused) {
  for (int i = 0; i < 50; ++i) {
    pipe_fds p;
    write_byte(p.write_end.fd);
    ASSERT_EQ(this->value_of(io::async_poll(this->scheduler(), p.read_end.fd, poll_events::readable)),
              poll_events::readable);
    ASSERT_TRUE(io::forget_descriptor(this->ctx(), p.read_end.fd));
    // The next pipe gets the same numbers; it is not readable, and its waits see its own events.
    p.read_end.reset();
    p.write_end.reset();
    pipe_fds q;
    auto r = this->run(ex::when_all(io::async_poll(this->scheduler(), q.read_end.fd, poll_events::readable),
                                    this->later([&] { write_byte(q.write_end.fd); })));
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(std::get<0>(*r), poll_events::readable);
    ASSERT_TRUE(io::forget_descriptor(this->ctx(), q.read_end.fd));
  }
}

TYPED_TEST(async_poll_test, stop_request_cancels_a_pending_poll) {
  pipe_fds p;
  bool stopped = false;
  auto r = this->run(ex::when_any(io::async_poll(this->scheduler(), p.read_end.fd, poll_events::readable) |
                                      ex::upon_stopped([&] { stopped = true; }) | ex::then([](auto&&...) {}),
                                  net::async_wait_for(1ms)));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(stopped);
  this->forget(p.read_end.fd);
}

TYPED_TEST(async_poll_test, stop_request_from_another_thread) {
  pipe_fds p;
  write_byte(p.write_end.fd);
  // Even rounds wait for something that never comes; odd ones race a ready descriptor.
  for (int i = 0; i < 1000; ++i) {
    senet::test::io_outcome<poll_events> outcome;
    auto op = ex::connect(
        io::async_poll(this->scheduler(), i % 2 == 0 ? p.write_end.fd : p.read_end.fd, poll_events::readable),
        senet::test::io_probe<poll_events>{&this->ctx(), &outcome});
    std::thread loop([&] { senet::test::run_until_done(this->ctx(), outcome); });
    ex::start(op);
    outcome.stop.request_stop();
    loop.join();
    if (i % 2 == 0) {
      ASSERT_TRUE(outcome.stopped_once()) << i;
    } else {
      ASSERT_TRUE(outcome.stopped_once() ||
                  (outcome.value_once() && outcome.value == std::tuple(poll_events::readable)))
          << i << ": " << outcome.describe();
    }
  }
  this->forget(p.read_end.fd);
  this->forget(p.write_end.fd);
}

TYPED_TEST(async_poll_test, bad_inputs_are_errors) {
  EXPECT_EQ(this->error_of(io::async_poll(this->scheduler(), -1, poll_events::readable)),
            std::errc::bad_file_descriptor);
  pipe_fds p;
  EXPECT_EQ(this->error_of(io::async_poll(this->scheduler(), p.read_end.fd, static_cast<poll_events>(0x40))),
            std::errc::invalid_argument);
  // A number that is no open descriptor.
  int closed = ::dup(p.read_end.fd);
  ::close(closed);
  EXPECT_EQ(this->error_of(io::async_poll(this->scheduler(), closed, poll_events::readable)),
            std::errc::bad_file_descriptor);
  this->forget(closed);
}

TYPED_TEST(async_poll_test, never_completes_inline_in_start) {
  pipe_fds p;
  write_byte(p.write_end.fd);
  int inline_completions = 0;
  for (int i = 0; i < 100; ++i) {
    senet::test::io_outcome<poll_events> outcome;
    auto op = ex::connect(io::async_poll(this->scheduler(), p.read_end.fd, poll_events::readable),
                          senet::test::io_probe<poll_events>{&this->ctx(), &outcome});
    ASSERT_TRUE(this->run(this->later([&] {
                      ex::start(op);
                      inline_completions += outcome.done.load() ? 1 : 0;
                    }))
                    .has_value());
    senet::test::run_until_done(this->ctx(), outcome);
    ASSERT_TRUE(outcome.value_once() && outcome.value == std::tuple(poll_events::readable));
  }
  EXPECT_EQ(inline_completions, 0);
  this->forget(p.read_end.fd);
}

}  // namespace
