// SPDX-License-Identifier: BSL-1.0
// read_env of a query the receiver's environment cannot answer is diagnosed by name.
// expected-error-regex: senet::execution::read_env: the receiver's environment has no value for this query
#include <senet/execution.hpp>

int main() {
  namespace ex = senet::ex;
  // sync_wait's environment has a scheduler but no allocator.
  ex::sync_wait(ex::read_env(ex::get_allocator));
}
