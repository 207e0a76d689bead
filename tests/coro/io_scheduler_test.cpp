// SPDX-License-Identifier: BSL-1.0
// coro::io_scheduler: every member, both thread strategies and both execution strategies, on the
// io_uring and epoll backends; polls (timeouts, two polls on one socket), timers, spawn, and
// shutdown with polls and timers pending. The tail of the file rewrites the scheduler-side tests
// and examples of libcoro 0.15 (pipes, when_all of a reader and a writer, manual process_events,
// 200000 spawns...) as our own, to show that code written for libcoro behaves the same here.
// senet-test-labels: threaded
#include <senet/coro/io_scheduler.hpp>

#include <senet/coro.hpp>
#include <senet/io/async_poll.hpp>
#include <senet/io/forget_descriptor.hpp>

#include "support/allocation_counter.hpp"
#include "support/backend_fixture.hpp"
#include "support/deadline.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace coro = senet::coro;
using namespace std::chrono_literals;

namespace {

using strategy = coro::io_scheduler::execution_strategy_t;
using threads = coro::io_scheduler::thread_strategy_t;

/** Two connected, non-blocking descriptors (a pipe or a socket pair), closed at the end. */
struct fd_pair {
  int a = -1;
  int b = -1;
  fd_pair(const fd_pair&) = delete;
  fd_pair& operator=(const fd_pair&) = delete;
  ~fd_pair() {
    ::close(a);
    ::close(b);
  }
  static std::unique_ptr<fd_pair> pipe() {
    auto p = std::unique_ptr<fd_pair>(new fd_pair);
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe2");
    }
    p->a = fds[0];
    p->b = fds[1];
    return p;
  }
  static std::unique_ptr<fd_pair> sockets() {
    auto p = std::unique_ptr<fd_pair>(new fd_pair);
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
      throw std::runtime_error("socketpair");
    }
    p->a = fds[0];
    p->b = fds[1];
    return p;
  }

 private:
  fd_pair() = default;
};

void write_byte(int fd) {
  char c = 'x';
  ASSERT_EQ(::write(fd, &c, 1), 1);
}

/** Writes into `fd` until the kernel refuses more; returns how much. */
std::size_t fill(int fd) {
  std::array<char, 65536> block{};
  std::size_t total = 0;
  for (;;) {
    ssize_t n = ::write(fd, block.data(), block.size());
    if (n <= 0) {
      return total;
    }
    total += static_cast<std::size_t>(n);
  }
}

/** Reads everything `fd` has now. */
std::size_t drain(int fd) {
  std::array<char, 65536> block{};
  std::size_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, block.data(), block.size());
    if (n <= 0) {
      return total;
    }
    total += static_cast<std::size_t>(n);
  }
}

/** A listening TCP socket on 127.0.0.1, port 0, made with ::socket (no senet socket owns it). */
struct listener {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  listener() {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(fd, 16) != 0) {
      throw std::runtime_error("listen");
    }
  }
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;
  ~listener() { ::close(fd); }
};

template <class Backend>
class coro_io_scheduler : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!senet::io::io_context::is_available(Backend::kind)) {
      GTEST_SKIP() << "the " << senet::io::to_string(Backend::kind) << " backend is not available here";
    }
  }

  static std::shared_ptr<coro::io_scheduler> make(strategy exec = strategy::process_tasks_on_thread_pool,
                                                  threads thr = threads::spawn,
                                                  std::uint32_t pool_threads = 2) {
    return coro::io_scheduler::make_shared(
        coro::io_scheduler::options{.thread_strategy = thr,
                                    .pool = coro::thread_pool::options{.thread_count = pool_threads},
                                    .execution_strategy = exec,
                                    .backend = Backend::kind});
  }
};

TYPED_TEST_SUITE(coro_io_scheduler, senet::test::kernel_backends, senet::test::backend_names);

// ---- schedule, resume, size -----------------------------------------------------------------------

TYPED_TEST(coro_io_scheduler, schedule_moves_the_coroutine_to_a_pool_thread) {
  auto s = this->make();
  const auto caller = std::this_thread::get_id();
  auto t = [](std::shared_ptr<coro::io_scheduler> s) -> coro::task<std::thread::id> {
    co_await s->schedule();
    co_return std::this_thread::get_id();
  };
  EXPECT_NE(coro::sync_wait(t(s)), caller);
  s->shutdown();
  EXPECT_TRUE(s->empty());
}

TYPED_TEST(coro_io_scheduler, inline_strategy_resumes_on_the_io_thread) {
  std::thread::id io_thread;
  auto s = coro::io_scheduler::make_shared(coro::io_scheduler::options{
      .thread_strategy = threads::spawn,
      .on_io_thread_start_functor = [&io_thread] { io_thread = std::this_thread::get_id(); },
      .execution_strategy = strategy::process_tasks_inline,
      .backend = TypeParam::kind});
  auto t = [](std::shared_ptr<coro::io_scheduler> s) -> coro::task<std::thread::id> {
    co_await s->schedule();
    co_await s->yield();
    co_await s->yield_for(1ms);
    co_return std::this_thread::get_id();
  };
  EXPECT_EQ(coro::sync_wait(t(s)), io_thread);
  s->shutdown();
}

TYPED_TEST(coro_io_scheduler, options_functors_run_on_their_threads) {
  std::atomic<int> io_started{0}, io_stopped{0}, pool_started{0}, pool_stopped{0};
  std::set<std::size_t> indices;
  std::mutex m;
  {
    auto s = coro::io_scheduler::make_shared(coro::io_scheduler::options{
        .thread_strategy = threads::spawn,
        .on_io_thread_start_functor = [&] { ++io_started; },
        .on_io_thread_stop_functor = [&] { ++io_stopped; },
        .pool = coro::thread_pool::options{.thread_count = 3,
                                           .on_thread_start_functor =
                                               [&](std::size_t i) {
                                                 std::lock_guard lock(m);
                                                 indices.insert(i);
                                                 ++pool_started;
                                               },
                                           .on_thread_stop_functor = [&](std::size_t) { ++pool_stopped; }},
        .backend = TypeParam::kind});
    ASSERT_TRUE(
        senet::test::spin_until([&] { return io_started == 1 && pool_started == 3; }, "threads start"));
  }
  EXPECT_EQ(io_stopped, 1);
  EXPECT_EQ(pool_stopped, 3);
  EXPECT_EQ(indices, (std::set<std::size_t>{0, 1, 2}));
}

TYPED_TEST(coro_io_scheduler, resume_runs_a_handle_on_the_scheduler) {
  for (auto exec : {strategy::process_tasks_inline, strategy::process_tasks_on_thread_pool}) {
    auto s = this->make(exec);
    std::atomic<bool> ran{false};
    auto t = [](std::atomic<bool>& ran) -> coro::task<void> {
      ran = true;
      co_return;
    }(ran);
    EXPECT_TRUE(s->resume(t.handle()));
    ASSERT_TRUE(senet::test::spin_until([&] { return ran.load(); }, "resumed handle runs"));
    ASSERT_TRUE(senet::test::spin_until([&] { return s->empty(); }, "scheduler idle"));
    EXPECT_TRUE(t.is_ready());
    EXPECT_FALSE(s->resume(t.handle())) << "a finished handle";
    EXPECT_FALSE(s->resume(std::coroutine_handle<>{})) << "a null handle";
    s->shutdown();
    auto u = []() -> coro::task<void> { co_return; }();
    EXPECT_FALSE(s->resume(u.handle())) << "after shutdown";
  }
}

TYPED_TEST(coro_io_scheduler, size_counts_pending_timers_and_spawned_tasks) {
  auto s = this->make(strategy::process_tasks_inline);
  EXPECT_TRUE(s->empty());
  coro::event release;
  std::atomic<bool> done{false};
  ASSERT_TRUE(s->spawn([](coro::event& e, std::atomic<bool>& done) -> coro::task<void> {
    co_await e;
    done = true;
  }(release, done)));
  // The spawned task, and its schedule() until it runs; then the task alone, waiting for the event.
  EXPECT_GE(s->size(), 1U);
  EXPECT_FALSE(s->empty());
  ASSERT_TRUE(senet::test::spin_until([&] { return s->size() == 1; }, "the spawned task waits"));
  release.set();
  ASSERT_TRUE(senet::test::spin_until([&] { return done.load() && s->empty(); }, "spawned task ends"));
  s->shutdown();
}

TYPED_TEST(coro_io_scheduler, schedule_task_runs_it_on_the_scheduler) {
  auto s = this->make();
  auto t = [](std::thread::id& where) -> coro::task<int> {
    where = std::this_thread::get_id();
    co_return 53;
  };
  std::thread::id where;
  EXPECT_EQ(coro::sync_wait(s->schedule(t(where))), 53);
  EXPECT_NE(where, std::this_thread::get_id());
}

// ---- timers ---------------------------------------------------------------------------------------

TYPED_TEST(coro_io_scheduler, timers_wait_at_least_their_time) {
  auto s = this->make();
  auto t = [](std::shared_ptr<coro::io_scheduler> s) -> coro::task<void> {
    co_await s->schedule();
    auto start = coro::clock::now();
    co_await s->schedule_after(20ms);
    EXPECT_GE(coro::clock::now() - start, 20ms);
    start = coro::clock::now();
    co_await s->yield_for(10ms);
    EXPECT_GE(coro::clock::now() - start, 10ms);
    auto at = coro::clock::now() + 15ms;
    co_await s->schedule_at(at);
    EXPECT_GE(coro::clock::now(), at);
    at = coro::clock::now() + 5ms;
    co_await s->yield_until(at);
    EXPECT_GE(coro::clock::now(), at);
    // Zero, negative and past times behave as schedule().
    co_await s->schedule_after(0ms);
    co_await s->yield_for(-5ms);
    co_await s->schedule_at(coro::clock::now() - 1s);
    co_await s->yield_until(coro::time_point{});
  };
  coro::sync_wait(t(s));
  EXPECT_TRUE(senet::test::spin_until([&] { return s->empty(); }, "scheduler idle"));
}

// ---- poll -----------------------------------------------------------------------------------------

TYPED_TEST(coro_io_scheduler, poll_reports_an_event) {
  for (auto exec : {strategy::process_tasks_inline, strategy::process_tasks_on_thread_pool}) {
    auto s = this->make(exec);
    auto p = fd_pair::pipe();
    write_byte(p->b);
    auto t = [](std::shared_ptr<coro::io_scheduler> s, int rd, int wr) -> coro::task<void> {
      co_await s->schedule();
      EXPECT_EQ(co_await s->poll(rd, coro::poll_op::read), coro::poll_status::event);
      EXPECT_EQ(co_await s->poll(wr, coro::poll_op::write, 1000ms), coro::poll_status::event);
      EXPECT_EQ(co_await s->poll(rd, coro::poll_op::read_write, 1000ms), coro::poll_status::event);
    };
    coro::sync_wait(t(s, p->a, p->b));
    s->shutdown();
    EXPECT_TRUE(s->empty());
  }
}

TYPED_TEST(coro_io_scheduler, poll_times_out) {
  auto s = this->make();
  auto p = fd_pair::pipe();
  auto t = [](std::shared_ptr<coro::io_scheduler> s, int rd, int wr) -> coro::task<void> {
    co_await s->schedule();
    const auto start = coro::clock::now();
    EXPECT_EQ(co_await s->poll(rd, coro::poll_op::read, 10ms), coro::poll_status::timeout);
    EXPECT_GE(coro::clock::now() - start, 10ms);
    // The descriptor is still usable after a timed-out poll.
    write_byte(wr);
    EXPECT_EQ(co_await s->poll(rd, coro::poll_op::read, 5000ms), coro::poll_status::event);
  };
  coro::sync_wait(t(s, p->a, p->b));
  EXPECT_TRUE(senet::test::spin_until([&] { return s->empty(); }, "scheduler idle"));
}

TYPED_TEST(coro_io_scheduler, poll_of_a_bad_descriptor_is_an_error) {
  auto s = this->make();
  auto t = [](std::shared_ptr<coro::io_scheduler> s) -> coro::task<void> {
    co_await s->schedule();
    EXPECT_EQ(co_await s->poll(-1, coro::poll_op::read), coro::poll_status::error);
    EXPECT_EQ(co_await s->poll(-1, coro::poll_op::write, 10ms), coro::poll_status::error);
  };
  coro::sync_wait(t(s));
  EXPECT_TRUE(senet::test::spin_until([&] { return s->empty(); }, "scheduler idle"));
}

TYPED_TEST(coro_io_scheduler, poll_of_a_pipe_whose_reader_closed_is_an_error) {
  auto s = this->make();
  auto p = fd_pair::pipe();
  fill(p->b);
  ::close(p->a);
  p->a = -1;
  auto t = [](std::shared_ptr<coro::io_scheduler> s, int wr) -> coro::task<coro::poll_status> {
    co_await s->schedule();
    co_return co_await s->poll(wr, coro::poll_op::write, 5000ms);
  };
  EXPECT_EQ(coro::sync_wait(t(s, p->b)), coro::poll_status::error);
}

// libcoro registers a descriptor once per poll and cannot have two polls of one descriptor
// pending; senet can: a reader waits for data while a writer waits for room, on one socket.
TYPED_TEST(coro_io_scheduler, two_coroutines_poll_one_socket_for_read_and_write_at_once) {
  for (auto exec : {strategy::process_tasks_inline, strategy::process_tasks_on_thread_pool}) {
    auto s = this->make(exec);
    auto p = fd_pair::sockets();
    fill(p->a);  // a's send buffer is full: a write poll on a must wait
    std::atomic<int> polling{0};
    std::atomic<int> reader_done{0}, writer_done{0};
    auto reader = [](std::shared_ptr<coro::io_scheduler> s, int fd, std::atomic<int>& polling,
                     std::atomic<int>& done) -> coro::task<void> {
      co_await s->schedule();
      ++polling;
      EXPECT_EQ(co_await s->poll(fd, coro::poll_op::read, 20000ms), coro::poll_status::event);
      done = 1;
    };
    auto writer = [](std::shared_ptr<coro::io_scheduler> s, int fd, std::atomic<int>& polling,
                     std::atomic<int>& done) -> coro::task<void> {
      co_await s->schedule();
      ++polling;
      EXPECT_EQ(co_await s->poll(fd, coro::poll_op::write, 20000ms), coro::poll_status::event);
      done = 1;
    };
    ASSERT_TRUE(s->spawn(reader(s, p->a, polling, reader_done)));
    ASSERT_TRUE(s->spawn(writer(s, p->a, polling, writer_done)));
    ASSERT_TRUE(
        senet::test::spin_until([&] { return polling == 2 && s->size() >= 4; }, "both polls pending"));
    // Data for a: the read poll completes, the write poll stays pending.
    write_byte(p->b);
    ASSERT_TRUE(senet::test::spin_until([&] { return reader_done == 1; }, "read poll completes"));
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(writer_done, 0) << "the write poll must still wait for room";
    // Room for a: the write poll completes.
    drain(p->b);
    ASSERT_TRUE(senet::test::spin_until([&] { return writer_done == 1; }, "write poll completes"));
    s->shutdown();
    EXPECT_TRUE(s->empty());
  }
}

TYPED_TEST(coro_io_scheduler, many_polls_of_one_descriptor_all_complete) {
  auto s = this->make(strategy::process_tasks_on_thread_pool, threads::spawn, 4);
  auto p = fd_pair::pipe();
  constexpr int n = 16;
  std::atomic<int> polling{0}, events{0};
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(s->spawn([](std::shared_ptr<coro::io_scheduler> s, int fd, std::atomic<int>& polling,
                            std::atomic<int>& events) -> coro::task<void> {
      co_await s->schedule();
      ++polling;
      if (co_await s->poll(fd, coro::poll_op::read) == coro::poll_status::event) {
        ++events;
      }
    }(s, p->a, polling, events)));
  }
  ASSERT_TRUE(senet::test::spin_until([&] { return polling == n && s->size() >= 2 * n; }, "polls pending"));
  write_byte(p->b);
  ASSERT_TRUE(senet::test::spin_until([&] { return events == n; }, "every poll sees the event"));
  s->shutdown();
}

TYPED_TEST(coro_io_scheduler, poll_sender_takes_a_senet_readiness_sender) {
  auto s = this->make();
  auto p = fd_pair::pipe();
  write_byte(p->b);
  auto t = [](std::shared_ptr<coro::io_scheduler> s, int rd) -> coro::task<void> {
    co_await s->schedule();
    auto ready = senet::io::async_poll(s->context().get_scheduler(), rd, senet::io::poll_events::readable);
    EXPECT_EQ(co_await s->poll_sender(ready), coro::poll_status::event);
    auto never = senet::io::async_poll(s->context().get_scheduler(), rd, senet::io::poll_events::priority);
    EXPECT_EQ(co_await s->poll_sender(never, 10ms), coro::poll_status::timeout);
  };
  coro::sync_wait(t(s, p->a));
}

struct fd_socket {
  int fd;
  [[nodiscard]] int native_handle() const noexcept { return fd; }
};

TYPED_TEST(coro_io_scheduler, poll_of_a_socket_object_polls_its_handle) {
  auto s = this->make();
  auto p = fd_pair::sockets();
  write_byte(p->b);
  auto t = [](std::shared_ptr<coro::io_scheduler> s, fd_socket sock) -> coro::task<coro::poll_status> {
    co_await s->schedule();
    co_return co_await s->poll(sock, coro::poll_op::read, 5000ms);
  };
  EXPECT_EQ(coro::sync_wait(t(s, fd_socket{p->a})), coro::poll_status::event);
}

// ---- spawn and shutdown ---------------------------------------------------------------------------

TYPED_TEST(coro_io_scheduler, spawn_refuses_empty_and_finished_tasks) {
  auto s = this->make();
  coro::task<void> empty;
  EXPECT_FALSE(s->spawn(std::move(empty)));
  auto finished = []() -> coro::task<void> { co_return; }();
  finished.resume();
  ASSERT_TRUE(finished.is_ready());
  EXPECT_FALSE(s->spawn(std::move(finished)));
  s->shutdown();
  EXPECT_FALSE(s->spawn([]() -> coro::task<void> { co_return; }())) << "after shutdown";
}

TYPED_TEST(coro_io_scheduler, spawned_task_that_throws_is_dropped) {
  auto s = this->make();
  std::atomic<int> after{0};
  ASSERT_TRUE(s->spawn([]() -> coro::task<void> {
    throw std::runtime_error("dropped");
    co_return;
  }()));
  ASSERT_TRUE(s->spawn([](std::atomic<int>& after) -> coro::task<void> {
    ++after;
    co_return;
  }(after)));
  s->shutdown();
  EXPECT_EQ(after, 1);
  EXPECT_TRUE(s->empty());
}

// An accept-like poll (a listening socket, no timeout) is ended by shutdown(): it returns closed,
// the task ends, and nothing is leaked (the asan preset checks).
TYPED_TEST(coro_io_scheduler, shutdown_ends_a_pending_accept_poll_and_a_timer) {
  for (auto exec : {strategy::process_tasks_inline, strategy::process_tasks_on_thread_pool}) {
    auto s = this->make(exec);
    listener l;
    std::atomic<int> started{0};
    std::atomic<int> accept_status{-1};
    std::atomic<bool> timer_done{false};
    ASSERT_TRUE(s->spawn([](std::shared_ptr<coro::io_scheduler> s, int fd, std::atomic<int>& started,
                            std::atomic<int>& status) -> coro::task<void> {
      co_await s->schedule();
      ++started;
      status = static_cast<int>(co_await s->poll(fd, coro::poll_op::read));
    }(s, l.fd, started, accept_status)));
    ASSERT_TRUE(s->spawn([](std::shared_ptr<coro::io_scheduler> s, std::atomic<int>& started,
                            std::atomic<bool>& done) -> coro::task<void> {
      co_await s->schedule();
      ++started;
      co_await s->yield_for(1h);
      done = true;
    }(s, started, timer_done)));
    ASSERT_TRUE(
        senet::test::spin_until([&] { return started == 2 && s->size() >= 4; }, "poll and timer pending"));
    {
      senet::test::deadline_guard guard("shutdown with a pending poll and timer");
      s->shutdown();
    }
    EXPECT_EQ(accept_status, static_cast<int>(coro::poll_status::closed));
    EXPECT_TRUE(timer_done);
    EXPECT_TRUE(s->empty());
    // After shutdown: a poll is closed at once, schedule() goes on on the calling thread.
    auto after = [](std::shared_ptr<coro::io_scheduler> s, int fd) -> coro::task<coro::poll_status> {
      co_await s->schedule();
      co_return co_await s->poll(fd, coro::poll_op::read);
    };
    EXPECT_EQ(coro::sync_wait(after(s, l.fd)), coro::poll_status::closed);
  }
}

TYPED_TEST(coro_io_scheduler, destroying_the_scheduler_shuts_it_down) {
  listener l;
  std::atomic<int> status{-1};
  std::atomic<int> started{0};
  {
    auto s = this->make(strategy::process_tasks_inline);
    ASSERT_TRUE(s->spawn([](std::shared_ptr<coro::io_scheduler> s, int fd, std::atomic<int>& started,
                            std::atomic<int>& status) -> coro::task<void> {
      co_await s->schedule();
      ++started;
      status = static_cast<int>(co_await s->poll(fd, coro::poll_op::read));
    }(s, l.fd, started, status)));
    ASSERT_TRUE(senet::test::spin_until([&] { return started == 1; }, "poll started"));
    // The spawned task holds a shared_ptr; shutdown() ends it, so the last reference is ours.
    s->shutdown();
  }
  EXPECT_EQ(status, static_cast<int>(coro::poll_status::closed));
}

TYPED_TEST(coro_io_scheduler, shutdown_is_idempotent) {
  auto s = this->make();
  s->shutdown();
  s->shutdown();
  EXPECT_TRUE(s->empty());
}

// ---- the manual thread strategy -------------------------------------------------------------------

TYPED_TEST(coro_io_scheduler, process_events_drives_a_manual_scheduler_inline) {
  auto s = this->make(strategy::process_tasks_inline, threads::manual);
  auto p = fd_pair::pipe();
  const auto me = std::this_thread::get_id();
  std::vector<int> order;
  auto reader = [](std::shared_ptr<coro::io_scheduler> s, int fd, std::vector<int>& order,
                   std::thread::id me) -> coro::task<void> {
    co_await s->schedule();
    EXPECT_EQ(std::this_thread::get_id(), me);
    order.push_back(1);
    EXPECT_EQ(co_await s->poll(fd, coro::poll_op::read), coro::poll_status::event);
    order.push_back(3);
    co_await s->yield_for(5ms);
    order.push_back(4);
  };
  auto writer = [](std::shared_ptr<coro::io_scheduler> s, int fd,
                   std::vector<int>& order) -> coro::task<void> {
    co_await s->schedule();
    order.push_back(2);
    write_byte(fd);
  };
  auto r = reader(s, p->a, order, me);
  auto w = writer(s, p->b, order);
  r.resume();
  w.resume();
  EXPECT_FALSE(r.is_ready());
  EXPECT_EQ(s->size(), 2U) << "two queued schedule operations";
  // Nothing runs until process_events is called.
  EXPECT_TRUE(order.empty());
  senet::test::deadline_guard guard("manual process_events");
  while (s->process_events(100ms) > 0) {
  }
  EXPECT_TRUE(r.is_ready());
  EXPECT_TRUE(w.is_ready());
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(s->process_events(), 0U) << "zero timeout: returns at once";
  s->shutdown();
}

TYPED_TEST(coro_io_scheduler, process_events_with_a_pool_and_shutdown_drives_itself) {
  auto s = this->make(strategy::process_tasks_on_thread_pool, threads::manual, 2);
  listener l;
  std::atomic<int> status{-1};
  std::atomic<bool> polling{false};
  ASSERT_TRUE(s->spawn([](std::shared_ptr<coro::io_scheduler> s, int fd, std::atomic<bool>& polling,
                          std::atomic<int>& status) -> coro::task<void> {
    co_await s->schedule();
    polling = true;
    status = static_cast<int>(co_await s->poll(fd, coro::poll_op::read));
  }(s, l.fd, polling, status)));
  ASSERT_TRUE(senet::test::spin_until([&] { return polling.load(); }, "poll started"));
  EXPECT_GE(s->process_events(1ms), 1U);
  // No thread runs the io_context: shutdown() drives it until the poll has ended.
  s->shutdown();
  EXPECT_EQ(status, static_cast<int>(coro::poll_status::closed));
}

TYPED_TEST(coro_io_scheduler, process_events_waits_at_most_its_timeout) {
  auto s = this->make(strategy::process_tasks_inline, threads::manual);
  const auto start = coro::clock::now();
  EXPECT_EQ(s->process_events(20ms), 0U);
  EXPECT_GE(coro::clock::now() - start, 20ms);
  // A timer makes process_events(-1) return once it fires.
  auto t = [](std::shared_ptr<coro::io_scheduler> s) -> coro::task<void> {
    co_await s->schedule();
    co_await s->yield_for(10ms);
  }(s);
  t.resume();
  while (!t.is_ready()) {
    s->process_events(-1ms);
  }
  EXPECT_TRUE(s->empty());
}

TYPED_TEST(coro_io_scheduler, core_of_names_the_scheduler_part_awaiters_use) {
  auto s = this->make();
  coro::detail::scheduler_core& core = coro::detail::core_of(*s);
  EXPECT_EQ(&core.context(), &s->context());
  EXPECT_FALSE(core.stop_token().stop_requested());
  s->shutdown();
  EXPECT_TRUE(core.stop_token().stop_requested());
}

TYPED_TEST(coro_io_scheduler, process_events_on_a_spawn_scheduler_does_nothing) {
  auto s = this->make();
  EXPECT_EQ(s->process_events(10ms), 0U);
}

// The steady path allocates nothing: poll's task frames are recycled, schedule() and the timeout
// race live in their awaiters. Manual and inline, so that every allocation is this thread's.
TYPED_TEST(coro_io_scheduler, polls_and_schedules_allocate_nothing_on_the_steady_path) {
  auto s = this->make(strategy::process_tasks_inline, threads::manual);
  auto p = fd_pair::pipe();
  std::size_t allocations = 1000;
  auto loop = [](std::shared_ptr<coro::io_scheduler> s, int rd, int wr,
                 std::size_t& allocations) -> coro::task<void> {
    std::optional<senet::test::allocation_scope> scope;
    for (int i = 0; i < 110; ++i) {
      if (i == 10) {
        scope.emplace();  // after the warm-up (the descriptor's registration, the caches)
      }
      co_await s->schedule();
      char c = 'x';
      (void)::write(wr, &c, 1);
      if (co_await s->poll(rd, coro::poll_op::read, 1000ms) != coro::poll_status::event) {
        co_return;
      }
      (void)::read(rd, &c, 1);
      if (co_await s->poll(wr, coro::poll_op::write) != coro::poll_status::event) {
        co_return;
      }
    }
    allocations = scope->count();
  };
  auto t = loop(s, p->a, p->b, allocations);
  t.resume();
  senet::test::deadline_guard guard("poll loop");
  while (!t.is_ready()) {
    s->process_events(100ms);
  }
  EXPECT_EQ(allocations, 0U);
}

// ---- senders on the scheduler ---------------------------------------------------------------------

TYPED_TEST(coro_io_scheduler, a_task_awaits_senet_senders_on_the_scheduler_context) {
  auto s = this->make();
  auto p = fd_pair::pipe();
  write_byte(p->b);
  auto t = [](std::shared_ptr<coro::io_scheduler> s, int rd) -> coro::task<void> {
    co_await s->schedule();
    // No scheduler given: the sender finds the scheduler's io_context in its environment.
    auto now = s->context().get_scheduler().now();
    co_await s->context().get_scheduler().schedule_after(5ms);
    EXPECT_GE(s->context().get_scheduler().now() - now, 5ms);
    auto events =
        co_await senet::io::async_poll(s->context().get_scheduler(), rd, senet::io::poll_events::readable);
    EXPECT_TRUE(senet::io::has(events, senet::io::poll_events::readable));
    EXPECT_EQ(co_await senet::ex::just(7), 7);
  };
  coro::sync_wait(t(s, p->a));
}

TYPED_TEST(coro_io_scheduler, shutdown_stops_a_sender_awaited_on_the_scheduler) {
  auto s = this->make();
  listener l;
  std::atomic<bool> started{false};
  std::atomic<bool> cancelled{false};
  ASSERT_TRUE(s->spawn([](std::shared_ptr<coro::io_scheduler> s, int fd, std::atomic<bool>& started,
                          std::atomic<bool>& cancelled) -> coro::task<void> {
    co_await s->schedule();
    started = true;
    try {
      co_await senet::io::async_poll(s->context().get_scheduler(), fd, senet::io::poll_events::readable);
    } catch (const std::system_error& e) {
      cancelled = e.code() == std::errc::operation_canceled;
    }
  }(s, l.fd, started, cancelled)));
  ASSERT_TRUE(senet::test::spin_until([&] { return started && s->size() >= 2; }, "sender pending"));
  s->shutdown();
  EXPECT_TRUE(cancelled);
}

// ---- with real threads (the tsan preset runs these) -----------------------------------------------

TYPED_TEST(coro_io_scheduler, thread_pool_strategy_under_load) {
  auto s = this->make(strategy::process_tasks_on_thread_pool, threads::spawn, 4);
  constexpr int tasks = 64;
  constexpr int rounds = 20;
  std::atomic<int> counter{0};
  std::vector<std::unique_ptr<fd_pair>> pipes;
  for (int i = 0; i < tasks; ++i) {
    pipes.push_back(fd_pair::pipe());
  }
  auto worker = [](std::shared_ptr<coro::io_scheduler> s, int rd, int wr,
                   std::atomic<int>& counter) -> coro::task<void> {
    co_await s->schedule();
    for (int r = 0; r < rounds; ++r) {
      write_byte(wr);
      EXPECT_EQ(co_await s->poll(rd, coro::poll_op::read, 20000ms), coro::poll_status::event);
      char c;
      EXPECT_EQ(::read(rd, &c, 1), 1);
      co_await s->yield();
      if (r % 5 == 0) {
        co_await s->yield_for(1ms);
      }
      counter.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::vector<coro::task<void>> all;
  for (int i = 0; i < tasks; ++i) {
    all.push_back(
        worker(s, pipes[static_cast<std::size_t>(i)]->a, pipes[static_cast<std::size_t>(i)]->b, counter));
  }
  coro::sync_wait(coro::when_all(std::move(all)));
  EXPECT_EQ(counter, tasks * rounds);
  s->shutdown();
  EXPECT_TRUE(s->empty());
}

TYPED_TEST(coro_io_scheduler, spawn_and_shutdown_race_from_several_threads) {
  auto s = this->make(strategy::process_tasks_on_thread_pool, threads::spawn, 3);
  std::atomic<int> ran{0};
  std::atomic<int> accepted{0};
  std::vector<std::thread> spawners;
  for (int t = 0; t < 3; ++t) {
    spawners.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (s->spawn([](std::shared_ptr<coro::io_scheduler> s, std::atomic<int>& ran) -> coro::task<void> {
              co_await s->yield_for(std::chrono::microseconds(50));
              ++ran;
            }(s, ran))) {
          ++accepted;
        }
      }
    });
  }
  std::this_thread::sleep_for(1ms);
  s->shutdown();
  for (auto& t : spawners) {
    t.join();
  }
  EXPECT_EQ(ran, accepted) << "every accepted task ran to its end";
  EXPECT_TRUE(s->empty());
}

// ---- libcoro 0.15's scheduler tests and examples, rewritten ---------------------------------------

TYPED_TEST(coro_io_scheduler, libcoro_pattern_when_all_of_poll_reader_and_writer) {
  auto p = fd_pair::pipe();
  auto s = coro::io_scheduler::make_shared(coro::io_scheduler::options{
      .pool = coro::thread_pool::options{.thread_count = 1}, .backend = TypeParam::kind});
  auto read_task = [](std::shared_ptr<coro::io_scheduler> s, int fd) -> coro::task<void> {
    co_await s->schedule();
    auto status = co_await s->poll(fd, coro::poll_op::read, 1000ms);
    EXPECT_EQ(status, coro::poll_status::event);
    co_return;
  };
  auto write_task = [](std::shared_ptr<coro::io_scheduler> s, int fd) -> coro::task<void> {
    co_await s->schedule();
    std::uint64_t value{42};
    EXPECT_EQ(::write(fd, &value, sizeof(value)), static_cast<ssize_t>(sizeof(value)));
    co_return;
  };
  coro::sync_wait(coro::when_all(read_task(s, p->a), write_task(s, p->b)));
  s->shutdown();
  EXPECT_TRUE(s->empty());
}

TYPED_TEST(coro_io_scheduler, libcoro_pattern_multiple_event_waiters) {
  auto s = coro::io_scheduler::make_shared(coro::io_scheduler::options{.backend = TypeParam::kind});
  coro::event e;
  auto func = [](std::shared_ptr<coro::io_scheduler> s, coro::event& e) -> coro::task<std::uint64_t> {
    co_await s->schedule();
    co_await e;
    co_return 1;
  };
  auto spawn = [&]() -> coro::task<void> {
    std::vector<coro::task<std::uint64_t>> tasks;
    for (std::size_t i = 0; i < 10; ++i) {
      tasks.emplace_back(func(s, e));
    }
    auto results = co_await coro::when_all(std::move(tasks));
    std::uint64_t counter{0};
    for (const auto& t : results) {
      counter += t.return_value();
    }
    EXPECT_EQ(counter, 10U);
  };
  auto release = [](std::shared_ptr<coro::io_scheduler> s, coro::event& e) -> coro::task<void> {
    co_await s->schedule_after(10ms);
    e.set(s);
  };
  coro::sync_wait(coro::when_all(spawn(), release(s, e)));
}

TYPED_TEST(coro_io_scheduler, libcoro_pattern_self_generating_coroutine) {
  // A coroutine that spawns its successor, 10000 times, without growing the stack.
  auto s = coro::io_scheduler::make_shared(coro::io_scheduler::options{
      .pool = coro::thread_pool::options{.thread_count = 1}, .backend = TypeParam::kind});
  constexpr std::uint64_t total = 10'000;
  std::atomic<std::uint64_t> counter{0};
  std::vector<coro::task<void>> tasks;
  tasks.reserve(total);
  std::mutex m;
  coro::event done;
  struct gen {
    static coro::task<void> make(std::shared_ptr<coro::io_scheduler> s, std::atomic<std::uint64_t>& counter,
                                 std::vector<coro::task<void>>& tasks, std::mutex& m, coro::event& done) {
      co_await s->schedule();
      if (++counter < total) {
        std::lock_guard lock(m);
        tasks.emplace_back(make(s, counter, tasks, m, done));
        tasks.back().resume();
      } else {
        done.set();
      }
    }
  };
  auto first = gen::make(s, counter, tasks, m, done);
  first.resume();
  coro::sync_wait(done);
  s->shutdown();
  EXPECT_EQ(counter, total);
}

TYPED_TEST(coro_io_scheduler, libcoro_pattern_task_throws_after_resume) {
  auto s = coro::io_scheduler::make_shared(coro::io_scheduler::options{
      .pool = coro::thread_pool::options{.thread_count = 1}, .backend = TypeParam::kind});
  auto thrower = [](std::shared_ptr<coro::io_scheduler> s) -> coro::task<bool> {
    co_await s->schedule();
    co_await s->yield();
    throw std::runtime_error{"I always throw."};
    co_return true;
  };
  EXPECT_THROW(coro::sync_wait(thrower(s)), std::runtime_error);
}

TYPED_TEST(coro_io_scheduler, libcoro_pattern_two_hundred_thousand_spawns) {
  constexpr int iterations = 200'000;
  std::atomic<std::uint32_t> count{0};
  auto scheduler = coro::io_scheduler::make_shared(coro::io_scheduler::options{
      .pool = coro::thread_pool::options{.thread_count = 1}, .backend = TypeParam::kind});
  auto task = [](std::atomic<std::uint32_t>& count) -> coro::task<void> {
    count++;
    co_return;
  };
  for (int i = 0; i < iterations; ++i) {
    ASSERT_TRUE(scheduler->spawn(task(count)));
  }
  scheduler->shutdown();
  EXPECT_EQ(count.load(), static_cast<std::uint32_t>(iterations));
}

TYPED_TEST(coro_io_scheduler, libcoro_pattern_separate_thread_resume) {
  auto s1 = coro::io_scheduler::make_shared(coro::io_scheduler::options{
      .pool = coro::thread_pool::options{.thread_count = 1}, .backend = TypeParam::kind});
  auto s2 = coro::io_scheduler::make_shared(coro::io_scheduler::options{
      .pool = coro::thread_pool::options{.thread_count = 1}, .backend = TypeParam::kind});
  coro::event e;
  auto waiter = [](std::shared_ptr<coro::io_scheduler> s1, coro::event& e) -> coro::task<void> {
    co_await s1->schedule();
    co_await e;
    co_return;
  };
  auto setter = [](std::shared_ptr<coro::io_scheduler> s2, coro::event& e) -> coro::task<void> {
    co_await s2->schedule();
    co_await s2->yield_for(10ms);
    e.set();
    co_return;
  };
  coro::sync_wait(coro::when_all(waiter(s1, e), setter(s2, e)));
  s1->shutdown();
  EXPECT_TRUE(s1->empty());
  s2->shutdown();
  EXPECT_TRUE(s2->empty());
}

}  // namespace
