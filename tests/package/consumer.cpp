// SPDX-License-Identifier: BSL-1.0
// Built against an installed senet by tests/package/check.cmake.
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/version.hpp>

#include <cstdio>
#include <cstring>

int main() {
  namespace ex = senet::ex;
  auto [v] = ex::sync_wait(ex::just(20) | ex::then([](int x) { return x + 22; })).value();
  std::printf("senet %s: %d\n", senet::version(), v);
  // Without senet::testing a program has no test backend.
  bool no_test_backend = !senet::io::io_context::is_available(senet::io::backend_kind::test);
  return v == 42 && std::strlen(senet::version()) > 0 && no_test_backend ? 0 : 1;
}
