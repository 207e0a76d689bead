// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_FILE_SINK_HPP
#define SENET_STREAM_FILE_SINK_HPP

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

/** A `write_sink` that writes to a file descriptor, meant for regular files.

    Made from a path (opened with `O_WRONLY | O_CREAT | O_TRUNC`, or the flags given, always with
    `O_CLOEXEC`; throws `std::system_error` on failure) or from a descriptor that it adopts (closes)
    or borrows (`file_ownership`).

    Every operation completes synchronously, inside `await_ready()`: the awaiting coroutine never
    suspends, and no I/O context is needed. Why: a regular file is always "ready" — epoll refuses
    it (`EPERM`) and `write(2)` to it never returns `EAGAIN` — and senet's I/O core has no file
    operations, so there is nothing to wait for: `writev(2)` copies the bytes into the page cache
    and returns. It can block the calling thread while the kernel writes back under memory
    pressure, or on a slow or network file system; a program for which that matters writes files
    from a thread of its own. On a descriptor that can say `EAGAIN` (a non-blocking pipe or socket)
    the operation fails with `std::errc::operation_would_block` instead of waiting: use a
    `socket_sink` for sockets.

    Operations (results as `write_sink` says; none throws):
    - `write_some(buffers)`: one `writev(2)` (the first 16 non-empty buffers of a longer sequence).
    - `write(buffers)`: `writev(2)` until every byte is written, or the first error (`n` the bytes
      written before it: `std::errc::no_space_on_device`, `file_too_large`, `io_error`, ...).
    - `write_eof(buffers)`: `write(buffers)`, and the sink is finished. Nothing is signalled to the
      file (it has no end-of-stream marker); durability needs `fsync(native_handle())`, and an
      adopted descriptor is closed by `close()` or the destructor.
    - `write_eof()`: the sink is finished.
    After a successful `write_eof`, writes fail with `senet::error::write_after_eof`. A closed sink
    fails with `senet::error::not_open`.
    Buffer lifetime: only during the `co_await` (the bytes are copied before it completes).
    Thread safety: one operation at a time.

    Example:
    ```cpp
    senet::stream::file_sink out("/tmp/report.json");
    co_await serialize_json(out, doc);   // any code constrained on write_sink
    ```
*/
class file_sink {
 public:
  /** Opens `path` for writing (`flags`, `mode` as for `open(2)`; `O_CLOEXEC` is added). */
  explicit file_sink(const std::string& path, int flags = O_WRONLY | O_CREAT | O_TRUNC, unsigned mode = 0644)
      : file_(detail::file_open(path.c_str(), flags, mode, "senet::stream::file_sink"), true) {}

  /** Writes to `fd`, which it closes (`adopt`) or not (`borrow`). */
  file_sink(int fd, file_ownership ownership) noexcept : file_(fd, ownership == file_ownership::adopt) {}

  file_sink(file_sink&&) noexcept = default;
  file_sink& operator=(file_sink&&) noexcept = default;
  ~file_sink() = default;

  /** The descriptor (-1 once closed or released). */
  [[nodiscard]] int native_handle() const noexcept { return file_.get(); }
  /** Whether a `write_eof` succeeded. */
  [[nodiscard]] bool finished() const noexcept { return finished_; }
  /** Closes an adopted descriptor now, returning `close(2)`'s error (a borrowed one is only
      forgotten). */
  std::error_code close() noexcept { return file_.close(); }
  /** Gives the descriptor up without closing it. */
  int release() noexcept { return file_.release(); }

  /** One `writev(2)` of `buffers`. */
  template <const_buffer_sequence Buffers>
  [[nodiscard]] detail::ready_result<detail::size_result> write_some(const Buffers& buffers) noexcept {
    if (detail::size_result r; refused(r)) {
      return {r};
    }
    net::detail::consuming_buffers<const_buffer, Buffers> rest(buffers);
    std::span<const const_buffer> window = rest.prepare();
    if (window.empty()) {
      return {detail::size_result{}};
    }
    std::error_code ec;
    std::size_t n = detail::file_write_some(file_.get(), window, ec);
    return {detail::size_result{ec, n}};
  }

  /** Writes all of `buffers`. */
  template <const_buffer_sequence Buffers>
  [[nodiscard]] detail::ready_result<detail::size_result> write(const Buffers& buffers) noexcept {
    if (detail::size_result r; refused(r)) {
      return {r};
    }
    return {write_all(buffers)};
  }

  /** Writes all of `buffers`; the sink is then finished. */
  template <const_buffer_sequence Buffers>
  [[nodiscard]] detail::ready_result<detail::size_result> write_eof(const Buffers& buffers) noexcept {
    if (detail::size_result r; refused(r)) {
      return {r};
    }
    detail::size_result r = write_all(buffers);
    finished_ = !std::get<0>(r);
    return {r};
  }

  /** Finishes the sink. */
  [[nodiscard]] detail::ready_result<detail::eof_result> write_eof() noexcept {
    if (detail::size_result r; refused(r)) {
      return {detail::eof_result{std::get<0>(r)}};
    }
    finished_ = true;
    return {detail::eof_result{}};
  }

 private:
  // True, with the result, when the sink cannot write: finished or closed.
  bool refused(detail::size_result& r) const noexcept {
    if (finished_) {
      r = detail::rejected_write();
      return true;
    }
    if (!file_.is_open()) {
      r = {make_error_code(senet::error::not_open), 0};
      return true;
    }
    return false;
  }

  template <class Buffers>
  detail::size_result write_all(const Buffers& buffers) noexcept {
    net::detail::consuming_buffers<const_buffer, Buffers> rest(buffers);
    std::size_t done = 0;
    for (;;) {
      std::span<const const_buffer> window = rest.prepare();
      if (window.empty()) {
        return {std::error_code{}, done};
      }
      std::error_code ec;
      std::size_t n = detail::file_write_some(file_.get(), window, ec);
      if (ec) {
        return {ec, done};
      }
      if (n == 0) {
        return {detail::zero_transfer_error(), done};
      }
      done += n;
      rest.consume(n);
    }
  }

  detail::file_handle file_;
  bool finished_ = false;
};

}  // namespace senet::stream

#endif  // SENET_STREAM_FILE_SINK_HPP
