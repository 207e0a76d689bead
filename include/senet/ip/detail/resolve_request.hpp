// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IP_DETAIL_RESOLVE_REQUEST_HPP
#define SENET_IP_DETAIL_RESOLVE_REQUEST_HPP

#include <netdb.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <senet/io/detail/handoff.hpp>

// The getaddrinfo machinery behind ip::resolve and ip::async_resolve (src/senet/ip/resolver.cpp).
namespace senet::ip::detail {

/** One name resolution: its inputs, its outputs, and who owns it.

    `ip::async_resolve` allocates one per operation and hands it to the resolver's worker threads.
    The operation enrolls a waiter keyed by this request with `handoff_` (its io_context's, or the
    unbound one); when getaddrinfo returned, the worker claims the waiter
    (`io::detail::handoff::claim_and_post`),
    which posts `record_` to the context (or, without one, the worker calls `on_done_`), and from
    then on the operation owns the request. If someone else claimed the waiter first (a stop
    request, the context's destruction), the worker deletes the request and never touches the
    operation, which may be gone.
*/
struct resolve_request {
  std::string host_;
  std::string service_;
  int family_ = AF_UNSPEC;
  int socktype_ = 0;
  int protocol_ = 0;
  int flags_ = 0;

  ::addrinfo* result_ = nullptr;
  std::error_code error_{};

  /// Where the result goes back; kept alive by this request, also past its io_context.
  std::shared_ptr<io::detail::handoff> handoff_{};
  /// Posted to the context when the worker claims the waiter; null without a context.
  io::detail::io_operation* record_ = nullptr;
  /// Called on the worker thread after a claim when `record_` is null.
  void (*on_done_)(resolve_request*) noexcept = nullptr;
  void* owner_ = nullptr;
  resolve_request* next_ = nullptr;

  resolve_request() = default;
  /// A request for `host` and `service` (constructed rather than assigned: g++ 12 at -O2 reports
  /// a false "may be used uninitialized" for a short string_view assigned to a fresh string).
  resolve_request(std::string_view host, std::string_view service) : host_(host), service_(service) {}
  resolve_request(const resolve_request&) = delete;
  resolve_request& operator=(const resolve_request&) = delete;
  ~resolve_request();
};

/// Runs getaddrinfo for `r` on the calling thread (blocking), filling `result_` or `error_`.
void run_getaddrinfo(resolve_request& r) noexcept;

/// For tests: makes the worker threads call `fn` instead of `run_getaddrinfo` (null restores it),
/// so that a test can hold a resolution in progress while it requests a stop.
void set_resolve_function_for_testing(void (*fn)(resolve_request&) noexcept) noexcept;

/// Queues `r` for a worker thread. Returns an error if no worker thread could be started.
std::error_code submit(resolve_request* r) noexcept;

/// Converts an addrinfo list to endpoints, skipping families the endpoint cannot hold.
template <class Endpoint>
std::vector<Endpoint> to_endpoints(const ::addrinfo* list) {
  std::vector<Endpoint> endpoints;
  for (const ::addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) || ai->ai_addr == nullptr ||
        ai->ai_addrlen > Endpoint::capacity()) {
      continue;
    }
    Endpoint ep;
    std::memcpy(static_cast<void*>(ep.data()), ai->ai_addr, ai->ai_addrlen);
    std::error_code ec;
    ep.resize(ai->ai_addrlen, ec);
    if (!ec) {
      endpoints.push_back(ep);
    }
  }
  return endpoints;
}

}  // namespace senet::ip::detail

#endif  // SENET_IP_DETAIL_RESOLVE_REQUEST_HPP
