// SPDX-License-Identifier: BSL-1.0
#include <senet/io/forget_descriptor.hpp>

#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/async_poll.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/poll_events.hpp>

#include <support/backend_fixture.hpp>
#include <support/deadline.hpp>
#include <support/io_probe.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <optional>
#include <system_error>
#include <thread>
#include <tuple>

#include <fcntl.h>
#include <unistd.h>

// The interplay with pending polls is tested in async_poll_test.cpp.

namespace {

namespace ex = senet::ex;
namespace io = senet::io;

template <class Backend>
class forget_descriptor_test : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(forget_descriptor_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(forget_descriptor_test, unknown_descriptors_are_not_an_error) {
  EXPECT_FALSE(io::forget_descriptor(this->ctx(), 12345));
  EXPECT_FALSE(io::forget_descriptor(this->scheduler(), -1));
}

TYPED_TEST(forget_descriptor_test, from_another_thread_while_the_context_runs_aborts_the_poll) {
  // The forget is handed to the thread running the context and waited for; the pending poll then
  // completes with operation_aborted, on the context's thread. Repeated, so that the forget meets
  // the loop in every state (waiting in the kernel, between turns, delivering).
  for (int i = 0; i < 200; ++i) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    std::atomic<bool> running{false};
    std::error_code ec;
    std::thread::id completed_on{};
    std::thread loop([&] {
      try {
        this->run(ex::when_all(ex::just() | ex::then([&] { running = true; }),
                               io::async_poll(this->scheduler(), fds[0], io::poll_events::readable) |
                                   ex::upon_error([&](std::error_code e) {
                                     ec = e;
                                     completed_on = std::this_thread::get_id();
                                     return io::poll_events{};
                                   })));
      } catch (...) {
        ADD_FAILURE() << "run_until threw";
      }
    });
    senet::test::spin_until([&] { return running.load(); }, "the loop thread running");
    EXPECT_TRUE(io::forget_descriptor(this->ctx(), fds[0]));
    loop.join();
    EXPECT_EQ(ec, senet::error::operation_aborted) << "iteration " << i;
    EXPECT_NE(completed_on, std::this_thread::get_id());
    // The context forgot it: forgetting again finds nothing.
    EXPECT_FALSE(io::forget_descriptor(this->ctx(), fds[0]));
    ::close(fds[0]);
    ::close(fds[1]);
  }
}

TYPED_TEST(forget_descriptor_test,
           a_poll_handed_off_before_its_descriptor_was_forgotten_and_closed_fails_once) {
  // Started on a thread that does not run the context, the poll reaches the loop only when it
  // runs, after its descriptor was forgotten (the registry's entry, which an earlier poll made, is
  // freed) and closed: it completes once with bad_file_descriptor (async_poll: "for a negative or
  // closed fd"), and the next descriptor with that number is waited on as a new one.
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  // An earlier poll registers the descriptor (the registry keeps it after its completion).
  EXPECT_TRUE(this->run(io::async_poll(this->scheduler(), fds[0], io::poll_events::readable)).has_value());
  senet::test::io_outcome<io::poll_events> outcome;
  auto op = ex::connect(io::async_poll(this->scheduler(), fds[0], io::poll_events::readable),
                        senet::test::io_probe<io::poll_events>{&this->ctx(), &outcome});
  std::thread([&] { ex::start(op); }).join();
  EXPECT_TRUE(io::forget_descriptor(this->ctx(), fds[0]));
  int number = fds[0];
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_TRUE(senet::test::run_until_done(this->ctx(), outcome));
  EXPECT_TRUE(outcome.error_once(std::error_code(EBADF, std::system_category())));
  // The number's next descriptor (a fresh pipe's read end, moved to it) is a new one to the
  // context, whatever the failed poll left behind.
  int next[2];
  ASSERT_EQ(::pipe2(next, O_NONBLOCK | O_CLOEXEC), 0);
  ASSERT_NE(next[1], number);
  if (next[0] != number) {
    ASSERT_EQ(::dup3(next[0], number, O_CLOEXEC), number);
    ::close(next[0]);
  }
  ASSERT_EQ(::write(next[1], "y", 1), 1);
  auto r = this->run(io::async_poll(this->scheduler(), number, io::poll_events::readable));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(io::has(std::get<0>(*r), io::poll_events::readable));
  io::forget_descriptor(this->ctx(), number);
  ::close(number);
  ::close(next[1]);
}

}  // namespace
