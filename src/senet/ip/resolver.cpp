// SPDX-License-Identifier: BSL-1.0
#include <senet/ip/detail/resolve_request.hpp>

#include <netdb.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include <senet/error.hpp>

namespace senet::ip::detail {

resolve_request::~resolve_request() {
  if (result_ != nullptr) {
    ::freeaddrinfo(result_);
  }
}

void run_getaddrinfo(resolve_request& r) noexcept {
  ::addrinfo hints{};
  hints.ai_family = r.family_;
  hints.ai_socktype = r.socktype_;
  hints.ai_protocol = r.protocol_;
  hints.ai_flags = r.flags_;
  const char* host = r.host_.empty() ? nullptr : r.host_.c_str();
  const char* service = r.service_.empty() ? nullptr : r.service_.c_str();
  if (host == nullptr && service == nullptr) {
    // getaddrinfo refuses that (EAI_NONAME); asking for nothing means port 0 on the default host.
    service = "0";
  }
  errno = 0;
  int rc = ::getaddrinfo(host, service, &hints, &r.result_);
  if (rc != 0) {
    r.result_ = nullptr;
    r.error_ = senet::error::make_gai_error(rc);
  }
}

namespace {

std::atomic<void (*)(resolve_request&) noexcept> resolve_function{nullptr};

/** The worker threads that run getaddrinfo for ip::async_resolve.

    getaddrinfo blocks and cannot be interrupted, so it runs on up to `max_threads` threads owned
    by this process-wide object; a thread is started when a request arrives and no thread is idle.
    Threads wait for more requests until the program ends; the destructor (at static destruction)
    lets them finish the queue and joins them, so nothing is leaked even if a resolution that was
    abandoned by a stop request is still running.
*/
class resolver_service {
 public:
  static constexpr std::size_t max_threads = 4;

  static resolver_service& instance() {
    static resolver_service service;
    return service;
  }

  std::error_code submit(resolve_request* r) noexcept {
    std::unique_lock lock(mutex_);
    if (idle_ == 0 && threads_.size() < max_threads) {
      try {
        threads_.emplace_back([this] { work(); });
      } catch (const std::system_error& e) {
        if (threads_.empty()) {
          return e.code();
        }
      } catch (...) {
        if (threads_.empty()) {
          return std::make_error_code(std::errc::not_enough_memory);
        }
      }
    }
    r->next_ = nullptr;
    if (tail_ != nullptr) {
      tail_->next_ = r;
    } else {
      head_ = r;
    }
    tail_ = r;
    lock.unlock();
    ready_.notify_one();
    return {};
  }

  resolver_service(const resolver_service&) = delete;
  resolver_service& operator=(const resolver_service&) = delete;

  ~resolver_service() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) {
      t.join();
    }
  }

 private:
  resolver_service() = default;

  void work() noexcept {
    std::unique_lock lock(mutex_);
    for (;;) {
      ++idle_;
      ready_.wait(lock, [this] { return head_ != nullptr || stopping_; });
      --idle_;
      if (head_ == nullptr) {
        return;  // stopping, and nothing left to do
      }
      resolve_request* r = head_;
      head_ = r->next_;
      if (head_ == nullptr) {
        tail_ = nullptr;
      }
      lock.unlock();
      process(r);
      lock.lock();
    }
  }

  static void process(resolve_request* r) noexcept {
    // Copies: once the waiter is claimed and the record posted, the operation may delete `r`.
    std::shared_ptr<io::detail::handoff> handoff = r->handoff_;
    io::detail::io_operation* record = r->record_;
    if (handoff->enrolled(r)) {
      if (auto* fn = resolve_function.load(std::memory_order_acquire)) {
        fn(*r);
      } else {
        run_getaddrinfo(*r);
      }
    }
    if (!handoff->claim_and_post(r, record)) {
      // A stop request or the io_context's destruction completed the operation first (or it
      // never needed this result): the request is ours, the operation is not.
      delete r;
      return;
    }
    if (record == nullptr) {
      r->on_done_(r);
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<std::thread> threads_;
  resolve_request* head_ = nullptr;
  resolve_request* tail_ = nullptr;
  std::size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace

void set_resolve_function_for_testing(void (*fn)(resolve_request&) noexcept) noexcept {
  resolve_function.store(fn, std::memory_order_release);
}

std::error_code submit(resolve_request* r) noexcept {
  return resolver_service::instance().submit(r);
}

}  // namespace senet::ip::detail
