// SPDX-License-Identifier: BSL-1.0
// Where a completion runs, on every backend: the headers say that completions come on the thread
// running the context, that an operation started on another thread gets there through the
// context's queue, that readiness waits and timers never complete inline in start(), and when a
// receive or a send may (async_receive.hpp, async_send.hpp, async_wait.hpp, async_wait_for.hpp,
// async_wait_until.hpp, timer.hpp, io/async_poll.hpp, io/io_context.hpp). These tests compare
// thread ids and count inline completions.
// senet-test-labels: threaded
#include <senet/net/async_wait.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/async_poll.hpp>
#include <senet/io/backend_kind.hpp>
#include <senet/io/forget_descriptor.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/poll_events.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_wait_for.hpp>
#include <senet/net/async_wait_until.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/sockets.hpp>
#include <senet/net/timer.hpp>

#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>
#include <support/thread_harness.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include <poll.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;
using senet::test::completion_record;
using senet::test::connect_slot;
using senet::test::context_runner;
using senet::test::eventually;
using senet::test::race_budget;
using senet::test::record_receiver;
using tcp = ip::tcp;
using wait_kind = net::socket_base::wait_type;

// Type-erased owner of operation states, so one test can keep operations of several kinds.
struct kept_base {
  virtual ~kept_base() = default;
};
template <class Slot>
struct kept : kept_base {
  explicit kept(Slot s) : slot(std::move(s)) {}
  Slot slot;
};

template <class Backend>
class completion_thread : public senet::test::backend_fixture<Backend> {
 protected:
  static constexpr bool kernel = Backend::kind != io::backend_kind::test;

  // Starts `make()` on this thread (not the context's) while `runner` runs the context, waits for
  // it, and checks it completed on the runner's thread: `iterations` times, within the budget.
  template <class Make>
  void started_elsewhere_completes_on_the_runner(context_runner& runner, Make make, const char* what,
                                                 int iterations = 300) {
    std::deque<completion_record> recs;
    std::vector<std::unique_ptr<kept_base>> keep;
    race_budget budget(iterations, 400ms, senet::test::minimum_iterations);
    while (budget.next()) {
      auto& rec = recs.emplace_back();
      auto slot = connect_slot(make(), record_receiver{&this->ctx(), &rec});
      slot->start();
      ASSERT_TRUE(eventually([&] { return rec.done(); })) << what << ": no completion within 20 s";
      ASSERT_EQ(rec.thread, runner.id()) << what << ": completed off the context's thread";
      ASSERT_FALSE(rec.is_error()) << what << ": " << rec.ec.message();
      keep.push_back(std::make_unique<kept<decltype(slot)>>(std::move(slot)));
    }
    ASSERT_TRUE(eventually([&] { return this->idle_turn(runner); }));
    for (auto& r : recs) {
      ASSERT_EQ(r.count.load(), 1) << what << ": completed more than once";
    }
    SENET_EXPECT_RACED(budget, what);
  }

  // A schedule that comes back: every completion queued before it has been delivered.
  bool idle_turn(context_runner& runner) {
    completion_record rec;
    auto slot = connect_slot(this->ctx().get_scheduler().schedule(), record_receiver{&this->ctx(), &rec});
    slot->start();
    return eventually([&] { return rec.done(); }) && rec.thread == runner.id();
  }

  // On the context's thread (inside a handler of run_until on this thread): connects and starts
  // `make()`, and reports whether it completed inside start(); then runs the context until it
  // completed, and checks it did so on this thread, once.
  template <class Make>
  bool completes_inline_on_the_context_thread(Make make, const char* what) {
    completion_record rec;
    std::unique_ptr<kept_base> keep;
    bool inline_completion = false;
    auto r = this->run(ex::schedule(this->scheduler()) | ex::then([&] {
                         auto slot = connect_slot(make(), record_receiver{&this->ctx(), &rec});
                         slot->start();
                         inline_completion = rec.done();
                         keep = std::make_unique<kept<decltype(slot)>>(std::move(slot));
                       }));
    EXPECT_TRUE(r.has_value());
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!rec.done() && std::chrono::steady_clock::now() < deadline) {
      this->ctx().run_for(5ms);
    }
    this->ctx().poll();
    EXPECT_EQ(rec.count.load(), 1) << what;
    EXPECT_EQ(rec.thread, std::this_thread::get_id()) << what;
    EXPECT_FALSE(rec.is_error()) << what << ": " << rec.ec.message();
    return inline_completion;
  }

  // Starts `make()` on this thread with a stop already requested: true when it completed inside
  // start(), with set_stopped(), on this thread, once.
  template <class Make>
  bool stopped_in_start(Make make) {
    completion_record rec;
    rec.stop.request_stop();
    auto slot = connect_slot(make(), record_receiver{&this->ctx(), &rec});
    slot->start();
    return rec.count.load() == 1 && rec.is_stopped() && rec.thread == std::this_thread::get_id();
  }

  // One byte from `from` waiting in `to`'s receive queue (or in the simulation's buffer).
  void put_a_byte(tcp::socket& from, tcp::socket& to) {
    static const char x = 'x';
    ASSERT_EQ(this->value_of(net::async_send(from, buffer(&x, 1))), 1U);
    if (kernel) {
      ::pollfd p{to.native_handle(), POLLIN, 0};
      ASSERT_EQ(::poll(&p, 1, 5000), 1) << "the byte did not arrive within 5 s";
    }
  }

  tcp::acceptor acceptor_ = senet::test::listen_tcp(tcp::v4());
};

TYPED_TEST_SUITE(completion_thread, senet::test::all_backends, senet::test::backend_names);

// Scheduling and the timers started on another thread complete on the context's thread.
TYPED_TEST(completion_thread, schedules_and_timers_started_elsewhere_complete_on_the_runner) {
  auto sch = this->scheduler();
  auto past = sch.now();  // while nobody runs the context (the test backend's clock allows it)
  net::timer timer(sch);
  context_runner runner(this->ctx());
  this->started_elsewhere_completes_on_the_runner(
      runner, [&] { return sch.schedule(); }, "schedule");
  this->started_elsewhere_completes_on_the_runner(
      runner, [&] { return sch.schedule_after(0ms); }, "schedule_after");
  this->started_elsewhere_completes_on_the_runner(
      runner, [&] { return sch.schedule_at(past); }, "schedule_at");
  this->started_elsewhere_completes_on_the_runner(
      runner, [&] { return net::async_wait_for(sch, 1us); }, "async_wait_for");
  this->started_elsewhere_completes_on_the_runner(
      runner, [&] { return net::async_wait_until(sch, past); }, "async_wait_until");
  this->started_elsewhere_completes_on_the_runner(
      runner, [&] { return timer.async_wait_for(0ms); }, "timer::async_wait_for");
  runner.finish();
}

// Socket operations started on another thread complete on the context's thread, even when they
// could complete at once (a receive with data waiting, a send the socket takes, a wait on a ready
// socket): the start itself is handed to the context's thread.
TYPED_TEST(completion_thread, socket_operations_started_elsewhere_complete_on_the_runner) {
  auto sch = this->scheduler();
  auto pair = senet::test::connect_pair(this->ctx(), this->acceptor_);
  pair.server.eager_receive(true);
  pair.client.eager_send(true);
  context_runner runner(this->ctx());
  static const char x = 'x';
  char in = 0;
  // A send the socket takes at once, then a receive of that byte (waiting, or already there).
  this->started_elsewhere_completes_on_the_runner(
      runner,
      [&] {
        return ex::when_all(net::async_send(sch, pair.client, buffer(&x, 1)),
                            net::async_receive(sch, pair.server, buffer(&in, 1)));
      },
      "async_send and async_receive");
  this->started_elsewhere_completes_on_the_runner(
      runner, [&] { return net::async_wait(sch, pair.client, wait_kind::wait_write); },
      "async_wait on a ready socket");
  this->started_elsewhere_completes_on_the_runner(
      runner,
      [&] {
        return ex::when_all(net::async_write(sch, pair.server, buffer(&x, 1)),
                            net::async_read(sch, pair.client, buffer(&in, 1)));
      },
      "async_write and async_read");
  runner.finish();
}

// A byte already waiting, then a receive started elsewhere: it still completes on the runner.
TYPED_TEST(completion_thread, receive_with_data_waiting_started_elsewhere_completes_on_the_runner) {
  auto sch = this->scheduler();
  auto pair = senet::test::connect_pair(this->ctx(), this->acceptor_);
  pair.server.eager_receive(true);
  race_budget budget(200, 400ms, senet::test::minimum_iterations);
  std::deque<completion_record> recs;
  char in = 0;
  while (budget.next()) {
    this->put_a_byte(pair.client, pair.server);
    if (this->HasFatalFailure()) {
      return;
    }
    context_runner runner(this->ctx());
    auto& rec = recs.emplace_back();
    auto slot = connect_slot(net::async_receive(sch, pair.server, buffer(&in, 1)),
                             record_receiver{&this->ctx(), &rec});
    slot->start();
    ASSERT_TRUE(eventually([&] { return rec.done(); })) << "no completion within 20 s";
    runner.finish();
    ASSERT_EQ(rec.count.load(), 1);
    ASSERT_EQ(rec.thread, runner.id());
    ASSERT_EQ(rec.bytes, 1U);
  }
  SENET_EXPECT_RACED(budget, "receive with data waiting, started elsewhere");
}

// Accepts and connects started elsewhere complete on the runner.
TYPED_TEST(completion_thread, accept_and_connect_started_elsewhere_complete_on_the_runner) {
  auto sch = this->scheduler();
  auto ep = this->acceptor_.local_endpoint();
  std::deque<tcp::socket> clients;
  context_runner runner(this->ctx());
  this->started_elsewhere_completes_on_the_runner(
      runner,
      [&] {
        auto& c = clients.emplace_back();
        // The accepted socket closes on the context's thread (the test backend probes its
        // descriptors there, which ThreadSanitizer reports against a close(2) elsewhere); the
        // clients close after the runner finished.
        return ex::when_all(
            net::async_accept(sch, this->acceptor_) | ex::then([](tcp::socket, tcp::endpoint) {}),
            net::async_connect(sch, c, ep));
      },
      "async_accept and async_connect", 100);
  runner.finish();
}

// async_poll started elsewhere, on a descriptor that is ready already, completes on the runner.
TYPED_TEST(completion_thread, poll_started_elsewhere_completes_on_the_runner) {
  auto sch = this->scheduler();
  senet::test::pipe_pair p;
  char c = 'p';
  ASSERT_EQ(::write(p.write_fd, &c, 1), 1);
  context_runner runner(this->ctx());
  this->started_elsewhere_completes_on_the_runner(
      runner, [&] { return io::async_poll(sch, p.read_fd, io::poll_events::readable); }, "async_poll");
  EXPECT_TRUE(io::forget_descriptor(this->ctx(), p.read_fd));
  runner.finish();
}

// async_wait never completes inline in start(), even on a socket that is ready already; nor do
// async_poll, the timers and schedule: counted over many starts on the context's own thread.
TYPED_TEST(completion_thread, waits_and_timers_never_complete_inline_on_the_context_thread) {
  auto sch = this->scheduler();
  auto pair = senet::test::connect_pair(this->ctx(), this->acceptor_);
  net::timer timer(sch);
  senet::test::pipe_pair p;
  char c = 'p';
  ASSERT_EQ(::write(p.write_fd, &c, 1), 1);
  this->put_a_byte(pair.client, pair.server);
  constexpr int n = 300;
  int inline_completions = 0;
  for (int i = 0; i < n; ++i) {
    inline_completions += this->completes_inline_on_the_context_thread(
        [&] { return net::async_wait(pair.client, wait_kind::wait_write); },
        "async_wait(write) on a writable socket");
    inline_completions += this->completes_inline_on_the_context_thread(
        [&] { return net::async_wait(pair.server, wait_kind::wait_read); },
        "async_wait(read) with data waiting");
    inline_completions += this->completes_inline_on_the_context_thread(
        [&] { return io::async_poll(sch, p.read_fd, io::poll_events::readable); },
        "async_poll on a ready pipe");
    inline_completions +=
        this->completes_inline_on_the_context_thread([&] { return sch.schedule(); }, "schedule");
    inline_completions += this->completes_inline_on_the_context_thread(
        [&] { return sch.schedule_after(0ms); }, "schedule_after(0)");
    inline_completions += this->completes_inline_on_the_context_thread(
        [&] { return net::async_wait_for(0ms); }, "async_wait_for(0)");
    inline_completions += this->completes_inline_on_the_context_thread(
        [&] { return net::async_wait_until(sch.now() - 1s); }, "async_wait_until(past)");
    inline_completions +=
        this->completes_inline_on_the_context_thread([&] { return timer.async_wait_for(0ms); }, "timer wait");
    if (this->HasFailure()) {
      break;
    }
  }
  std::printf("%d inline completions of %d starts\n", inline_completions, 8 * n);
  EXPECT_EQ(inline_completions, 0);
  EXPECT_TRUE(io::forget_descriptor(this->ctx(), p.read_fd));
}

// A receive with data waiting and no other receive pending completes inside start() on epoll and
// the test backend, and on io_uring only with eager_receive(true); otherwise on the context's
// thread in a later turn. Likewise a send the socket takes at once, with eager_send.
TYPED_TEST(completion_thread, receive_and_send_complete_inline_exactly_where_the_headers_say) {
  auto pair = senet::test::connect_pair(this->ctx(), this->acceptor_);
  constexpr bool uring = TypeParam::kind == io::backend_kind::uring;
  constexpr int n = 50;
  for (bool eager : {false, true}) {
    pair.server.eager_receive(eager);
    pair.client.eager_send(eager);
    int inline_receives = 0;
    int inline_sends = 0;
    char in = 0;
    static const char x = 'z';
    for (int i = 0; i < n; ++i) {
      this->put_a_byte(pair.client, pair.server);
      if (this->HasFatalFailure()) {
        return;
      }
      inline_receives += this->completes_inline_on_the_context_thread(
          [&] { return net::async_receive(pair.server, buffer(&in, 1)); }, "a receive with data waiting");
      EXPECT_EQ(in, 'x');
      inline_sends += this->completes_inline_on_the_context_thread(
          [&] { return net::async_send(pair.client, buffer(&x, 1)); }, "a send the socket takes at once");
      // Drain the byte just sent.
      ASSERT_EQ(this->value_of(net::async_receive(pair.server, buffer(&in, 1))), 1U);
    }
    std::printf("eager %d: %d inline receives, %d inline sends of %d\n", eager ? 1 : 0, inline_receives,
                inline_sends, n);
    int expected = (uring && !eager) ? 0 : n;
    EXPECT_EQ(inline_receives, expected) << "eager " << eager;
    EXPECT_EQ(inline_sends, expected) << "eager " << eager;
  }
}

// The exception the headers state: a stop already requested completes the operation in start(),
// with set_stopped(), on the starting thread, whichever thread that is (the timers, the readiness
// waits, receives and sends).
TYPED_TEST(completion_thread, a_stop_already_requested_completes_in_start_on_the_starting_thread) {
  auto sch = this->scheduler();
  auto pair = senet::test::connect_pair(this->ctx(), this->acceptor_);
  net::timer timer(sch);
  senet::test::pipe_pair p;
  auto past = sch.now();
  char in = 0;
  static const char x = 'x';
  auto check_all = [&](const char* where) {
    EXPECT_TRUE(this->stopped_in_start([&] { return sch.schedule_after(0ms); }))
        << "schedule_after, " << where;
    EXPECT_TRUE(this->stopped_in_start([&] { return net::async_wait_for(sch, 1s); }))
        << "async_wait_for, " << where;
    EXPECT_TRUE(this->stopped_in_start([&] { return net::async_wait_until(sch, past); }))
        << "async_wait_until, " << where;
    EXPECT_TRUE(this->stopped_in_start([&] { return timer.async_wait_for(1s); })) << "timer wait, " << where;
    EXPECT_TRUE(this->stopped_in_start([&] {
      return net::async_wait(sch, pair.client, wait_kind::wait_write);
    })) << "async_wait, "
        << where;
    EXPECT_TRUE(this->stopped_in_start([&] {
      return io::async_poll(sch, p.read_fd, io::poll_events::readable);
    })) << "async_poll, "
        << where;
    EXPECT_TRUE(this->stopped_in_start([&] { return net::async_receive(sch, pair.server, buffer(&in, 1)); }))
        << "async_receive, " << where;
    EXPECT_TRUE(this->stopped_in_start([&] { return net::async_send(sch, pair.client, buffer(&x, 1)); }))
        << "async_send, " << where;
  };
  // On the context's thread.
  ASSERT_TRUE(
      this->run(ex::schedule(sch) | ex::then([&] { check_all("on the context's thread"); })).has_value());
  // On another thread while the context runs.
  {
    context_runner runner(this->ctx());
    check_all("on another thread");
    runner.finish();
  }
  // Nothing was started: the pipe was never registered.
  EXPECT_FALSE(io::forget_descriptor(this->ctx(), p.read_fd));
}

// A receive started while another receive of the socket is pending never completes inline, even
// with data waiting for it: it queues behind the first (P2762 §6.1 2.2; start order).
TYPED_TEST(completion_thread, a_receive_behind_a_pending_one_does_not_complete_inline) {
  auto pair = senet::test::connect_pair(this->ctx(), this->acceptor_);
  pair.server.eager_receive(true);
  char first = 0;
  char second = 0;
  completion_record a;
  completion_record b;
  auto op_a = connect_slot(net::async_receive(this->scheduler(), pair.server, buffer(&first, 1)),
                           record_receiver{&this->ctx(), &a});
  auto op_b = connect_slot(net::async_receive(this->scheduler(), pair.server, buffer(&second, 1)),
                           record_receiver{&this->ctx(), &b});
  bool b_inline = true;
  ASSERT_TRUE(this->run(ex::schedule(this->scheduler()) | ex::then([&] {
                          op_a->start();
                          op_b->start();
                          b_inline = b.done();
                        }))
                  .has_value());
  EXPECT_FALSE(a.done());
  EXPECT_FALSE(b_inline);
  static const char two[2] = {'1', '2'};
  ASSERT_EQ(this->value_of(net::async_send(pair.client, buffer(two, 2))), 2U);
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!(a.done() && b.done()) && std::chrono::steady_clock::now() < deadline) {
    this->ctx().run_for(5ms);
  }
  ASSERT_EQ(a.count.load(), 1);
  ASSERT_EQ(b.count.load(), 1);
  EXPECT_EQ(first, '1');
  EXPECT_EQ(second, '2');
  EXPECT_EQ(a.thread, std::this_thread::get_id());
  EXPECT_EQ(b.thread, std::this_thread::get_id());
}

}  // namespace
