// SPDX-License-Identifier: BSL-1.0
// Built against an installed senet by tests/package/check.cmake.
#include <senet/execution.hpp>
#include <senet/version.hpp>

#include <cstdio>
#include <cstring>

int main() {
  namespace ex = senet::ex;
  auto [v] = ex::sync_wait(ex::just(20) | ex::then([](int x) { return x + 22; })).value();
  std::printf("senet %s: %d\n", senet::version(), v);
  return v == 42 && std::strlen(senet::version()) > 0 ? 0 : 1;
}
