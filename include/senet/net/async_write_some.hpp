// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_ASYNC_WRITE_SOME_HPP
#define SENET_NET_ASYNC_WRITE_SOME_HPP

#include <senet/buffer.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/message_flags.hpp>

#include <utility>

namespace senet::net {

/** `net::async_write_some(stream, buffers)`: a sender that writes some bytes of `buffers` to
    `stream` (P2762 [net.sender.async.write.some]).

    If `stream.async_write_some(buffers)` is a valid member call, that sender is returned (a stream
    that is not a socket, a file for example, customises the operation this way). Otherwise it is
    `net::async_send(stream, buffers)`. `async_write_some(sch, stream, buffers)` is
    `net::async_send(sch, stream, buffers)`.

    Completion signatures: `set_value_t(std::size_t)` (the bytes written),
    `set_error_t(std::error_code)`, `set_stopped_t()`.
    Cancellation: as `async_send`: a stop request cancels the pending write; it then completes
    with `set_stopped()` unless it completed first.
    Buffer lifetime: the caller keeps `stream` and the bytes of `buffers` valid until completion.
    Thread safety: one write at a time per stream.
    See P2762 [net.sender.async.write.some].
*/
struct async_write_some_t {
  template <class Stream, const_buffer_sequence Buffers>
  requires requires(Stream& s, Buffers&& b) { s.async_write_some(std::forward<Buffers>(b)); }
  [[nodiscard]] auto operator()(Stream& stream, Buffers&& buffers) const {
    return stream.async_write_some(std::forward<Buffers>(buffers));
  }

  template <detail::io_socket Stream, const_buffer_sequence Buffers>
  requires(!requires(Stream & s, Buffers&& b) { s.async_write_some(std::forward<Buffers>(b)); })
      [[nodiscard]] auto
      operator()(Stream& stream, Buffers&& buffers) const {
    return async_send(stream, message_flags{}, std::forward<Buffers>(buffers));
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Stream, const_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(const Sch& sch, Stream& stream, Buffers&& buffers) const {
    return async_send(sch, stream, message_flags{}, std::forward<Buffers>(buffers));
  }
};

/** The `async_write_some` customization point object. */
inline constexpr async_write_some_t async_write_some{};

}  // namespace senet::net

#endif  // SENET_NET_ASYNC_WRITE_SOME_HPP
