// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_RELAY_HPP
#define SENET_STREAM_RELAY_HPP

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/stream/read_stream.hpp>
#include <senet/stream/write_sink.hpp>
#include <senet/task.hpp>

#include <array>
#include <cstddef>
#include <system_error>
#include <tuple>

namespace senet::stream {

/** `auto [ec, n] = co_await relay(source, sink);`: forwards every byte of a `read_stream` to a
    `write_sink` as it arrives, then ends the sink: the seed's "relaying a streaming body".

    The loop: `read_some` into the buffer; each piece is passed on with `write_some` until all of it
    is written (the interior needs no complete-write guarantee, and a sink that can take bytes at
    once, such as a buffered writer, does); at end of stream, `sink.write_eof()` ends the
    destination (`read_some` gives 0 bytes with `eof`, so there is no last piece to coalesce).

    Result (`std::tuple<std::error_code, std::size_t>`, never thrown): `n` the bytes written to the
    sink. `(no error, n)` when the source ended and `write_eof()` succeeded; otherwise the first
    error: of `read_some` (the sink is then not ended: a truncated body must not look complete), of
    `write_some`, or of `write_eof()`. `senet::error::operation_aborted` when cancelled.
    The two-argument form reads into an 8 KiB buffer in the relay's coroutine frame; the
    three-argument form into `buffer` (`std::errc::invalid_argument` at once if it is empty).
    Allocation: the `senet::task` frame, once per relay (not per piece).
    Suspension: none while both sides complete at once.
    Cancellation: the awaiting task's stop token reaches every read and write.
    Lifetime: `source`, `sink` (and `buffer`) outlive the `co_await`.
    Thread safety: the relay is the only reader of `source` and writer of `sink` while it runs.

    Example (a proxy's one direction):
    ```cpp
    senet::stream::socket_sink to_server(upstream);
    auto [ec, n] = co_await senet::stream::relay(client, to_server);
    ```
*/
template <read_stream Source, write_sink Sink>
senet::task<std::tuple<std::error_code, std::size_t>> relay(Source& source, Sink& sink,
                                                            mutable_buffer buffer) {
  using result = std::tuple<std::error_code, std::size_t>;
  if (buffer.size() == 0) {
    co_return result{std::make_error_code(std::errc::invalid_argument), 0};
  }
  std::size_t total = 0;
  for (;;) {
    auto [ec, n] = co_await source.read_some(buffer);
    if (ec == senet::error::eof) {
      auto [ec2] = co_await sink.write_eof();
      co_return result{ec2, total};
    }
    if (ec) {
      co_return result{ec, total};
    }
    std::size_t written = 0;
    while (written < n) {
      auto [ec2, n2] = co_await sink.write_some(
          const_buffer(static_cast<const char*>(buffer.data()) + written, n - written));
      if (ec2) {
        co_return result{ec2, total};
      }
      if (n2 == 0) {
        // write_some must move at least one byte: do not spin on a sink that breaks the rule.
        co_return result{std::make_error_code(std::errc::io_error), total};
      }
      written += n2;
      total += n2;
    }
  }
}

/** `relay(source, sink, buffer)` with an 8 KiB buffer of its own. */
template <read_stream Source, write_sink Sink>
senet::task<std::tuple<std::error_code, std::size_t>> relay(Source& source, Sink& sink) {
  std::array<char, 8192> storage;
  co_return co_await relay(source, sink, senet::buffer(storage));
}

}  // namespace senet::stream

#endif  // SENET_STREAM_RELAY_HPP
