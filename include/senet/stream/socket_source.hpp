// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_SOCKET_SOURCE_HPP
#define SENET_STREAM_SOCKET_SOURCE_HPP

#include <senet/buffer.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/stream/detail/cached_op.hpp>
#include <senet/stream/detail/sink_support.hpp>
#include <senet/stream/read_source.hpp>

#include <cstddef>
#include <system_error>
#include <utility>

namespace senet::stream {

/** A connected stream socket as a `read_source`: `read(buffers)` fills the buffers or fails.

    The socket itself is a `read_stream` (`read_some`), which is all the seed's relay needs; this
    wrapper adds the whole-buffer `read` for code constrained on `read_source` (`any_read_source`,
    fixed-size headers). It borrows the socket, which must outlive it.

    Operations (each gives `std::tuple<std::error_code, std::size_t>`; none throws):
    - `read_some(buffers)`: the socket's `read_some`, unchanged: `(senet::error::eof, 0)` at end of
      stream.
    - `read(buffers)`: reads until the buffers are full: `(no error, buffer_size(buffers))`; at
      end of stream first `(senet::error::eof, n)` with the `n` bytes read before it; on an error
      `(ec, n)` likewise. Empty buffers: `(no error, 0)` at once.
    Suspension: completes without suspending when the bytes are already there.
    Allocation: `read` runs in a coroutine whose frame is cached in the source (the first `read`
    allocates it; later ones reuse it).
    Cancellation: the awaiting task's stop token; the read then ends with
    `senet::error::operation_aborted` and the bytes read so far.
    Buffer lifetime: the bytes of `buffers` stay valid until the `co_await` completes.
    Thread safety: one read operation at a time; writes to the socket may run beside them.

    Example:
    ```cpp
    senet::stream::socket_source src(sock);
    std::array<char, 8> header;
    auto [ec, n] = co_await src.read(senet::buffer(header));
    ```
*/
template <class Socket>
class socket_source {
 public:
  using socket_type = Socket;

  /** A source reading from `socket` (borrowed: it must outlive the source). */
  explicit socket_source(Socket& socket) noexcept : socket_(&socket) {}
  socket_source(socket_source&&) noexcept = default;
  socket_source& operator=(socket_source&&) noexcept = default;
  socket_source(const socket_source&) = delete;
  socket_source& operator=(const socket_source&) = delete;
  ~socket_source() = default;

  /** The socket read from. */
  [[nodiscard]] Socket& socket() const noexcept { return *socket_; }

  /** Reads some bytes into `buffers` (the socket's `read_some`). */
  template <mutable_buffer_sequence Buffers>
  [[nodiscard]] auto read_some(Buffers&& buffers) {
    return socket_->read_some(std::forward<Buffers>(buffers));
  }

  /** Reads until `buffers` are full, or the stream ends or fails. */
  template <mutable_buffer_sequence Buffers>
  [[nodiscard]] detail::maybe_op<detail::size_result> read(Buffers&& buffers) {
    if (buffer_size(buffers) == 0) {
      return detail::size_result{};
    }
    return detail::with_cache(cache_, [&] {
      return detail::read_all(*socket_, net::detail::store_buffers(std::forward<Buffers>(buffers)));
    });
  }

 private:
  Socket* socket_;
  detail::frame_cache cache_;
};

template <class Socket>
socket_source(Socket&) -> socket_source<Socket>;

}  // namespace senet::stream

#endif  // SENET_STREAM_SOCKET_SOURCE_HPP
