// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_NET_DNS_RESOLVER_HPP
#define SENET_CORO_NET_DNS_RESOLVER_HPP

#include <senet/coro/io_scheduler.hpp>
#include <senet/coro/net/detail/io_awaiter.hpp>
#include <senet/coro/net/hostname.hpp>
#include <senet/coro/net/ip_address.hpp>
#include <senet/coro/task.hpp>
#include <senet/ip/async_resolve.hpp>

#include <algorithm>
#include <chrono>
#include <concepts>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace senet::coro::net::dns {

template <class Executor>
class resolver;

/** How a lookup ended (libcoro 0.15's `coro::net::dns::status`). */
enum class status {
  complete,  ///< the name has addresses: `result::ip_addresses()`
  error      ///< no address: unknown name, a failed or timed-out lookup, the scheduler shut down
};

/** The outcome of `resolver::host_by_name` (libcoro 0.15's `coro::net::dns::result`). */
template <class Executor>
class result {
 public:
  /** `complete` when the name has at least one address, else `error`. */
  [[nodiscard]] dns::status status() const noexcept { return status_; }

  /** The addresses of the name: its IPv4 addresses first, then its IPv6 ones, each in the order
      the system's resolver gave them, without repeats. Empty after an `error`. */
  [[nodiscard]] const std::vector<coro::net::ip_address>& ip_addresses() const noexcept { return addresses_; }

  /** senet: why the lookup failed (`senet::error::host_not_found`, `std::errc::timed_out`,
      `std::errc::operation_canceled` after the scheduler's shutdown...); empty when it did not. */
  [[nodiscard]] std::error_code error() const noexcept { return error_; }

 private:
  friend resolver<Executor>;
  result() = default;

  dns::status status_ = dns::status::error;
  std::vector<coro::net::ip_address> addresses_{};
  std::error_code error_{};
};

namespace detail {

/** The step of one lookup: `ip::async_resolve` of the name, on the scheduler's io_context. */
class resolve_policy {
 public:
  using result_type = void;

  explicit resolve_policy(std::string host) noexcept : host_(std::move(host)) {}

  template <class Scheduler>
  auto make_sender(Scheduler) const {
    return senet::ip::async_resolve(host_, "");
  }

  net::detail::io_step on_value(std::vector<senet::ip::tcp::endpoint> endpoints) {
    endpoints_ = std::move(endpoints);
    return net::detail::io_step::done;
  }
  net::detail::io_step on_error(std::error_code ec) noexcept {
    error_ = ec;
    return net::detail::io_step::done;
  }
  void on_stopped() noexcept { error_ = std::make_error_code(std::errc::operation_canceled); }
  void on_timeout() noexcept { error_ = std::make_error_code(std::errc::timed_out); }
  void result() const noexcept {}

  std::vector<senet::ip::tcp::endpoint>& endpoints() noexcept { return endpoints_; }
  [[nodiscard]] std::error_code error() const noexcept { return error_; }

 private:
  std::string host_;
  std::vector<senet::ip::tcp::endpoint> endpoints_{};
  std::error_code error_{};
};

}  // namespace detail

/** Looks host names up (libcoro 0.15's `coro::net::dns::resolver`), on an `io_scheduler`.

    ```cpp
    coro::net::dns::resolver<coro::io_scheduler> dns{scheduler, std::chrono::milliseconds{5000}};
    auto r = co_await dns.host_by_name(coro::net::hostname{"localhost"});
    if (r->status() == coro::net::dns::status::complete) {
      for (const auto& a : r->ip_addresses()) { ... }
    }
    ```

    libcoro asks c-ares for the name's IPv4 and IPv6 addresses; senet asks the system's resolver
    (getaddrinfo(3), with /etc/hosts and the system's configuration, through
    `senet::ip::async_resolve`, which runs it on a worker thread and brings the result back to the
    scheduler's io_context). Nothing else is needed to build or link. Differences from libcoro:
    - The status is `complete` when the name has at least one address. (libcoro's is that of
      whichever of its two queries finished last, so a name with IPv4 addresses only could end in
      `error` with those addresses.)
    - The addresses are the IPv4 ones first, then the IPv6 ones, without repeats.
    - `result::error()` says why a lookup failed.

    Thread safety: `host_by_name` may be called from any thread, for any number of lookups at once.
    Cancellation: `io_scheduler::shutdown()` ends a lookup still running with `error` (the system
    call itself cannot be stopped: its worker thread finishes it and discards the answer).
    Allocation: per lookup, the task's frame, the result, and `ip::async_resolve`'s request.
*/
template <class Executor>
class resolver {
  static_assert(std::derived_from<Executor, io_scheduler>,
                "senet::coro::net::dns::resolver: the executor is a coro::io_scheduler");

 public:
  /** A resolver whose lookups run on `executor` and end with `error` once `timeout` has passed
      (0 or less: no limit). Throws `std::runtime_error` if `executor` is null, as libcoro does. */
  explicit resolver(std::shared_ptr<Executor> executor, std::chrono::milliseconds timeout)
      : executor_(std::move(executor)), timeout_(timeout) {
    if (executor_ == nullptr) {
      throw std::runtime_error{"dns resolver cannot have nullptr executor"};
    }
  }

  resolver(const resolver&) = delete;
  resolver(resolver&&) = delete;
  resolver& operator=(const resolver&) = delete;
  resolver& operator=(resolver&&) = delete;
  ~resolver() = default;

  /** Looks `hn` up: its addresses, or `status::error` (an empty name, an unknown one, a failed
      or timed-out lookup, the scheduler shut down). The task resumes as the scheduler's I/O does
      (on its pool, or on its I/O thread). The task keeps what it needs, copied at the call (the
      name, the scheduler, the time limit), so it may be awaited after `hn` and the resolver are
      gone: `host_by_name(hostname{"example.org"})` of a resolver destroyed before the task runs. */
  [[nodiscard]] task<std::unique_ptr<result<Executor>>> host_by_name(const net::hostname& hn) {
    return lookup(executor_, timeout_, hn.data());
  }

 private:
  // Static, its parameters copies: a lazy coroutine that read the resolver's members would read
  // them when first resumed, after a resolver that is gone.
  static task<std::unique_ptr<result<Executor>>> lookup(std::shared_ptr<Executor> executor,
                                                        std::chrono::milliseconds timeout, std::string name) {
    std::unique_ptr<result<Executor>> r(new result<Executor>());
    if (name.empty()) {
      // getaddrinfo would give the loopback address for "": not a name.
      r->error_ = make_error_code(senet::error::host_not_found);
      co_return r;
    }
    net::detail::io_awaiter<detail::resolve_policy> step(
        &coro::detail::core_of(*executor), detail::resolve_policy(std::move(name)),
        timeout > std::chrono::milliseconds{0} ? timeout : std::chrono::milliseconds{0});
    co_await step;
    detail::resolve_policy& done = step.policy();
    if (done.error()) {
      r->error_ = done.error();
      co_return r;
    }
    for (const senet::ip::tcp::endpoint& e : done.endpoints()) {
      coro::net::ip_address a(e.address());
      if (std::find(r->addresses_.begin(), r->addresses_.end(), a) == r->addresses_.end()) {
        r->addresses_.push_back(a);
      }
    }
    std::stable_partition(r->addresses_.begin(), r->addresses_.end(),
                          [](const coro::net::ip_address& a) { return a.domain() == domain_t::ipv4; });
    r->status_ = r->addresses_.empty() ? status::error : status::complete;
    if (r->addresses_.empty()) {
      r->error_ = make_error_code(senet::error::host_not_found);
    }
    co_return r;
  }

  std::shared_ptr<Executor> executor_;
  std::chrono::milliseconds timeout_;
};

}  // namespace senet::coro::net::dns

#endif  // SENET_CORO_NET_DNS_RESOLVER_HPP
