// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_LOCAL_BASIC_ENDPOINT_HPP
#define SENET_LOCAL_BASIC_ENDPOINT_HPP

#include <senet/local/detail/endpoint.hpp>

#include <compare>
#include <cstddef>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>

#include <sys/socket.h>

namespace senet::local {

/** A Unix domain socket address for `Protocol` (`local::stream_protocol`,
    `local::datagram_protocol`): a filesystem path, a Linux abstract-namespace name, or unnamed.

    - A path ("/run/app.sock") is stored NUL-terminated; it may hold at most
      `sizeof(sockaddr_un::sun_path) - 1` (107) bytes and no NUL.
    - A name whose first byte is NUL (`std::string_view("\0app", 4)`) is in the Linux abstract
      namespace: every byte after that NUL is significant, at most 107 of them.
    - An empty path gives the unnamed address, as the kernel reports for an unbound socket.
    A path that does not fit is an error (`std::errc::filename_too_long`), never truncated; a path
    with a NUL inside is `std::errc::invalid_argument`.

    Storage is a `sockaddr_un` and its length inside the object (no heap), with the `data()`,
    `size()`, `capacity()`, `resize(n)` interface of P2762's "as if" code. Equality and ordering
    compare the names' bytes.
*/
template <class Protocol>
class basic_endpoint {
 public:
  /** The protocol (`local::stream_protocol`, `local::datagram_protocol`). */
  using protocol_type = Protocol;
  /** The type `data()` points to. */
  using data_type = ::sockaddr;

  /** The unnamed address. */
  basic_endpoint() noexcept = default;

  /** The address named `path` (see the class documentation); throws `std::system_error` if it does
      not fit or holds a NUL after its first byte. */
  explicit basic_endpoint(std::string_view path) { this->path(path); }

  /** The address named `path`; `ec` reports a path that does not fit, and leaves it unnamed. */
  basic_endpoint(std::string_view path, std::error_code& ec) noexcept { impl_.path(path, ec); }

  /** `Protocol()`. */
  [[nodiscard]] protocol_type protocol() const noexcept { return protocol_type(); }

  /** The stored `sockaddr_un`, for the system to read or write. */
  [[nodiscard]] data_type* data() noexcept { return impl_.data(); }
  /** The stored `sockaddr_un`, for the system to read. */
  [[nodiscard]] const data_type* data() const noexcept { return impl_.data(); }

  /** The length of the address: `offsetof(sockaddr_un, sun_path)` plus the name's bytes (and, for
      a filesystem path, its NUL). */
  [[nodiscard]] ::socklen_t size() const noexcept { return impl_.size(); }

  /** `sizeof(sockaddr_un)`. */
  [[nodiscard]] static constexpr ::socklen_t capacity() noexcept { return detail::endpoint::capacity(); }

  /** Records that the system wrote an address of `n` bytes at `data()`. `n > capacity()` is an
      error (`std::errc::invalid_argument`, nothing changes). */
  void resize(std::size_t n, std::error_code& ec) noexcept { impl_.resize(n, ec); }

  /** As `resize(n, ec)`, throwing `std::system_error` on error. */
  void resize(std::size_t n) {
    std::error_code ec;
    impl_.resize(n, ec);
    if (ec) {
      throw std::system_error(ec, "senet::local::basic_endpoint::resize");
    }
  }

  /** The name: the path, or the abstract name with its leading NUL, or "" when unnamed. */
  [[nodiscard]] std::string path() const { return std::string(impl_.view()); }

  /** Replaces the name; on error (`filename_too_long`, `invalid_argument`) nothing changes. */
  void path(std::string_view p, std::error_code& ec) noexcept { impl_.path(p, ec); }

  /** As `path(p, ec)`, throwing `std::system_error` on error. */
  void path(std::string_view p) {
    std::error_code ec;
    impl_.path(p, ec);
    if (ec) {
      throw std::system_error(ec, "senet::local::basic_endpoint::path");
    }
  }

  /** True for a name in the Linux abstract namespace. */
  [[nodiscard]] bool is_abstract() const noexcept { return impl_.is_abstract(); }

  /** True for the unnamed address. */
  [[nodiscard]] bool is_unnamed() const noexcept { return impl_.view().empty(); }

  /** The path; an abstract name as "@" and the bytes after its NUL (as `ss` shows it); "" when
      unnamed. */
  [[nodiscard]] std::string to_string() const { return impl_.to_string(); }

  friend bool operator==(const basic_endpoint& a, const basic_endpoint& b) noexcept {
    return a.impl_ == b.impl_;
  }
  friend std::strong_ordering operator<=>(const basic_endpoint& a, const basic_endpoint& b) noexcept {
    return a.impl_ <=> b.impl_;
  }

  /** Writes `ep.to_string()`. */
  friend std::ostream& operator<<(std::ostream& os, const basic_endpoint& ep) { return os << ep.to_string(); }

 private:
  friend struct std::hash<basic_endpoint>;

  detail::endpoint impl_;
};

}  // namespace senet::local

/** Hashes a local endpoint by its name's bytes. */
template <class Protocol>
struct std::hash<senet::local::basic_endpoint<Protocol>> {
  [[nodiscard]] std::size_t operator()(const senet::local::basic_endpoint<Protocol>& ep) const noexcept {
    return std::hash<std::string_view>{}(ep.impl_.view());
  }
};

#endif  // SENET_LOCAL_BASIC_ENDPOINT_HPP
