// SPDX-License-Identifier: BSL-1.0
#include <senet/io/io_context.hpp>

#include "senet/backend/backend.hpp"
#include "senet/io/op_queue.hpp"
#include "senet/io/timer_heap.hpp"

#if __has_include("senet/backend/uring/uring_backend.hpp")
#include "senet/backend/uring/uring_backend.hpp"
#define SENET_HAVE_URING_BACKEND 1
#else
#define SENET_HAVE_URING_BACKEND 0
#endif
#if __has_include("senet/backend/test/test_backend.hpp")
#include "senet/backend/test/test_backend.hpp"
#define SENET_HAVE_TEST_BACKEND 1
#else
#define SENET_HAVE_TEST_BACKEND 0
#endif

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>

namespace senet::io::detail {

constinit thread_local io_context* current_context = nullptr;

namespace {

// How many handlers run back to back before the loop gathers I/O, timers and cross-thread work
// again, so that handlers rescheduling themselves cannot starve the rest.
constexpr int handler_budget = 64;

// Each backend provides `make_<name>_backend(completion_sink&)` in
// src/senet/backend/<name>/<name>_backend.hpp, returning null when the kernel refuses it; the
// core picks up the header when it exists (docs/design/io_core.md).
std::unique_ptr<backend> make_backend(backend_kind kind, completion_sink& sink) {
  switch (kind) {
    case backend_kind::epoll:
      return make_epoll_backend(sink);
    case backend_kind::uring:
#if SENET_HAVE_URING_BACKEND
      return make_uring_backend(sink);
#else
      return nullptr;
#endif
    case backend_kind::test:
#if SENET_HAVE_TEST_BACKEND
      return make_test_backend(sink);
#else
      return nullptr;
#endif
  }
  return nullptr;
}

std::unique_ptr<backend> make_required_backend(backend_kind kind, completion_sink& sink) {
  auto b = make_backend(kind, sink);
  if (!b) {
    throw std::system_error(
        std::make_error_code(std::errc::function_not_supported),
        std::string("senet: io_context backend not available: ") + std::string(to_string(kind)));
  }
  return b;
}

std::unique_ptr<backend> make_default_backend(completion_sink& sink) {
  if (const char* name = std::getenv("SENET_BACKEND"); name != nullptr && *name != '\0') {
    std::string_view n(name);
    for (backend_kind k : {backend_kind::uring, backend_kind::epoll, backend_kind::test}) {
      if (n == to_string(k)) {
        return make_required_backend(k, sink);
      }
    }
    throw std::invalid_argument("senet: SENET_BACKEND must be epoll, uring or test, not " + std::string(n));
  }
  if (auto b = make_backend(backend_kind::uring, sink)) {
    return b;
  }
  return make_required_backend(backend_kind::epoll, sink);
}

}  // namespace

/** The core of an io_context: ready queue, cross-thread queues, timers, the loop. */
class context_impl final : public completion_sink {
 public:
  enum class mode { block, poll };

  context_impl(io_context& owner, std::optional<backend_kind> kind)
      : owner_(&owner), backend_(kind ? make_required_backend(*kind, *this) : make_default_backend(*this)) {}

  context_impl(const context_impl&) = delete;
  context_impl& operator=(const context_impl&) = delete;

  ~context_impl() {
    // A thread that handed the loop a record may still be inside wake_if_sleeping() after the loop
    // delivered that record and its owner destroyed the context: wait until it has left.
    while (foreign_callers_.load(std::memory_order_seq_cst) != 0) {
      std::this_thread::yield();
    }
    backend_.reset();
  }

  [[nodiscard]] backend_kind kind() const noexcept { return backend_->kind(); }
  [[nodiscard]] int wait_descriptor() const noexcept { return backend_->wait_descriptor(); }
  [[nodiscard]] clock::time_point now() const noexcept { return backend_->now(); }
  [[nodiscard]] bool links_timeouts() const noexcept { return backend_->links_timeouts(); }
  [[nodiscard]] backend& get_backend() noexcept { return *backend_; }

  // ---- completion_sink ----

  void complete(io_operation& op, std::int64_t result) noexcept override {
    op.result_ = result;
    op.state_ = op_state::ready;
    ready_.push_back(op);
  }

  // ---- entry points ----

  bool start(io_operation& op) noexcept {
    if (shutting_down_) {
      op.result_ = -ECANCELED;
      return true;
    }
    if (op.code_ == op_code::timer) {
      auto& t = static_cast<timer_operation&>(op);
      t.seq_ = timer_seq_++;
      t.state_ = op_state::pending;
      timers_.insert(t);
      ++outstanding_;
      return false;
    }
    if (backend_->start(op)) {
      return true;
    }
    op.state_ = op_state::pending;
    ++outstanding_;
    return false;
  }

  void post(io_operation& op) noexcept {
    op.result_ = shutting_down_ ? -ECANCELED : 0;
    op.state_ = op_state::ready;
    ready_.push_back(op);
    ++outstanding_;
  }

  void post_remote(io_operation& op) noexcept {
    foreign_call call(*this);
    remote_.push(op);
    wake_if_sleeping();
  }

  void request_cancel(io_operation& op) noexcept {
    if (current_context == owner_) {
      cancel_now(op);
      return;
    }
    foreign_call call(*this);
    op.cancel_pending_.store(true, std::memory_order_release);
    remote_cancel_.push(op);
    wake_if_sleeping();
  }

  void add_work() noexcept { guards_.fetch_add(1, std::memory_order_relaxed); }

  void remove_work() noexcept {
    foreign_call call(*this);
    if (guards_.fetch_sub(1, std::memory_order_seq_cst) == 1) {
      wake_if_sleeping();
    }
  }

  void stop() noexcept {
    foreign_call call(*this);
    stopped_.store(true, std::memory_order_seq_cst);
    wake_if_sleeping();
  }

  [[nodiscard]] bool stopped() const noexcept { return stopped_.load(std::memory_order_acquire); }
  void restart() noexcept { stopped_.store(false, std::memory_order_release); }

  // ---- the loop ----

  std::size_t run() {
    run_scope scope(*this);
    std::size_t n = 0;
    while (do_one(mode::block, false) != 0) {
      ++n;
    }
    return n;
  }

  std::size_t run_one() {
    run_scope scope(*this);
    return do_one(mode::block, false);
  }

  std::size_t poll() {
    run_scope scope(*this);
    std::size_t n = 0;
    while (do_one(mode::poll, false) != 0) {
      ++n;
    }
    prepare_for_foreign_wait();
    return n;
  }

  std::size_t poll_one() {
    run_scope scope(*this);
    std::size_t n = do_one(mode::poll, false);
    prepare_for_foreign_wait();
    return n;
  }

  std::size_t run_until_turn(bool ignore_stop) {
    run_scope scope(*this);
    return do_one(mode::block, ignore_stop);
  }

 private:
  // Marks the calling thread as the one running the context for the duration of a run call.
 public:
  io_context::run_token enter_run() {
    std::thread::id self = std::this_thread::get_id();
    std::thread::id none{};
    if (!runner_.compare_exchange_strong(none, self, std::memory_order_acquire) && none != self) {
      throw std::logic_error("senet: io_context is already being run by another thread");
    }
    io_context::run_token token{current_context, none == self};
    current_context = owner_;
    if (!token.nested) {
      sleeping_.store(false, std::memory_order_seq_cst);
    }
    return token;
  }

  void leave_run(io_context::run_token token) noexcept {
    current_context = token.previous;
    if (!token.nested) {
      // Nobody runs the context now: cross-thread work must make wait_descriptor() readable.
      sleeping_.store(true, std::memory_order_seq_cst);
      if (!remote_.empty() || !remote_cancel_.empty()) {
        backend_->wake();
      }
      runner_.store(std::thread::id{}, std::memory_order_release);
    }
  }

 private:
  class run_scope {
   public:
    explicit run_scope(context_impl& impl) : impl_(impl), token_(impl.enter_run()) {}
    run_scope(const run_scope&) = delete;
    run_scope& operator=(const run_scope&) = delete;
    ~run_scope() { impl_.leave_run(token_); }

   private:
    context_impl& impl_;
    io_context::run_token token_;
  };

  // Marks a call that may come from another thread and touches the context after making work
  // visible to the loop; the destructor waits for such calls to leave.
  struct foreign_call {
    explicit foreign_call(context_impl& impl) noexcept : impl_(impl) {
      impl_.foreign_callers_.fetch_add(1, std::memory_order_seq_cst);
    }
    foreign_call(const foreign_call&) = delete;
    foreign_call& operator=(const foreign_call&) = delete;
    ~foreign_call() { impl_.foreign_callers_.fetch_sub(1, std::memory_order_seq_cst); }
    context_impl& impl_;
  };

  void wake_if_sleeping() noexcept {
    if (sleeping_.load(std::memory_order_seq_cst) && sleeping_.exchange(false, std::memory_order_seq_cst)) {
      backend_->wake();
    }
  }

  [[nodiscard]] bool has_work() const noexcept {
    return outstanding_ != 0 || guards_.load(std::memory_order_seq_cst) != 0;
  }

  // Runs one handler (returns 1) or returns 0 when stopped, out of work (block) or idle (poll).
  std::size_t do_one(mode m, bool ignore_stop) {
    for (;;) {
      if (!ignore_stop && stopped_.load(std::memory_order_relaxed)) {
        return 0;
      }
      if (!ready_.empty() && budget_ > 0) {
        --budget_;
        io_operation* op = ready_.pop_front();
        --outstanding_;
        op->state_ = op_state::idle;
        // Records without an op code are the core's own steps (a start moved to this thread, a
        // wake-up record): they are not handlers.
        bool handler = op->code_ != op_code::none;
        op->complete_(op);
        if (handler) {
          return 1;
        }
        continue;
      }
      budget_ = handler_budget;
      if (!gather(m == mode::block && ready_.empty(), ignore_stop)) {
        return 0;
      }
      if (m == mode::poll && ready_.empty()) {
        return 0;
      }
    }
  }

  // Collects cross-thread work, expired timers and I/O completions into the ready queue, blocking
  // if allowed and nothing is ready. Returns false when blocking was allowed but there is no
  // work left at all.
  bool gather(bool may_block, bool ignore_stop) {
    drain_remote();
    expire_timers();
    std::chrono::nanoseconds timeout{0};
    if (may_block && ready_.empty()) {
      if (!has_work() && remote_.empty() && remote_cancel_.empty()) {
        return false;
      }
      timeout = timers_.empty() ? std::chrono::nanoseconds(-1)
                                : std::max(std::chrono::nanoseconds(0), timers_.top()->deadline_ - now());
    }
    if (timeout != std::chrono::nanoseconds(0)) {
      sleeping_.store(true, std::memory_order_seq_cst);
      bool stop_seen = !ignore_stop && stopped_.load(std::memory_order_seq_cst);
      if (!remote_.empty() || !remote_cancel_.empty() || stop_seen || !has_work()) {
        sleeping_.store(false, std::memory_order_seq_cst);
        return true;
      }
      backend_->run_once(timeout);
      sleeping_.store(false, std::memory_order_seq_cst);
    } else {
      backend_->run_once(timeout);
    }
    expire_timers();
    return true;
  }

  void drain_remote() noexcept {
    for (io_operation* op = remote_.take_all(); op != nullptr;) {
      io_operation* next = op->next_;
      op->state_ = op_state::ready;
      op->result_ = shutting_down_ ? -ECANCELED : 0;
      ready_.push_back(*op);
      ++outstanding_;
      op = next;
    }
    for (io_operation* op = remote_cancel_.take_all(); op != nullptr;) {
      io_operation* next = op->cancel_next_;
      op->cancel_next_ = nullptr;
      op->cancel_pending_.store(false, std::memory_order_relaxed);
      if (op->deferred_) {
        // Its completion already ran once and waited for this request: run it again.
        op->deferred_ = false;
        op->state_ = op_state::ready;
        ready_.push_back(*op);
        ++outstanding_;
      } else {
        cancel_now(*op);
      }
      op = next;
    }
  }

  void expire_timers() noexcept {
    if (timers_.empty()) {
      return;
    }
    clock::time_point t = now();
    while (!timers_.empty() && timers_.top()->deadline_ <= t) {
      complete(*timers_.pop(), 0);
    }
  }

  void cancel_now(io_operation& op) noexcept {
    if (op.state_ != op_state::pending) {
      return;
    }
    if (op.code_ == op_code::timer) {
      timers_.erase(static_cast<timer_operation&>(op));
      complete(op, -ECANCELED);
    } else {
      backend_->cancel(op);
    }
  }

  // After poll: leave wait_descriptor() readable if work is left, and armed for the next timer.
  void prepare_for_foreign_wait() noexcept {
    sleeping_.store(true, std::memory_order_seq_cst);
    if (!ready_.empty() || !remote_.empty() || !remote_cancel_.empty()) {
      backend_->wake();
    }
    if (!timers_.empty() && timers_.top()->deadline_ != armed_deadline_) {
      armed_deadline_ = timers_.top()->deadline_;
      backend_->arm_deadline(armed_deadline_);
    }
  }

  // Completes everything still pending with -ECANCELED and delivers it.
 public:
  void shutdown() noexcept {
    shutting_down_ = true;
    io_context* previous = current_context;
    current_context = owner_;
    for (;;) {
      drain_remote();
      while (!timers_.empty()) {
        complete(*timers_.pop(), -ECANCELED);
      }
      backend_->cancel_all();
      if (ready_.empty()) {
        if (outstanding_ == 0 && remote_.empty() && remote_cancel_.empty()) {
          break;
        }
        // Operations a backend cannot cancel at once (io_uring) are reaped as they finish.
        backend_->run_once(std::chrono::milliseconds(10));
        continue;
      }
      while (io_operation* op = ready_.pop_front()) {
        --outstanding_;
        op->state_ = op_state::idle;
        if (op->code_ == op_code::schedule) {
          op->result_ = -ECANCELED;
        }
        op->complete_(op);
      }
    }
    current_context = previous;
  }

 private:
  io_context* owner_;
  std::unique_ptr<backend> backend_;
  op_queue ready_;
  std::size_t outstanding_ = 0;
  int budget_ = handler_budget;
  timer_heap timers_;
  std::uint64_t timer_seq_ = 0;
  clock::time_point armed_deadline_{};
  bool shutting_down_ = false;
  std::atomic<std::uint32_t> foreign_callers_{0};
  remote_stack<&io_operation::next_> remote_;
  remote_stack<&io_operation::cancel_next_> remote_cancel_;
  std::atomic<bool> sleeping_{true};
  std::atomic<bool> stopped_{false};
  std::atomic<std::size_t> guards_{0};
  std::atomic<std::thread::id> runner_{};
};

bool start_operation(io_context& ctx, io_operation& op) noexcept {
  return ctx.impl_->start(op);
}
void post(io_context& ctx, io_operation& op) noexcept {
  ctx.impl_->post(op);
}
void post_remote(io_context& ctx, io_operation& op) noexcept {
  ctx.impl_->post_remote(op);
}
void request_cancel(io_context& ctx, io_operation& op) noexcept {
  ctx.impl_->request_cancel(op);
}
clock::time_point now(const io_context& ctx) noexcept {
  return ctx.impl_->now();
}
bool links_timeouts(const io_context& ctx) noexcept {
  return ctx.impl_->links_timeouts();
}
void with_backend(io_context& ctx, void (*fn)(void*, backend&) noexcept, void* arg) {
  if (running_in_this_thread(ctx)) {
    fn(arg, ctx.impl_->get_backend());
    return;
  }
  io_context::run_token token = ctx.enter_run();  // std::logic_error if another thread runs ctx
  fn(arg, ctx.impl_->get_backend());
  ctx.leave_run(token);
}

}  // namespace senet::io::detail

namespace senet::io {

io_context::io_context() : impl_(std::make_unique<detail::context_impl>(*this, std::nullopt)) {}
io_context::io_context(backend_kind kind) : impl_(std::make_unique<detail::context_impl>(*this, kind)) {}
io_context::~io_context() {
  // Completions delivered here may still use the context (get_scheduler, starting operations,
  // which then complete stopped at once): it stays whole until they are all done.
  impl_->shutdown();
}

std::size_t io_context::run() {
  return impl_->run();
}
std::size_t io_context::run_one() {
  return impl_->run_one();
}
std::size_t io_context::poll() {
  return impl_->poll();
}
std::size_t io_context::poll_one() {
  return impl_->poll_one();
}
void io_context::stop() noexcept {
  impl_->stop();
}
bool io_context::stopped() const noexcept {
  return impl_->stopped();
}
void io_context::restart() noexcept {
  impl_->restart();
}
backend_kind io_context::backend() const noexcept {
  return impl_->kind();
}
int io_context::wait_descriptor() const noexcept {
  return impl_->wait_descriptor();
}
io_context::run_token io_context::enter_run() {
  return impl_->enter_run();
}
void io_context::leave_run(run_token token) noexcept {
  impl_->leave_run(token);
}
std::size_t io_context::run_until_turn(bool ignore_stop) {
  return impl_->run_until_turn(ignore_stop);
}
void io_context::add_work() noexcept {
  impl_->add_work();
}
void io_context::remove_work() noexcept {
  impl_->remove_work();
}

bool io_context::is_available(backend_kind kind) noexcept {
  struct null_sink final : detail::completion_sink {
    void complete(detail::io_operation&, std::int64_t) noexcept override {}
  } sink;
  try {
    return detail::make_backend(kind, sink) != nullptr;
  } catch (...) {
    return false;
  }
}

}  // namespace senet::io
