// SPDX-License-Identifier: BSL-1.0
// async_resolve's thread promises (include/senet/ip/async_resolve.hpp), with real threads, on
// every backend: "any number of resolutions may run at once, from any thread"; the completion
// "returns to the scheduler of the receiver's environment" (an io_context run by another thread);
// a stop request "completes the operation with set_stopped() at once, on the thread that
// requested the stop"; an io_context destroyed while resolutions run completes them stopped on the
// destroying thread.
#include <senet/ip/async_resolve.hpp>

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/address_v4.hpp>
#include <senet/ip/detail/resolve_request.hpp>
#include <senet/ip/tcp.hpp>

#include <support/backend_fixture.hpp>
#include <support/thread_harness.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
using senet::test::completion_record;
using senet::test::connect_slot;
using senet::test::context_runner;
using senet::test::eventually;
using senet::test::join_within;
using senet::test::race_budget;
using senet::test::record_receiver;
using tcp = ip::tcp;

// A record_receiver that also keeps the endpoints.
struct resolve_receiver {
  using receiver_concept = ex::receiver_t;
  record_receiver inner;
  std::vector<tcp::endpoint>* endpoints;
  [[nodiscard]] auto get_env() const noexcept { return inner.get_env(); }
  void set_value(std::vector<tcp::endpoint> eps) && noexcept {
    *endpoints = std::move(eps);
    std::move(inner).set_value();
  }
  void set_error(std::error_code ec) && noexcept { std::move(inner).set_error(ec); }
  void set_stopped() && noexcept { std::move(inner).set_stopped(); }
};

struct resolution {
  completion_record rec;
  std::vector<tcp::endpoint> endpoints;
  std::uint16_t port = 0;
};

// A resolve function that waits at a gate (so that a stop surely comes while it runs).
std::mutex gate_mutex;
std::condition_variable gate_cv;
bool gate_open = true;
std::atomic<int> gate_entered{0};
std::atomic<int> gate_left{0};

void gated_resolve(ip::detail::resolve_request& r) noexcept {
  gate_entered.fetch_add(1);
  {
    std::unique_lock lock(gate_mutex);
    gate_cv.wait(lock, [] { return gate_open; });
  }
  gate_left.fetch_add(1);
  ip::detail::run_getaddrinfo(r);
}

void open_gate() {
  {
    std::lock_guard lock(gate_mutex);
    gate_open = true;
  }
  gate_cv.notify_all();
}

template <class Backend>
class async_resolve_threads : public senet::test::backend_fixture<Backend> {
 protected:
  void TearDown() override {
    open_gate();
    ip::detail::set_resolve_function_for_testing(nullptr);
    senet::test::backend_fixture<Backend>::TearDown();
  }

  using slot_type =
      std::unique_ptr<senet::test::operation_slot<decltype(ip::async_resolve("", "")), resolve_receiver>>;

  slot_type start_resolution(resolution& r) {
    auto slot = connect_slot(ip::async_resolve("127.0.0.1", std::to_string(r.port)),
                             resolve_receiver{record_receiver{&this->ctx(), &r.rec}, &r.endpoints});
    slot->start();
    return slot;
  }
};

TYPED_TEST_SUITE(async_resolve_threads, senet::test::all_backends, senet::test::backend_names);

// Four threads start resolutions at once (up to 150 each) while a fifth runs the context named by
// their receivers' environment: each completes once, with its own port, on the context's thread.
TYPED_TEST(async_resolve_threads, resolutions_from_several_threads_complete_on_the_context_thread) {
  constexpr int threads = 4;
  constexpr int per_thread = 150;
  std::vector<std::deque<resolution>> res(threads);
  std::vector<std::vector<typename TestFixture::slot_type>> slots(threads);
  context_runner runner(this->ctx());
  std::vector<std::thread::id> starter_ids(threads);
  auto starter = [&](int t) {
    starter_ids[static_cast<std::size_t>(t)] = std::this_thread::get_id();
    race_budget budget(per_thread, 800ms, 0);
    while (budget.next()) {
      auto& r = res[static_cast<std::size_t>(t)].emplace_back();
      r.port = static_cast<std::uint16_t>(1000 + t * per_thread + budget.done());
      slots[static_cast<std::size_t>(t)].push_back(this->start_resolution(r));
    }
  };
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back(starter, t);
  }
  for (auto& t : ts) {
    join_within(t, 30s, "a resolving thread");
  }
  int total = 0;
  int on_starter = 0;
  for (int t = 0; t < threads; ++t) {
    for (auto& r : res[static_cast<std::size_t>(t)]) {
      ASSERT_TRUE(eventually([&] { return r.rec.done(); })) << "a resolution did not complete within 20 s";
      ++total;
    }
  }
  runner.finish();
  for (int t = 0; t < threads; ++t) {
    for (auto& r : res[static_cast<std::size_t>(t)]) {
      ASSERT_EQ(r.rec.count.load(), 1);
      ASSERT_TRUE(r.rec.is_value()) << r.rec.ec.message();
      ASSERT_EQ(r.endpoints.size(), 1U);
      EXPECT_EQ(r.endpoints[0], tcp::endpoint(ip::address_v4::loopback(), r.port));
      on_starter += r.rec.thread == starter_ids[static_cast<std::size_t>(t)] ? 1 : 0;
      EXPECT_EQ(r.rec.thread, runner.id()) << "a resolution completed off the context's thread"
                                           << (r.rec.thread == starter_ids[static_cast<std::size_t>(t)]
                                                   ? " (on the thread that started it, inside start())"
                                                   : "");
    }
  }
  EXPECT_GE(total, threads * senet::test::minimum_iterations);
  std::printf("%d resolutions from %d threads, %d completed on their starting thread\n", total, threads,
              on_starter);
}

// A resolution started on one thread (which has returned from start()) and stopped from another
// while getaddrinfo runs completes set_stopped() at once, on the stopping thread, while a third
// thread runs the context; the worker's late result is discarded.
TYPED_TEST(async_resolve_threads, stop_from_another_thread_completes_on_the_stopping_thread) {
  context_runner runner(this->ctx());
  race_budget budget(100, 500ms, senet::test::minimum_iterations);
  std::deque<resolution> res;
  std::vector<typename TestFixture::slot_type> slots;
  while (budget.next()) {
    {
      std::lock_guard lock(gate_mutex);
      gate_open = false;
    }
    gate_entered = 0;
    gate_left = 0;
    ip::detail::set_resolve_function_for_testing(&gated_resolve);
    auto& r = res.emplace_back();
    r.port = 80;
    std::thread starter([&] { slots.push_back(this->start_resolution(r)); });
    join_within(starter, 30s, "the starting thread");
    ASSERT_TRUE(eventually([] { return gate_entered.load() > 0; }, 5s))
        << "no worker took the resolution; iteration " << budget.done() << ", done " << r.rec.done()
        << " channel " << r.rec.channel.load() << " " << r.rec.ec.message();
    std::thread::id stopper_id;
    std::thread stopper([&] {
      stopper_id = std::this_thread::get_id();
      r.rec.stop.request_stop();
    });
    join_within(stopper, 30s, "the stopping thread");
    // At once: before the worker is let go.
    ASSERT_TRUE(r.rec.done()) << "the stop did not complete the resolution at once";
    ASSERT_TRUE(r.rec.is_stopped());
    ASSERT_EQ(r.rec.thread, stopper_id);
    open_gate();
    // The worker leaves the gate before it is closed again (else the pool's few workers end up
    // all waiting there).
    ASSERT_TRUE(eventually([] { return gate_left.load() == gate_entered.load(); }))
        << "a worker stayed at the gate";
    ip::detail::set_resolve_function_for_testing(nullptr);
  }
  // The workers' discarded results leave nothing behind: the runner runs out of work.
  runner.finish();
  for (auto& r : res) {
    ASSERT_EQ(r.rec.count.load(), 1);
  }
  SENET_EXPECT_RACED(budget, "resolutions stopped from another thread");
}

// Stops racing completions: two threads start resolutions, a third requests their stops at once,
// a fourth runs the context. Each completes exactly once: with its endpoints on the context's
// thread, or stopped (on the stopping thread, or on the starting thread when the stop came while
// start() ran).
TYPED_TEST(async_resolve_threads, stops_racing_completions) {
  constexpr int per_thread = 300;
  // Sized up front: the stopping thread reads entries while the starting threads fill others.
  std::vector<resolution> res[2] = {std::vector<resolution>(per_thread), std::vector<resolution>(per_thread)};
  std::vector<typename TestFixture::slot_type> slots[2];
  std::atomic<int> started[2] = {0, 0};
  std::thread::id ids[3];
  std::atomic<bool> starting{true};
  context_runner runner(this->ctx());
  auto starter = [&](int t) {
    ids[t] = std::this_thread::get_id();
    race_budget budget(per_thread, 500ms, 0);
    while (budget.next()) {
      auto& r = res[t][static_cast<std::size_t>(budget.done() - 1)];
      r.port = static_cast<std::uint16_t>(2000 + budget.done());
      slots[t].push_back(this->start_resolution(r));
      started[t].fetch_add(1);
    }
  };
  std::thread s0(starter, 0);
  std::thread s1(starter, 1);
  std::thread stopper([&] {
    ids[2] = std::this_thread::get_id();
    int next[2] = {0, 0};
    auto stop_started = [&] {
      for (int t = 0; t < 2; ++t) {
        for (int n = started[t].load(); next[t] < n; ++next[t]) {
          res[t][static_cast<std::size_t>(next[t])].rec.stop.request_stop();
        }
      }
    };
    while (starting.load()) {
      stop_started();
      std::this_thread::yield();
    }
    stop_started();
  });
  join_within(s0, 30s, "a starting thread");
  join_within(s1, 30s, "a starting thread");
  starting.store(false);
  join_within(stopper, 30s, "the stopping thread");
  int stopped = 0;
  int values = 0;
  for (int t = 0; t < 2; ++t) {
    for (int i = 0; i < started[t].load(); ++i) {
      auto& r = res[t][static_cast<std::size_t>(i)];
      ASSERT_TRUE(eventually([&] { return r.rec.done(); })) << "a resolution did not complete within 20 s";
    }
  }
  runner.finish();
  for (int t = 0; t < 2; ++t) {
    for (int i = 0; i < started[t].load(); ++i) {
      auto& r = res[t][static_cast<std::size_t>(i)];
      ASSERT_EQ(r.rec.count.load(), 1);
      if (r.rec.is_value()) {
        ++values;
        EXPECT_EQ(r.rec.thread, runner.id())
            << "a resolution completed with endpoints off the context's thread"
            << (r.rec.thread == ids[t] ? " (inside start())" : "");
      } else {
        ASSERT_TRUE(r.rec.is_stopped()) << r.rec.ec.message();
        ++stopped;
        EXPECT_TRUE(r.rec.thread == ids[2] || r.rec.thread == ids[t])
            << "a stopped resolution completed neither on the stopping nor on the starting thread";
      }
    }
  }
  EXPECT_GE(values + stopped, senet::test::minimum_iterations);
  std::printf("%d resolved, %d stopped\n", values, stopped);
}

// The context is destroyed (nobody running it) while resolutions started on two other threads
// run: each completes exactly once, stopped, on the destroying thread, or had completed with its
// endpoints before (never after: the worker does not touch a destroyed context).
TYPED_TEST(async_resolve_threads, context_destroyed_while_resolutions_from_other_threads_run) {
  race_budget budget(100, 500ms, senet::test::minimum_iterations);
  while (budget.next()) {
    std::deque<resolution> res;
    std::vector<typename TestFixture::slot_type> slots;
    std::mutex m;
    {
      io::io_context ctx(TypeParam::kind);
      auto start = [&](int n) {
        for (int i = 0; i < n; ++i) {
          std::lock_guard lock(m);
          auto& r = res.emplace_back();
          r.port = 443;
          slots.push_back(connect_slot(ip::async_resolve("127.0.0.1", "443"),
                                       resolve_receiver{record_receiver{&ctx, &r.rec}, &r.endpoints}));
          slots.back()->start();
        }
      };
      std::thread a(start, 5);
      std::thread b(start, 5);
      join_within(a, 30s, "a starting thread");
      join_within(b, 30s, "a starting thread");
      if (budget.done() % 2 == 0) {
        ctx.poll();  // deliver what is ready, on this thread
      }
    }
    for (auto& r : res) {
      ASSERT_EQ(r.rec.count.load(), 1);
      ASSERT_EQ(r.rec.thread, std::this_thread::get_id());
      ASSERT_TRUE(r.rec.is_stopped() || r.rec.is_value());
    }
  }
  SENET_EXPECT_RACED(budget, "contexts destroyed while resolving");
}

}  // namespace
