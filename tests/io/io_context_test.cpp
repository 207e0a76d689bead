// SPDX-License-Identifier: BSL-1.0
#include <senet/io/io_context.hpp>

#include <senet/execution.hpp>
#include <senet/net/async_wait.hpp>

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

TEST(io_context, run_without_work_returns_zero) {
  io::io_context ctx;
  EXPECT_EQ(ctx.run(), 0U);
  EXPECT_EQ(ctx.run_one(), 0U);
  EXPECT_EQ(ctx.poll(), 0U);
  EXPECT_EQ(ctx.poll_one(), 0U);
  EXPECT_FALSE(ctx.stopped());
}

TEST(io_context, scheduler_equality_and_context) {
  io::io_context a;
  io::io_context b;
  EXPECT_EQ(a.get_scheduler(), a.get_scheduler());
  EXPECT_NE(a.get_scheduler(), b.get_scheduler());
  EXPECT_EQ(&a.get_scheduler().context(), &a);
  static_assert(ex::scheduler<io::io_context::scheduler_type>);
  auto sndr = ex::schedule(a.get_scheduler());
  EXPECT_EQ(ex::get_completion_scheduler<ex::set_value_t>(ex::get_env(sndr)), a.get_scheduler());
}

TEST(io_context, poll_runs_ready_handlers_run_one_runs_one) {
  io::io_context ctx;
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

TEST(io_context, run_returns_number_of_handlers) {
  io::io_context ctx;
  int values = 0;
  int stops = 0;
  auto op1 = ex::connect(ex::schedule(ctx.get_scheduler()), counting_receiver{&values, &stops});
  auto op2 = ex::connect(ex::schedule(ctx.get_scheduler()), counting_receiver{&values, &stops});
  ex::start(op1);
  ex::start(op2);
  EXPECT_EQ(ctx.run(), 2U);
  EXPECT_EQ(values, 2);
}

TEST(io_context, stop_and_restart) {
  io::io_context ctx;
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

TEST(io_context, schedule_with_stop_requested_completes_stopped) {
  io::io_context ctx;
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

TEST(io_context, destruction_completes_pending_schedule_with_stopped) {
  int values = 0;
  int stops = 0;
  std::optional<io::io_context> ctx(std::in_place);
  auto op = ex::connect(ex::schedule(ctx->get_scheduler()), counting_receiver{&values, &stops});
  ex::start(op);
  ctx.reset();
  EXPECT_EQ(values, 0);
  EXPECT_EQ(stops, 1);
}

TEST(io_context, run_until_returns_values) {
  io::io_context ctx;
  auto r = ctx.run_until(ex::schedule(ctx.get_scheduler()) | ex::then([] { return 42; }));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 42);
  auto two = ctx.run_until(ex::just(1, 2.5));
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(std::get<0>(*two), 1);
  EXPECT_EQ(std::get<1>(*two), 2.5);
}

TEST(io_context, run_until_runs_on_the_calling_thread) {
  io::io_context ctx;
  auto r =
      ctx.run_until(ex::schedule(ctx.get_scheduler()) | ex::then([] { return std::this_thread::get_id(); }));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), std::this_thread::get_id());
}

TEST(io_context, run_until_stopped_gives_empty_optional) {
  io::io_context ctx;
  auto r = ctx.run_until(ex::just_stopped());
  EXPECT_FALSE(r.has_value());
}

TEST(io_context, run_until_error_code_throws_system_error) {
  io::io_context ctx;
  try {
    (void)ctx.run_until(ex::just_error(std::make_error_code(std::errc::connection_refused)));
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::connection_refused);
  }
}

TEST(io_context, run_until_exception_ptr_is_rethrown) {
  io::io_context ctx;
  EXPECT_THROW((void)ctx.run_until(ex::just_error(std::make_exception_ptr(std::runtime_error("x")))),
               std::runtime_error);
}

TEST(io_context, run_until_provides_the_scheduler) {
  io::io_context ctx;
  auto r = ctx.run_until(ex::read_env(ex::get_scheduler));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), ctx.get_scheduler());
}

TEST(io_context, run_until_forwards_stop_to_the_sender) {
  io::io_context ctx;
  // The timer waits an hour; stop() from a handler makes run_until request a stop on it.
  auto sndr = ex::when_all(net::async_wait_for(1h),
                           ex::schedule(ctx.get_scheduler()) | ex::then([&] { ctx.stop(); }));
  auto r = ctx.run_until(std::move(sndr));
  EXPECT_FALSE(r.has_value());
  EXPECT_TRUE(ctx.stopped());
}

TEST(io_context, run_until_on_a_stopped_context_stops_the_sender) {
  io::io_context ctx;
  ctx.stop();
  // The context was stopped before: the hour-long wait receives a stop request at once.
  auto r = ctx.run_until(net::async_wait_for(1h));
  EXPECT_FALSE(r.has_value());
  EXPECT_TRUE(ctx.stopped());
}

TEST(io_context, run_until_joins_a_counting_scope) {
  io::io_context ctx;
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

TEST(io_context, run_until_completion_from_another_thread) {
  io::io_context ctx;
  io::io_context other;
  std::thread t;
  {
    io::io_context::work_guard guard(other);
    t = std::thread([&] { other.run(); });
    // The sender completes on `other`'s thread; run_until must wake up for it.
    auto r = ctx.run_until(ex::schedule(other.get_scheduler()) | ex::then([] { return 7; }));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(std::get<0>(*r), 7);
  }
  t.join();
}

TEST(io_context, schedule_from_another_thread_runs_on_the_context_thread) {
  io::io_context ctx;
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

TEST(io_context, many_threads_schedule_concurrently) {
  io::io_context ctx;
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

TEST(io_context, stop_from_another_thread_ends_a_blocked_run) {
  io::io_context ctx;
  io::io_context::work_guard guard(ctx);
  std::atomic<bool> returned{false};
  std::thread t([&] {
    ctx.run();
    returned = true;
  });
  ctx.stop();
  t.join();
  EXPECT_TRUE(returned.load());
}

TEST(io_context, work_guard_reset_lets_run_return) {
  io::io_context ctx;
  io::io_context::work_guard guard(ctx);
  std::thread t([&] { ctx.run(); });
  guard.reset();
  t.join();
  SUCCEED();
}

TEST(io_context, run_from_two_threads_is_refused) {
  io::io_context ctx;
  std::atomic<bool> inside{false};
  std::atomic<bool> release{false};
  auto blocker = ex::schedule(ctx.get_scheduler()) | ex::then([&] {
                   inside = true;
                   while (!release) {
                     std::this_thread::yield();
                   }
                 });
  std::optional<io::io_context::work_guard> guard(std::in_place, ctx);
  std::thread t([&] { ex::sync_wait(std::move(blocker)); });
  std::thread loop([&] { ctx.run(); });
  while (!inside) {
    std::this_thread::yield();
  }
  EXPECT_THROW(ctx.run_one(), std::logic_error);
  EXPECT_THROW((void)ctx.run_until(ex::just()), std::logic_error);
  guard.reset();
  release = true;
  t.join();
  loop.join();
}

TEST(io_context, wait_descriptor_becomes_readable_for_cross_thread_work) {
  io::io_context ctx;
  int values = 0;
  int stops = 0;
  auto op = ex::connect(ex::schedule(ctx.get_scheduler()), counting_receiver{&values, &stops});
  std::thread t([&] { ex::start(op); });
  t.join();
  ::pollfd p{ctx.wait_descriptor(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  EXPECT_EQ(ctx.poll(), 1U);
  EXPECT_EQ(values, 1);
}

TEST(io_context, wait_descriptor_becomes_readable_for_a_timer_after_poll) {
  io::io_context ctx;
  int values = 0;
  int stops = 0;
  auto op = ex::connect(net::async_wait_for(ctx.get_scheduler(), 1ms), counting_receiver{&values, &stops});
  ex::start(op);
  EXPECT_EQ(ctx.poll(), 0U);
  ::pollfd p{ctx.wait_descriptor(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  // The timer may need a moment more than the readiness to be due on the context's clock.
  while (values == 0) {
    ctx.poll();
  }
  EXPECT_EQ(values, 1);
}

}  // namespace
