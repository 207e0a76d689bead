// SPDX-License-Identifier: BSL-1.0
#include <senet/stream/detail/file_io.hpp>

#include <senet/detail/iovec_view.hpp>
#include <senet/error.hpp>

#include <algorithm>
#include <cerrno>
#include <span>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

namespace senet::stream::detail {

namespace {

// The buffer types are layout-compatible with iovec (checked in buffer.hpp), so a span of them is
// the array the kernel reads. At most IOV_MAX entries go to one call.
template <class Buffer>
const ::iovec* as_iovec(std::span<const Buffer> buffers, int& count) noexcept {
  count = static_cast<int>(std::min(buffers.size(), senet::detail::iov_max));
  return reinterpret_cast<const ::iovec*>(buffers.data());
}

// One readv or writev of `buffers`, EINTR retried.
template <class Buffer, class Call>
std::size_t vectored(Call call, int fd, std::span<const Buffer> buffers, std::error_code& ec) noexcept {
  ec.clear();
  int count = 0;
  const ::iovec* iov = as_iovec(buffers, count);
  for (;;) {
    ::ssize_t n = call(fd, iov, count);
    if (n >= 0) {
      return static_cast<std::size_t>(n);
    }
    if (errno != EINTR) {
      ec = senet::detail::last_error();
      return 0;
    }
  }
}

}  // namespace

std::size_t file_write_some(int fd, std::span<const const_buffer> buffers, std::error_code& ec) noexcept {
  return vectored(&::writev, fd, buffers, ec);
}

std::size_t file_read_some(int fd, std::span<const mutable_buffer> buffers, std::error_code& ec) noexcept {
  return vectored(&::readv, fd, buffers, ec);
}

int file_open(const char* path, int flags, unsigned mode, const char* what) {
  int fd;
  do {
    fd = ::open(path, flags | O_CLOEXEC, static_cast<::mode_t>(mode));
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    throw std::system_error(senet::detail::last_error(), std::string(what) + ": " + path);
  }
  return fd;
}

std::error_code file_close(int fd) noexcept {
  // Linux frees the descriptor even when close fails with EINTR: never retry.
  if (::close(fd) != 0 && errno != EINTR) {
    return senet::detail::last_error();
  }
  return {};
}

}  // namespace senet::stream::detail
