// SPDX-License-Identifier: BSL-1.0
// The generic networking sender: the adaptor form `upstream | net::async_...(...)` (P2762 §3.1
// option 2), which takes the I/O scheduler from the upstream sender's completion scheduler.
#include <senet/net/detail/io_sender.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/sockets.hpp>

#include <support/allocation_counter.hpp>
#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

// Runs a context on a thread of its own for the lifetime of the object.
class context_thread {
 public:
  explicit context_thread(io::io_context& ctx)
      : guard_(ctx), thread_([&ctx] { senet::test::bounded_run(ctx); }) {}
  context_thread(const context_thread&) = delete;
  context_thread& operator=(const context_thread&) = delete;
  ~context_thread() {
    guard_.reset();
    thread_.join();
  }
  [[nodiscard]] std::thread::id id() const noexcept { return thread_.get_id(); }

 private:
  io::io_context::work_guard guard_;
  std::thread thread_;
};

template <class Backend>
class io_sender_adaptor : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(io_sender_adaptor, senet::test::all_backends, senet::test::backend_names);

// Under sync_wait the receiver's environment names a run_loop: only the upstream sender's
// completion scheduler can tell the accept where to run.
TYPED_TEST(io_sender_adaptor, schedule_then_accept_runs_on_the_upstream_scheduler) {
  auto sch = this->scheduler();
  ip::tcp::acceptor acceptor = senet::test::listen_tcp(ip::tcp::v4());
  ip::tcp::socket client;
  std::thread::id accepted_on{};
  auto ep = acceptor.local_endpoint();
  ip::tcp::socket accepted;
  ip::tcp::endpoint peer;
  {
    context_thread runner(this->ctx());
    auto r = ex::sync_wait(ex::when_all(ex::schedule(sch) | net::async_accept(acceptor) |
                                            ex::then([&](ip::tcp::socket s, ip::tcp::endpoint p) {
                                              accepted_on = std::this_thread::get_id();
                                              accepted = std::move(s);
                                              peer = p;
                                            }),
                                        net::async_connect(sch, client, ep)));
    EXPECT_TRUE(r.has_value());
    EXPECT_EQ(accepted_on, runner.id());
  }
  EXPECT_TRUE(accepted.is_open());
  EXPECT_EQ(peer, client.local_endpoint());
}

TYPED_TEST(io_sender_adaptor, every_kind_of_operation_takes_the_upstream_scheduler) {
  auto pair = this->tcp_pair();
  auto sch = this->scheduler();
  std::string out = "adaptor";
  std::array<char, 7> in{};
  std::array<char, 3> more{};
  context_thread runner(this->ctx());
  auto sent = ex::sync_wait(ex::schedule(sch) | net::async_send(pair.client, buffer(out)));
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(std::get<0>(*sent), out.size());
  auto read = ex::sync_wait(ex::schedule(sch) | net::async_read(pair.server, buffer(in)));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(std::string(in.data(), in.size()), out);
  auto written = ex::sync_wait(ex::schedule(sch) | net::async_write(pair.client, buffer(out.data(), 3)));
  ASSERT_TRUE(written.has_value());
  auto received = ex::sync_wait(ex::schedule(sch) | net::async_receive(pair.server, buffer(more)));
  ASSERT_TRUE(received.has_value());
  EXPECT_GE(std::get<0>(*received), 1U);
  auto waited = ex::sync_wait(ex::schedule(sch) | net::async_wait_for(1ms));
  EXPECT_TRUE(waited.has_value());
}

TYPED_TEST(io_sender_adaptor, the_upstream_values_are_ignored) {
  auto sch = this->scheduler();
  context_thread runner(this->ctx());
  auto r = ex::sync_wait(ex::schedule(sch) | ex::then([] { return 42; }) | net::async_wait_for(1ms) |
                         ex::then([] { return 7; }));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 7);
}

TYPED_TEST(io_sender_adaptor, a_stopped_upstream_passes_through) {
  auto pair = this->tcp_pair();
  auto sch = this->scheduler();
  std::array<char, 1> in{};
  auto const reset = std::make_error_code(std::errc::connection_reset);
  context_thread runner(this->ctx());
  // The error stops the other branch: its schedule (or, if it ran, the receive that nothing feeds).
  EXPECT_THROW(
      ex::sync_wait(ex::when_all(ex::schedule(sch) | net::async_receive(pair.server, buffer(in)),
                                 ex::just() | ex::then([&]() -> int { throw std::system_error(reset); }))),
      std::system_error);
}

TYPED_TEST(io_sender_adaptor, no_allocation_per_operation) {
  auto pair = this->tcp_pair();
  auto sch = this->scheduler();
  std::array<unsigned char, 64> out{};
  std::array<unsigned char, 64> in{};
  auto round_trip = [&] {
    return ex::when_all(ex::schedule(sch) | net::async_write(pair.client, buffer(out)),
                        ex::schedule(sch) | net::async_read(pair.server, buffer(in)),
                        sch.schedule_after(0ms) | net::async_wait_for(0ms));
  };
  // Warm up: the first wait registers the descriptors with the context.
  for (int i = 0; i < 4; ++i) {
    this->run(round_trip());
  }
  senet::test::allocation_scope scope;
  for (int i = 0; i < 100; ++i) {
    this->run(round_trip());
  }
  auto n = scope.count();
  EXPECT_EQ(n, 0U);
}

}  // namespace
