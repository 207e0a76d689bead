// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IP_ASYNC_RESOLVE_HPP
#define SENET_IP_ASYNC_RESOLVE_HPP

#ifdef _WIN32
#error \
    "senet/ip/async_resolve.hpp is Linux-only; on Windows senet builds IP addresses and endpoints, not the resolver"
#endif

#include <sys/socket.h>

#include <atomic>
#include <concepts>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <senet/execution.hpp>
#include <senet/io/detail/handoff.hpp>
#include <senet/io/io_context.hpp>
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

template <class Env>
struct env_io_scheduler {
  static constexpr bool value = false;
};
template <class Env>
requires has_scheduler<Env>
struct env_io_scheduler<Env> {
  static constexpr bool value =
      io::detail::io_scheduler<std::decay_t<decltype(ex::get_scheduler(std::declval<const Env&>()))>>;
};

template <class Protocol, class Rcvr>
class resolve_operation {
  using endpoint_type = typename Protocol::endpoint;
  using env_type = ex::env_of_t<Rcvr>;
  using token_type = ex::stop_token_of_t<env_type>;
  static constexpr bool stoppable = !ex::unstoppable_token<token_type>;
  // The receiver's scheduler is an io_context's: the result comes back through the context's
  // handoff, as a record posted to it (and the context's destruction completes the operation).
  static constexpr bool io_context_hop = env_io_scheduler<env_type>::value;
  // Another scheduler: the worker thread schedules the completion onto it.
  static constexpr bool scheduler_hop = has_scheduler<env_type> && !io_context_hop;

  enum class outcome { value, error, stopped };

  struct on_stop {
    resolve_operation* op_;
    void operator()() const noexcept { op_->stop_requested(); }
  };
  using callback_type = ex::stop_callback_for_t<token_type, on_stop>;

  // Brings the completion back to the receiver's scheduler from the worker thread (scheduler_hop).
  // It is not stoppable: the result is there, only the hop is left.
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
  using hop_operation = typename std::conditional_t<scheduler_hop, hop_operation_for<env_type>, no_hop>::type;

  struct waiter_type : io::detail::handoff::waiter {
    resolve_operation* op_ = nullptr;
  };
  struct record_type : io::detail::io_operation {
    resolve_operation* op_ = nullptr;
  };

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
    // Owned only after the worker handed it back (never while it is the worker's).
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
      if constexpr (io_context_hop) {
        handoff_ = io::detail::handoff_of(ex::get_scheduler(ex::get_env(rcvr_)).context());
      } else {
        handoff_ = io::detail::unbound_handoff();
      }
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
    req_->handoff_ = handoff_;
    req_->on_done_ = &on_done;
    req_->owner_ = this;
    waiter_.op_ = this;
    waiter_.key_ = req_;
    waiter_.on_detached_ = &on_detached;
    if constexpr (io_context_hop) {
      record_.op_ = this;
      record_.code_ = io::detail::op_code::schedule;
      record_.complete_ = &on_record;
      req_->record_ = &record_;
    }
    if (!handoff_->enroll(waiter_)) {
      // The io_context is being destroyed: operations started now complete stopped at once.
      delete req_;
      ex::set_stopped(std::move(rcvr_));
      return;
    }

    // `refs_` is 2: one for this function, one for whichever claims the waiter (the worker, a stop
    // request, the context's destruction). The receiver is completed by the last of the two to let
    // go, so a completion that arrives while this function still runs is delivered when it returns.
    if constexpr (stoppable) {
      callback_.emplace(token, on_stop{this});
    }
    // Queued even if a stop request already claimed the waiter: the worker then deletes it.
    if (std::error_code ec = submit(req_)) {
      if (handoff_->withdraw(waiter_)) {
        outcome_ = outcome::error;
        error_ = ec;
        release();
      }
      delete req_;  // never queued
    }
    release_from_start();
  }

 private:
  // The last step of start(): lets go of start()'s reference. The worker's hand-back (or a stop
  // request) may have completed the operation while start() still ran, leaving the last reference
  // to this thread, which need not be the context's. A value or an error is then posted to the
  // context rather than delivered here, so that it arrives on the context's thread as the
  // receiver's scheduler says; a stop that came during start() is delivered as start() returns.
  void release_from_start() noexcept {
    if constexpr (io_context_hop) {
      int expected = 2;
      if (refs_.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
        return;  // whoever claimed (or claims) the waiter completes the operation
      }
      io::io_context& ctx = ex::get_scheduler(ex::get_env(rcvr_)).context();
      if (outcome_ != outcome::stopped && !io::detail::running_in_this_thread(ctx)) {
        record_.complete_ = &on_redelivery;
        io::detail::post_remote(ctx, record_);
        return;
      }
    }
    release();
  }

  // The result that start() posted (see release_from_start), on the context's thread; stopped if
  // the context's destruction delivered it.
  static void on_redelivery(io::detail::io_operation* op) noexcept {
    auto* self = static_cast<record_type*>(op)->op_;
    if (op->result_ < 0) {
      self->outcome_ = outcome::stopped;
    }
    self->release();
  }

  void stop_requested() noexcept {
    if (handoff_->withdraw(waiter_)) {
      // The worker deletes the request when it finds it claimed.
      outcome_ = outcome::stopped;
      release();
    }
  }

  // The io_context was destroyed while getaddrinfo ran: on the destroying thread.
  static void on_detached(io::detail::handoff::waiter* w) noexcept {
    auto* self = static_cast<waiter_type*>(w)->op_;
    self->outcome_ = outcome::stopped;
    self->release();
  }

  // The record the worker posted, on the context's thread.
  static void on_record(io::detail::io_operation* op) noexcept {
    auto* self = static_cast<record_type*>(op)->op_;
    self->owned_ = self->req_;
    if (op->result_ < 0) {
      // The context is being destroyed: its shutdown delivered the record.
      self->finish(outcome::stopped, {});
    } else {
      self->finish_value();
    }
  }

  // The worker claimed the waiter and there is no io_context to post to: on the worker thread.
  static void on_done(resolve_request* r) noexcept {
    auto* self = static_cast<resolve_operation*>(r->owner_);
    self->owned_ = r;
    if constexpr (scheduler_hop) {
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
    handoff_.reset();
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
  std::shared_ptr<io::detail::handoff> handoff_{};
  waiter_type waiter_{};
  struct no_record {};
  [[no_unique_address]] std::conditional_t<io_context_hop, record_type, no_record> record_{};
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
    thread. Without a scheduler in the environment it completes on the worker thread. An
    io_context destroyed while getaddrinfo runs completes the operation with `set_stopped()` in
    its destructor, like every operation pending on it, and the worker then never touches the
    context or the operation state (its result is discarded).

    `host` is a name or a numeric address (empty: the loopback address, or the wildcard address
    with `resolve_flags::passive`); `service` a port number or a service name. `flags` are
    `ip::resolve_flags` (default: none).

    Completion signatures: `set_value_t(std::vector<typename Protocol::endpoint>)` (IPv4 and IPv6
    endpoints in getaddrinfo's order, never empty), `set_error_t(std::error_code)` (mapped by
    `senet::error::make_gai_error`: `senet::error::host_not_found`, `service_not_found`, ...),
    `set_stopped_t()`.
    Cancellation: a stop request completes the operation with `set_stopped()` at once, on the
    thread that requested the stop (one that comes while `start()` still runs: as `start()`
    returns), even while getaddrinfo is still running; its result is then discarded by the worker
    thread.
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
