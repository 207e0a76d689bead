// SPDX-License-Identifier: BSL-1.0
// The context's shared stop registrations (include/senet/io/detail/shared_stop.hpp), on every
// backend: operations waiting under one inplace_stop_source share one registration and stop
// together, sources beyond the context's room get callbacks of their own and stop alone; a stop
// from the context's thread, from another thread, racing the operations' starts and racing their
// completions; the registrations all go when their last operation leaves, and a context destroyed
// while operations wait leaves nothing registered with their source.
#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/sockets.hpp>

#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>
#include <support/thread_harness.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
using senet::buffer;
using senet::test::completion_record;
using senet::test::connect_slot;
using senet::test::context_runner;
using senet::test::eventually;
using senet::test::join_within;
using senet::test::race_budget;

// record_receiver (support/thread_harness.hpp) under a stop source of the test's instead of the
// record's own.
struct source_receiver {
  using receiver_concept = ex::receiver_t;
  senet::test::record_receiver inner;
  ex::inplace_stop_source* source;

  using env = senet::test::record_receiver::env;  // the context's scheduler and a stop token
  [[nodiscard]] env get_env() const noexcept { return {inner.ctx, source->get_token()}; }

  void set_value(std::size_t n) && noexcept { std::move(inner).set_value(n); }
  void set_error(std::error_code ec) && noexcept { std::move(inner).set_error(ec); }
  void set_stopped() && noexcept { std::move(inner).set_stopped(); }
};

using receive_sender =
    decltype(net::async_receive(std::declval<senet::ip::tcp::socket&>(), senet::mutable_buffer()));
using receive_slot = senet::test::operation_slot<receive_sender, source_receiver>;

// A receive of one byte on `socket` into `byte`, under `source`, recorded in `rec`.
std::unique_ptr<receive_slot> receive_under(io::io_context& ctx, senet::ip::tcp::socket& socket, char& byte,
                                            ex::inplace_stop_source& source, completion_record& rec) {
  return connect_slot(net::async_receive(socket, buffer(&byte, 1)), source_receiver{{&ctx, &rec}, &source});
}

// How many registrations `ctx` has made (or that wait for their sweep); only with nobody running it.
std::size_t registrations(io::io_context& ctx) {
  return shared_stops(ctx).in_use();
}

template <class Backend>
class shared_stop : public senet::test::backend_fixture<Backend> {
 protected:
  // Polls until `pred` holds (cancellations on io_uring complete in a later turn); false after 20 s.
  template <class Pred>
  bool poll_until(Pred pred) {
    return eventually([&] {
      this->ctx().poll();
      return pred();
    });
  }

  // A byte sent on `c.client` arrives on `c.server`: the connection still works.
  void expect_usable(senet::test::tcp_connection& c) {
    char out = 'u';
    char in = 0;
    auto r = this->run(ex::when_all(net::async_send(c.client, buffer(&out, 1)),
                                    net::async_receive(c.server, buffer(&in, 1))));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(in, 'u');
  }
};

TYPED_TEST_SUITE(shared_stop, senet::test::all_backends, senet::test::backend_names);

// Six sources, two receives waiting under each: four sources share a registration each (the
// context's room), the other two have callbacks of their own. Each stop, made from a thread that
// does not run the context, stops its own two receives once and no other.
TYPED_TEST(shared_stop, each_source_stops_its_own_receives_and_no_other) {
  constexpr std::size_t sources_n = 6;
  static_assert(sources_n > io::detail::shared_stop_table::capacity);
  std::vector<senet::test::tcp_connection> conns;
  for (std::size_t k = 0; k < sources_n; ++k) {
    conns.push_back(this->tcp_pair());
  }
  std::array<ex::inplace_stop_source, sources_n> sources;
  std::array<std::array<completion_record, 2>, sources_n> recs;
  std::array<std::array<char, 2>, sources_n> bytes{};
  std::vector<std::unique_ptr<receive_slot>> ops;
  for (std::size_t k = 0; k < sources_n; ++k) {
    for (std::size_t i = 0; i < 2; ++i) {
      ops.push_back(receive_under(this->ctx(), conns[k].server, bytes[k][i], sources[k], recs[k][i]));
      ops.back()->start();
    }
  }
  this->ctx().poll();  // runs the starts, handed to the loop: all twelve wait
  EXPECT_EQ(registrations(this->ctx()), io::detail::shared_stop_table::capacity);
  std::array<bool, sources_n> stopped{};
  for (std::size_t k : {3, 0, 5, 1, 4, 2}) {
    sources[k].request_stop();
    stopped[k] = true;
    ASSERT_TRUE(this->poll_until([&] { return recs[k][0].done() && recs[k][1].done(); }))
        << "source " << k << "'s receives did not complete within 20 s of its stop";
    this->ctx().poll();
    for (std::size_t j = 0; j < sources_n; ++j) {
      for (std::size_t i = 0; i < 2; ++i) {
        if (stopped[j]) {
          EXPECT_EQ(recs[j][i].count.load(), 1) << "source " << j;
          EXPECT_TRUE(recs[j][i].is_stopped()) << "source " << j;
        } else {
          EXPECT_FALSE(recs[j][i].done()) << "source " << j << " completed on source " << k << "'s stop";
        }
      }
    }
  }
  EXPECT_EQ(registrations(this->ctx()), 0U);
  this->expect_usable(conns[3]);
  this->expect_usable(conns[5]);
}

// A stop requested by a handler on the context's thread cancels the waiting receives at once,
// without the cross-thread sweep; their registration goes with the last of them.
TYPED_TEST(shared_stop, a_stop_from_the_contexts_thread_stops_every_receive_under_the_source) {
  std::vector<senet::test::tcp_connection> conns;
  for (int k = 0; k < 3; ++k) {
    conns.push_back(this->tcp_pair());
  }
  ex::inplace_stop_source source;
  std::array<completion_record, 3> recs;
  std::array<char, 3> bytes{};
  std::vector<std::unique_ptr<receive_slot>> ops;
  for (std::size_t k = 0; k < 3; ++k) {
    ops.push_back(receive_under(this->ctx(), conns[k].server, bytes[k], source, recs[k]));
    ops.back()->start();
  }
  this->ctx().poll();
  EXPECT_EQ(registrations(this->ctx()), 1U);
  completion_record stopper;
  auto stop =
      connect_slot(ex::schedule(this->ctx().get_scheduler()) | ex::then([&] { source.request_stop(); }),
                   senet::test::record_receiver{&this->ctx(), &stopper});
  stop->start();
  ASSERT_TRUE(this->poll_until([&] { return recs[0].done() && recs[1].done() && recs[2].done(); }));
  for (const completion_record& rec : recs) {
    EXPECT_EQ(rec.count.load(), 1);
    EXPECT_TRUE(rec.is_stopped());
  }
  EXPECT_TRUE(stopper.is_value());
  EXPECT_EQ(registrations(this->ctx()), 0U);
  this->expect_usable(conns[1]);
}

// A receive whose start passed its stop check before the stop but joins the registration after
// it (its start was handed to the loop, and the loop runs the sweep first) is cancelled by itself,
// as the sweep has gone by; one started after the stop and the sweep is stopped at its start.
TYPED_TEST(shared_stop, a_receive_that_joins_after_the_stop_is_stopped_too) {
  auto first = this->tcp_pair();
  auto second = this->tcp_pair();
  for (int round = 0; round < 20; ++round) {
    ex::inplace_stop_source source;
    completion_record rec1;
    completion_record rec2;
    char b1 = 0;
    char b2 = 0;
    auto op1 = receive_under(this->ctx(), first.server, b1, source, rec1);
    auto op2 = receive_under(this->ctx(), second.server, b2, source, rec2);
    op1->start();
    this->ctx().poll();
    if (round % 2 == 0) {
      op2->start();           // handed to the loop, which runs it after the sweep
      source.request_stop();  // queues the sweep
    } else {
      source.request_stop();
      this->ctx().poll();  // the sweep runs
      op2->start();
    }
    ASSERT_TRUE(this->poll_until([&] { return rec1.done() && rec2.done(); })) << "round " << round;
    EXPECT_TRUE(rec1.is_stopped());
    EXPECT_TRUE(rec2.is_stopped());
    EXPECT_EQ(rec1.count.load() + rec2.count.load(), 2);
    EXPECT_EQ(registrations(this->ctx()), 0U);
  }
  this->expect_usable(second);
}

// Receives started from three threads under one source while a fourth thread stops it and another
// runs the context: each completes stopped exactly once (none waits forever for a sweep that went
// by before it joined), round after round, each round with a new source.
TYPED_TEST(shared_stop, receives_started_from_threads_as_their_source_is_stopped_complete_once) {
  std::vector<senet::test::tcp_connection> conns;
  for (int k = 0; k < 3; ++k) {
    conns.push_back(this->tcp_pair());
  }
  race_budget budget(300, std::chrono::milliseconds(3000), senet::test::minimum_iterations);
  {
    context_runner runner(this->ctx());
    while (budget.next()) {
      ex::inplace_stop_source source;
      std::array<completion_record, 3> recs;
      std::array<char, 3> bytes{};
      std::array<std::unique_ptr<receive_slot>, 3> ops;
      for (std::size_t k = 0; k < 3; ++k) {
        ops[k] = receive_under(this->ctx(), conns[k].server, bytes[k], source, recs[k]);
      }
      std::atomic<int> go{0};
      std::vector<std::thread> threads;
      for (std::size_t k = 0; k < 3; ++k) {
        threads.emplace_back([&, k] {
          while (go.load() == 0) {
          }
          ops[k]->start();
        });
      }
      threads.emplace_back([&] {
        while (go.load() == 0) {
        }
        if (budget.done() % 3 != 0) {
          std::this_thread::yield();
        }
        source.request_stop();
      });
      go.store(1);
      for (std::thread& t : threads) {
        join_within(t, std::chrono::seconds(30), "a starting thread");
      }
      ASSERT_TRUE(eventually([&] { return recs[0].done() && recs[1].done() && recs[2].done(); }))
          << "a receive did not complete within 20 s of its source's stop";
      for (const completion_record& rec : recs) {
        EXPECT_EQ(rec.count.load(), 1);
        EXPECT_TRUE(rec.is_stopped());
      }
    }
    runner.finish();
  }
  SENET_EXPECT_RACED(budget, "starts racing the stop");
  EXPECT_EQ(registrations(this->ctx()), 0U);
  this->expect_usable(conns[2]);
}

// A receive whose byte arrives as its source is stopped on another thread: it completes once, with
// the byte or stopped (the byte then waits in the socket, and the next receive gets it), and the
// registration it leaves, perhaps with its sweep still on the way, is made again for the next
// round's source. No byte is lost and no registration is left over.
TYPED_TEST(shared_stop, a_receive_completing_as_its_source_is_stopped_completes_once) {
  auto conn = this->tcp_pair();
  race_budget budget(300, std::chrono::milliseconds(3000), senet::test::minimum_iterations);
  int values = 0;
  {
    context_runner runner(this->ctx());
    while (budget.next()) {
      const char sent = static_cast<char>('a' + budget.done() % 26);
      ex::inplace_stop_source source;
      completion_record rec;
      char got = 0;
      auto op = receive_under(this->ctx(), conn.server, got, source, rec);
      op->start();
      completion_record send_rec;
      auto send = connect_slot(net::async_send(conn.client, buffer(&sent, 1)),
                               senet::test::record_receiver{&this->ctx(), &send_rec});
      std::thread stopper([&] { source.request_stop(); });
      send->start();
      join_within(stopper, std::chrono::seconds(30), "the stopping thread");
      ASSERT_TRUE(eventually([&] { return rec.done() && send_rec.done(); }));
      EXPECT_EQ(rec.count.load(), 1);
      if (rec.is_value()) {
        ++values;
        EXPECT_EQ(got, sent);
        continue;
      }
      ASSERT_TRUE(rec.is_stopped());
      ex::inplace_stop_source next;
      completion_record again;
      auto retry = receive_under(this->ctx(), conn.server, got, next, again);
      retry->start();
      ASSERT_TRUE(eventually([&] { return again.done(); }));
      ASSERT_TRUE(again.is_value());
      EXPECT_EQ(got, sent);
    }
    runner.finish();
  }
  SENET_EXPECT_RACED(budget, "completions racing the stop");
  std::printf("%d of %d receives got their byte before the stop\n", values, budget.done());
  EXPECT_EQ(registrations(this->ctx()), 0U);
}

// One source, receives waiting under it on two contexts run by two threads (a registration in
// each), stopped from a third thread, round after round with a new source: every receive on both
// contexts completes stopped once, and neither context keeps a registration.
TYPED_TEST(shared_stop, one_source_stops_receives_on_two_contexts_run_by_two_threads) {
  io::io_context other(TypeParam::kind);
  std::vector<senet::test::tcp_connection> conns;
  for (int k = 0; k < 4; ++k) {
    conns.push_back(senet::test::tcp_pair(k % 2 == 0 ? this->ctx() : other));
  }
  race_budget budget(100, std::chrono::milliseconds(3000), senet::test::minimum_iterations);
  {
    context_runner runner(this->ctx());
    context_runner other_runner(other);
    while (budget.next()) {
      ex::inplace_stop_source source;
      std::array<completion_record, 4> recs;
      std::array<char, 4> bytes{};
      std::array<std::unique_ptr<receive_slot>, 4> ops;
      for (std::size_t k = 0; k < 4; ++k) {
        ops[k] = receive_under(k % 2 == 0 ? this->ctx() : other, conns[k].server, bytes[k], source, recs[k]);
        ops[k]->start();
      }
      std::thread stopper([&] { source.request_stop(); });
      join_within(stopper, std::chrono::seconds(30), "the stopping thread");
      ASSERT_TRUE(eventually([&] {
        return recs[0].done() && recs[1].done() && recs[2].done() && recs[3].done();
      })) << "a receive did not complete within 20 s of its source's stop";
      for (const completion_record& rec : recs) {
        EXPECT_EQ(rec.count.load(), 1);
        EXPECT_TRUE(rec.is_stopped());
      }
    }
    runner.finish();
    other_runner.finish();
  }
  SENET_EXPECT_RACED(budget, "stops across two contexts");
  EXPECT_EQ(registrations(this->ctx()), 0U);
  EXPECT_EQ(registrations(other), 0U);
}

// The context destroyed while receives wait under a shared registration: they complete stopped in
// its destructor, the registration goes with them, and a stop requested afterwards reaches no
// callback of the context's (ASan: nothing freed is touched).
TYPED_TEST(shared_stop, a_context_destroyed_while_receives_wait_leaves_their_source_alone) {
  auto one = this->tcp_pair();
  auto two = this->tcp_pair();
  ex::inplace_stop_source source;
  std::array<completion_record, 2> recs;
  std::array<char, 2> bytes{};
  auto op1 = receive_under(this->ctx(), one.server, bytes[0], source, recs[0]);
  auto op2 = receive_under(this->ctx(), two.server, bytes[1], source, recs[1]);
  op1->start();
  op2->start();
  this->ctx().poll();
  ASSERT_FALSE(recs[0].done());
  this->ctx_.reset();
  for (const completion_record& rec : recs) {
    EXPECT_EQ(rec.count.load(), 1);
    EXPECT_TRUE(rec.is_stopped());
  }
  source.request_stop();
  EXPECT_EQ(recs[0].count.load() + recs[1].count.load(), 2);
}

}  // namespace
