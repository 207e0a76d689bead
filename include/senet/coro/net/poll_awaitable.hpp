// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_NET_POLL_AWAITABLE_HPP
#define SENET_CORO_NET_POLL_AWAITABLE_HPP

#include <senet/coro/io_scheduler.hpp>
#include <senet/coro/net/detail/io_awaiter.hpp>
#include <senet/coro/net/detail/ip_socket.hpp>
#include <senet/coro/poll.hpp>
#include <senet/coro/task.hpp>
#include <senet/net/async_wait.hpp>

#include <chrono>
#include <coroutine>
#include <system_error>
#include <utility>

namespace senet::coro::net {

namespace detail {

/** The scheduler part of `s` that the facade's awaiters use (its io_context, its shutdown stop
    token, its `size()` count, its execution strategy). */
[[nodiscard]] inline coro::detail::scheduler_core& scheduler_core_of(io_scheduler& s) noexcept {
  return coro::detail::core_of(s);
}

/** A readiness wait on a facade socket: one `net::async_wait`. */
class poll_policy {
 public:
  using result_type = poll_status;

  poll_policy(ip_socket* socket, poll_op op) noexcept : socket_(socket), op_(op) {}

  [[nodiscard]] auto make_sender(io::io_context::scheduler_type sch) const {
    return senet::net::async_wait(sch, *socket_, wait_type_of(to_poll_events(op_)));
  }
  io_step on_value(io::poll_events events) noexcept {
    status_ = to_poll_status(events);
    return io_step::done;
  }
  io_step on_error(const std::error_code& ec) noexcept {
    status_ = to_poll_status(ec, poll_target::socket);
    return io_step::done;
  }
  void on_stopped() noexcept { status_ = poll_status::closed; }  // the scheduler shut down
  void on_timeout() noexcept { status_ = poll_status::timeout; }
  [[nodiscard]] poll_status result() const noexcept { return status_; }

 private:
  ip_socket* socket_;
  poll_op op_;
  poll_status status_ = poll_status::error;
};

}  // namespace detail

/** What `tcp::client::poll`, `tcp::server::poll` and `udp::peer::poll` return: `co_await` it for a
    `poll_status`. libcoro 0.15 returns `coro::task<poll_status>`; this awaitable does the same
    without allocating a coroutine frame per poll, and converts to `task<poll_status>` where code
    keeps the task (`coro::task<coro::poll_status> t = client.poll(coro::poll_op::read);`).

    The wait is senet's `net::async_wait` on the socket, on the socket's scheduler: `event` when the
    socket is ready for the operation (also when the peer closed, for a read: the next `recv`
    reports the end), `timeout` when the limit passed first (0: no limit), `error` when an error is
    pending on the socket or it cannot be waited on, `closed` when the socket was closed under the
    wait or the scheduler shut down. The coroutine resumes by the scheduler's execution strategy.
    Any number of polls may be pending on one socket at once, for the same or different operations
    (a reader and a writer on one client); each completes on its own.

    An awaitable that has not been awaited may be moved (into `when_all`, say); it is awaited once.
    The socket must outlive the `co_await`.
*/
class poll_awaitable {
 public:
  /** A poll of `socket` for `op` on `scheduler` with the time limit `timeout` (0: none). */
  poll_awaitable(io_scheduler& scheduler, detail::ip_socket& socket, poll_op op,
                 std::chrono::milliseconds timeout) noexcept
      : io_(&detail::scheduler_core_of(scheduler), detail::poll_policy(&socket, op), timeout) {}

  poll_awaitable(poll_awaitable&&) noexcept = default;

  [[nodiscard]] bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) noexcept { return io_.await_suspend(h); }
  [[nodiscard]] poll_status await_resume() noexcept { return io_.await_resume(); }

  /** A task that awaits this poll (libcoro's return type; allocates the task's frame). */
  // NOLINTNEXTLINE(google-explicit-constructor)
  operator task<poll_status>() && { return as_task(std::move(*this)); }

 private:
  static task<poll_status> as_task(poll_awaitable self) { co_return co_await self; }

  detail::io_awaiter<detail::poll_policy> io_;
};

}  // namespace senet::coro::net

#endif  // SENET_CORO_NET_POLL_AWAITABLE_HPP
