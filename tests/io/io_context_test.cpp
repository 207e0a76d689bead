// SPDX-License-Identifier: BSL-1.0
#include <senet/io/io_context.hpp>

#include <senet/execution.hpp>
#include <senet/io/test_network.hpp>
#include <senet/net/async_wait.hpp>

#include <support/backend_fixture.hpp>
#include <support/deadline.hpp>

#include <gtest/gtest.h>

#include <poll.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;

// A receiver that counts its completions; env has no stop token.
struct counting_receiver {
  using receiver_concept = ex::receiver_t;
  int* values;
  int* stops;
  void set_value() && noexcept { ++*values; }
  void set_stopped() && noexcept { ++*stops; }
  template <class E>
  void set_error(E&&) && noexcept {
    ADD_FAILURE() << "unexpected set_error";
  }
  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }
};

// A receiver whose environment carries a stop token.
struct stoppable_receiver {
  using receiver_concept = ex::receiver_t;
  int* values;
  int* stops;
  ex::inplace_stop_token token;
  struct env {
    ex::inplace_stop_token token;
    [[nodiscard]] ex::inplace_stop_token query(ex::get_stop_token_t) const noexcept { return token; }
  };
  void set_value() && noexcept { ++*values; }
  void set_stopped() && noexcept { ++*stops; }
  template <class E>
  void set_error(E&&) && noexcept {
    ADD_FAILURE() << "unexpected set_error";
  }
  [[nodiscard]] env get_env() const noexcept { return {token}; }
};

// ---- choosing the backend (not per backend) ------------------------------------------------------

TEST(io_context, default_backend_is_available_and_reported) {
  io::io_context ctx;
  if (std::getenv("SENET_BACKEND") == nullptr) {
    EXPECT_TRUE(ctx.backend() == io::backend_kind::epoll || ctx.backend() == io::backend_kind::uring);
  }
  EXPECT_TRUE(io::io_context::is_available(ctx.backend()));
  EXPECT_GE(ctx.wait_descriptor(), 0);
  EXPECT_EQ(ctx.native_handle(), ctx.wait_descriptor());
}

TEST(io_context, explicit_epoll_backend) {
  io::io_context ctx{io::epoll};
  EXPECT_EQ(ctx.backend(), io::backend_kind::epoll);
  EXPECT_EQ(io::to_string(ctx.backend()), "epoll");
}

TEST(io_context, unavailable_backend_throws_system_error) {
  for (auto kind : {io::backend_kind::uring, io::backend_kind::test}) {
    if (!io::io_context::is_available(kind)) {
      try {
        io::io_context ctx{kind};
        ADD_FAILURE() << "constructing an unavailable backend succeeded";
      } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::errc::function_not_supported);
      }
    }
  }
}

TEST(io_context, senet_backend_environment_variable_chooses_the_backend) {
  const char* old = std::getenv("SENET_BACKEND");
  std::string saved = old != nullptr ? old : "";
  ::setenv("SENET_BACKEND", "epoll", 1);
  {
    io::io_context ctx;
    EXPECT_EQ(ctx.backend(), io::backend_kind::epoll);
  }
  ::setenv("SENET_BACKEND", "no-such-backend", 1);
  EXPECT_THROW(io::io_context{}, std::invalid_argument);
  if (old != nullptr) {
    ::setenv("SENET_BACKEND", saved.c_str(), 1);
  } else {
    ::unsetenv("SENET_BACKEND");
  }
}

// ---- the same on every backend --------------------------------------------------------------------

template <class Backend>
class io_context_test : public senet::test::backend_fixture<Backend> {};

TYPED_TEST_SUITE(io_context_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(io_context_test, reports_its_backend_and_wait_descriptor) {
  EXPECT_EQ(this->ctx().backend(), this->kind);
  EXPECT_GE(this->ctx().wait_descriptor(), 0);
  EXPECT_EQ(this->ctx().native_handle(), this->ctx().wait_descriptor());
}

TYPED_TEST(io_context_test, run_without_work_returns_zero) {
  io::io_context& ctx = this->ctx();
  EXPECT_EQ(ctx.run(), 0U);
  EXPECT_EQ(ctx.run_one(), 0U);
  EXPECT_EQ(ctx.poll(), 0U);
  EXPECT_EQ(ctx.poll_one(), 0U);
  EXPECT_FALSE(ctx.stopped());
}

TYPED_TEST(io_context_test, scheduler_equality_and_context) {
  io::io_context& a = this->ctx();
  io::io_context b{this->kind};
  EXPECT_EQ(a.get_scheduler(), a.get_scheduler());
  EXPECT_NE(a.get_scheduler(), b.get_scheduler());
  EXPECT_EQ(&a.get_scheduler().context(), &a);
  auto sndr = ex::schedule(a.get_scheduler());
  EXPECT_EQ(ex::get_completion_scheduler<ex::set_value_t>(ex::get_env(sndr)), a.get_scheduler());
}

TYPED_TEST(io_context_test, poll_runs_ready_handlers_run_one_runs_one) {
  io::io_context& ctx = this->ctx();
  int values = 0;
  int stops = 0;
  auto s = ctx.get_scheduler();
  auto op1 = ex::connect(ex::schedule(s), counting_receiver{&values, &stops});
  auto op2 = ex::connect(ex::schedule(s), counting_receiver{&values, &stops});
  auto op3 = ex::connect(ex::schedule(s), counting_receiver{&values, &stops});
  ex::start(op1);
  ex::start(op2);
  ex::start(op3);
  EXPECT_EQ(values, 0);  // schedule never completes inline
  EXPECT_EQ(ctx.run_one(), 1U);
  EXPECT_EQ(values, 1);
  EXPECT_EQ(ctx.poll(), 2U);
  EXPECT_EQ(values, 3);
  EXPECT_EQ(ctx.poll(), 0U);
  EXPECT_EQ(stops, 0);
}

TYPED_TEST(io_context_test, run_returns_number_of_handlers) {
  io::io_context& ctx = this->ctx();
  int values = 0;
  int stops = 0;
  auto op1 = ex::connect(ex::schedule(ctx.get_scheduler()), counting_receiver{&values, &stops});
  auto op2 = ex::connect(ex::schedule(ctx.get_scheduler()), counting_receiver{&values, &stops});
  ex::start(op1);
  ex::start(op2);
  EXPECT_EQ(ctx.run(), 2U);
  EXPECT_EQ(values, 2);
}

TYPED_TEST(io_context_test, stop_and_restart) {
  io::io_context& ctx = this->ctx();
  int values = 0;
  int stops = 0;
  auto op = ex::connect(ex::schedule(ctx.get_scheduler()), counting_receiver{&values, &stops});
  ex::start(op);
  ctx.stop();
  EXPECT_TRUE(ctx.stopped());
  EXPECT_EQ(ctx.run(), 0U);
  EXPECT_EQ(ctx.poll(), 0U);
  EXPECT_EQ(values, 0);
  ctx.restart();
  EXPECT_FALSE(ctx.stopped());
  EXPECT_EQ(ctx.run(), 1U);
  EXPECT_EQ(values, 1);
}

TYPED_TEST(io_context_test, schedule_with_stop_requested_completes_stopped) {
  io::io_context& ctx = this->ctx();
  ex::inplace_stop_source source;
  int values = 0;
  int stops = 0;
  auto op =
      ex::connect(ex::schedule(ctx.get_scheduler()), stoppable_receiver{&values, &stops, source.get_token()});
  ex::start(op);
  source.request_stop();
  EXPECT_EQ(ctx.run(), 1U);
  EXPECT_EQ(values, 0);
  EXPECT_EQ(stops, 1);
}

TYPED_TEST(io_context_test, destruction_completes_pending_schedule_with_stopped) {
  int values = 0;
  int stops = 0;
  std::optional<io::io_context> ctx(std::in_place, this->kind);
  auto op = ex::connect(ex::schedule(ctx->get_scheduler()), counting_receiver{&values, &stops});
  ex::start(op);
  ctx.reset();
  EXPECT_EQ(values, 0);
  EXPECT_EQ(stops, 1);
}

TYPED_TEST(io_context_test, run_until_returns_values) {
  io::io_context& ctx = this->ctx();
  auto r = ctx.run_until(ex::schedule(ctx.get_scheduler()) | ex::then([] { return 42; }));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 42);
  auto two = ctx.run_until(ex::just(1, 2.5));
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(std::get<0>(*two), 1);
  EXPECT_EQ(std::get<1>(*two), 2.5);
}

TYPED_TEST(io_context_test, run_until_runs_on_the_calling_thread) {
  io::io_context& ctx = this->ctx();
  auto r =
      ctx.run_until(ex::schedule(ctx.get_scheduler()) | ex::then([] { return std::this_thread::get_id(); }));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), std::this_thread::get_id());
}

TYPED_TEST(io_context_test, run_until_stopped_gives_empty_optional) {
  auto r = this->ctx().run_until(ex::just_stopped());
  EXPECT_FALSE(r.has_value());
}

TYPED_TEST(io_context_test, run_until_error_code_throws_system_error) {
  try {
    (void)this->ctx().run_until(ex::just_error(std::make_error_code(std::errc::connection_refused)));
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::connection_refused);
  }
}

TYPED_TEST(io_context_test, run_until_exception_ptr_is_rethrown) {
  EXPECT_THROW((void)this->ctx().run_until(ex::just_error(std::make_exception_ptr(std::runtime_error("x")))),
               std::runtime_error);
}

TYPED_TEST(io_context_test, run_until_provides_the_scheduler) {
  io::io_context& ctx = this->ctx();
  auto r = ctx.run_until(ex::read_env(ex::get_scheduler));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), ctx.get_scheduler());
}

TYPED_TEST(io_context_test, run_until_forwards_stop_to_the_sender) {
  io::io_context& ctx = this->ctx();
  senet::test::deadline_guard deadline("run_until with an hour-long timer", &ctx);
  // The timer waits an hour; stop() from a handler makes run_until request a stop on it (on the
  // test backend too, whose virtual clock moves only when there is nothing else to do).
  bool timer_stopped = false;
  auto sndr = ex::when_all(net::async_wait_for(1h) | ex::upon_stopped([&] { timer_stopped = true; }),
                           ex::schedule(ctx.get_scheduler()) | ex::then([&] { ctx.stop(); }));
  auto r = ctx.run_until(std::move(sndr));
  EXPECT_FALSE(r.has_value());
  EXPECT_TRUE(timer_stopped);
  EXPECT_TRUE(ctx.stopped());
}

TYPED_TEST(io_context_test, run_until_on_a_stopped_context_stops_the_sender) {
  io::io_context& ctx = this->ctx();
  ctx.stop();
  senet::test::deadline_guard deadline("run_until on a stopped context", &ctx);
  // The context was stopped before: the hour-long wait receives a stop request at once.
  auto r = ctx.run_until(net::async_wait_for(1h));
  EXPECT_FALSE(r.has_value());
  EXPECT_TRUE(ctx.stopped());
}

TYPED_TEST(io_context_test, run_until_joins_a_counting_scope) {
  io::io_context& ctx = this->ctx();
  senet::test::deadline_guard deadline("run_until joins a scope", &ctx);
  ex::counting_scope scope;
  int done = 0;
  for (int i = 0; i < 3; ++i) {
    ex::spawn(ex::schedule(ctx.get_scheduler()) | ex::then([&]() noexcept { ++done; }), scope.get_token());
  }
  EXPECT_EQ(done, 0);
  // join needs the scheduler it starts on from run_until's environment (stdexec asks
  // get_start_scheduler, the bundled core get_scheduler).
  auto r = ctx.run_until(scope.join());
  EXPECT_TRUE(r.has_value());
  EXPECT_EQ(done, 3);
}

TYPED_TEST(io_context_test, run_until_completion_from_another_thread) {
  io::io_context& ctx = this->ctx();
  senet::test::deadline_guard deadline("run_until completed from another thread", &ctx);
  io::io_context other{this->kind};
  std::thread t;
  std::thread::id completed_on{};
  std::thread::id other_id{};
  {
    io::io_context::work_guard guard(other);
    t = std::thread([&] { other.run(); });
    other_id = t.get_id();
    // The sender completes on `other`'s thread; run_until must wake up for it.
    auto r = ctx.run_until(ex::schedule(other.get_scheduler()) | ex::then([&] {
                             completed_on = std::this_thread::get_id();
                             return 7;
                           }));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(std::get<0>(*r), 7);
  }
  t.join();
  EXPECT_EQ(completed_on, other_id);
}

TYPED_TEST(io_context_test, schedule_from_another_thread_runs_on_the_context_thread) {
  io::io_context& ctx = this->ctx();
  senet::test::deadline_guard deadline("schedule from another thread", &ctx);
  std::thread::id loop_id;
  std::thread t;
  {
    io::io_context::work_guard guard(ctx);
    t = std::thread([&] { ctx.run(); });
    loop_id = t.get_id();
    for (int i = 0; i < 100; ++i) {
      auto r = ex::sync_wait(ex::schedule(ctx.get_scheduler()) |
                             ex::then([] { return std::this_thread::get_id(); }));
      ASSERT_TRUE(r.has_value());
      EXPECT_EQ(std::get<0>(*r), loop_id);
    }
  }
  t.join();
}

TYPED_TEST(io_context_test, many_threads_schedule_concurrently) {
  io::io_context& ctx = this->ctx();
  senet::test::deadline_guard deadline("four threads schedule", &ctx);
  constexpr int threads = 4;
  constexpr int per_thread = 500;
  std::atomic<int> count{0};
  std::thread loop;
  {
    io::io_context::work_guard guard(ctx);
    loop = std::thread([&] { ctx.run(); });
    std::vector<std::thread> producers;
    for (int i = 0; i < threads; ++i) {
      producers.emplace_back([&] {
        for (int j = 0; j < per_thread; ++j) {
          ex::sync_wait(ex::schedule(ctx.get_scheduler()) |
                        ex::then([&] { count.fetch_add(1, std::memory_order_relaxed); }));
        }
      });
    }
    for (auto& p : producers) {
      p.join();
    }
  }
  loop.join();
  EXPECT_EQ(count.load(), threads * per_thread);
}

TYPED_TEST(io_context_test, stop_from_another_thread_ends_a_blocked_run) {
  io::io_context& ctx = this->ctx();
  io::io_context::work_guard guard(ctx);
  std::atomic<bool> running{false};
  std::atomic<bool> returned{false};
  std::size_t handlers = 99;
  // The loop runs one handler (so it is inside run() for sure), then blocks with the guard held.
  auto op_values = 0;
  auto op_stops = 0;
  auto op = ex::connect(ex::schedule(ctx.get_scheduler()) | ex::then([&] { running = true; }),
                        counting_receiver{&op_values, &op_stops});
  ex::start(op);
  std::thread t([&] {
    handlers = ctx.run();
    returned = true;
  });
  ASSERT_TRUE(senet::test::spin_until([&] { return running.load(); }, "run() runs the handler"));
  EXPECT_FALSE(returned.load()) << "run() returned while a work guard was held";
  ctx.stop();
  bool ended = senet::test::spin_until([&] { return returned.load(); }, "run() returns");
  if (!ended) {
    guard.reset();  // let the thread end so that the failure is reported, not a hang
  }
  t.join();
  EXPECT_TRUE(ended) << "stop() from another thread did not end run()";
  EXPECT_EQ(handlers, 1U);
  EXPECT_EQ(op_values, 1);
}

TYPED_TEST(io_context_test, work_guard_reset_lets_run_return) {
  io::io_context& ctx = this->ctx();
  io::io_context::work_guard guard(ctx);
  std::atomic<bool> returned{false};
  std::thread t([&] {
    ctx.run();
    returned = true;
  });
  guard.reset();
  bool ended = senet::test::spin_until([&] { return returned.load(); }, "run() returns");
  if (!ended) {
    ctx.stop();  // let the thread end so that the failure is reported, not a hang
  }
  t.join();
  EXPECT_TRUE(ended) << "run() did not return after the guard's reset";
  EXPECT_FALSE(ctx.stopped()) << "run() returned because it ran out of work, not by stop()";
}

TYPED_TEST(io_context_test, run_from_two_threads_is_refused) {
  io::io_context& ctx = this->ctx();
  std::atomic<bool> inside{false};
  std::atomic<bool> release{false};
  auto blocker =
      ex::schedule(ctx.get_scheduler()) | ex::then([&] {
        inside = true;
        // Bounded: the test releases it at once, and a failure must not hang.
        (void)senet::test::spin_until([&] { return release.load(); }, "the test releases the handler");
      });
  io::io_context::work_guard guard(ctx);
  std::thread t([&] { ex::sync_wait(std::move(blocker)); });
  std::thread loop([&] { ctx.run(); });
  EXPECT_TRUE(senet::test::spin_until([&] { return inside.load(); }, "the loop runs the handler"));
  EXPECT_THROW(ctx.run_one(), std::logic_error);
  EXPECT_THROW(ctx.poll(), std::logic_error);
  EXPECT_THROW((void)ctx.run_until(ex::just()), std::logic_error);
  guard.reset();
  release = true;
  t.join();
  loop.join();
}

TYPED_TEST(io_context_test, wait_descriptor_becomes_readable_for_cross_thread_work) {
  io::io_context& ctx = this->ctx();
  int values = 0;
  int stops = 0;
  auto op = ex::connect(ex::schedule(ctx.get_scheduler()), counting_receiver{&values, &stops});
  std::thread t([&] { ex::start(op); });
  t.join();
  ::pollfd p{ctx.wait_descriptor(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1) << "not readable within 10 s";
  EXPECT_EQ(ctx.poll(), 1U);
  EXPECT_EQ(values, 1);
}

TYPED_TEST(io_context_test, wait_descriptor_becomes_readable_for_a_timer_after_poll) {
  io::io_context& ctx = this->ctx();
  int values = 0;
  int stops = 0;
  auto op = ex::connect(net::async_wait_for(ctx.get_scheduler(), 1ms), counting_receiver{&values, &stops});
  ex::start(op);
  EXPECT_EQ(ctx.poll(), 0U);
  if (this->kind == io::backend_kind::test) {
    // A context driven by a foreign loop moves its virtual clock only through advance().
    io::test_network::of(ctx).advance(1ms);
  }
  ::pollfd p{ctx.wait_descriptor(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1) << "not readable within 10 s";
  // The timer may need a moment more than the readiness to be due on the context's clock.
  senet::test::spin_until(
      [&] {
        ctx.poll();
        return values != 0;
      },
      "the timer completes");
  EXPECT_EQ(values, 1);
  EXPECT_EQ(stops, 0);
}

}  // namespace
