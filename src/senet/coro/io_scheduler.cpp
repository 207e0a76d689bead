// SPDX-License-Identifier: BSL-1.0
#include <senet/coro/io_scheduler.hpp>

#include <senet/coro/detail/spawn.hpp>
#include <senet/io/async_poll.hpp>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <memory>
#include <utility>

/* The io_scheduler is an io_context plus, per the options, a thread that runs it and a thread
   pool. Everything a coroutine waits for on it (a poll, a timer, a sender) is an operation on the
   io_context, started by a detail::sender_awaiter whose receiver's environment carries the stop
   token of `stop_`; its completion comes on the thread running the io_context and resumes the
   coroutine there (inline) or hands it to the pool (scheduler_core::io_finished).

   size_ counts what keeps the scheduler busy: spawned tasks until they end, operations pending on
   the io_context, and (inline) coroutines queued by schedule(). shutdown() fires `stop_` (so that
   nothing waits on the io_context any more), joins the scope of the spawned tasks, waits for
   size_ to reach zero, and only then stops the io_context's thread and the pool: no coroutine can
   be resumed after the thread that would resume it has gone. */

namespace senet::coro {

namespace detail {

thread_local constinit scheduler_core* current_scheduler = nullptr;

void scheduler_core::io_finished(std::coroutine_handle<> h) noexcept {
  if (inline_ || !pool_->resume(h)) {
    h.resume();
  }
  release_one();
}

}  // namespace detail

namespace {

std::unique_ptr<io::io_context> make_context(const std::optional<io::backend_kind>& kind) {
  return kind ? std::make_unique<io::io_context>(*kind) : std::make_unique<io::io_context>();
}

}  // namespace

io_scheduler::io_scheduler(options&& opts, private_constructor) : opts_(std::move(opts)) {
  ctx_ = make_context(opts_.backend);
  inline_ = opts_.execution_strategy == execution_strategy_t::process_tasks_inline;
  if (!inline_) {
    // The pool's threads are the scheduler's threads: awaited senders find its io_context there.
    thread_pool::options pool = opts_.pool;
    pool.on_thread_start_functor = [this, user = opts_.pool.on_thread_start_functor](std::size_t i) {
      detail::current_scheduler = this;
      if (user) {
        user(i);
      }
    };
    pool.on_thread_stop_functor = [user = opts_.pool.on_thread_stop_functor](std::size_t i) {
      if (user) {
        user(i);
      }
      detail::current_scheduler = nullptr;
    };
    pool_ = thread_pool::make_shared(std::move(pool));
  }
  if (opts_.thread_strategy == thread_strategy_t::spawn) {
    work_.emplace(*ctx_);
    io_thread_ = std::thread([this] {
      detail::current_scheduler_scope scope(this);
      if (opts_.on_io_thread_start_functor) {
        opts_.on_io_thread_start_functor();
      }
      ctx_->run();
      if (opts_.on_io_thread_stop_functor) {
        opts_.on_io_thread_stop_functor();
      }
    });
  }
}

std::shared_ptr<io_scheduler> io_scheduler::make_shared(options opts) {
  return std::make_shared<io_scheduler>(std::move(opts), private_constructor{});
}

io_scheduler::~io_scheduler() {
  shutdown();
}

std::size_t io_scheduler::process_events(std::chrono::milliseconds timeout) {
  if (opts_.thread_strategy != thread_strategy_t::manual) {
    return size();
  }
  detail::current_scheduler_scope scope(this);
  if (ctx_->poll() == 0 && timeout != std::chrono::milliseconds{0}) {
    // Nothing was ready: sleep until the io_context has something (its descriptor becomes readable
    // for I/O, work queued from another thread, and its nearest timer), or the timeout passes.
    ::pollfd p{ctx_->wait_descriptor(), POLLIN, 0};
    const int ms = timeout < std::chrono::milliseconds{0}
                       ? -1
                       : static_cast<int>(std::min<std::chrono::milliseconds::rep>(timeout.count(), INT_MAX));
    while (::poll(&p, 1, ms) < 0 && errno == EINTR) {
    }
    ctx_->poll();
  }
  return size();
}

bool io_scheduler::schedule_operation::await_suspend(std::coroutine_handle<> awaiting_coroutine) noexcept {
  io_scheduler& s = scheduler_;
  if (s.shut_down_.load(std::memory_order_acquire)) {
    return false;
  }
  if (!s.inline_) {
    return s.pool_->resume(awaiting_coroutine);
  }
  handle_ = awaiting_coroutine;
  s.size_.fetch_add(1, std::memory_order_relaxed);
  ex::start(op_.construct(
      [this] { return ex::connect(scheduler_.context().get_scheduler().schedule(), receiver{this}); }));
  return true;
}

void io_scheduler::schedule_operation::resume() noexcept {
  // The coroutine may end, destroying this awaiter, before resume() returns.
  io_scheduler& s = scheduler_;
  handle_.resume();
  s.release_one();
}

bool io_scheduler::spawn(task<void>&& t) {
  if (t.is_ready() || shutdown_requested_.load(std::memory_order_acquire)) {
    return false;
  }
  task<void> owner;
  bool started = false;
  try {
    owner = spawned(std::move(t), spawn_count{this}, &started);
  } catch (...) {
    return false;  // no frame: the count was released with the argument
  }
  // The scope starts the task inside spawn_in, which sets `started` before its first suspension.
  // A scope that refuses it (shutdown() joined it meanwhile) destroys it unstarted, and its frame
  // releases the count.
  return detail::spawn_in(scope_, std::move(owner)) && started;
}

task<void> io_scheduler::spawned(task<void> t, [[maybe_unused]] spawn_count counted, bool* started) {
  *started = true;
  co_await schedule();
  co_await std::move(t);
}

task<void> io_scheduler::yield_for_internal(std::chrono::nanoseconds amount) {
  if (amount <= std::chrono::nanoseconds{0}) {
    co_await schedule();
    co_return;
  }
  co_await io_awaiter(
      ex::upon_stopped(context().get_scheduler().schedule_after(amount), detail::ignore_stop_fn{}));
}

task<void> io_scheduler::schedule_at(time_point time) {
  return yield_until(time);
}

task<void> io_scheduler::yield_until(time_point time) {
  if (time <= clock::now()) {
    co_await schedule();
    co_return;
  }
  co_await io_awaiter(
      ex::upon_stopped(context().get_scheduler().schedule_at(time), detail::ignore_stop_fn{}));
}

task<poll_status> io_scheduler::poll(fd_t fd, poll_op op, std::chrono::milliseconds timeout) {
  return poll_sender(io::async_poll(context().get_scheduler(), fd, to_poll_events(op)), timeout);
}

struct io_scheduler::resume_record {
  struct receiver {
    using receiver_concept = ex::receiver_t;
    resume_record* self_;
    void set_value() && noexcept { self_->run(); }
    void set_stopped() && noexcept { self_->run(); }
    [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }
  };
  using op_type = ex::connect_result_t<io::detail::schedule_sender, receiver>;
  io_scheduler* s_;
  std::coroutine_handle<> h_;
  detail::op_storage<op_type> op_{};
  void run() noexcept {
    io_scheduler* s = s_;
    std::coroutine_handle<> h = h_;
    delete this;
    h.resume();
    s->release_one();
  }
};

bool io_scheduler::resume(std::coroutine_handle<> handle) {
  if (!handle || handle.done() || shutdown_requested_.load(std::memory_order_acquire)) {
    return false;
  }
  if (!inline_) {
    return pool_->resume(handle);
  }
  // A bare handle has no awaiter to hold the schedule operation: it gets its own record.
  auto* r = new (std::nothrow) resume_record{this, handle};
  if (r == nullptr) {
    return false;
  }
  size_.fetch_add(1, std::memory_order_relaxed);
  ex::start(r->op_.construct(
      [r, this] { return ex::connect(context().get_scheduler().schedule(), resume_record::receiver{r}); }));
  return true;
}

std::size_t io_scheduler::size() const noexcept {
  const std::size_t own = size_.load(std::memory_order_acquire);
  return pool_ ? own + pool_->size() : own;
}

void io_scheduler::drain_manual() noexcept {
  // The caller is the thread that drives the io_context: drive it until the spawned tasks and the
  // pending operations are done.
  try {
    detail::current_scheduler_scope scope(this);
    ctx_->run_until(scope_.join());
  } catch (...) {
  }
  while (size_.load(std::memory_order_acquire) != 0) {
    process_events(std::chrono::milliseconds{10});
  }
}

void io_scheduler::shutdown() noexcept {
  if (shutdown_requested_.exchange(true, std::memory_order_acq_rel)) {
    while (!shut_down_.load(std::memory_order_acquire)) {
      shut_down_.wait(false, std::memory_order_acquire);
    }
    return;
  }
  // Pending polls and timers complete now; new ones complete at once.
  stop_.request_stop();
  if (opts_.thread_strategy == thread_strategy_t::manual) {
    drain_manual();
  } else {
    detail::join(scope_);
    for (std::size_t n = size_.load(std::memory_order_acquire); n != 0;
         n = size_.load(std::memory_order_acquire)) {
      size_.wait(n, std::memory_order_acquire);
    }
    work_.reset();
    ctx_->stop();
    if (io_thread_.joinable()) {
      io_thread_.join();
    }
  }
  if (pool_) {
    pool_->shutdown();
  }
  shut_down_.store(true, std::memory_order_release);
  shut_down_.notify_all();
}

}  // namespace senet::coro
