// SPDX-License-Identifier: BSL-1.0
// ~io_context: cancels what is pending, and does not wait forever for an operation whose
// cancellation never finishes (docs/design/io_core.md, "Shutdown").
#include <senet/io/io_context.hpp>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/test_network.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/sockets.hpp>

#include <support/backend_fixture.hpp>
#include <support/io_probe.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <optional>
#include <string>

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

template <class Backend>
class io_context_shutdown : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(io_context_shutdown, senet::test::all_backends, senet::test::backend_names);

// The usual case: the pending receive is cancelled, completes stopped during the destructor, and
// nothing is printed.
TYPED_TEST(io_context_shutdown, cancels_a_pending_operation_silently) {
  auto pair = this->tcp_pair();
  char byte = 0;
  senet::test::io_outcome<std::size_t> outcome;
  auto op = ex::connect(net::async_receive(pair.server, buffer(&byte, 1)),
                        senet::test::io_probe<std::size_t>{&this->ctx(), &outcome});
  ex::start(op);
  this->ctx().poll();
  ASSERT_FALSE(outcome.done.load());
  testing::internal::CaptureStderr();
  this->ctx_.reset();
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(outcome.done.load());
  EXPECT_TRUE(outcome.stopped_once());
  EXPECT_EQ(err, "");
}

// An operation whose cancellation is ignored (injected through the test backend, as the kernel's
// side of io_uring cannot be made to ignore one on purpose): the destructor gives up after its
// patience (5 s on the backend's clock, virtual here, so the test takes no time), says on stderr
// what it abandoned, and never delivers it.
TEST(io_context_shutdown_bounded, gives_up_on_an_operation_whose_cancellation_is_ignored) {
  if (!io::io_context::is_available(io::backend_kind::test)) {
    GTEST_SKIP() << "the test backend is not available here";
  }
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  std::optional<io::io_context> ctx(std::in_place, io::backend_kind::test);
  auto pair = senet::test::connect_pair(*ctx, acceptor);
  char byte = 0;
  senet::test::io_outcome<std::size_t> outcome;
  auto op = ex::connect(net::async_receive(pair.server, buffer(&byte, 1)),
                        senet::test::io_probe<std::size_t>{&*ctx, &outcome});
  ex::start(op);
  ctx->poll();
  ASSERT_FALSE(outcome.done.load());
  io::test_network::of(*ctx).ignore_cancellation(pair.server);
  outcome.abandoned = true;

  testing::internal::CaptureStderr();
  auto destroyed = std::async(std::launch::async, [&] { ctx.reset(); });
  ASSERT_EQ(destroyed.wait_for(std::chrono::seconds(30)), std::future_status::ready)
      << "~io_context waits forever for an operation that ignores cancellation";
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_FALSE(outcome.done.load());  // abandoned, never delivered
  EXPECT_NE(err.find("~io_context (test backend): 1 operation(s) still pending 5000 ms"), std::string::npos)
      << err;
  EXPECT_NE(err.find("receive (record "), std::string::npos) << err;
  EXPECT_NE(err.find("abandoned"), std::string::npos) << err;
  // The socket outlives the context; closing it frees its orphaned state (LeakSanitizer checks).
  pair.server.close();
}

}  // namespace
