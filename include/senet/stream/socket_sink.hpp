// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_SOCKET_SINK_HPP
#define SENET_STREAM_SOCKET_SINK_HPP

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/detail/socket_awaitable.hpp>
#include <senet/net/socket_base.hpp>
#include <senet/stream/detail/cached_op.hpp>
#include <senet/stream/detail/sink_support.hpp>
#include <senet/stream/write_sink.hpp>

#include <cstddef>
#include <system_error>
#include <utility>

namespace senet::stream {

/** A connected stream socket (`tcp::socket`, `local::stream_protocol::socket`) as a `write_sink`:
    `write_eof()` is `shutdown(SHUT_WR)`, `write_eof(buffers)` writes the buffers and then shuts the
    sending direction down.

    Why a wrapper and not the socket itself: the socket is a `write_stream` (and `read_stream`), as
    the seed's raw-stream use case has it (`write_now` on a socket). The sink contract needs state
    the socket does not keep: after a successful `write_eof`, every further write fails with
    `senet::error::write_after_eof` (the kernel would say `broken_pipe`, which means the peer is
    gone) and writes nothing. The sink borrows the socket, which stays usable for reading (a
    half-closed connection) and outlives the sink.

    Operations (each gives `std::tuple<std::error_code, std::size_t>`, or `std::tuple<
    std::error_code>` for `write_eof()`; none throws):
    - `write_some(buffers)`: the socket's `write_some`, unchanged (no coroutine, no allocation).
    - `write(buffers)`: writes every byte (a `write_some` loop); `n` is the bytes written before an
      error.
    - `write_eof(buffers)`: `write(buffers)`, then, when everything was written,
      `shutdown(shutdown_send)`; its error, if any, is the result's.
    - `write_eof()`: `shutdown(shutdown_send)` at once.
    Empty buffers complete at once with `(no error, 0)` (before `write_eof`).
    Suspension: each completes without suspending the awaiting coroutine when the kernel takes the
    bytes at once (on every backend, as the socket's `write_some` does).
    Allocation: `write` and `write_eof(buffers)` run in a coroutine whose frame is cached in the
    sink: the first such call allocates it, later ones reuse it (no allocation per operation; a
    call with another type of buffer sequence may need a larger frame, and grows it once).
    Cancellation: the awaiting task's stop token cancels the pending `write_some`; the operation
    then ends with `senet::error::operation_aborted` and the bytes written so far, and the
    socket is not shut down.
    Buffer lifetime: the bytes of `buffers` stay valid until the `co_await` completes.
    Thread safety: one write operation at a time; reads of the socket may run beside them.

    Example:
    ```cpp
    senet::stream::socket_sink sink(sock);
    auto [ec, n] = co_await sink.write_eof(senet::buffer(reply));  // reply, then FIN
    ```
*/
template <class Socket>
class socket_sink {
 public:
  using socket_type = Socket;

  /** A sink writing to `socket` (borrowed: it must outlive the sink). */
  explicit socket_sink(Socket& socket) noexcept : socket_(&socket) {}
  socket_sink(socket_sink&&) noexcept = default;
  socket_sink& operator=(socket_sink&&) noexcept = default;
  socket_sink(const socket_sink&) = delete;
  socket_sink& operator=(const socket_sink&) = delete;
  ~socket_sink() = default;

  /** The socket written to. */
  [[nodiscard]] Socket& socket() const noexcept { return *socket_; }
  /** Whether a `write_eof` succeeded (every later write fails with `write_after_eof`). */
  [[nodiscard]] bool finished() const noexcept { return finished_; }

  /** Writes some bytes of `buffers` (the socket's `write_some`). */
  template <const_buffer_sequence Buffers>
  [[nodiscard]] auto write_some(Buffers&& buffers) {
    using inner = net::detail::socket_awaitable<Socket, net::detail::stored_buffers_t<Buffers>, true>;
    return detail::unless_finished<inner>(finished_, *socket_,
                                          net::detail::store_buffers(std::forward<Buffers>(buffers)));
  }

  /** Writes all of `buffers`. */
  template <const_buffer_sequence Buffers>
  [[nodiscard]] detail::maybe_op<detail::size_result> write(Buffers&& buffers) {
    if (finished_) {
      return detail::rejected_write();
    }
    if (buffer_size(buffers) == 0) {
      return detail::size_result{};
    }
    return detail::with_cache(cache_, [&] {
      return detail::write_all_then(*socket_, net::detail::store_buffers(std::forward<Buffers>(buffers)),
                                    end_of_stream{this, false});
    });
  }

  /** Writes all of `buffers`, then shuts the sending direction down. */
  template <const_buffer_sequence Buffers>
  [[nodiscard]] detail::maybe_op<detail::size_result> write_eof(Buffers&& buffers) {
    if (finished_) {
      return detail::rejected_write();
    }
    return detail::with_cache(cache_, [&] {
      return detail::write_all_then(*socket_, net::detail::store_buffers(std::forward<Buffers>(buffers)),
                                    end_of_stream{this, true});
    });
  }

  /** Shuts the sending direction down (the peer reads end of stream). */
  [[nodiscard]] detail::ready_result<detail::eof_result> write_eof() {
    if (finished_) {
      return {detail::eof_result{make_error_code(senet::error::write_after_eof)}};
    }
    return {detail::eof_result{end_of_stream{this, true}()}};
  }

 private:
  // What write_all_then does once everything is written: nothing for write, the shutdown for
  // write_eof. One type for both, so that their coroutines have one frame size and the cached frame
  // never has to grow after the first write.
  struct end_of_stream {
    socket_sink* self_;
    bool eof_;
    [[nodiscard]] std::error_code operator()() const noexcept {
      if (!eof_) {
        return {};
      }
      std::error_code ec;
      self_->socket_->shutdown(net::socket_base::shutdown_send, ec);
      if (!ec) {
        self_->finished_ = true;
      }
      return ec;
    }
  };

  Socket* socket_;
  bool finished_ = false;
  detail::frame_cache cache_;
};

template <class Socket>
socket_sink(Socket&) -> socket_sink<Socket>;

}  // namespace senet::stream

#endif  // SENET_STREAM_SOCKET_SINK_HPP
