// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_DETAIL_POOLED_RECEIVE_KIND_HPP
#define SENET_NET_DETAIL_POOLED_RECEIVE_KIND_HPP

/* The operation kind of `net::async_receive(socket, pool)`: a receive that the io core serves from
   the socket's standing multishot receive (src/senet/io/standing.cpp). */

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/detail/pooled_receive.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/buffer_pool.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/pooled_buffer.hpp>

#include <concepts>
#include <cstddef>
#include <system_error>

namespace senet::net::detail {

/** A stream socket (`net::basic_stream_socket` or one like it: it has `read_some`), which a
    pooled receive needs (`net::async_receive(socket, pool)`). */
template <class Socket>
concept stream_socket = requires(Socket& s, const mutable_buffer& b, std::error_code& ec) {
  { s.read_some(b, ec) } -> std::same_as<std::size_t>;
};

template <class Socket>
struct pooled_receive_kind {
  static_assert(stream_socket<Socket>,
                "senet: net::async_receive(socket, pool) receives from a stream socket (ip::tcp::socket, "
                "local::stream_protocol::socket): a pool's buffers hold a byte stream, in which a "
                "datagram's boundaries, and an empty datagram (read as the end of the stream), would be "
                "lost");
  using record_type = io::detail::pooled_receive_operation;
  using completion_signatures =
      ex::completion_signatures<ex::set_value_t(pooled_buffer), ex::set_error_t(std::error_code),
                                ex::set_stopped_t()>;
  struct storage {};

  Socket* socket_;
  io::detail::provided_buffers* pool_;

  void prepare(record_type& op, storage&, io::io_context&) noexcept {
    op.code_ = io::detail::op_code::receive_pooled;
    op.descriptor_ = &socket_->io_descriptor();
    op.pool_ = pool_;
  }

  template <class Rcvr>
  void deliver(Rcvr& rcvr, record_type& op, storage&) noexcept {
    if (op.result_ < 0) {
      ex::set_error(std::move(rcvr), io::detail::result_error(op.result_));
    } else if (op.result_ == 0) {
      ex::set_value(std::move(rcvr), pooled_buffer{});
    } else {
      ex::set_value(std::move(rcvr),
                    pooled_buffer(op.pool_, op.buffer_, op.data_, static_cast<std::size_t>(op.result_)));
    }
  }
};

}  // namespace senet::net::detail

#endif  // SENET_NET_DETAIL_POOLED_RECEIVE_KIND_HPP
