// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_NET_HOSTNAME_HPP
#define SENET_CORO_NET_HOSTNAME_HPP

#include <compare>
#include <string>
#include <utility>

namespace senet::coro::net {

/** A host name, as libcoro 0.15 has it: a string kept apart from `ip_address` so that an API can
    take either. Nothing is resolved here; `senet::ip::async_resolve` turns a name into addresses.
    Ordered and compared as its string. */
class hostname {
 public:
  /** The empty name. */
  hostname() = default;

  /** The name `hn`. */
  explicit hostname(std::string hn) : hostname_(std::move(hn)) {}

  /** The name. */
  [[nodiscard]] const std::string& data() const noexcept { return hostname_; }

  friend bool operator==(const hostname&, const hostname&) = default;
  friend std::strong_ordering operator<=>(const hostname&, const hostname&) = default;

 private:
  std::string hostname_;
};

}  // namespace senet::coro::net

#endif  // SENET_CORO_NET_HOSTNAME_HPP
