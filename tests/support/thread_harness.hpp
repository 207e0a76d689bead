// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_THREAD_HARNESS_HPP
#define SENET_TEST_SUPPORT_THREAD_HARNESS_HPP

/* Tools for the tests that hold the headers' thread-safety promises with real threads:

   - `race_budget`: a race loop runs until an iteration cap OR a wall-clock cap, whichever comes
     first, but at least a minimum number of iterations (up to 20 times the wall-clock cap), which
     the test then asserts (so a slow machine or ThreadSanitizer shortens a test instead of timing
     it out, a loaded one lengthens it instead of failing it, and a test that stopped racing at
     all fails).
   - `eventually(pred, limit)`: waits for `pred` without sleeping as synchronisation (it yields),
     and returns false after `limit`, so that a test fails with a message instead of hanging.
   - `join_within(thread, limit, what)`: joins, or ends the program with a message when the thread
     does not finish (a hung thread cannot be abandoned safely).
   - `context_runner`: a thread that runs an io_context (with a work guard) until `finish()`, and
     whose id the tests compare with the thread each completion ran on.
   - `completion_record` / `record_receiver`: a receiver that counts its completions (exactly once
     is checked by the tests), and records the channel, the thread, the byte count or error. */

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace senet::test {

#if defined(__SANITIZE_THREAD__)
inline constexpr bool under_thread_sanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool under_thread_sanitizer = true;
#else
inline constexpr bool under_thread_sanitizer = false;
#endif
#else
inline constexpr bool under_thread_sanitizer = false;
#endif

/** The fewest iterations a race loop must reach within its wall-clock cap: low, so that a loaded
    two-core machine (or ThreadSanitizer, about ten times slower) passes, but more than none, so
    that a loop that stopped racing fails. */
inline constexpr int minimum_iterations = under_thread_sanitizer ? 3 : 10;

/** A race loop's limits: at most `max_iterations`, for at most `wall` (whichever comes first);
    `minimum` is what the test asserts it reached. */
class race_budget {
 public:
  race_budget(int max_iterations, std::chrono::milliseconds wall, int minimum) noexcept
      : max_(max_iterations), wall_(wall), minimum_(minimum), start_(std::chrono::steady_clock::now()) {}

  /** Whether another iteration may run; counts it. The wall-clock cap ends the loop only once the
      minimum has run, so that a loaded machine makes the test longer instead of failing it; 20
      times the cap ends it in any case (and the test then fails: it stopped racing). */
  bool next() noexcept {
    auto elapsed = std::chrono::steady_clock::now() - start_;
    if (done_ >= max_ || (elapsed >= wall_ && done_ >= minimum_) || elapsed >= 20 * wall_) {
      return false;
    }
    ++done_;
    return true;
  }
  [[nodiscard]] int done() const noexcept { return done_; }
  [[nodiscard]] int minimum() const noexcept { return minimum_; }
  [[nodiscard]] bool expired() const noexcept { return std::chrono::steady_clock::now() - start_ >= wall_; }

 private:
  int max_;
  std::chrono::milliseconds wall_;
  int minimum_;
  std::chrono::steady_clock::time_point start_;
  int done_ = 0;
};

/** Asserts that a race loop ran at least its minimum, and reports what it ran. */
#define SENET_EXPECT_RACED(budget, what)                                                                \
  do {                                                                                                  \
    EXPECT_GE((budget).done(), (budget).minimum()) << (what) << ": too few iterations in the time cap"; \
    std::printf("%s: %d iterations\n", (what), (budget).done());                                        \
  } while (0)

/** Waits (yielding) until `pred()` holds; false after `limit`. */
template <class Pred>
[[nodiscard]] bool eventually(Pred&& pred, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return pred();
    }
    std::this_thread::yield();
  }
  return true;
}

/** Joins `t`; if it has not finished after `limit`, reports `what` and ends the program (a hung
    thread cannot be left behind, and ctest would otherwise wait for its own timeout). */
inline void join_within(std::thread& t, std::chrono::seconds limit, const char* what) {
  if (!t.joinable()) {
    return;
  }
  auto joined = std::async(std::launch::async, [&t] { t.join(); });
  if (joined.wait_for(limit) != std::future_status::ready) {
    std::fprintf(stderr, "FATAL: %s did not finish within %llds\n", what,
                 static_cast<long long>(limit.count()));
    std::fflush(stderr);
    std::_Exit(1);
  }
  joined.get();
}

/** A thread that runs `ctx` (kept busy by a work guard) until `finish()`. The constructor returns
    once that thread is inside `run()` (a schedule has completed on it), so that a run call made
    afterwards on another thread is refused rather than the runner's. */
class context_runner {
 public:
  explicit context_runner(io::io_context& ctx)
      : ctx_(&ctx), guard_(std::make_unique<io::io_context::work_guard>(ctx)) {
    std::promise<std::thread::id> id;
    auto f = id.get_future();
    thread_ = std::thread([this, &id] {
      id.set_value(std::this_thread::get_id());
      handlers_ = ctx_->run();
    });
    id_ = f.get();
    std::atomic<bool> running{false};
    // The receiver's store is the last thing the completion does, so `op` may go afterwards.
    auto op = ex::connect(ctx.get_scheduler().schedule(), ready_receiver{&running});
    ex::start(op);
    if (!eventually([&running] { return running.load(); })) {
      std::fprintf(stderr, "FATAL: the context's thread did not start running within 20 s\n");
      std::_Exit(1);
    }
  }
  context_runner(const context_runner&) = delete;
  context_runner& operator=(const context_runner&) = delete;
  ~context_runner() { finish(); }

  [[nodiscard]] std::thread::id id() const noexcept { return id_; }

  /** Lets the context run out of work, and joins (bounded). */
  void finish(std::chrono::seconds limit = std::chrono::seconds(30)) {
    guard_.reset();
    join_within(thread_, limit, "the context's thread");
  }

  /** `stop()`s the context, and joins (bounded). */
  void stop(std::chrono::seconds limit = std::chrono::seconds(30)) {
    ctx_->stop();
    finish(limit);
  }

  [[nodiscard]] std::size_t handlers() const noexcept { return handlers_; }

 private:
  struct ready_receiver {
    using receiver_concept = ex::receiver_t;
    std::atomic<bool>* running;
    void set_value() && noexcept { running->store(true); }
    void set_stopped() && noexcept { running->store(true); }
  };

  io::io_context* ctx_;
  // On the heap: g++ 12 warns (maybe-uninitialized) about a work_guard in a std::optional.
  std::unique_ptr<io::io_context::work_guard> guard_;
  std::thread thread_;
  std::thread::id id_;
  std::size_t handlers_ = 0;
};

/** What one operation completed with, and how often. Written on the completing thread before
    `count` (release); read after `done()` (acquire). */
struct completion_record {
  enum channel_kind : int { none, value, error, stopped };
  std::atomic<int> count{0};
  std::atomic<int> channel{none};
  std::thread::id thread{};
  std::size_t bytes = 0;
  std::error_code ec{};
  ex::inplace_stop_source stop{};

  [[nodiscard]] bool done() const noexcept { return count.load(std::memory_order_acquire) != 0; }
  [[nodiscard]] bool is_value() const noexcept { return channel.load() == value; }
  [[nodiscard]] bool is_error() const noexcept { return channel.load() == error; }
  [[nodiscard]] bool is_stopped() const noexcept { return channel.load() == stopped; }
};

/** A receiver that fills a `completion_record`; its environment names `ctx`'s scheduler and the
    record's stop token. A `std::size_t` value is kept in `bytes`. */
struct record_receiver {
  using receiver_concept = ex::receiver_t;
  io::io_context* ctx;
  completion_record* rec;

  struct env {
    io::io_context* ctx;
    ex::inplace_stop_token token;
    [[nodiscard]] io::io_context::scheduler_type query(ex::get_scheduler_t) const noexcept {
      return ctx->get_scheduler();
    }
    [[nodiscard]] ex::inplace_stop_token query(ex::get_stop_token_t) const noexcept { return token; }
  };
  [[nodiscard]] env get_env() const noexcept { return {ctx, rec->stop.get_token()}; }

  template <class... Ts>
  void set_value(Ts&&... ts) && noexcept {
    if constexpr (sizeof...(Ts) == 1 && (std::is_same_v<std::decay_t<Ts>, std::size_t> && ...)) {
      rec->bytes = (ts, ...);
    }
    finish(completion_record::value);
  }
  void set_error(std::error_code e) && noexcept {
    rec->ec = e;
    finish(completion_record::error);
  }
  void set_error(std::exception_ptr) && noexcept { finish(completion_record::error); }
  void set_stopped() && noexcept { finish(completion_record::stopped); }

 private:
  void finish(int channel) noexcept {
    rec->thread = std::this_thread::get_id();
    rec->channel.store(channel, std::memory_order_relaxed);
    rec->count.fetch_add(1, std::memory_order_acq_rel);
  }
};

/** A non-blocking pipe, closed on destruction: a foreign descriptor for io::async_poll. */
struct pipe_pair {
  int read_fd = -1;
  int write_fd = -1;
  pipe_pair() {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0) {
      read_fd = fds[0];
      write_fd = fds[1];
    } else {
      ADD_FAILURE() << "pipe2 failed";
    }
  }
  pipe_pair(const pipe_pair&) = delete;
  pipe_pair& operator=(const pipe_pair&) = delete;
  ~pipe_pair() {
    if (read_fd >= 0) {
      ::close(read_fd);
    }
    if (write_fd >= 0) {
      ::close(write_fd);
    }
  }
};

/** An operation state of `Sndr` connected to `Rcvr`, kept at a stable address. */
template <class Sndr, class Rcvr = record_receiver>
class operation_slot {
 public:
  operation_slot(Sndr sndr, Rcvr rcvr) : op_(ex::connect(std::move(sndr), std::move(rcvr))) {}
  operation_slot(const operation_slot&) = delete;
  operation_slot& operator=(const operation_slot&) = delete;
  void start() noexcept { ex::start(op_); }

 private:
  ex::connect_result_t<Sndr, Rcvr> op_;
};

/** `operation_slot` on the heap: `auto op = connect_slot(sndr, rcvr); op->start();`. */
template <class Sndr, class Rcvr>
std::unique_ptr<operation_slot<Sndr, Rcvr>> connect_slot(Sndr sndr, Rcvr rcvr) {
  return std::make_unique<operation_slot<Sndr, Rcvr>>(std::move(sndr), std::move(rcvr));
}

/** The tests of io_context's "Fairness": starts `looped` (an operation that loops, completing into
    `loop`), then a schedule on `ctx` whose handler calls `on_other()` (completing into `other`),
    and polls `ctx` on this thread until both have completed. False after 20 s without. */
template <class Sndr, class Fn>
bool run_beside_a_loop(io::io_context& ctx, Sndr looped, completion_record& loop, completion_record& other,
                       Fn on_other) {
  auto l = connect_slot(std::move(looped), record_receiver{&ctx, &loop});
  auto o = connect_slot(ex::schedule(ctx.get_scheduler()) | ex::then(std::move(on_other)),
                        record_receiver{&ctx, &other});
  l->start();
  o->start();
  return eventually([&] {
    ctx.poll();
    return other.done() && loop.done();
  });
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_THREAD_HARNESS_HPP
