// SPDX-License-Identifier: BSL-1.0
// spawn has nowhere to deliver an error, so a sender that may fail is rejected by name.
// expected-error-regex: senet::execution::spawn: the sender must not complete with an error
#include <senet/execution.hpp>

int main() {
  namespace ex = senet::ex;
  ex::counting_scope scope;
  ex::spawn(ex::just() | ex::then([] { throw 1; }), scope.get_token());
  ex::sync_wait(scope.join());
}
