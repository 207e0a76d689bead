// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_DETAIL_SCHEDULE_AT_HPP
#define SENET_IO_DETAIL_SCHEDULE_AT_HPP

/* The sender of io_context::scheduler_type::schedule_at / schedule_after: a timer on the context,
   whose operation state shares the start/stop handshake of stoppable_operation. Included at the
   end of io_context.hpp. */

#include <senet/execution.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/io_context.hpp>

#include <chrono>
#include <type_traits>
#include <utility>

namespace senet::io::detail {

// Declared here as well: io_context.hpp includes this header at its end, which may be from inside
// stoppable_operation.hpp (which includes io_context.hpp), before its definition. It is complete
// by the time an operation below is instantiated.
template <class Derived, class Rcvr, class Record>
class stoppable_operation;

/** When a schedule_at_sender completes: at an absolute deadline, or a duration after its start. */
struct timer_deadline {
  clock::time_point deadline_;
  clock::duration relative_;
  bool is_relative_;

  /** A deadline `d` after the start (saturating: a huge `d` waits until the clock's end; a
      negative one completes in the next loop turn). */
  template <class Rep, class Period>
  static timer_deadline after(std::chrono::duration<Rep, Period> d) noexcept {
    using limit = std::chrono::duration<long double, clock::period>;
    auto ld = std::chrono::duration_cast<limit>(d);
    clock::duration relative;
    if (ld >= limit(clock::duration::max())) {
      relative = clock::duration::max();
    } else if (ld <= limit(0)) {
      relative = clock::duration::zero();
    } else {
      relative = std::chrono::ceil<clock::duration>(d);
    }
    return {{}, relative, true};
  }

  /** `tp`, rounded up to the clock's resolution. */
  template <class Duration>
  static timer_deadline at(std::chrono::time_point<clock, Duration> tp) noexcept {
    return {std::chrono::ceil<clock::duration>(tp), {}, false};
  }

  [[nodiscard]] clock::time_point resolve(const io_context& ctx) const noexcept {
    if (!is_relative_) {
      return deadline_;
    }
    clock::time_point start = now(ctx);
    return relative_ >= clock::time_point::max() - start ? clock::time_point::max() : start + relative_;
  }
};

template <class Rcvr>
class schedule_at_operation : public stoppable_operation<schedule_at_operation<Rcvr>, Rcvr, timer_operation> {
  using base = stoppable_operation<schedule_at_operation<Rcvr>, Rcvr, timer_operation>;
  friend base;

 public:
  using operation_state_concept = ex::operation_state_tag;

  schedule_at_operation(io_context& ctx, timer_deadline when,
                        Rcvr rcvr) noexcept(std::is_nothrow_move_constructible_v<Rcvr>)
      : base(ctx, std::move(rcvr)), when_(when) {}

 private:
  void prepare() noexcept {
    this->code_ = op_code::timer;
    this->deadline_ = when_.resolve(this->context());
  }
  void deliver() noexcept { ex::set_value(std::move(this->receiver())); }

  timer_deadline when_;
};

/** The attributes of a schedule_at_sender: it completes on its context. */
struct schedule_at_env {
  io_context* ctx_;
  [[nodiscard]] io_context::scheduler_type query(
      ex::get_completion_scheduler_t<ex::set_value_t>) const noexcept {
    return ctx_->get_scheduler();
  }
};

/** The sender of `sch.schedule_at(tp)` and `sch.schedule_after(d)`. */
class schedule_at_sender {
 public:
  using sender_concept = ex::sender_tag;
  using completion_signatures = ex::completion_signatures<ex::set_value_t(), ex::set_stopped_t()>;

  schedule_at_sender(io_context* ctx, timer_deadline when) noexcept : ctx_(ctx), when_(when) {}

  template <class Rcvr>
  [[nodiscard]] schedule_at_operation<Rcvr> connect(Rcvr rcvr) const
      noexcept(std::is_nothrow_move_constructible_v<Rcvr>) {
    return schedule_at_operation<Rcvr>(*ctx_, when_, std::move(rcvr));
  }

  [[nodiscard]] schedule_at_env get_env() const noexcept { return {ctx_}; }

 private:
  io_context* ctx_;
  timer_deadline when_;
};

}  // namespace senet::io::detail

namespace senet::io {

template <class Rep, class Period>
detail::schedule_at_sender io_context::scheduler_type::schedule_after(
    std::chrono::duration<Rep, Period> d) const noexcept {
  return detail::schedule_at_sender(ctx_, detail::timer_deadline::after(d));
}

template <class Duration>
detail::schedule_at_sender io_context::scheduler_type::schedule_at(
    std::chrono::time_point<std::chrono::steady_clock, Duration> tp) const noexcept {
  return detail::schedule_at_sender(ctx_, detail::timer_deadline::at(tp));
}

inline std::chrono::steady_clock::time_point io_context::scheduler_type::now() const noexcept {
  return detail::now(*ctx_);
}

}  // namespace senet::io

#include <senet/io/detail/stoppable_operation.hpp>  // IWYU pragma: keep (the base of schedule_at_operation)

#endif  // SENET_IO_DETAIL_SCHEDULE_AT_HPP
