// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_ASYNC_ACCEPT_HPP
#define SENET_NET_ASYNC_ACCEPT_HPP

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/detail/io_sender.hpp>

#include <cstddef>
#include <system_error>
#include <utility>

#include <unistd.h>

namespace senet::net {

namespace detail {

/** accept4 (non-blocking, close-on-exec) on an acceptor; yields the socket and the peer. */
template <class Acceptor>
struct accept_kind {
  using socket_type = typename Acceptor::socket_type;
  using endpoint_type = typename Acceptor::endpoint_type;
  using record_type = io::detail::io_operation;
  using completion_signatures =
      ex::completion_signatures<ex::set_value_t(socket_type, endpoint_type), ex::set_error_t(std::error_code),
                                ex::set_stopped_t()>;
  struct storage {
    endpoint_type peer{};
  };

  Acceptor* acceptor_;
  // The acceptor's protocol, the new socket's, read when the sender is made: the acceptor may be
  // closed or destroyed on another thread while the accept is pending, and an accept that
  // completed before that is still delivered afterwards.
  typename Acceptor::protocol_type protocol_;

  std::error_code prepare(record_type& op, storage& st, io::io_context&) noexcept {
    op.descriptor_ = &acceptor_->io_descriptor();
    // With a standing accept (basic_socket_acceptor::standing_accept) the core serves it.
    op.code_ =
        op.descriptor_->accept_queue != 0 ? io::detail::op_code::accept_queued : io::detail::op_code::accept;
    op.msg_.msg_name = st.peer.data();
    op.msg_.msg_namelen = static_cast<::socklen_t>(st.peer.capacity());
    return {};
  }

  template <class Rcvr>
  void deliver(Rcvr& rcvr, record_type& op, storage& st) noexcept {
    if (op.result_ < 0) {
      ex::set_error(std::move(rcvr), io::detail::result_error(op.result_));
      return;
    }
    int fd = static_cast<int>(op.result_);
    std::error_code ec;
    if constexpr (requires { st.peer.resize(std::size_t{}, ec); }) {
      st.peer.resize(op.msg_.msg_namelen, ec);
    } else {
      st.peer.resize(op.msg_.msg_namelen);
    }
    socket_type socket;
    if (!ec) {
      socket.assign(protocol_, fd, ec);
    }
    if (ec) {
      ::close(fd);
      ex::set_error(std::move(rcvr), ec);
      return;
    }
    ex::set_value(std::move(rcvr), std::move(socket), std::move(st.peer));
  }
};

}  // namespace detail

/** `net::async_accept(acceptor)`: a sender that accepts a connection on the listening `acceptor`
    and completes with the new socket and the peer's endpoint (P2762 [net.sender.async.accept]).

    The new socket is non-blocking and close-on-exec (`accept4(..., SOCK_NONBLOCK |
    SOCK_CLOEXEC)`), of the acceptor's protocol, and not yet registered with any io_context: it may
    be used on another context than the acceptor's. Without a scheduler argument the io_context
    comes from the receiver's environment; `async_accept(sch, acceptor)` runs on `sch`'s context.

    Completion signatures: `set_value_t(typename Acceptor::socket_type, typename
    Acceptor::endpoint_type)`, `set_error_t(std::error_code)` (`errno` values in
    `std::system_category()`, e.g. `EMFILE`; `senet::error::operation_aborted` if the acceptor was
    closed while the operation waited), `set_stopped_t()`.
    Cancellation: a stop request cancels the pending accept; it then completes with
    `set_stopped()` unless a connection was accepted first. The acceptor stays usable.
    Lifetime: the acceptor may be closed or destroyed, on any thread, while the accept waits
    (`basic_socket`'s thread-safety rule): the accept then completes on the context's thread with
    `operation_aborted`, or with a connection the kernel had accepted before, whose socket has the
    protocol the acceptor had when the sender was made.
    Thread safety: several accepts may wait on one acceptor; they complete in start order.
    See P2762 [net.sender.async.accept].
*/
struct async_accept_t {
  template <detail::io_socket Acceptor>
  [[nodiscard]] auto operator()(Acceptor& acceptor) const noexcept {
    return detail::make_sender(detail::accept_kind<Acceptor>{&acceptor, acceptor.protocol()});
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Acceptor>
  [[nodiscard]] auto operator()(const Sch& sch, Acceptor& acceptor) const noexcept {
    return detail::make_sender(sch, detail::accept_kind<Acceptor>{&acceptor, acceptor.protocol()});
  }
};

/** The `async_accept` customization point object. */
inline constexpr async_accept_t async_accept{};

}  // namespace senet::net

#endif  // SENET_NET_ASYNC_ACCEPT_HPP
