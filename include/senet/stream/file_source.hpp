// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_FILE_SOURCE_HPP
#define SENET_STREAM_FILE_SOURCE_HPP

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/net/detail/transfer_all.hpp>
#include <senet/stream/detail/file_io.hpp>
#include <senet/stream/detail/sink_support.hpp>
#include <senet/stream/file_ownership.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <system_error>

#include <fcntl.h>

namespace senet::stream {

/** A `read_source` that reads a file descriptor, meant for regular files.

    Made from a path (opened `O_RDONLY | O_CLOEXEC`; throws `std::system_error` on failure) or from
    a descriptor that it adopts or borrows (`file_ownership`).

    Every operation completes synchronously, inside `await_ready()`, for the reasons `file_sink`
    gives: a read of a regular file copies from the page cache (or waits for the disk, blocking the
    calling thread) and never says `EAGAIN`; on a descriptor that can (a non-blocking pipe), the
    read fails with `std::errc::operation_would_block` instead of waiting.

    Operations (results as `read_source` says; none throws):
    - `read_some(buffers)`: one `readv(2)` (the first 16 non-empty buffers of a longer sequence);
      at end of file `(senet::error::eof, 0)`.
    - `read(buffers)`: `readv(2)` until the buffers are full; end of file first gives
      `(senet::error::eof, n)` with the `n` bytes read.
    Empty buffers give `(no error, 0)` without a system call. A closed source fails with
    `senet::error::not_open`.
    Buffer lifetime: only during the `co_await`. Thread safety: one operation at a time.

    Example (serving a file through any sink):
    ```cpp
    senet::stream::file_source in("index.html");
    auto [ec, n] = co_await senet::stream::relay(in, body_sink);
    ```
*/
class file_source {
 public:
  /** Opens `path` for reading. */
  explicit file_source(const std::string& path)
      : file_(detail::file_open(path.c_str(), O_RDONLY, 0, "senet::stream::file_source"), true) {}

  /** Reads `fd`, which it closes (`adopt`) or not (`borrow`). */
  file_source(int fd, file_ownership ownership) noexcept : file_(fd, ownership == file_ownership::adopt) {}

  file_source(file_source&&) noexcept = default;
  file_source& operator=(file_source&&) noexcept = default;
  ~file_source() = default;

  /** The descriptor (-1 once closed or released). */
  [[nodiscard]] int native_handle() const noexcept { return file_.get(); }
  /** Closes an adopted descriptor now, returning `close(2)`'s error. */
  std::error_code close() noexcept { return file_.close(); }
  /** Gives the descriptor up without closing it. */
  int release() noexcept { return file_.release(); }

  /** One `readv(2)` into `buffers`. */
  template <mutable_buffer_sequence Buffers>
  [[nodiscard]] detail::ready_result<detail::size_result> read_some(const Buffers& buffers) noexcept {
    net::detail::consuming_buffers<mutable_buffer, Buffers> rest(buffers);
    std::span<const mutable_buffer> window = rest.prepare();
    if (window.empty()) {
      return {detail::size_result{}};
    }
    return {read_window(window)};
  }

  /** Reads until `buffers` are full, or end of file, or an error. */
  template <mutable_buffer_sequence Buffers>
  [[nodiscard]] detail::ready_result<detail::size_result> read(const Buffers& buffers) noexcept {
    net::detail::consuming_buffers<mutable_buffer, Buffers> rest(buffers);
    std::size_t done = 0;
    for (;;) {
      std::span<const mutable_buffer> window = rest.prepare();
      if (window.empty()) {
        return {detail::size_result{std::error_code{}, done}};
      }
      auto [ec, n] = read_window(window);
      if (ec) {
        return {detail::size_result{ec, done}};
      }
      done += n;
      rest.consume(n);
    }
  }

 private:
  detail::size_result read_window(std::span<const mutable_buffer> window) noexcept {
    if (!file_.is_open()) {
      return {make_error_code(senet::error::not_open), 0};
    }
    std::error_code ec;
    std::size_t n = detail::file_read_some(file_.get(), window, ec);
    if (!ec && n == 0) {
      ec = make_error_code(senet::error::eof);
    }
    return {ec, n};
  }

  detail::file_handle file_;
};

}  // namespace senet::stream

#endif  // SENET_STREAM_FILE_SOURCE_HPP
