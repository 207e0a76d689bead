// SPDX-License-Identifier: BSL-1.0
#include <senet/version.hpp>

#define SENET_STRINGIFY_IMPL(x) #x
#define SENET_STRINGIFY(x) SENET_STRINGIFY_IMPL(x)

namespace senet {

const char* version() noexcept {
  return SENET_STRINGIFY(SENET_VERSION_MAJOR) "." SENET_STRINGIFY(SENET_VERSION_MINOR) "." SENET_STRINGIFY(
      SENET_VERSION_PATCH);
}

}  // namespace senet
