// SPDX-License-Identifier: BSL-1.0
// libFuzzer target for the endpoints: what the kernel writes into them (any bytes, any length) and
// what a program names them with. Checked, for any input:
// - an IP endpoint filled with arbitrary sockaddr bytes (`data()` + `resize(n)`, as accept and
//   recvfrom fill it) never reads outside its storage; `resize` past `capacity()` is
//   `invalid_argument`; its text ("a.b.c.d:port", "[v6%zone]:port") parses back, through
//   `make_address` and the port, to an equal endpoint; equality and ordering agree;
// - a local endpoint named by any bytes: a path is accepted exactly when it fits and holds no NUL,
//   an abstract name (leading NUL) when it fits; an accepted name reads back unchanged with the
//   documented size; a refused one gives `filename_too_long` or `invalid_argument` and leaves it
//   unnamed;
// - a local endpoint filled with arbitrary sockaddr_un bytes and any length (no terminating NUL,
//   shorter than the family field) is read without going past its storage.
#include "fuzz_input.hpp"

#include <senet/ip/address.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/local/stream_protocol.hpp>

#include <sys/un.h>

#include <algorithm>
#include <charconv>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using senet::fuzz::check;

void ip_endpoint_from_kernel(senet::fuzz::input& in) {
  senet::ip::tcp::endpoint ep;
  const std::string_view bytes = in.take(ep.capacity());
  std::memcpy(ep.data(), bytes.data(), bytes.size());
  // Half the time a plausible family, so that both address kinds are reached.
  switch (in.below(3)) {
    case 0:
      ep.data()->sa_family = AF_INET;
      break;
    case 1:
      ep.data()->sa_family = AF_INET6;
      break;
    default:
      break;
  }
  const std::size_t n = in.below(ep.capacity() + 16);
  std::error_code ec;
  ep.resize(n, ec);
  check((n > ep.capacity()) == (ec == std::errc::invalid_argument),
        "resize past capacity is invalid_argument");
  check(ep.size() <= ep.capacity(), "size within capacity");

  const std::string text = ep.to_string();
  const std::size_t colon = text.rfind(':');
  check(colon != std::string::npos, "endpoint text has a port");
  std::string_view host(text.data(), colon);
  const bool v6 = ep.address().is_v6();
  if (v6) {
    check(host.size() >= 2 && host.front() == '[' && host.back() == ']', "v6 endpoint text is bracketed");
    host = host.substr(1, host.size() - 2);
  }
  std::error_code parse_ec;
  const senet::ip::address parsed = senet::ip::make_address(host, parse_ec);
  check(!parse_ec, "endpoint address text parses");
  unsigned port = 0;
  const char* port_end = text.data() + text.size();
  auto [ptr, port_ec] = std::from_chars(text.data() + colon + 1, port_end, port);
  check(port_ec == std::errc() && ptr == port_end && port <= 65535, "endpoint port text parses");
  const senet::ip::tcp::endpoint again(parsed, static_cast<senet::ip::port_type>(port));
  check(again == ep, "endpoint text round-trips");
  check((again <=> ep) == std::strong_ordering::equal, "ordering agrees with equality");
  check(again.to_string() == text, "endpoint text is canonical");
}

void local_endpoint_named(senet::fuzz::input& in) {
  using endpoint = senet::local::stream_protocol::endpoint;
  const std::string_view name = in.take(in.below(130));
  std::error_code ec;
  const endpoint ep(name, ec);
  constexpr std::size_t path_capacity = sizeof(::sockaddr_un::sun_path);
  const bool abstract = !name.empty() && name.front() == '\0';
  const bool fits = abstract ? name.size() <= path_capacity
                             : name.find('\0') == std::string_view::npos && name.size() < path_capacity;
  check(fits == !ec, "a name is accepted exactly when it fits");
  if (ec) {
    check(ec == std::errc::filename_too_long || ec == std::errc::invalid_argument, "documented errors");
    check(ep.is_unnamed(), "a refused name leaves the endpoint unnamed");
    return;
  }
  check(ep.path() == name, "an accepted name reads back");
  check(ep.is_abstract() == abstract, "is_abstract");
  check(ep.is_unnamed() == name.empty(), "is_unnamed");
  const std::size_t size = name.empty()
                               ? offsetof(::sockaddr_un, sun_path)
                               : offsetof(::sockaddr_un, sun_path) + name.size() + (abstract ? 0 : 1);
  check(ep.size() == size, "size of a named endpoint");
  endpoint copy;
  copy.path(name);
  check(copy == ep && std::hash<endpoint>{}(copy) == std::hash<endpoint>{}(ep),
        "equal names, equal endpoints");
  (void)ep.to_string();
}

void local_endpoint_from_kernel(senet::fuzz::input& in) {
  using endpoint = senet::local::stream_protocol::endpoint;
  endpoint ep;
  const std::string_view bytes = in.take(ep.capacity());
  std::memcpy(ep.data(), bytes.data(), bytes.size());
  const std::size_t n = in.below(ep.capacity() + 16);
  std::error_code ec;
  ep.resize(n, ec);
  check((n > ep.capacity()) == static_cast<bool>(ec), "resize past capacity fails");
  // Reading it back must stay inside the storage, whatever the bytes and the length.
  const std::string path = ep.path();
  check(path.size() <= sizeof(::sockaddr_un::sun_path), "a path is never longer than sun_path");
  (void)ep.to_string();
  (void)ep.is_abstract();
  (void)ep.is_unnamed();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  senet::fuzz::input in(data, size);
  switch (in.below(3)) {
    case 0:
      ip_endpoint_from_kernel(in);
      break;
    case 1:
      local_endpoint_named(in);
      break;
    default:
      local_endpoint_from_kernel(in);
      break;
  }
  return 0;
}
