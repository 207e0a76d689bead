// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_TIMEOUT_HPP
#define SENET_NET_TIMEOUT_HPP

#include <atomic>
#include <chrono>
#include <exception>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

#include <senet/execution.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/detail/sender_support.hpp>

namespace senet::net {

namespace detail {

template <class Env>
using timeout_env = stop_token_env<Env, ex::inplace_stop_token>;

template <class Sndr, class Env>
using timeout_child_signatures = ex::completion_signatures_of_t<Sndr, timeout_env<Env>>;

template <class Sndr, class Env>
using timeout_signatures = timeout_signatures_from<timeout_child_signatures<Sndr, Env>>;

template <class Sndr, class Timer, class Rcvr>
class timeout_operation {
  using env_type = timeout_env<ex::env_of_t<Rcvr>>;
  using signatures = timeout_signatures<Sndr, ex::env_of_t<Rcvr>>;
  using storage = typename completion_storage<signatures>::type;

  struct child_receiver {
    using receiver_concept = ex::receiver_tag;
    timeout_operation* op_;

    template <class... Args>
    void set_value(Args&&... args) && noexcept {
      op_->done(ex::set_value, std::forward<Args>(args)...);
    }
    template <class Error>
    void set_error(Error&& err) && noexcept {
      op_->done(ex::set_error, std::forward<Error>(err));
    }
    void set_stopped() && noexcept { op_->done(ex::set_stopped); }
    [[nodiscard]] env_type get_env() const noexcept { return op_->child_env(); }
  };

  struct timer_receiver {
    using receiver_concept = ex::receiver_tag;
    timeout_operation* op_;

    void set_value() && noexcept { op_->done(ex::set_error, std::make_error_code(std::errc::timed_out)); }
    void set_error(std::error_code ec) && noexcept { op_->done(ex::set_error, ec); }
    void set_stopped() && noexcept { op_->done(ex::set_stopped); }
    [[nodiscard]] env_type get_env() const noexcept { return op_->child_env(); }
  };

  struct forward_stop {
    ex::inplace_stop_source* source_;
    void operator()() const noexcept { source_->request_stop(); }
  };

  using outer_token = ex::stop_token_of_t<ex::env_of_t<Rcvr>>;
  using outer_callback = ex::stop_callback_for_t<outer_token, forward_stop>;

 public:
  using operation_state_concept = ex::operation_state_tag;

  timeout_operation(Sndr&& sndr, Timer&& timer, Rcvr rcvr)
      : rcvr_(std::move(rcvr)),
        child_op_(ex::connect(std::move(sndr), child_receiver{this})),
        timer_op_(ex::connect(std::move(timer), timer_receiver{this})) {}
  timeout_operation(const timeout_operation&) = delete;
  timeout_operation& operator=(const timeout_operation&) = delete;

  void start() & noexcept {
    // A stop request on the outer token stops both the child and the timer; the first of them to
    // complete decides the result and stops the other. The receiver is completed when both are done.
    if constexpr (!ex::unstoppable_token<outer_token>) {
      outer_callback_.emplace(ex::get_stop_token(ex::get_env(rcvr_)), forward_stop{&source_});
    }
    ex::start(child_op_);
    // The child may have completed inline and stopped the timer through `source_`: the timer then
    // completes with set_stopped as soon as it starts. Nothing of `this` is touched after the timer
    // starts, since its completion may complete the receiver, which may destroy this object.
    ex::start(timer_op_);
  }

 private:
  env_type child_env() const noexcept { return {ex::get_env(rcvr_), source_.get_token()}; }

  // Called once by the child and once by the timer: the first decides the result and stops the
  // other, the second completes the receiver.
  template <class Tag, class... Args>
  void done(Tag, Args&&... args) noexcept {
    if (!decided_.exchange(true, std::memory_order_acq_rel)) {
      store(Tag{}, std::forward<Args>(args)...);
      source_.request_stop();
    }
    arrive();
  }

  template <class Tag, class... Args>
  void store(Tag, Args&&... args) noexcept {
    using tuple_type = std::tuple<Tag, std::decay_t<Args>...>;
    if constexpr (std::is_nothrow_constructible_v<tuple_type, Tag, Args...>) {
      result_.template emplace<tuple_type>(Tag{}, std::forward<Args>(args)...);
    } else {
      try {
        result_.template emplace<tuple_type>(Tag{}, std::forward<Args>(args)...);
      } catch (...) {
        result_.template emplace<std::tuple<ex::set_error_t, std::exception_ptr>>(ex::set_error,
                                                                                  std::current_exception());
      }
    }
  }

  void arrive() noexcept {
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      outer_callback_.reset();
      deliver(rcvr_, result_);
    }
  }

  Rcvr rcvr_;
  ex::inplace_stop_source source_{};
  storage result_{};
  std::atomic<bool> decided_{false};
  std::atomic<int> remaining_{2};
  std::optional<outer_callback> outer_callback_{};
  ex::connect_result_t<Sndr, child_receiver> child_op_;
  ex::connect_result_t<Timer, timer_receiver> timer_op_;
};

/** The generic form of `net::timeout`: races `sndr` against `timer` (a sender that completes with
    `set_value()` when the time is up). Customisations of `timeout` may fall back to it. */
template <class Sndr, class Timer>
struct timeout_sender {
  using sender_concept = ex::sender_tag;
  Sndr sndr_;
  Timer timer_;

  template <class Self, class Env>
  static consteval auto get_completion_signatures() {
    return timeout_signatures<Sndr, Env>{};
  }
  template <class Env>
  auto get_completion_signatures(const Env&) const -> timeout_signatures<Sndr, Env> {
    return {};
  }

  template <class Rcvr>
  timeout_operation<Sndr, Timer, Rcvr> connect(Rcvr rcvr) && {
    return {std::move(sndr_), std::move(timer_), std::move(rcvr)};
  }
};

template <class Sndr, class Timer>
timeout_sender<std::decay_t<Sndr>, std::decay_t<Timer>> make_timeout_sender(Sndr&& sndr, Timer&& timer) {
  return {std::forward<Sndr>(sndr), std::forward<Timer>(timer)};
}

}  // namespace detail

/** Runs `sndr` with a time limit: `timeout(sndr, duration)` completes as `sndr` does if it
    completes within `duration`; otherwise `sndr` is stopped and the result is
    `set_error(std::make_error_code(std::errc::timed_out))`.

    Completion signatures: those of `sndr`, plus `set_error_t(std::error_code)` and
    `set_stopped_t()` (and `set_error_t(std::exception_ptr)` if storing one of `sndr`'s results may
    throw).
    Cancellation: a stop request stops both `sndr` and the timer; the first of them to complete
    decides the result (usually `set_stopped()`). The operation completes only after both the child
    and the timer have completed, so nothing refers to the operation state afterwards.
    Scheduler: the timer is `net::async_wait_for(duration)` and runs on the I/O scheduler of the
    receiver's environment, like `sndr`'s own networking operations.
    Thread safety: as for `sndr`; the child and the timer may complete on different threads. The
    operation completes on the thread of whichever completes second, or inside `start()` when the
    child completed (on another thread) before `start()` started the timer.
    Allocation: none; `sndr`'s result is kept in the operation state until the timer is done.

    Customisation: if `std::move(sndr).timeout(duration)` is a valid expression, `timeout` returns
    it instead of the generic adaptor. senet's single socket operations (`async_receive`,
    `async_send`, `async_read_some`, `async_write_some`, `async_receive_from`, `async_send_to`,
    `async_accept`, `async_connect`, readiness waits) use this hook: on io_uring the limit becomes
    an `IORING_OP_LINK_TIMEOUT` linked to the operation (no timer, no second completion); on the
    other backends, and for an accept that the acceptor's standing accept serves
    (`basic_socket_acceptor::standing_accept`, which the backend never sees), a timer inside the
    same operation state races it. Their completion signatures
    are those above; unlike the generic adaptor, an operation that completed is reported even if
    the limit passed meanwhile (no received bytes or accepted socket are dropped), and a
    `duration <= 0` tries the operation once without waiting (it succeeds if it can complete at
    once, otherwise times out). See P2762 §4 and `detail/timed_io_sender.hpp`.
*/
struct timeout_t {
  template <ex::sender Sndr, class Rep, class Period>
  auto operator()(Sndr&& sndr, std::chrono::duration<Rep, Period> duration) const {
    if constexpr (requires { std::forward<Sndr>(sndr).timeout(duration); }) {
      return std::forward<Sndr>(sndr).timeout(duration);
    } else {
      return detail::make_timeout_sender(std::forward<Sndr>(sndr), net::async_wait_for(duration));
    }
  }
};

inline constexpr timeout_t timeout{};

}  // namespace senet::net

#endif  // SENET_NET_TIMEOUT_HPP
