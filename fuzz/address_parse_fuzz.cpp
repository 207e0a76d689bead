// SPDX-License-Identifier: BSL-1.0
// libFuzzer target for the IP address parsers and formatters: `scripts/fuzz address_parse` builds
// and runs it (see fuzz/CMakeLists.txt); every test build replays its corpus, fuzz/corpus/address_parse/.
//
// What it checks, for any input bytes:
// - the parsers never read outside the input (libFuzzer hands over a buffer of exactly that size, so
//   AddressSanitizer catches a read past it: the parsers must never look for a terminating NUL);
// - malformed text gives an error, never an exception or UB, and the result is then unspecified;
// - a parsed address formats to text that parses back to the same address, and that text is
//   canonical (formatting it again gives the same text);
// - without a zone, the parsers accept exactly what glibc's inet_pton accepts, with the same bytes.
#include <senet/ip/address.hpp>

#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

namespace {

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  std::error_code ec4;
  const senet::ip::address_v4 a4 = senet::ip::make_address_v4(text, ec4);
  std::error_code ec6;
  const senet::ip::address_v6 a6 = senet::ip::make_address_v6(text, ec6);
  std::error_code ec;
  const senet::ip::address a = senet::ip::make_address(text, ec);

  if (ec4) {
    check(a4.is_unspecified());
  } else {
    const std::string s = a4.to_string();
    check(s == text);  // dotted decimal without leading zeros has a single spelling
    check(senet::ip::make_address_v4(s) == a4);
  }
  if (ec6) {
    check(a6 == senet::ip::address_v6());
  } else {
    const std::string s = a6.to_string();
    const senet::ip::address_v6 again = senet::ip::make_address_v6(s);
    check(again == a6);
    check(again.to_string() == s);
  }
  if (ec) {
    check(a == senet::ip::address());
  } else {
    check(a.is_v4() ? !ec4 && a.to_v4() == a4 : !ec6 && a.to_v6() == a6);
  }

  // Differential check against inet_pton, which needs a NUL-terminated string without a zone.
  if (text.find('\0') == std::string_view::npos && text.find('%') == std::string_view::npos) {
    const std::string terminated(text);
    unsigned char v4[4];
    const bool pton4 = ::inet_pton(AF_INET, terminated.c_str(), v4) == 1;
    check(pton4 == !ec4);
    if (pton4) {
      check(std::memcmp(v4, a4.to_bytes().data(), 4) == 0);
    }
    unsigned char v6[16];
    const bool pton6 = ::inet_pton(AF_INET6, terminated.c_str(), v6) == 1;
    check(pton6 == !ec6);
    if (pton6) {
      check(std::memcmp(v6, a6.to_bytes().data(), 16) == 0);
    }
  }
  return 0;
}
