// SPDX-License-Identifier: BSL-1.0
#include <senet/error.hpp>

#include <string>

#ifdef _WIN32
#include <ws2tcpip.h>  // EAI_*: Winsock's WSA* values; there is no EAI_OVERFLOW nor EAI_SYSTEM
#else
#include <netdb.h>
#endif

namespace senet::error {

namespace {

class senet_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "senet"; }

  std::string message(int value) const override {
    switch (static_cast<net_errc>(value)) {
      case eof:
        return "end of file";
      case operation_aborted:
        return "operation aborted";
      case already_open:
        return "already open";
      case not_open:
        return "not open";
      case not_found:
        return "element not found";
      case host_not_found:
        return "host not found";
      case host_not_found_try_again:
        return "host not found (temporary failure), try again later";
      case no_data:
        return "the name is valid but has no address of the requested kind";
      case no_recovery:
        return "a non-recoverable error occurred during name resolution";
      case service_not_found:
        return "service not found for the requested socket type";
      case socket_type_not_supported:
        return "socket type not supported";
      case address_family_not_supported:
        return "address family not supported";
      case write_after_eof:
        return "write after end of stream (write_eof already succeeded on this sink)";
    }
    return "unknown senet error " + std::to_string(value);
  }

  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<net_errc>(value)) {
      case operation_aborted:
        return std::errc::operation_canceled;
      case not_open:
        return std::errc::bad_file_descriptor;
      case address_family_not_supported:
        return std::errc::address_family_not_supported;
      default:
        return {value, *this};
    }
  }
};

std::error_code system_code(std::errc e) noexcept {
  return {static_cast<int>(e), detail::errno_category()};
}

}  // namespace

const std::error_category& category() noexcept {
  static const senet_category instance;
  return instance;
}

// (errno_value is unused on Windows, which has no EAI_SYSTEM.)
std::error_code make_gai_error(int eai_code, [[maybe_unused]] int errno_value) noexcept {
  switch (eai_code) {
    case 0:
      return {};
    case EAI_NONAME:
      return host_not_found;
    case EAI_AGAIN:
      return host_not_found_try_again;
    case EAI_FAIL:
      return no_recovery;
#ifdef EAI_NODATA
    case EAI_NODATA:
      return no_data;
#endif
    case EAI_SERVICE:
      return service_not_found;
    case EAI_SOCKTYPE:
      return socket_type_not_supported;
    case EAI_FAMILY:
      return address_family_not_supported;
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY:
      return address_family_not_supported;
#endif
#ifdef EAI_CANCELED
    case EAI_CANCELED:
      return operation_aborted;
#endif
    case EAI_BADFLAGS:
      return system_code(std::errc::invalid_argument);
    case EAI_MEMORY:
      return system_code(std::errc::not_enough_memory);
#ifndef _WIN32
    case EAI_OVERFLOW:
      return system_code(std::errc::no_buffer_space);
    case EAI_SYSTEM:
      // A failure must never read as success, even if errno was not set.
      if (errno_value == 0) {
        return no_recovery;
      }
      return std::error_code(errno_value, std::system_category());
#endif
    default:
      return no_recovery;
  }
}

}  // namespace senet::error
