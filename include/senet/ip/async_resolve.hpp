// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IP_ASYNC_RESOLVE_HPP
#define SENET_IP_ASYNC_RESOLVE_HPP

#include <sys/socket.h>

#include <atomic>
#include <concepts>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <senet/execution.hpp>
#include <senet/ip/detail/resolve_request.hpp>
#include <senet/ip/resolver.hpp>
#include <senet/ip/tcp.hpp>

namespace senet::ip {

namespace detail {

template <class Env>
concept has_scheduler = requires(const Env& env) {
  ex::get_scheduler(env);
};

/// The environment of the hop back to the scheduler: the receiver's, with a never_stop_token.
template <class Env>
struct resolve_hop_env {
  Env env_;

  [[nodiscard]] ex::never_stop_token query(ex::get_stop_token_t) const noexcept { return {}; }

  template <class Query>
  requires(!std::same_as<Query, ex::get_stop_token_t>) && requires(const Env& env, Query q) { env.query(q); }
  [[nodiscard]] decltype(auto) query(Query q) const noexcept(noexcept(std::declval<const Env&>().query(q))) {
    return env_.query(q);
  }
};

/// Converts to the result of `fn()`: builds an immovable operation state inside an optional.
template <class Fn>
struct emplace_result {
  Fn fn_;
  // NOLINTNEXTLINE(google-explicit-constructor)
  operator std::invoke_result_t<Fn&>() && { return fn_(); }
};
template <class Fn>
emplace_result(Fn) -> emplace_result<Fn>;

template <class Protocol, class Rcvr>
class resolve_operation {
  using endpoint_type = typename Protocol::endpoint;
  using env_type = ex::env_of_t<Rcvr>;
  using token_type = ex::stop_token_of_t<env_type>;
  static constexpr bool stoppable = !ex::unstoppable_token<token_type>;

  enum class outcome { value, error, stopped };

  struct on_stop {
    resolve_operation* op_;
    void operator()() const noexcept { op_->stop_requested(); }
  };
  using callback_type = ex::stop_callback_for_t<token_type, on_stop>;

  // Brings the completion back to the receiver's scheduler (the io_context's thread) from the
  // worker thread. It is not stoppable: the result is there, only the hop is left.
  using hop_env = resolve_hop_env<env_type>;
  struct hop_receiver {
    using receiver_concept = ex::receiver_tag;
    resolve_operation* op_;
    void set_value() && noexcept { op_->finish_value(); }
    void set_error(std::error_code ec) && noexcept { op_->finish(outcome::error, ec); }
    void set_error(std::exception_ptr) && noexcept {
      op_->finish(outcome::error, std::make_error_code(std::errc::not_enough_memory));
    }
    void set_stopped() && noexcept { op_->finish(outcome::stopped, {}); }
    [[nodiscard]] hop_env get_env() const noexcept { return {ex::get_env(op_->rcvr_)}; }
  };

  template <class Env>
  struct hop_operation_for {
    using type = ex::connect_result_t<decltype(ex::schedule(ex::get_scheduler(std::declval<const Env&>()))),
                                      hop_receiver>;
  };
  struct no_hop {
    using type = int;
  };
  using hop_operation =
      typename std::conditional_t<has_scheduler<env_type>, hop_operation_for<env_type>, no_hop>::type;

 public:
  using operation_state_concept = ex::operation_state_tag;

  resolve_operation(std::string host, std::string service, int family, int flags,
                    Rcvr rcvr) noexcept(std::is_nothrow_move_constructible_v<Rcvr>)
      : host_(std::move(host)),
        service_(std::move(service)),
        family_(family),
        flags_(flags),
        rcvr_(std::move(rcvr)) {}
  resolve_operation(const resolve_operation&) = delete;
  resolve_operation& operator=(const resolve_operation&) = delete;

  ~resolve_operation() {
    // Owned only after the worker completed it (never while abandoned to the worker).
    delete owned_;
  }

  void start() & noexcept {
    auto token = ex::get_stop_token(ex::get_env(rcvr_));
    if (token.stop_requested()) {
      ex::set_stopped(std::move(rcvr_));
      return;
    }
    req_ = new (std::nothrow) resolve_request;
    if (req_ == nullptr) {
      ex::set_error(std::move(rcvr_), std::make_error_code(std::errc::not_enough_memory));
      return;
    }
    try {
      req_->host_ = std::move(host_);
      req_->service_ = std::move(service_);
    } catch (...) {
      delete req_;
      ex::set_error(std::move(rcvr_), std::make_error_code(std::errc::not_enough_memory));
      return;
    }
    Protocol protocol{};
    req_->family_ = family_;
    req_->socktype_ = protocol.type();
    req_->protocol_ = protocol.protocol();
    req_->flags_ = flags_;
    req_->on_done_ = &on_done;
    req_->owner_ = this;

    // `refs_` is 2: one for this function, one for whichever of the worker and the stop callback
    // wins the request. The receiver is completed by the last of the two to let go, so a completion
    // that arrives while this function still runs is delivered when it returns.
    if constexpr (stoppable) {
      callback_.emplace(token, on_stop{this});
    }
    if (req_->state_.load(std::memory_order_acquire) == resolve_request::abandoned) {
      // The stop callback ran inside emplace: the request never reached a worker.
      delete req_;
    } else if (std::error_code ec = submit(req_)) {
      int expected = resolve_request::pending;
      if (req_->state_.compare_exchange_strong(expected, resolve_request::completed)) {
        owned_ = req_;
        outcome_ = outcome::error;
        error_ = ec;
        release();
      } else {
        delete req_;  // abandoned by a stop request; it was never queued
      }
    }
    release();
  }

 private:
  void stop_requested() noexcept {
    int expected = resolve_request::pending;
    if (req_->state_.compare_exchange_strong(expected, resolve_request::abandoned,
                                             std::memory_order_acq_rel)) {
      // The worker (or start, if the request was never queued) deletes the request.
      outcome_ = outcome::stopped;
      release();
    }
  }

  static void on_done(resolve_request* r) noexcept {
    auto* self = static_cast<resolve_operation*>(r->owner_);
    self->owned_ = r;
    if constexpr (has_scheduler<env_type>) {
      try {
        self->hop_.emplace(emplace_result{[self] {
          return ex::connect(ex::schedule(ex::get_scheduler(ex::get_env(self->rcvr_))), hop_receiver{self});
        }});
      } catch (...) {
        self->finish(outcome::error, std::make_error_code(std::errc::not_enough_memory));
        return;
      }
      ex::start(*self->hop_);
    } else {
      // No scheduler to return to: complete on the worker thread.
      self->finish_value();
    }
  }

  void finish_value() noexcept {
    if (owned_->error_) {
      finish(outcome::error, owned_->error_);
      return;
    }
    try {
      endpoints_ = to_endpoints<endpoint_type>(owned_->result_);
    } catch (...) {
      finish(outcome::error, std::make_error_code(std::errc::not_enough_memory));
      return;
    }
    finish(outcome::value, {});
  }

  void finish(outcome o, std::error_code ec) noexcept {
    outcome_ = o;
    error_ = ec;
    release();
  }

  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) {
      return;
    }
    if constexpr (stoppable) {
      callback_.reset();
    }
    // Only now, with no stop callback left that could look at it, may the request go.
    delete owned_;
    owned_ = nullptr;
    switch (outcome_) {
      case outcome::value:
        ex::set_value(std::move(rcvr_), std::move(endpoints_));
        break;
      case outcome::error:
        ex::set_error(std::move(rcvr_), error_);
        break;
      case outcome::stopped:
        ex::set_stopped(std::move(rcvr_));
        break;
    }
  }

  std::string host_;
  std::string service_;
  int family_;
  int flags_;
  Rcvr rcvr_;
  resolve_request* req_ = nullptr;
  resolve_request* owned_ = nullptr;
  std::atomic<int> refs_{2};
  outcome outcome_ = outcome::stopped;
  std::error_code error_{};
  std::vector<endpoint_type> endpoints_{};
  struct no_callback {};
  [[no_unique_address]] std::conditional_t<stoppable, std::optional<callback_type>, no_callback> callback_{};
  std::optional<hop_operation> hop_{};
};

template <class Protocol>
struct resolve_sender {
  using sender_concept = ex::sender_tag;
  using completion_signatures =
      ex::completion_signatures<ex::set_value_t(std::vector<typename Protocol::endpoint>),
                                ex::set_error_t(std::error_code), ex::set_stopped_t()>;

  std::string host_;
  std::string service_;
  int family_;
  int flags_;

  template <class Rcvr>
  resolve_operation<Protocol, Rcvr> connect(Rcvr rcvr) && {
    return {std::move(host_), std::move(service_), family_, flags_, std::move(rcvr)};
  }
  template <class Rcvr>
  resolve_operation<Protocol, Rcvr> connect(Rcvr rcvr) const& {
    return {host_, service_, family_, flags_, std::move(rcvr)};
  }
};

}  // namespace detail

/** A sender that resolves `host` and `service` to endpoints of `Protocol` without blocking the
    calling thread (P2762 §3.6): `ip::async_resolve(host, service)` for TCP,
    `ip::async_resolve_for<ip::udp>(host, service)` for another protocol,
    `ip::async_resolve(ip::tcp::v6(), host, service)` for one address family only.

    getaddrinfo(3) runs on one of a few worker threads that senet starts on first use and joins at
    the end of the program; the completion then returns to the scheduler of the receiver's
    environment (`ex::get_scheduler`), so a single-threaded io_context program sees it on its own
    thread. Without a scheduler in the environment it completes on the worker thread.

    `host` is a name or a numeric address (empty: the loopback address, or the wildcard address
    with `resolve_flags::passive`); `service` a port number or a service name. `flags` are
    `ip::resolve_flags` (default: none).

    Completion signatures: `set_value_t(std::vector<typename Protocol::endpoint>)` (IPv4 and IPv6
    endpoints in getaddrinfo's order, never empty), `set_error_t(std::error_code)` (mapped by
    `senet::error::make_gai_error`: `senet::error::host_not_found`, `service_not_found`, ...),
    `set_stopped_t()`.
    Cancellation: a stop request completes the operation with `set_stopped()` at once, on the
    thread that requested the stop, even while getaddrinfo is still running; its result is then
    discarded by the worker thread.
    Thread safety: any number of resolutions may run at once, from any thread.
    Allocation: each resolution allocates its request (with copies of `host` and `service`) and
    the result vector; name resolution is not a steady-path operation.
*/
template <class Protocol>
struct async_resolve_t {
  auto operator()(std::string_view host, std::string_view service,
                  resolve_flags flags = resolve_flags::none) const {
    return detail::resolve_sender<Protocol>{std::string(host), std::string(service), AF_UNSPEC,
                                            static_cast<int>(flags)};
  }
  auto operator()(const Protocol& protocol, std::string_view host, std::string_view service,
                  resolve_flags flags = resolve_flags::none) const {
    return detail::resolve_sender<Protocol>{std::string(host), std::string(service), protocol.family(),
                                            static_cast<int>(flags)};
  }
};

/** `async_resolve_for<Protocol>(host, service)`: see `async_resolve_t`. */
template <class Protocol>
inline constexpr async_resolve_t<Protocol> async_resolve_for{};

/** `async_resolve(host, service)`: TCP endpoints; see `async_resolve_t`. */
inline constexpr async_resolve_t<tcp> async_resolve{};

}  // namespace senet::ip

namespace senet::net {
using ip::async_resolve;
using ip::async_resolve_for;
}  // namespace senet::net

#endif  // SENET_IP_ASYNC_RESOLVE_HPP
