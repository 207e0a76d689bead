// SPDX-License-Identifier: BSL-1.0
#include <senet/io/forget_descriptor.hpp>

#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/async_poll.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/poll_events.hpp>

#include <support/backend_fixture.hpp>
#include <support/io_probe.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <stdexcept>
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

TYPED_TEST(forget_descriptor_test, from_another_thread_while_the_context_runs_it_throws) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  std::atomic<bool> running{false};
  std::optional<std::tuple<io::poll_events>> result;
  // run_until keeps the loop thread running the context until the poll completes.
  std::thread loop([&] {
    auto r = this->ctx().run_until(
        ex::when_all(ex::just() | ex::then([&] { running = true; }),
                     io::async_poll(this->scheduler(), fds[0], io::poll_events::readable)));
    if (r) {
      result.emplace(std::get<0>(*r));
    }
  });
  while (!running.load()) {
    std::this_thread::yield();
  }
  EXPECT_THROW(io::forget_descriptor(this->ctx(), fds[0]), std::logic_error);
  char c = 'x';
  ASSERT_EQ(::write(fds[1], &c, 1), 1);
  loop.join();
  EXPECT_EQ(result, std::tuple(io::poll_events::readable));
  // Now that no thread runs it, the calling thread may.
  EXPECT_TRUE(io::forget_descriptor(this->ctx(), fds[0]));
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
