// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_TYPE_NAME_HPP
#define SENET_TEST_SUPPORT_TYPE_NAME_HPP

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <typeinfo>

namespace senet::test {

/** The readable (demangled) name of the type `info` describes, for failure messages. */
inline std::string demangled_name(std::type_info const& info) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name{abi::__cxa_demangle(info.name(), nullptr, nullptr, &status),
                                              std::free};
  return status == 0 && name ? std::string{name.get()} : std::string{info.name()};
}

/** The readable name of `T`, for failure messages. */
template <class T>
std::string type_name() {
  return demangled_name(typeid(T));
}

/** The readable name of the dynamic type of `value`, for failure messages. */
template <class T>
std::string type_name_of(T const& value) {
  return demangled_name(typeid(value));
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_TYPE_NAME_HPP
