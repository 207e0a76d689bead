// SPDX-License-Identifier: BSL-1.0
// The function given to let_value must return a sender; returning a plain value is diagnosed.
// expected-error-regex: senet::execution::let_value/let_error/let_stopped: the function must return a sender
#include <senet/execution.hpp>

int main() {
  namespace ex = senet::ex;
  ex::sync_wait(ex::just(1) | ex::let_value([](int& v) { return v + 1; }));
}
