// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_VERSION_HPP
#define SENET_VERSION_HPP

#include <senet/config.hpp>

namespace senet {

/** The version of the senet library that the program is linked with, as "major.minor.patch". */
[[nodiscard]] const char* version() noexcept;

}  // namespace senet

#endif  // SENET_VERSION_HPP
