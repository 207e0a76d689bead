// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_READ_SOURCE_HPP
#define SENET_STREAM_READ_SOURCE_HPP

#include <senet/stream/awaitable_decomposes_to.hpp>
#include <senet/stream/detail/buffer_archetypes.hpp>
#include <senet/stream/io_awaitable.hpp>
#include <senet/stream/read_stream.hpp>

#include <cstddef>
#include <system_error>

namespace senet::stream {

/** A `read_stream` that also reads whole buffers: `read(buffers)` fills the buffers or fails.

    Syntactic requirements: `read_stream<T>`, and for an lvalue `source` of `T` and a mutable
    buffer sequence `buffers`, `source.read(buffers)` is an `io_awaitable` whose result decomposes
    to `(std::error_code, std::size_t)`.

    Semantic requirements of `auto [ec, n] = co_await source.read(buffers);`:
    - On success: `!ec`, `n == buffer_size(buffers)`: every byte of `buffers` was filled.
    - When the stream ends first: `ec == senet::error::eof`, `n` the bytes filled before the end
      (possibly 0).
    - On error: `ec`, `n` the bytes filled before the error.
    - If `buffer_size(buffers) == 0`: completes at once with `!ec`, `n == 0`.
    `read_some` keeps the `read_stream` contract: a source is usable wherever a stream is.
    Buffer lifetime: the bytes of `buffers` stay valid until the `co_await` completes.

    Example (a fixed-size header):
    ```cpp
    template <senet::stream::read_source Source>
    senet::task<header> read_header(Source& src) {
      header h;
      auto [ec, n] = co_await src.read(senet::buffer(&h, sizeof h));
      if (ec) throw std::system_error(ec);
      co_return h;
    }
    ```
*/
template <class T>
concept read_source = read_stream<T> &&
    requires(T& source, detail::mutable_buffer_archetype buffer, detail::mutable_buffers_archetype buffers) {
  { source.read(buffer) } -> io_awaitable;
  { source.read(buffers) } -> io_awaitable;
  requires awaitable_decomposes_to<decltype(source.read(buffer)), std::error_code, std::size_t>;
  requires awaitable_decomposes_to<decltype(source.read(buffers)), std::error_code, std::size_t>;
};

}  // namespace senet::stream

#endif  // SENET_STREAM_READ_SOURCE_HPP
