// SPDX-License-Identifier: BSL-1.0
// when_all cannot combine a child with several value completions; the diagnostic names the rule.
// expected-error-regex: senet::execution::when_all: each sender must have at most one set_value completion
#include <senet/execution.hpp>

namespace ex = senet::ex;

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
  ex::sync_wait(ex::when_all(ex::just(1), int_or_double_sender{}));
}
