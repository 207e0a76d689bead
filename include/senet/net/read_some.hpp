// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_READ_SOME_HPP
#define SENET_NET_READ_SOME_HPP

#include <senet/buffer.hpp>

#include <utility>

namespace senet::net {

/** `co_await net::read_some(stream, buffers)`: `stream.read_some(buffers)`, the awaitable that
    reads some bytes and gives `std::tuple<std::error_code, std::size_t>` (end of stream:
    `senet::error::eof` with 0; cancelled: `senet::error::operation_aborted`; empty `buffers`:
    `(no error, 0)` at once), for generic code that prefers the free spelling.

    For a stream socket this is `basic_stream_socket::read_some`, which documents completion
    without suspension, cancellation, buffer lifetime and thread safety; another
    `stream::read_stream` provides its own member.
    See P2762 §3.2.
*/
struct read_some_t {
  template <class Stream, mutable_buffer_sequence Buffers>
  requires requires(Stream& s, Buffers&& b) { s.read_some(std::forward<Buffers>(b)); }
  [[nodiscard]] auto operator()(Stream& stream, Buffers&& buffers) const {
    return stream.read_some(std::forward<Buffers>(buffers));
  }
};

/** The `read_some` customization point object. */
inline constexpr read_some_t read_some{};

}  // namespace senet::net

#endif  // SENET_NET_READ_SOME_HPP
