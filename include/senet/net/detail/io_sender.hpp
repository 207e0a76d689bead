// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_DETAIL_IO_SENDER_HPP
#define SENET_NET_DETAIL_IO_SENDER_HPP

/* The one sender and operation state behind every networking sender and timer of senet::net.
   A "kind" describes the operation; the sender finds the io_context (explicitly given, or from
   the receiver's environment through io::get_io_scheduler, P2762 §3.1 options 1 and 3), and the operation
   state embeds the record, the kind and its per-operation storage (P2762 §3.4 option 3). */

#include <senet/buffer.hpp>
#include <senet/detail/iovec_view.hpp>
#include <senet/execution.hpp>
#include <senet/io/detail/descriptor.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/detail/stoppable_operation.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/message_flags.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <iterator>
#include <ranges>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>

namespace senet::net::detail {

/** A socket as senet's operations use it (see the socket classes). */
template <class S>
concept io_socket = requires(S& s) {
  { s.io_descriptor() } -> std::same_as<io::detail::descriptor&>;
};

/** The completions of operations that transfer bytes. */
using size_completions = ex::completion_signatures<ex::set_value_t(std::size_t),
                                                   ex::set_error_t(std::error_code), ex::set_stopped_t()>;

/** A reference to an lvalue buffer sequence that is a range (kept by the sender instead of a
    copy). */
template <class Range>
class buffer_sequence_ref {
 public:
  explicit buffer_sequence_ref(Range& range) noexcept : range_(&range) {}
  [[nodiscard]] auto begin() const { return std::begin(*range_); }
  [[nodiscard]] auto end() const { return std::end(*range_); }

 private:
  Range* range_;
};

/** How a sender stores a buffer sequence: single buffers by value; an lvalue contiguous range of
    buffers as a `std::span` of them, another lvalue range by reference (no copy, no allocation);
    an rvalue range is moved in. (Not `std::views::all`: clang 14 cannot use libstdc++'s
    `ref_view`.) */
template <class Buffers>
struct stored_buffers {
  using type = std::decay_t<Buffers>;
};
template <class Buffers>
requires(!senet::detail::single_buffer<Buffers> &&
         std::is_lvalue_reference_v<Buffers>) struct stored_buffers<Buffers> {
  using range_type = std::remove_reference_t<Buffers>;
  using element_type = std::remove_reference_t<std::ranges::range_reference_t<range_type>>;
  static constexpr bool as_span = std::ranges::contiguous_range<range_type> &&
                                  std::ranges::sized_range<range_type> &&
                                  (std::is_same_v<std::remove_cv_t<element_type>, const_buffer> ||
                                   std::is_same_v<std::remove_cv_t<element_type>, mutable_buffer>);
  using type = std::conditional_t<as_span, std::span<const std::remove_cv_t<element_type>>,
                                  buffer_sequence_ref<range_type>>;
};
template <class Buffers>
requires senet::detail::single_buffer<Buffers>
struct stored_buffers<Buffers> {
  using type = senet::detail::single_buffer_type<Buffers>;
};
template <class Buffers>
using stored_buffers_t = typename stored_buffers<Buffers>::type;

template <class Buffers>
[[nodiscard]] stored_buffers_t<Buffers> store_buffers(Buffers&& buffers) {
  if constexpr (senet::detail::single_buffer<Buffers>) {
    return static_cast<const stored_buffers_t<Buffers>&>(buffers);
  } else if constexpr (std::is_lvalue_reference_v<Buffers>) {
    if constexpr (stored_buffers<Buffers>::as_span) {
      return stored_buffers_t<Buffers>(std::ranges::data(buffers), std::ranges::size(buffers));
    } else {
      return stored_buffers_t<Buffers>(buffers);
    }
  } else {
    return std::move(buffers);
  }
}

/** The `iovec_view` an operation on `Buffers` (a `stored_buffers_t`) keeps. */
template <class Buffers>
using iovec_view_for = senet::detail::iovec_view<senet::detail::iovec_capacity_for<Buffers>>;

/** Fills `op` for a recvmsg/sendmsg on `socket` of `buffers` through `iov`. Returns 0, or
    `std::errc::argument_list_too_long` (as an int) when `buffers` have too many entries. */
template <class Socket, class Buffers, std::size_t N>
[[nodiscard]] int prepare_message(io::detail::io_operation& op, io::detail::op_code code, Socket& socket,
                                  const Buffers& buffers, senet::detail::iovec_view<N>& iov,
                                  message_flags flags) noexcept {
  if (!iov.try_assign(buffers)) [[unlikely]] {
    return static_cast<int>(std::errc::argument_list_too_long);
  }
  op.code_ = code;
  op.descriptor_ = &socket.io_descriptor();
  op.msg_.msg_iov = iov.data();
  op.msg_.msg_iovlen = iov.size();
  op.flags_ = static_cast<int>(flags);
  return 0;
}

/** Completes `rcvr` with the byte count in `op.result_`, or its error. */
template <class Rcvr>
void deliver_size(Rcvr& rcvr, const io::detail::io_operation& op) noexcept {
  if (op.result_ < 0) {
    ex::set_error(std::move(rcvr), io::detail::result_error(op.result_));
  } else {
    ex::set_value(std::move(rcvr), static_cast<std::size_t>(op.result_));
  }
}

/** The io_context an operation runs on: the explicit one, or the one of the I/O scheduler in the
    receiver's environment (`io::get_io_scheduler`, which falls back to `ex::get_scheduler`). */
template <bool FromEnv, class Rcvr>
[[nodiscard]] io::io_context& context_for(io::io_context* explicit_ctx, const Rcvr& rcvr) noexcept {
  if constexpr (FromEnv) {
    static_assert(
        io::detail::env_with_io_scheduler<ex::env_of_t<Rcvr>>,
        "senet: a networking sender needs a senet I/O scheduler, but the receiver's environment has "
        "none (neither senet::io::get_io_scheduler nor ex::get_scheduler gives an "
        "io_context::scheduler_type). Run it with ctx.run_until(sndr) or "
        "ex::starts_on(ctx.get_scheduler(), sndr), put the scheduler in the environment "
        "(ex::prop{senet::io::get_io_scheduler, ctx.get_scheduler()}), or pass it explicitly: "
        "net::async_receive(ctx.get_scheduler(), socket, buffers).");
    if constexpr (io::detail::env_with_io_scheduler<ex::env_of_t<Rcvr>>) {
      return io::detail::context_from_env(ex::get_env(rcvr));
    } else {
      return *explicit_ctx;
    }
  } else {
    (void)rcvr;
    return *explicit_ctx;
  }
}

// ---- giving a child an I/O scheduler -----------------------------------------------------------

/** A receiver environment that answers `io::get_io_scheduler` with `sch_` and forwards every other
    query to `Env`. */
template <class Sch, class Env>
struct io_scheduler_env {
  Sch sch_;
  Env env_;

  [[nodiscard]] Sch query(io::get_io_scheduler_t) const noexcept { return sch_; }

  template <class Query, class... Args>
  requires(!std::same_as<Query, io::get_io_scheduler_t>) &&
      requires(const Env& env, Query q, Args&&... args) {
    env.query(q, std::forward<Args>(args)...);
  }
  [[nodiscard]] decltype(auto) query(Query q, Args&&... args) const
      noexcept(noexcept(std::declval<const Env&>().query(q, std::forward<Args>(args)...))) {
    return env_.query(q, std::forward<Args>(args)...);
  }
};

/** The receiver `with_io_scheduler` connects its child to: `Rcvr` with `io_scheduler_env`. */
template <class Sch, class Rcvr>
struct io_scheduler_receiver {
  using receiver_concept = ex::receiver_tag;
  Sch sch_;
  Rcvr rcvr_;

  template <class... Args>
  void set_value(Args&&... args) && noexcept {
    ex::set_value(std::move(rcvr_), std::forward<Args>(args)...);
  }
  template <class Error>
  void set_error(Error&& err) && noexcept {
    ex::set_error(std::move(rcvr_), std::forward<Error>(err));
  }
  void set_stopped() && noexcept { ex::set_stopped(std::move(rcvr_)); }

  [[nodiscard]] io_scheduler_env<Sch, ex::env_of_t<Rcvr>> get_env() const noexcept {
    return {sch_, ex::get_env(rcvr_)};
  }
};

/** `with_io_scheduler(sch, sndr)`: `sndr`, connected in an environment whose `io::get_io_scheduler`
    is `sch` (the rest is the receiver's). Completes as `sndr` does. */
template <class Sch, class Sndr>
struct with_io_scheduler_sender {
  using sender_concept = ex::sender_tag;
  Sch sch_;
  Sndr sndr_;

  template <class Self, class Env>
  using signatures_for =
      ex::completion_signatures_of_t<decltype(std::declval<Self>().sndr_), io_scheduler_env<Sch, Env>>;

  template <class Self, class Env>
  static consteval auto get_completion_signatures() {
    return signatures_for<Self, Env>{};
  }
  template <class Env>
  auto get_completion_signatures(const Env&) && -> signatures_for<with_io_scheduler_sender&&, Env> {
    return {};
  }
  template <class Env>
  auto get_completion_signatures(const Env&) const& -> signatures_for<const with_io_scheduler_sender&, Env> {
    return {};
  }

  template <class Rcvr>
  auto connect(Rcvr rcvr) && {
    return ex::connect(std::move(sndr_), io_scheduler_receiver<Sch, Rcvr>{sch_, std::move(rcvr)});
  }
  template <class Rcvr>
  requires std::copy_constructible<Sndr>
  auto connect(Rcvr rcvr) const& {
    return ex::connect(sndr_, io_scheduler_receiver<Sch, Rcvr>{sch_, std::move(rcvr)});
  }

  [[nodiscard]] decltype(auto) get_env() const noexcept { return ex::get_env(sndr_); }
};

template <class Sch, class Sndr>
[[nodiscard]] with_io_scheduler_sender<Sch, std::decay_t<Sndr>> with_io_scheduler(Sch sch, Sndr&& sndr) {
  return {std::move(sch), std::forward<Sndr>(sndr)};
}

/** `ex::starts_on(sch, sndr)` where `sndr` also finds `sch` as its I/O scheduler: the explicit
    scheduler form (P2762 §3.1 option 1) of a sender that finds its context in the environment.
    (stdexec's `starts_on` does not announce `sch` to the child through `get_scheduler`.) */
template <class Sch, class Sndr>
[[nodiscard]] auto starts_on_io(Sch sch, Sndr&& sndr) {
  return ex::starts_on(sch, with_io_scheduler(sch, std::forward<Sndr>(sndr)));
}

// ---- the adaptor form: `upstream | net::async_...(...)` ------------------------------------------

/** `upstream | child` for a networking sender `child` that finds its scheduler in the
    environment (P2762 §3.1 option 2): `child` runs after `upstream` completes with a value (the
    values are ignored), on the I/O scheduler that `upstream` completes on
    (`ex::get_completion_scheduler<ex::set_value_t>(ex::get_env(upstream))`), whatever the
    receiver's environment says. Errors and stops of `upstream` pass through. */
template <class Upstream, class Child>
[[nodiscard]] auto on_upstream_scheduler(Upstream&& upstream, Child&& child) {
  using attrs_type = ex::env_of_t<Upstream>;
  constexpr bool has_scheduler = requires(const attrs_type& attrs) {
    ex::get_completion_scheduler<ex::set_value_t>(attrs);
  };
  static_assert(has_scheduler,
                "senet: in `sndr | net::async_...(...)`, `sndr` must say which scheduler it completes on "
                "(ex::get_completion_scheduler<ex::set_value_t>), as ex::schedule(ctx.get_scheduler()) does; "
                "otherwise give the scheduler explicitly: net::async_accept(ctx.get_scheduler(), acceptor)");
  if constexpr (has_scheduler) {
    auto sch = ex::get_completion_scheduler<ex::set_value_t>(ex::get_env(upstream));
    static_assert(
        io::detail::io_scheduler<decltype(sch)>,
        "senet: in `sndr | net::async_...(...)`, `sndr` completes on a scheduler that is not a senet "
        "I/O scheduler (io_context::scheduler_type)");
    return ex::let_value(std::forward<Upstream>(upstream),
                         [child = with_io_scheduler(sch, std::forward<Child>(child))](auto&&...) mutable {
                           return std::move(child);
                         });
  }
}

/** The descriptor of the socket (or acceptor) a kind's `prepare` reads, for
    `stoppable_operation::handoff_descriptor`; `nullptr` (of type `std::nullptr_t`) for a kind
    that names none (a timer). */
template <class Kind>
[[nodiscard]] auto kind_descriptor(Kind& kind) noexcept {
  if constexpr (requires { kind.socket_->io_descriptor(); }) {
    return &kind.socket_->io_descriptor();
  } else if constexpr (requires { kind.acceptor_->io_descriptor(); }) {
    return &kind.acceptor_->io_descriptor();
  } else {
    return nullptr;
  }
}

/** The operation state of `io_sender<Kind, ...>`.

    A `Kind` provides:
    - `using record_type` (`io::detail::io_operation` or `io::detail::timer_operation`),
    - `using completion_signatures`,
    - `struct storage` (default constructible, what the operation needs until completion),
    - `prepare(record_type&, storage&, io::io_context&) noexcept`, returning `void` when it cannot
      fail, `int` (0, or a `std::errc` value) or `std::error_code`,
    - `template <class Rcvr> void deliver(Rcvr&, record_type&, storage&) noexcept` (result_ is not
      -ECANCELED).
    A kind whose `prepare` reads a socket names it `socket_` (or `acceptor_`), a pointer, as all of
    senet's do (`kind_descriptor`): a start handed to the loop is then counted on the socket, which
    may go before the loop takes it. A kind on a descriptor no socket owns (tests' raw kinds) is
    not counted.
*/
template <class Kind, class Rcvr>
class io_operation_state : public io::detail::stoppable_operation<io_operation_state<Kind, Rcvr>, Rcvr,
                                                                  typename Kind::record_type> {
  using base =
      io::detail::stoppable_operation<io_operation_state<Kind, Rcvr>, Rcvr, typename Kind::record_type>;
  friend base;

 public:
  io_operation_state(io::io_context& ctx, Kind&& kind, Rcvr&& rcvr) noexcept(
      std::is_nothrow_move_constructible_v<Kind>&& std::is_nothrow_move_constructible_v<Rcvr>)
      : base(ctx, std::move(rcvr)), kind_(std::move(kind)) {}

 private:
  decltype(auto) prepare() noexcept { return kind_.prepare(*this, storage_, this->context()); }
  void deliver() noexcept { kind_.deliver(this->receiver(), *this, storage_); }
  auto handoff_descriptor() noexcept { return kind_descriptor(kind_); }

  Kind kind_;
  [[no_unique_address]] typename Kind::storage storage_{};
};

template <class Kind, bool FromEnv>
class timed_io_sender;  // timed_io_sender.hpp, included at the end

/** The sender of every networking operation: `Kind` describes it; with `FromEnv` the io_context
    comes from the receiver's environment at `connect`, otherwise it was given. */
template <class Kind, bool FromEnv>
class io_sender {
 public:
  using sender_concept = ex::sender_t;
  using completion_signatures = typename Kind::completion_signatures;

  io_sender(io::io_context* ctx, Kind kind) noexcept(std::is_nothrow_move_constructible_v<Kind>)
      : ctx_(ctx), kind_(std::move(kind)) {}

  template <class Rcvr>
  [[nodiscard]] io_operation_state<Kind, Rcvr> connect(Rcvr rcvr) && noexcept(
      std::is_nothrow_move_constructible_v<Kind>&& std::is_nothrow_move_constructible_v<Rcvr>) {
    io::io_context& ctx = context_for<FromEnv>(ctx_, rcvr);
    return io_operation_state<Kind, Rcvr>(ctx, std::move(kind_), std::move(rcvr));
  }

  template <class Rcvr>
  requires std::copy_constructible<Kind>
  [[nodiscard]] io_operation_state<Kind, Rcvr> connect(Rcvr rcvr) const& noexcept(
      std::is_nothrow_copy_constructible_v<Kind>&& std::is_nothrow_move_constructible_v<Rcvr>) {
    io::io_context& ctx = context_for<FromEnv>(ctx_, rcvr);
    return io_operation_state<Kind, Rcvr>(ctx, Kind(kind_), std::move(rcvr));
  }

  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }

  /** The adaptor form `upstream | net::async_...(...)` of a sender without an explicit scheduler
      (P2762 §3.1 option 2): see `on_upstream_scheduler`. */
  template <ex::sender Upstream>
  requires(FromEnv && !std::same_as<std::remove_cvref_t<Upstream>, io_sender>) [[nodiscard]] friend auto
  operator|(Upstream&& upstream, io_sender self) {
    return on_upstream_scheduler(std::forward<Upstream>(upstream), std::move(self));
  }

  /** `net::timeout(sndr, limit)` of one socket operation (not a timer): an IORING_OP_LINK_TIMEOUT
      where the backend links timeouts, else a timer in the same operation state (timed_io_sender.hpp). */
  template <class Rep, class Period>
  requires std::same_as<typename Kind::record_type, io::detail::io_operation>
  [[nodiscard]] timed_io_sender<Kind, FromEnv> timeout(std::chrono::duration<Rep, Period> limit) && noexcept(
      std::is_nothrow_move_constructible_v<Kind>) {
    return {ctx_, std::move(kind_), limit};
  }

  template <class Rep, class Period>
  requires std::same_as<typename Kind::record_type, io::detail::io_operation> && std::copy_constructible<Kind>
  [[nodiscard]] timed_io_sender<Kind, FromEnv> timeout(
      std::chrono::duration<Rep, Period> limit) const& noexcept(std::is_nothrow_copy_constructible_v<Kind>) {
    return {ctx_, Kind(kind_), limit};
  }

 private:
  io::io_context* ctx_;
  Kind kind_;
};

/** `io_sender` of `kind` on `sch`'s context. */
template <class Kind, class Sch>
[[nodiscard]] io_sender<std::decay_t<Kind>, false> make_sender(const Sch& sch, Kind&& kind) {
  return {&sch.context(), std::forward<Kind>(kind)};
}

/** `io_sender` of `kind` on the receiver's scheduler. */
template <class Kind>
[[nodiscard]] io_sender<std::decay_t<Kind>, true> make_sender(Kind&& kind) {
  return {nullptr, std::forward<Kind>(kind)};
}

}  // namespace senet::net::detail

#include <senet/net/detail/timed_io_sender.hpp>  // IWYU pragma: export (io_sender::timeout)

#endif  // SENET_NET_DETAIL_IO_SENDER_HPP
