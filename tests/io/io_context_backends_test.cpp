// SPDX-License-Identifier: BSL-1.0
// io_context behaviour that every backend shares, with sockets: pending operations at
// destruction, sockets outliving their context, many connections at once, operations started
// from other threads, and a foreign run loop driving the context through wait_descriptor().
#include <senet/io/io_context.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/sockets.hpp>

#include <support/backend_fixture.hpp>
#include <support/io_probe.hpp>
#include <support/loopback.hpp>
#include <support/run.hpp>
#include <support/thread_state.hpp>

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

template <class F>
struct emplacer {
  F f;
  operator std::invoke_result_t<F&>() { return f(); }
};

template <class Backend>
class io_context_backends : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(io_context_backends, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(io_context_backends, destroying_the_context_stops_pending_operations) {
  auto pair = this->tcp_pair();
  senet::test::io_outcome<std::size_t> receive;
  senet::test::io_outcome<> wait;
  char in = 0;
  {
    auto op1 = ex::connect(net::async_receive(pair.server, buffer(&in, 1)),
                           senet::test::io_probe<std::size_t>{&this->ctx(), &receive});
    auto op2 = ex::connect(net::async_wait_for(1h), senet::test::io_probe<>{&this->ctx(), &wait});
    ex::start(op1);
    ex::start(op2);
    this->ctx().poll();
    EXPECT_FALSE(receive.done.load());
    EXPECT_FALSE(wait.done.load());
    this->ctx_.reset();  // the operation states outlive the context here
  }
  EXPECT_TRUE(receive.stopped_once());
  EXPECT_TRUE(wait.stopped_once());
}

TYPED_TEST(io_context_backends, sockets_outlive_their_context_and_serve_a_new_one) {
  auto pair = this->tcp_pair();
  char in = 0;
  // A receive that waits registers the socket with the first context.
  bool stopped = false;
  ASSERT_TRUE(
      this->run(ex::when_any(net::async_receive(pair.server, buffer(&in, 1)) | ex::then([](std::size_t) {}) |
                                 ex::upon_stopped([&] { stopped = true; }),
                             net::async_wait_for(1ms)))
          .has_value());
  ASSERT_TRUE(stopped);
  this->ctx_.reset();
  if (this->kind == io::backend_kind::test) {
    // A simulated connection belongs to its context: only closing is meaningful now.
    pair = {};
    SUCCEED();
    return;
  }
  io::io_context next{this->kind};
  char out = 'n';
  auto r = next.run_until(ex::when_all(net::async_receive(pair.server, buffer(&in, 1)),
                                       net::async_send(pair.client, buffer(&out, 1))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(in, 'n');
}

TYPED_TEST(io_context_backends, many_connections_at_once) {
  constexpr int count = 64;
  auto acceptor = senet::test::listen_tcp(ip::tcp::v4());
  std::vector<senet::test::stream_pair<ip::tcp>> pairs;
  for (int i = 0; i < count; ++i) {
    pairs.push_back(senet::test::connect_pair(this->ctx(), acceptor));
  }
  std::vector<char> in(count, 0);
  std::vector<senet::test::io_outcome<std::size_t>> outcomes(count);
  using op_type = ex::connect_result_t<decltype(net::async_receive(pairs[0].server, buffer(&in[0], 1))),
                                       senet::test::io_probe<std::size_t>>;
  std::vector<std::optional<op_type>> ops(count);
  for (int i = 0; i < count; ++i) {
    auto connect = [&, i] {
      return ex::connect(net::async_receive(pairs[i].server, buffer(&in[i], 1)),
                         senet::test::io_probe<std::size_t>{&this->ctx(), &outcomes[i]});
    };
    ops[i].emplace(emplacer<decltype(connect)>{connect});
    ex::start(*ops[i]);
  }
  this->ctx().poll();
  // Send in reverse order; every receive completes with its own byte.
  for (int i = count - 1; i >= 0; --i) {
    char c = static_cast<char>('A' + i % 26);
    ASSERT_EQ(this->value_of(net::async_send(pairs[i].client, buffer(&c, 1))), 1U);
  }
  for (int i = 0; i < count; ++i) {
    senet::test::run_until_done(this->ctx(), outcomes[i]);
    ASSERT_TRUE(outcomes[i].value_once());
    EXPECT_EQ(in[i], static_cast<char>('A' + i % 26));
  }
}

TYPED_TEST(io_context_backends, operations_started_from_other_threads) {
  auto pair = this->tcp_pair();
  std::thread loop;
  constexpr int rounds = 200;
  int received = 0;
  {
    io::io_context::work_guard guard(this->ctx());
    loop = std::thread([&] { senet::test::bounded_run(this->ctx()); });
    for (int i = 0; i < rounds; ++i) {
      char out = static_cast<char>(i);
      char in = 0;
      // Both operations start on this thread (sync_wait) and move to the context's thread.
      auto r = ex::sync_wait(ex::when_all(net::async_receive(this->scheduler(), pair.server, buffer(&in, 1)),
                                          net::async_send(this->scheduler(), pair.client, buffer(&out, 1))));
      if (r && std::get<0>(*r) == 1 && in == out) {
        ++received;
      }
    }
  }
  loop.join();
  EXPECT_EQ(received, rounds);
}

TYPED_TEST(io_context_backends, stop_from_another_thread_stops_the_sender_of_run_until) {
  auto pair = this->tcp_pair();
  char in = 0;
  std::atomic<bool> started{false};
  std::mutex mutex;
  std::condition_variable cv;
  bool returned = false;
  bool rescued = false;
  auto const loop_thread = senet::test::this_thread_id();
  std::thread stopper([&] {
    senet::test::spin_until([&] { return started.load(); }, "run_until starting its sender");
    // The case that matters: the loop is blocked waiting when the stop comes.
    senet::test::wait_until_blocked(loop_thread, "the loop blocking in run_until");
    this->ctx().stop();
    std::unique_lock lock(mutex);
    if (!cv.wait_for(lock, 10s, [&] { return returned; })) {
      // The stop never reached the sender: end the wait with a handler (which makes run_until look
      // at the stopped state), so that the test fails instead of hanging.
      rescued = true;
      lock.unlock();
      ex::sync_wait(ex::schedule(this->scheduler()));
    }
  });
  // The receive never completes: nothing is sent.
  auto r = this->run(ex::when_all(net::async_receive(pair.server, buffer(&in, 1)),
                                  ex::just() | ex::then([&]() noexcept { started = true; })));
  {
    std::lock_guard lock(mutex);
    returned = true;
  }
  cv.notify_one();
  stopper.join();
  EXPECT_FALSE(rescued) << "run_until did not pass the stop on to its sender";
  EXPECT_FALSE(r.has_value()) << "the sender should have completed with set_stopped";
  EXPECT_TRUE(this->ctx().stopped());
  // run_until ignores the stopped state for returning: it waits for its sender, which here
  // completes without needing the loop.
  auto r2 = this->run(ex::just(7));
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(std::get<0>(*r2), 7);
}

// With kernel sockets only: the peer is driven by a system call from another thread.
template <class Backend>
class io_context_kernel_backends : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(io_context_kernel_backends, senet::test::kernel_backends, senet::test::backend_names);

TYPED_TEST(io_context_kernel_backends, foreign_loop_drives_io_through_wait_descriptor) {
  auto pair = this->tcp_pair();
  char in = 0;
  senet::test::io_outcome<std::size_t> outcome;
  auto op = ex::connect(net::async_receive(pair.server, buffer(&in, 1)),
                        senet::test::io_probe<std::size_t>{&this->ctx(), &outcome});
  ex::start(op);
  this->ctx().poll();
  ASSERT_FALSE(outcome.done.load());
  // Data arrives, sent by another thread with a plain system call, while nobody runs this one.
  std::thread sender([&] {
    char out = 'f';
    EXPECT_EQ(::send(pair.client.native_handle(), &out, 1, MSG_NOSIGNAL), 1);
  });
  sender.join();
  // The foreign loop: wait for readability, then poll.
  for (int i = 0; i < 100 && !outcome.done.load(); ++i) {
    ::pollfd p{this->ctx().wait_descriptor(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1) << "wait_descriptor() did not become readable";
    this->ctx().poll();
  }
  ASSERT_TRUE(outcome.done.load());
  ASSERT_TRUE(outcome.value_once());
  EXPECT_EQ(in, 'f');
}

}  // namespace
