// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_DETAIL_FILE_IO_HPP
#define SENET_STREAM_DETAIL_FILE_IO_HPP

/* The system calls of file_sink and file_source (src/senet/stream/file_io.cpp): one writev or readv
   on a window of buffers, EINTR retried, and opening and closing descriptors. */

#include <senet/buffer.hpp>

#include <cstddef>
#include <span>
#include <system_error>
#include <utility>

namespace senet::stream::detail {

/** One `writev(fd, buffers)`: the bytes written (>= 1 unless `buffers` are empty), or 0 with `ec`
    set (`EAGAIN` is `std::errc::operation_would_block`). */
std::size_t file_write_some(int fd, std::span<const const_buffer> buffers, std::error_code& ec) noexcept;

/** One `readv(fd, buffers)`: the bytes read, or 0 with `ec` set; 0 without error at end of file. */
std::size_t file_read_some(int fd, std::span<const mutable_buffer> buffers, std::error_code& ec) noexcept;

/** `open(path, flags | O_CLOEXEC, mode)`; throws `std::system_error` naming `what` on failure. */
int file_open(const char* path, int flags, unsigned mode, const char* what);

/** `close(fd)`: its error, if any (an `EINTR` counts as closed). */
std::error_code file_close(int fd) noexcept;

/** A file descriptor that is owned (closed on destruction) or borrowed. */
class file_handle {
 public:
  file_handle() noexcept = default;
  file_handle(int fd, bool owned) noexcept : fd_(fd), owned_(owned) {}
  file_handle(file_handle&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)), owned_(std::exchange(other.owned_, false)) {}
  file_handle& operator=(file_handle&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
      owned_ = std::exchange(other.owned_, false);
    }
    return *this;
  }
  file_handle(const file_handle&) = delete;
  file_handle& operator=(const file_handle&) = delete;
  ~file_handle() { reset(); }

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool owned() const noexcept { return owned_; }
  [[nodiscard]] bool is_open() const noexcept { return fd_ >= 0; }

  /** Gives the descriptor up without closing it. */
  int release() noexcept {
    owned_ = false;
    return std::exchange(fd_, -1);
  }

  /** Closes an owned descriptor (and forgets a borrowed one); the error of `close`, if any. */
  std::error_code close() noexcept {
    std::error_code ec;
    if (fd_ >= 0 && owned_) {
      ec = file_close(fd_);
    }
    fd_ = -1;
    owned_ = false;
    return ec;
  }

 private:
  void reset() noexcept { (void)close(); }

  int fd_ = -1;
  bool owned_ = false;
};

}  // namespace senet::stream::detail

#endif  // SENET_STREAM_DETAIL_FILE_IO_HPP
