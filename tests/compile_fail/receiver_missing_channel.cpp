// SPDX-License-Identifier: BSL-1.0
// Connecting a sender to a receiver that lacks one of its completion channels is diagnosed by name.
// expected-error-regex: senet::execution::connect: the receiver does not accept the completion signature
#include <senet/execution.hpp>

#include <system_error>

namespace ex = senet::ex;

struct value_only_receiver {
  using receiver_concept = ex::receiver_tag;
  void set_value(int) && noexcept {}
};

int main() {
  // just_error sends set_error_t(std::error_code), which the receiver cannot take.
  auto op = ex::connect(ex::just_error(std::make_error_code(std::errc::timed_out)), value_only_receiver{});
  ex::start(op);
}
