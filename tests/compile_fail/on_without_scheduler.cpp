// SPDX-License-Identifier: BSL-1.0
// on(sch, sndr) connected to a receiver whose environment has no scheduler to return to is
// diagnosed by name.
// expected-error-regex: senet::execution::on: the receiver's environment has no scheduler to return to
#include <senet/execution.hpp>

namespace ex = senet::ex;

struct receiver_without_env {
  using receiver_concept = ex::receiver_tag;
  void set_value(int) && noexcept {}
  void set_stopped() && noexcept {}
};

int main() {
  ex::run_loop loop;
  auto op = ex::connect(ex::on(loop.get_scheduler(), ex::just(1)), receiver_without_env{});
  ex::start(op);
}
