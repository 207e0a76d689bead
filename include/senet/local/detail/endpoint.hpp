// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_LOCAL_DETAIL_ENDPOINT_HPP
#define SENET_LOCAL_DETAIL_ENDPOINT_HPP

#include <compare>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

#include <sys/socket.h>
#include <sys/un.h>

namespace senet::local::detail {

/** The protocol-independent part of `local::basic_endpoint`: a `sockaddr_un` and its length. */
class endpoint {
 public:
  /** The offset of `sun_path`: the length of an unnamed address. */
  static constexpr std::size_t path_offset = offsetof(::sockaddr_un, sun_path);
  /** The room for a path: a filesystem path also needs its terminating NUL there. */
  static constexpr std::size_t path_capacity = sizeof(::sockaddr_un::sun_path);

  endpoint() noexcept { clear(); }

  [[nodiscard]] ::sockaddr* data() noexcept { return reinterpret_cast<::sockaddr*>(&data_); }
  [[nodiscard]] const ::sockaddr* data() const noexcept {
    return reinterpret_cast<const ::sockaddr*>(&data_);
  }

  [[nodiscard]] ::socklen_t size() const noexcept { return size_; }

  [[nodiscard]] static constexpr ::socklen_t capacity() noexcept {
    return static_cast<::socklen_t>(sizeof(::sockaddr_un));
  }

  void resize(std::size_t n, std::error_code& ec) noexcept {
    if (n > capacity()) {
      ec = std::make_error_code(std::errc::invalid_argument);
      return;
    }
    size_ = static_cast<::socklen_t>(n);
    ec.clear();
  }

  void path(std::string_view p, std::error_code& ec) noexcept {
    const bool abstract = !p.empty() && p.front() == '\0';
    if (abstract) {
      // Linux abstract namespace: every byte after the leading NUL is part of the name.
      if (p.size() > path_capacity) {
        ec = std::make_error_code(std::errc::filename_too_long);
        return;
      }
    } else {
      if (p.find('\0') != std::string_view::npos) {
        ec = std::make_error_code(std::errc::invalid_argument);
        return;
      }
      if (p.size() >= path_capacity) {
        ec = std::make_error_code(std::errc::filename_too_long);
        return;
      }
    }
    clear();
    if (!p.empty()) {
      std::memcpy(data_.sun_path, p.data(), p.size());
      size_ = static_cast<::socklen_t>(path_offset + p.size() + (abstract ? 0 : 1));
    }
    ec.clear();
  }

  /** The name's bytes: a filesystem path up to its NUL, an abstract name with its leading NUL,
      nothing for an unnamed endpoint. */
  [[nodiscard]] std::string_view view() const noexcept {
    if (size_ <= path_offset) {
      return {};
    }
    std::size_t n = static_cast<std::size_t>(size_) - path_offset;
    if (n > path_capacity) {
      n = path_capacity;
    }
    std::string_view all(data_.sun_path, n);
    if (all.front() == '\0') {
      return all;
    }
    return all.substr(0, all.find('\0'));
  }

  [[nodiscard]] bool is_abstract() const noexcept {
    std::string_view v = view();
    return !v.empty() && v.front() == '\0';
  }

  [[nodiscard]] std::string to_string() const {
    std::string_view v = view();
    if (!v.empty() && v.front() == '\0') {
      // Not `"@" + std::string(...)`: g++ 12 at -O2 warns falsely about it (-Wrestrict).
      std::string name(1, '@');
      name.append(v.data() + 1, v.size() - 1);
      return name;
    }
    return std::string(v);
  }

  friend bool operator==(const endpoint& a, const endpoint& b) noexcept { return a.view() == b.view(); }
  friend std::strong_ordering operator<=>(const endpoint& a, const endpoint& b) noexcept {
    int c = a.view().compare(b.view());
    return c < 0   ? std::strong_ordering::less
           : c > 0 ? std::strong_ordering::greater
                   : std::strong_ordering::equal;
  }

 private:
  void clear() noexcept {
    std::memset(&data_, 0, sizeof data_);
    data_.sun_family = AF_UNIX;
    size_ = static_cast<::socklen_t>(path_offset);
  }

  ::sockaddr_un data_;
  ::socklen_t size_;
};

}  // namespace senet::local::detail

#endif  // SENET_LOCAL_DETAIL_ENDPOINT_HPP
