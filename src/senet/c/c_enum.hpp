// SPDX-License-Identifier: BSL-1.0
// Reading a C enum argument of the C API as the int it is in C (shared by every platform's
// implementation).
#ifndef SENET_SRC_C_C_ENUM_HPP
#define SENET_SRC_C_C_ENUM_HPP

#include <cstring>

namespace senet::c_api {

// The value a C caller passed for an enum parameter, read as the int it is in C. C lets a program
// pass any int there, while in C++ loading an enum object that holds no enumerator's value is
// undefined (UBSan's -fsanitize=enum reports it): reading the object's bytes is not such a load.
template <class Enum>
int c_enum_value(const Enum& value) noexcept {
  static_assert(sizeof(Enum) == sizeof(int), "C enums are ints here");
  int v;
  std::memcpy(&v, &value, sizeof v);
  return v;
}

}  // namespace senet::c_api

#endif
