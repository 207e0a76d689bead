// SPDX-License-Identifier: BSL-1.0
// The watchdog behind senet::test::deadline_guard: one thread per test process, started by the
// first guard, that stops the context of an expired guard and aborts the process when a guard
// outlives its deadline by abort_grace.
#include <support/deadline.hpp>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace senet::test {

struct watchdog {
  std::mutex mutex;
  std::condition_variable wake;
  deadline_guard* head = nullptr;
  std::chrono::steady_clock::time_point next_check = std::chrono::steady_clock::time_point::max();
  bool quit = false;
  std::thread thread{[this] { loop(); }};

  watchdog() = default;
  watchdog(watchdog const&) = delete;
  watchdog& operator=(watchdog const&) = delete;
  ~watchdog() {
    {
      std::lock_guard lock(mutex);
      quit = true;
    }
    wake.notify_one();
    thread.join();
  }

  static watchdog& instance() {
    static watchdog w;
    return w;
  }

  void add(deadline_guard& g) {
    std::lock_guard lock(mutex);
    g.next_ = head;
    if (head != nullptr) {
      head->prev_ = &g;
    }
    head = &g;
    if (g.deadline_ < next_check) {
      next_check = g.deadline_;
      wake.notify_one();
    }
  }

  void remove(deadline_guard& g) {
    std::lock_guard lock(mutex);
    (g.prev_ != nullptr ? g.prev_->next_ : head) = g.next_;
    if (g.next_ != nullptr) {
      g.next_->prev_ = g.prev_;
    }
  }

  void set_context(deadline_guard& g, io::io_context* ctx) {
    std::lock_guard lock(mutex);
    g.ctx_ = ctx;
    if (ctx != nullptr && g.expired()) {
      ctx->stop();
    }
  }

  void loop() {
    std::unique_lock lock(mutex);
    while (!quit) {
      auto const now = std::chrono::steady_clock::now();
      next_check = std::chrono::steady_clock::time_point::max();
      for (deadline_guard* g = head; g != nullptr; g = g->next_) {
        if (!g->expired() && now >= g->deadline_) {
          g->expired_.store(true, std::memory_order_release);
          if (g->ctx_ != nullptr) {
            g->ctx_->stop();
          }
        }
        if (g->expired()) {
          auto const abort_at = g->deadline_ + abort_grace;
          if (now >= abort_at) {
            std::fprintf(stderr,
                         "senet test watchdog: %s has not finished %lld s after its deadline of %lld ms%s; "
                         "aborting\n",
                         g->what_, static_cast<long long>(abort_grace.count()),
                         static_cast<long long>(
                             std::chrono::duration_cast<std::chrono::milliseconds>(g->limit_).count()),
                         g->ctx_ != nullptr ? " (the context was stopped)" : "");
            std::fflush(stderr);
            std::abort();
          }
          next_check = std::min(next_check, abort_at);
        } else {
          next_check = std::min(next_check, g->deadline_);
        }
      }
      if (next_check == std::chrono::steady_clock::time_point::max()) {
        wake.wait(lock);
      } else {
        wake.wait_until(lock, next_check);
      }
    }
  }
};

deadline_guard::deadline_guard(char const* what, io::io_context* ctx,
                               std::chrono::steady_clock::duration limit)
    : what_(what), deadline_(std::chrono::steady_clock::now() + limit), limit_(limit), ctx_(ctx) {
  watchdog::instance().add(*this);
}

deadline_guard::~deadline_guard() {
  watchdog::instance().remove(*this);
  if (expired()) {
    ADD_FAILURE() << what_ << ": not finished within "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(limit_).count() << " ms"
                  << (ctx_ != nullptr ? " (the watchdog stopped the context)" : "");
  }
}

void deadline_guard::watch(io::io_context* ctx) noexcept {
  watchdog::instance().set_context(*this, ctx);
}

}  // namespace senet::test
