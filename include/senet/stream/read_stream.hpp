// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_READ_STREAM_HPP
#define SENET_STREAM_READ_STREAM_HPP

#include <senet/stream/awaitable_decomposes_to.hpp>
#include <senet/stream/detail/buffer_archetypes.hpp>
#include <senet/stream/io_awaitable.hpp>

#include <cstddef>
#include <system_error>

namespace senet::stream {

/** A source of bytes read in pieces: `read_some(buffers)` reads what is there.

    Syntactic requirements: for an lvalue `stream` of `T` and a mutable buffer sequence `buffers`
    (a single `mutable_buffer` or a range of them), `stream.read_some(buffers)` is an
    `io_awaitable` whose result decomposes to `(std::error_code, std::size_t)`.

    Semantic requirements of `auto [ec, n] = co_await stream.read_some(buffers);`:
    - On success: `!ec`, `n >= 1`: the first `n` bytes of `buffers` were filled.
    - At end of stream: `ec == senet::error::eof`, `n == 0`.
    - On error: `ec`, `n == 0` (`senet::error::operation_aborted` when the operation was
      cancelled: a stop request, or the stream closed while it waited).
    - If `buffer_size(buffers) == 0`: completes at once with `!ec`, `n == 0`.
    - It completes without suspending the coroutine when the bytes are already there.
    Buffer lifetime: the bytes of `buffers` stay valid until the `co_await` completes.

    `senet::net::basic_stream_socket` models it (`tcp::socket`, `local::stream_protocol::socket`).

    Example (a relay's read side):
    ```cpp
    template <senet::stream::read_stream Stream>
    senet::task<std::size_t> count_bytes(Stream& s) {
      char buf[4096];
      std::size_t total = 0;
      for (;;) {
        auto [ec, n] = co_await s.read_some(senet::buffer(buf));
        if (ec == senet::error::eof) co_return total;
        if (ec) throw std::system_error(ec);
        total += n;
      }
    }
    ```
*/
template <class T>
concept read_stream = requires(T& stream, detail::mutable_buffer_archetype buffer,
                               detail::mutable_buffers_archetype buffers) {
  { stream.read_some(buffer) } -> io_awaitable;
  { stream.read_some(buffers) } -> io_awaitable;
  requires awaitable_decomposes_to<decltype(stream.read_some(buffer)), std::error_code, std::size_t>;
  requires awaitable_decomposes_to<decltype(stream.read_some(buffers)), std::error_code, std::size_t>;
};

}  // namespace senet::stream

#endif  // SENET_STREAM_READ_STREAM_HPP
