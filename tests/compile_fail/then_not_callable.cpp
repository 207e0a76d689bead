// SPDX-License-Identifier: BSL-1.0
// A then whose function cannot take the values of its predecessor is diagnosed by name.
// expected-error-regex: senet::execution::then: the function cannot be called with the values the predecessor
#include <senet/execution.hpp>

#include <string>

int main() {
  namespace ex = senet::ex;
  auto sndr = ex::just(42) | ex::then([](std::string const&) { return 0; });
  ex::sync_wait(std::move(sndr));
}
