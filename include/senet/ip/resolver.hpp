// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IP_RESOLVER_HPP
#define SENET_IP_RESOLVER_HPP

#ifdef _WIN32
#error \
    "senet/ip/resolver.hpp is Linux-only; on Windows senet builds IP addresses and endpoints, not the resolver"
#endif

#include <netdb.h>
#include <sys/socket.h>

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <senet/ip/detail/resolve_request.hpp>

namespace senet::ip {

/** Flags for name resolution: the `AI_*` flags of getaddrinfo(3). Combine them with `|`. */
enum class resolve_flags : int {
  none = 0,
  /** Endpoints for binding a listening socket: an empty host gives the wildcard address. */
  passive = AI_PASSIVE,
  /** Ask for the canonical name too (not reported by senet's results). */
  canonical_name = AI_CANONNAME,
  /** The host must be a numeric address; no DNS lookup is made. */
  numeric_host = AI_NUMERICHOST,
  /** The service must be a port number; no service database lookup is made. */
  numeric_service = AI_NUMERICSERV,
  /** With an IPv6 protocol: return IPv4-mapped IPv6 addresses if there are no IPv6 ones. */
  v4_mapped = AI_V4MAPPED,
  /** With `v4_mapped`: return both IPv6 and IPv4-mapped addresses. */
  all_matching = AI_ALL,
  /** Only return IPv4 (IPv6) addresses if the host has a non-loopback IPv4 (IPv6) address. */
  address_configured = AI_ADDRCONFIG,
};

[[nodiscard]] constexpr resolve_flags operator|(resolve_flags a, resolve_flags b) noexcept {
  return static_cast<resolve_flags>(static_cast<int>(a) | static_cast<int>(b));
}
[[nodiscard]] constexpr resolve_flags operator&(resolve_flags a, resolve_flags b) noexcept {
  return static_cast<resolve_flags>(static_cast<int>(a) & static_cast<int>(b));
}
constexpr resolve_flags& operator|=(resolve_flags& a, resolve_flags b) noexcept {
  return a = a | b;
}

/** Resolves `host` and `service` to the endpoints of `Protocol`, blocking the calling thread
    (getaddrinfo(3)). Prefer `ip::async_resolve` on an io_context's thread.

    `host` is a name or a numeric address (empty: the loopback address, or the wildcard address
    with `resolve_flags::passive`); `service` a port number or a service name (empty: port 0).
    The overload taking `protocol` returns only endpoints of `protocol.family()`; the others return
    IPv4 and IPv6 endpoints. Errors are mapped by `senet::error::make_gai_error`
    (`senet::error::host_not_found`, `service_not_found`, ...).
*/
template <class Protocol>
[[nodiscard]] std::vector<typename Protocol::endpoint> resolve(const Protocol& protocol,
                                                               std::string_view host,
                                                               std::string_view service, resolve_flags flags,
                                                               std::error_code& ec) {
  detail::resolve_request r(host, service);
  r.family_ = protocol.family();
  r.socktype_ = protocol.type();
  r.protocol_ = protocol.protocol();
  r.flags_ = static_cast<int>(flags);
  detail::run_getaddrinfo(r);
  ec = r.error_;
  if (ec) {
    return {};
  }
  return detail::to_endpoints<typename Protocol::endpoint>(r.result_);
}

/// As above, any address family.
template <class Protocol>
[[nodiscard]] std::vector<typename Protocol::endpoint> resolve(std::string_view host,
                                                               std::string_view service, resolve_flags flags,
                                                               std::error_code& ec) {
  detail::resolve_request r(host, service);
  r.family_ = AF_UNSPEC;
  r.socktype_ = Protocol{}.type();
  r.protocol_ = Protocol{}.protocol();
  r.flags_ = static_cast<int>(flags);
  detail::run_getaddrinfo(r);
  ec = r.error_;
  if (ec) {
    return {};
  }
  return detail::to_endpoints<typename Protocol::endpoint>(r.result_);
}

/// As above, throwing `std::system_error` on failure.
template <class Protocol>
[[nodiscard]] std::vector<typename Protocol::endpoint> resolve(std::string_view host,
                                                               std::string_view service,
                                                               resolve_flags flags = resolve_flags::none) {
  std::error_code ec;
  auto endpoints = resolve<Protocol>(host, service, flags, ec);
  if (ec) {
    throw std::system_error(ec, "senet::ip::resolve");
  }
  return endpoints;
}

}  // namespace senet::ip

#endif  // SENET_IP_RESOLVER_HPP
