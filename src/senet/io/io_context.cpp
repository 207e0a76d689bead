// SPDX-License-Identifier: BSL-1.0
#include <senet/io/io_context.hpp>

#include <senet/io/detail/handoff.hpp>
#include "senet/backend/backend.hpp"
#include "senet/io/descriptor_request.hpp"
#include "senet/io/op_queue.hpp"
#include "senet/io/timer_heap.hpp"

#if __has_include("senet/backend/uring/uring_backend.hpp")
#include "senet/backend/uring/uring_backend.hpp"
#define SENET_HAVE_URING_BACKEND 1
#else
#define SENET_HAVE_URING_BACKEND 0
#endif
// The test backend is the library senet::testing, registered when linked (test_hooks.hpp).
#include "senet/backend/test_hooks.hpp"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

namespace senet::io::detail {

constinit thread_local io_context* current_context = nullptr;

namespace {

// How long ~io_context waits for operations whose cancellation it requested before it gives up on
// them (measured on the backend's clock: the test backend's is virtual). io_uring cancels a
// socket operation within microseconds; only a request the kernel cannot interrupt takes longer.
constexpr std::chrono::seconds shutdown_patience{5};

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
      return make_registered_test_backend(sink);
  }
  return nullptr;
}

std::unique_ptr<backend> make_required_backend(backend_kind kind, completion_sink& sink) {
  auto b = make_backend(kind, sink);
  if (!b) {
    throw std::system_error(
        std::make_error_code(std::errc::function_not_supported),
        std::string("senet: io_context backend not available: ") + std::string(to_string(kind)) +
            (kind == backend_kind::test ? std::string(": ") + test_backend_missing : std::string()));
  }
  return b;
}

std::unique_ptr<backend> make_default_backend(completion_sink& sink) {
  if (const char* name = std::getenv("SENET_BACKEND"); name != nullptr && *name != '\0') {
    std::string_view n(name);
    for (backend_kind k : {backend_kind::uring, backend_kind::epoll, backend_kind::test}) {
      if (n == to_string(k)) {
        if (k == backend_kind::test && test_backend_registration() == nullptr) {
          // An environment variable must not switch a production program onto simulated sockets.
          throw std::invalid_argument(std::string("senet: SENET_BACKEND=test refused: ") +
                                      test_backend_missing);
        }
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
      : owner_(&owner),
        backend_(kind ? make_required_backend(*kind, *this) : make_default_backend(*this)),
        handoff_(std::make_shared<handoff>(&owner)) {}

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

  // ---- release / cancel of a descriptor, from any thread (io_core.md, "Threads") ----

  void on_descriptor(descriptor& d, detail::descriptor_action action) noexcept {
    if (current_context == owner_ || runner_.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
      // The context's thread (a completion closing its socket, a nested run of another context).
      descriptor_action_here(d, action);
      return;
    }
    io_context::run_token token{};
    if (try_enter_run(token)) {
      // Nobody runs the context: this thread does, for the moment.
      descriptor_action_here(d, action);
      end_borrow(token);
      return;
    }
    descriptor_request request(*this, d, action);
    foreign_call call(*this);
    remote_.push(request);
    wake_if_sleeping();
    std::unique_lock lock(request_mutex_);
    request_waiters_.fetch_add(1, std::memory_order_seq_cst);
    while (!request.done_) {
      if (runner_.load(std::memory_order_seq_cst) != std::thread::id{}) {
        // The runner performs it and notifies; leave_run notifies too (see below).
        request_done_.wait(lock);
        continue;
      }
      // The runner left before it came to the request (stopped, out of work, a poll() that
      // returned): take its role and do it here.
      lock.unlock();
      if (try_enter_run(token)) {
        if (!request.done_) {
          take_back(request);
          descriptor_action_here(d, action);
          request.done_ = true;
        }
        end_borrow(token);
      }
      lock.lock();
    }
    request_waiters_.fetch_sub(1, std::memory_order_seq_cst);
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

  std::size_t run_for(std::chrono::nanoseconds rel_time) {
    run_scope scope(*this);
    if (rel_time <= std::chrono::nanoseconds(0)) {
      return 0;
    }
    clock::time_point deadline = now() + rel_time;
    std::size_t n = 0;
    while (do_one(mode::block, false, &deadline) != 0) {
      ++n;
    }
    return n;
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
    while (!runner_.compare_exchange_strong(none, self, std::memory_order_seq_cst) && none != self) {
      if (borrowers_.load(std::memory_order_seq_cst) == 0) {
        throw std::logic_error("senet: io_context is already being run by another thread");
      }
      // A closing thread holds the runner's role for a moment (try_enter_run): wait for it.
      std::this_thread::yield();
      none = std::thread::id{};
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
      if (!ready_.empty() || !remote_.empty() || !remote_cancel_.empty()) {
        backend_->wake();
      }
      runner_.store(std::thread::id{}, std::memory_order_seq_cst);
      if (request_waiters_.load(std::memory_order_seq_cst) != 0) [[unlikely]] {
        // A thread waits for a descriptor request this runner may have left undone: let it
        // take over. Taking the mutex orders this after the waiter's check of runner_.
        { std::lock_guard lock(request_mutex_); }
        request_done_.notify_all();
      }
    }
  }

 private:
  // enter_run for a thread that only wants the runner's role if it is free: never nested, never
  // throws. False when another thread runs the context.
  // While it holds the role, borrowers_ is non-zero, so that a run call meanwhile waits instead of
  // reporting a second runner; end_borrow() ends it.
  bool try_enter_run(io_context::run_token& token) noexcept {
    borrowers_.fetch_add(1, std::memory_order_seq_cst);
    std::thread::id none{};
    if (!runner_.compare_exchange_strong(none, std::this_thread::get_id(), std::memory_order_seq_cst)) {
      borrowers_.fetch_sub(1, std::memory_order_seq_cst);
      return false;
    }
    token = io_context::run_token{current_context, false};
    current_context = owner_;
    sleeping_.store(false, std::memory_order_seq_cst);
    return true;
  }

  void end_borrow(io_context::run_token token) noexcept {
    leave_run(token);
    borrowers_.fetch_sub(1, std::memory_order_seq_cst);
  }

  // A release or cancel of a descriptor handed to the context's thread; it lives on the stack of
  // the thread that waits for it.
  struct descriptor_request : io_operation {
    descriptor_request(context_impl& impl, descriptor& d, detail::descriptor_action action) noexcept
        : impl_(&impl), target_(&d), action_(action) {
      complete_ = &descriptor_request::run;
    }
    static void run(io_operation* op) noexcept {
      auto& self = *static_cast<descriptor_request*>(op);
      context_impl& impl = *self.impl_;
      impl.descriptor_action_here(*self.target_, self.action_);
      {
        std::lock_guard lock(impl.request_mutex_);
        self.done_ = true;
      }
      // `self` may be gone now; the condition variable is the context's.
      impl.request_done_.notify_all();
    }
    context_impl* impl_;
    descriptor* target_;
    detail::descriptor_action action_;
    bool done_ = false;  // guarded by request_mutex_
  };

  // Runner only: the release or cancel itself. d.context_state is read again here: the state the
  // caller saw belongs to this context's backend, and only this thread changes it.
  void descriptor_action_here(descriptor& d, detail::descriptor_action action) noexcept {
    auto* state = static_cast<descriptor_state*>(d.context_state);
    if (state == nullptr) {
      return;
    }
    if (action == detail::descriptor_action::cancel) {
      backend_->cancel_descriptor(d);
    } else {
      backend_->release(d);
      d.context_state = nullptr;
    }
  }

  // Runner only: takes `request` out of the queues (it is in the cross-thread queue or, drained,
  // in the ready queue), so that nobody runs it after its owner returned.
  void take_back(io_operation& request) noexcept {
    drain_remote();
    if (ready_.erase(request)) {
      --outstanding_;
    }
  }

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
  // With a `deadline` (run_for), returns 0 once it has passed, and never blocks beyond it.
  std::size_t do_one(mode m, bool ignore_stop, const clock::time_point* deadline = nullptr) {
    for (;;) {
      if (!ignore_stop && stopped_.load(std::memory_order_relaxed)) {
        return 0;
      }
      if (deadline != nullptr && now() >= *deadline) [[unlikely]] {
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
      if (!gather(m == mode::block && ready_.empty(), ignore_stop, deadline)) {
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
  bool gather(bool may_block, bool ignore_stop, const clock::time_point* deadline = nullptr) {
    drain_remote();
    expire_timers();
    std::chrono::nanoseconds timeout{0};
    if (may_block && ready_.empty()) {
      if (!has_work() && remote_.empty() && remote_cancel_.empty()) {
        return false;
      }
      timeout = timers_.empty() ? std::chrono::nanoseconds(-1)
                                : std::max(std::chrono::nanoseconds(0), timers_.top()->deadline_ - now());
      if (deadline != nullptr) {
        // run_for: wake up at its deadline at the latest.
        auto left = std::max(std::chrono::nanoseconds(0), *deadline - now());
        if (timeout < std::chrono::nanoseconds(0) || timeout > left) {
          timeout = left;
        }
      }
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

  // Shutdown gave up on operations whose cancellation did not finish (io_uring: the kernel
  // neither completed nor cancelled them). They are never delivered: delivering them would let
  // their owners free records and buffers that the kernel may still write into. The backend is
  // destroyed all the same (its ring memory is the kernel's; closing the ring makes the kernel
  // cancel what it can); the operation states stay the user's, and must stay alive.
  void abandon_pending() noexcept {
    struct tally {
      std::size_t count = 0;
      std::string names;
    } t;
    backend_->visit_pending(
        [](const io_operation& op, void* arg) noexcept {
          auto& t = *static_cast<tally*>(arg);
          if (++t.count <= 8) {
            char line[96];
            std::snprintf(line, sizeof line, "%s%s (record %p)", t.count == 1 ? "" : ", ", op_name(op.code_),
                          static_cast<const void*>(&op));
            try {
              t.names += line;
            } catch (...) {
            }
          }
        },
        &t);
    std::fprintf(stderr,
                 "senet: ~io_context (%s backend): %zu operation(s) still pending %lld ms after their "
                 "cancellation was requested: %s%s. They are abandoned: never completed; their operation "
                 "states and buffers must stay alive, as the kernel may still write into them.\n",
                 std::string(to_string(kind())).c_str(), outstanding_,
                 static_cast<long long>(
                     std::chrono::duration_cast<std::chrono::milliseconds>(shutdown_patience).count()),
                 t.names.empty() ? "(the backend does not list them)" : t.names.c_str(),
                 t.count > 8 ? ", ..." : "");
    outstanding_ = 0;
  }

  static const char* op_name(op_code code) noexcept {
    switch (code) {
      case op_code::none:
        return "internal";
      case op_code::schedule:
        return "schedule";
      case op_code::timer:
        return "timer";
      case op_code::accept:
        return "accept";
      case op_code::connect:
        return "connect";
      case op_code::receive:
        return "receive";
      case op_code::send:
        return "send";
      case op_code::poll:
        return "poll";
    }
    return "unknown";
  }

  // Completes everything still pending with -ECANCELED and delivers it; gives up (with a message
  // on stderr) on operations whose cancellation has not finished after shutdown_patience.
 public:
  void shutdown() noexcept {
    std::optional<clock::time_point> waiting_since;
    shutting_down_ = true;
    io_context* previous = current_context;
    current_context = owner_;
    // Operations waiting for a result from another thread (ip::async_resolve) complete stopped;
    // a result handed back before this is in remote_ and delivered below.
    handoff_->detach();
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
        if (!waiting_since) {
          waiting_since = now();
        } else if (now() - *waiting_since >= shutdown_patience) {
          abandon_pending();
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
  // Threads waiting in descriptor_action for the context's thread.
  std::atomic<std::uint32_t> request_waiters_{0};
  // Threads in try_enter_run .. end_borrow.
  std::atomic<std::uint32_t> borrowers_{0};
  std::mutex request_mutex_;
  std::condition_variable request_done_;
  std::shared_ptr<handoff> handoff_;

 public:
  static std::shared_ptr<handoff> handoff_of(io_context& ctx) noexcept { return ctx.impl_->handoff_; }
};

void run_descriptor_action(backend& owner, descriptor& d, descriptor_action action) noexcept {
  // Every backend is created by a context_impl, its sink.
  static_cast<context_impl&>(owner.core()).on_descriptor(d, action);
}

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
std::shared_ptr<handoff> handoff_of(io_context& ctx) noexcept {
  return context_impl::handoff_of(ctx);
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
std::size_t io_context::run_for_ns(std::chrono::nanoseconds rel_time) {
  return impl_->run_for(rel_time);
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
