// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_ASYNC_READ_SOME_HPP
#define SENET_NET_ASYNC_READ_SOME_HPP

#include <senet/buffer.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/message_flags.hpp>

#include <utility>

namespace senet::net {

/** `net::async_read_some(stream, buffers)`: a sender that reads some bytes from `stream` into
    `buffers` (P2762 [net.sender.async.read.some]).

    If `stream.async_read_some(buffers)` is a valid member call, that sender is returned (a stream
    that is not a socket, a file for example, customises the operation this way). Otherwise it is
    `net::async_receive(stream, buffers)`. `async_read_some(sch, stream, buffers)` is
    `net::async_receive(sch, stream, buffers)`.

    Completion signatures: `set_value_t(std::size_t)` (0 at end of stream),
    `set_error_t(std::error_code)`, `set_stopped_t()`.
    Cancellation: as `async_receive`: a stop request cancels the pending read; it then completes
    with `set_stopped()` unless it completed first.
    Buffer lifetime: the caller keeps `stream` and the bytes of `buffers` valid until completion.
    Thread safety: one read at a time per stream.
    See P2762 [net.sender.async.read.some].
*/
struct async_read_some_t {
  template <class Stream, mutable_buffer_sequence Buffers>
  requires requires(Stream& s, Buffers&& b) { s.async_read_some(std::forward<Buffers>(b)); }
  [[nodiscard]] auto operator()(Stream& stream, Buffers&& buffers) const {
    return stream.async_read_some(std::forward<Buffers>(buffers));
  }

  template <detail::io_socket Stream, mutable_buffer_sequence Buffers>
  requires(!requires(Stream & s, Buffers&& b) { s.async_read_some(std::forward<Buffers>(b)); })
      [[nodiscard]] auto
      operator()(Stream& stream, Buffers&& buffers) const {
    return async_receive(stream, message_flags{}, std::forward<Buffers>(buffers));
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Stream, mutable_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(const Sch& sch, Stream& stream, Buffers&& buffers) const {
    return async_receive(sch, stream, message_flags{}, std::forward<Buffers>(buffers));
  }
};

/** The `async_read_some` customization point object. */
inline constexpr async_read_some_t async_read_some{};

}  // namespace senet::net

#endif  // SENET_NET_ASYNC_READ_SOME_HPP
