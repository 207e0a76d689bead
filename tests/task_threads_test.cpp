// SPDX-License-Identifier: BSL-1.0
// senet::task across threads: a body resumed on the io_context's thread while the task was
// started on another, and stop requests from a third. Run under ThreadSanitizer.
#include <senet/task.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/basic_stream_socket.hpp>

#include "support/backend_fixture.hpp"
#include "support/loopback.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <thread>

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
using senet::task;

struct env {
  io::io_context::scheduler_type sch;
  ex::inplace_stop_token token;
  auto query(io::get_io_scheduler_t) const noexcept { return sch; }
  auto query(ex::get_stop_token_t) const noexcept { return token; }
};
struct rcvr {
  using receiver_concept = ex::receiver_t;
  env e;
  bool* stopped;
  void set_value() && noexcept { ADD_FAILURE() << "the receive completed"; }
  void set_error(std::exception_ptr) && noexcept { ADD_FAILURE() << "the task failed"; }
  void set_stopped() && noexcept { *stopped = true; }
  env get_env() const noexcept { return e; }
};
template <class Backend>
class task_threads : public senet::test::backend_fixture<Backend> {};
TYPED_TEST_SUITE(task_threads, senet::test::all_backends, senet::test::backend_names);

task<int> hop(io::io_context::scheduler_type sch, int v) {
  co_await ex::schedule(sch);  // completes on the context's thread: the race with await_suspend
  co_return v;
}

TYPED_TEST(task_threads, resumed_on_the_context_thread_many_times) {
  auto& ctx = this->ctx();
  std::optional<io::io_context::work_guard> guard(std::in_place, ctx);
  std::thread runner([&ctx] { ctx.run(); });
  auto sch = ctx.get_scheduler();
  auto body = [](io::io_context::scheduler_type s) -> task<long> {
    long sum = 0;
    for (int i = 0; i < 2000; ++i) {
      sum += co_await hop(s, i);
      co_await ex::schedule(s);
    }
    co_return sum;
  };
  auto r = ex::sync_wait(body(sch));
  guard.reset();
  runner.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), 1999L * 2000 / 2);
}

TYPED_TEST(task_threads, stop_from_another_thread_ends_a_pending_receive) {
  auto& ctx = this->ctx();
  auto acceptor = senet::test::listen_tcp(senet::ip::tcp::v4());
  auto pair = senet::test::connect_pair(ctx, acceptor);
  for (int i = 0; i < 200; ++i) {
    ex::inplace_stop_source source;
    bool after = false;
    auto waiter = [](senet::ip::tcp::socket& s, bool* a) -> task<void> {
      char buf[4];
      co_await net::async_receive(s, senet::buffer(buf));
      *a = true;
    };
    std::thread stopper([&source] { source.request_stop(); });
    bool stopped = false;
    auto op =
        ex::connect(waiter(pair.server, &after), rcvr{{ctx.get_scheduler(), source.get_token()}, &stopped});
    ex::start(op);
    stopper.join();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!stopped && std::chrono::steady_clock::now() < deadline) {
      ctx.run_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(stopped) << "iteration " << i;
    EXPECT_FALSE(after);
    ctx.restart();
  }
}

}  // namespace
