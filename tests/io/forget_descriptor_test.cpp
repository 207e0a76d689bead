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

}  // namespace
