// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_WRITE_SOME_HPP
#define SENET_NET_WRITE_SOME_HPP

#include <senet/buffer.hpp>

#include <utility>

namespace senet::net {

/** `co_await net::write_some(stream, buffers)`: `stream.write_some(buffers)`, the awaitable that
    writes some bytes and gives `std::tuple<std::error_code, std::size_t>` (cancelled:
    `senet::error::operation_aborted`; empty `buffers`: `(no error, 0)` at once), for generic code that
   prefers the free spelling.

    For a stream socket this is `basic_stream_socket::write_some`, which documents completion
    without suspension, cancellation, buffer lifetime and thread safety; another
    `stream::write_stream` provides its own member.
    See P2762 §3.2.
*/
struct write_some_t {
  template <class Stream, const_buffer_sequence Buffers>
  requires requires(Stream& s, Buffers&& b) { s.write_some(std::forward<Buffers>(b)); }
  [[nodiscard]] auto operator()(Stream& stream, Buffers&& buffers) const {
    return stream.write_some(std::forward<Buffers>(buffers));
  }
};

/** The `write_some` customization point object. */
inline constexpr write_some_t write_some{};

}  // namespace senet::net

#endif  // SENET_NET_WRITE_SOME_HPP
