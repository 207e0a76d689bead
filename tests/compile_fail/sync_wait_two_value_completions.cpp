// SPDX-License-Identifier: BSL-1.0
// sync_wait needs exactly one value completion; a sender with two is diagnosed by name.
// expected-error-regex: senet::execution::sync_wait: the sender must have exactly one set_value completion
#include <senet/execution.hpp>

namespace ex = senet::ex;

// A sender that may send an int or a double.
struct int_or_double_sender {
  using sender_concept = ex::sender_tag;
  using completion_signatures = ex::completion_signatures<ex::set_value_t(int), ex::set_value_t(double)>;

  template <class Rcvr>
  struct operation {
    void start() & noexcept { ex::set_value(std::move(rcvr_), 1); }
    Rcvr rcvr_;
  };
  template <class Rcvr>
  operation<Rcvr> connect(Rcvr rcvr) const {
    return {std::move(rcvr)};
  }
};

int main() {
  ex::sync_wait(int_or_double_sender{});
}
