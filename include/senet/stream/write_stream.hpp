// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_WRITE_STREAM_HPP
#define SENET_STREAM_WRITE_STREAM_HPP

#include <senet/stream/awaitable_decomposes_to.hpp>
#include <senet/stream/detail/buffer_archetypes.hpp>
#include <senet/stream/io_awaitable.hpp>

#include <cstddef>
#include <system_error>

namespace senet::stream {

/** A destination of bytes written in pieces: `write_some(buffers)`, the partial-write primitive.

    Syntactic requirements: for an lvalue `stream` of `T` and a const buffer sequence `buffers`
    (a single `const_buffer` or a range of them), `stream.write_some(buffers)` is an
    `io_awaitable` whose result decomposes to `(std::error_code, std::size_t)`.

    Semantic requirements of `auto [ec, n] = co_await stream.write_some(buffers);`:
    - On success: `!ec`, `n >= 1`: the first `n` bytes of `buffers` were written (possibly fewer
      than `buffer_size(buffers)`).
    - On error: `ec`, `n == 0` (`senet::error::operation_aborted` when the operation was
      cancelled: a stop request, or the stream closed while it waited).
    - If `buffer_size(buffers) == 0`: completes at once with `!ec`, `n == 0`.
    - It completes without suspending the coroutine when the destination takes bytes at once.
    When to use it: relay interiors, backpressure-aware pipelines, and implementing `write` or
    `write_now` on top of it. For a complete write on a raw stream, use `write_now`.
    Buffer lifetime: the bytes of `buffers` stay valid until the `co_await` completes.

    `senet::net::basic_stream_socket` models it; every `write_sink` does.

    Example:
    ```cpp
    template <senet::stream::write_stream Stream>
    senet::task<void> send_all(Stream& s, senet::const_buffer b) {
      while (b.size() != 0) {
        auto [ec, n] = co_await s.write_some(b);
        if (ec) throw std::system_error(ec);
        b += n;
      }
    }
    ```
*/
template <class T>
concept write_stream = requires(T& stream, detail::const_buffer_archetype buffer,
                                detail::const_buffers_archetype buffers) {
  { stream.write_some(buffer) } -> io_awaitable;
  { stream.write_some(buffers) } -> io_awaitable;
  requires awaitable_decomposes_to<decltype(stream.write_some(buffer)), std::error_code, std::size_t>;
  requires awaitable_decomposes_to<decltype(stream.write_some(buffers)), std::error_code, std::size_t>;
};

}  // namespace senet::stream

#endif  // SENET_STREAM_WRITE_STREAM_HPP
