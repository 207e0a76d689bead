// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_WRITE_SINK_HPP
#define SENET_STREAM_WRITE_SINK_HPP

#include <senet/stream/awaitable_decomposes_to.hpp>
#include <senet/stream/detail/buffer_archetypes.hpp>
#include <senet/stream/io_awaitable.hpp>
#include <senet/stream/write_stream.hpp>

#include <cstddef>
#include <system_error>

namespace senet::stream {

/** A `write_stream` that also writes whole buffers and signals the end of the stream: `write`,
    `write_eof(buffers)`, `write_eof()`.

    Syntactic requirements: `write_stream<T>`, and for an lvalue `sink` of `T` and a const buffer
    sequence `buffers`:
    - `sink.write(buffers)` and `sink.write_eof(buffers)` are `io_awaitable`s whose results
      decompose to `(std::error_code, std::size_t)`;
    - `sink.write_eof()` is an `io_awaitable` whose result decomposes to `(std::error_code)`.

    Semantic requirements:
    - `write_some(buffers)`: the `write_stream` contract (writes one or more bytes).
    - `write(buffers)`: writes the whole sequence. On success `!ec`, `n == buffer_size(buffers)`;
      on error `ec`, `n` the bytes written before the error. Empty `buffers`: completes at once
      with `!ec`, `n == 0`. A sink implements it in the way natural to it (a file's `write`, a
      buffered writer's copy, a compressor's one call), not necessarily as a `write_some` loop.
    - `write_eof(buffers)`: writes the whole sequence and then signals end of stream, as one
      operation, so that a sink can coalesce them (a chunked encoder writes the last chunk and
      `0\r\n\r\n` in one system call; a deflate sink passes `Z_FINISH` to the final `deflate`;
      TLS sends close-notify with the last record). On success `!ec`, `n ==
      buffer_size(buffers)`, and the sink is finished; on error `ec`, `n` the bytes written before
      the error, and the sink's state is unspecified.
    - `write_eof()`: signals end of stream without data. On success `!ec`, and the sink is
      finished; on error `ec`.
    - After a successful `write_eof`, every further write or `write_eof` fails with a clear error
      and writes nothing.
    Why `write` is in the concept: for files, buffered writers and compressors, `write` is the
    natural primitive. Why `write_eof(buffers)`: `write(data)` then `write_eof()` cannot coalesce
    the final data with the end (two system calls, possibly two TCP segments).
    Buffer lifetime: the bytes of `buffers` stay valid until the `co_await` completes.

    Code constrained on `write_stream` alone uses `write_now` for complete writes; code
    constrained on `write_sink` should use `write` and `write_eof`.

    Example (serialising, the last fragment ends the stream):
    ```cpp
    template <senet::stream::write_sink Sink>
    senet::task<void> serialize(Sink& sink, std::string_view body) {
      if (auto [ec, n] = co_await sink.write(senet::buffer("{")); ec) co_return;
      if (auto [ec, n] = co_await sink.write(senet::buffer(body)); ec) co_return;
      auto [ec, n] = co_await sink.write_eof(senet::buffer("}"));
    }
    ```
*/
template <class T>
concept write_sink = write_stream<T> &&
    requires(T& sink, detail::const_buffer_archetype buffer, detail::const_buffers_archetype buffers) {
  { sink.write(buffer) } -> io_awaitable;
  { sink.write(buffers) } -> io_awaitable;
  requires awaitable_decomposes_to<decltype(sink.write(buffer)), std::error_code, std::size_t>;
  requires awaitable_decomposes_to<decltype(sink.write(buffers)), std::error_code, std::size_t>;
  { sink.write_eof(buffer) } -> io_awaitable;
  { sink.write_eof(buffers) } -> io_awaitable;
  requires awaitable_decomposes_to<decltype(sink.write_eof(buffer)), std::error_code, std::size_t>;
  requires awaitable_decomposes_to<decltype(sink.write_eof(buffers)), std::error_code, std::size_t>;
  { sink.write_eof() } -> io_awaitable;
  requires awaitable_decomposes_to<decltype(sink.write_eof()), std::error_code>;
};

}  // namespace senet::stream

#endif  // SENET_STREAM_WRITE_SINK_HPP
