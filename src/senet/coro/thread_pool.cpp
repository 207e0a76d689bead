// SPDX-License-Identifier: BSL-1.0
#include <senet/coro/thread_pool.hpp>

#include <senet/coro/detail/spawn.hpp>

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace senet::coro {

bool thread_pool::schedule_operation::await_suspend(std::coroutine_handle<> awaiting_coroutine) noexcept {
  m_rejected = !m_thread_pool.enqueue(awaiting_coroutine);
  return !m_rejected;
}

void thread_pool::schedule_operation::await_resume() const {
  if (m_rejected) {
    throw std::runtime_error("senet::coro::thread_pool: schedule() on a pool that is shut down");
  }
}

thread_pool::thread_pool(options&& opts, private_constructor) : m_opts(std::move(opts)) {
  const std::uint32_t n = std::max<std::uint32_t>(m_opts.thread_count, 1);
  m_threads.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    m_threads.emplace_back([this, i] { executor(i); });
  }
}

std::shared_ptr<thread_pool> thread_pool::make_shared(options opts) {
  return std::make_shared<thread_pool>(std::move(opts), private_constructor{});
}

thread_pool::~thread_pool() {
  shutdown();
}

bool thread_pool::enqueue(std::coroutine_handle<> handle) noexcept {
  {
    std::lock_guard lock(m_wait_mutex);
    if (m_shutdown_requested.load(std::memory_order_relaxed)) {
      return false;
    }
    m_size.fetch_add(1, std::memory_order_release);
    try {
      m_queue.push_back(handle);
    } catch (...) {
      m_size.fetch_sub(1, std::memory_order_release);
      return false;
    }
  }
  m_wait_cv.notify_one();
  return true;
}

bool thread_pool::resume(std::coroutine_handle<> handle) noexcept {
  if (!handle || handle.done()) {
    return false;
  }
  return enqueue(handle);
}

bool thread_pool::spawn(task<void>&& t) noexcept {
  if (t.is_ready() || m_shutdown_requested.load(std::memory_order_acquire)) {
    return false;
  }
  task<void> owner;
  try {
    owner = [](thread_pool* pool, task<void> owned) -> task<void> {
      co_await pool->schedule();
      co_await std::move(owned);
    }(this, std::move(t));
  } catch (...) {
    return false;
  }
  return detail::spawn_in(m_scope, std::move(owner));
}

std::size_t thread_pool::queue_size() const noexcept {
  std::lock_guard lock(m_wait_mutex);
  return m_queue.size();
}

void thread_pool::executor(std::size_t idx) {
  if (m_opts.on_thread_start_functor) {
    m_opts.on_thread_start_functor(idx);
  }
  for (;;) {
    std::coroutine_handle<> h;
    {
      std::unique_lock lock(m_wait_mutex);
      m_wait_cv.wait(
          lock, [this] { return !m_queue.empty() || m_shutdown_requested.load(std::memory_order_relaxed); });
      if (m_queue.empty()) {
        break;  // shut down, and nothing left
      }
      h = m_queue.front();
      m_queue.pop_front();
    }
    h.resume();
    m_size.fetch_sub(1, std::memory_order_release);
  }
  if (m_opts.on_thread_stop_functor) {
    m_opts.on_thread_stop_functor(idx);
  }
}

void thread_pool::shutdown() noexcept {
  std::lock_guard shutting_down(m_shutdown_mutex);
  // The spawned tasks first: they may still schedule onto the pool until they end.
  detail::join(m_scope);
  {
    std::lock_guard lock(m_wait_mutex);
    m_shutdown_requested.store(true, std::memory_order_release);
  }
  m_wait_cv.notify_all();
  for (auto& t : m_threads) {
    if (t.joinable()) {
      t.join();
    }
  }
}

}  // namespace senet::coro
