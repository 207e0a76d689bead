// SPDX-License-Identifier: BSL-1.0
// The adaptor form `sndr | net::async_...(...)` after a sender that does not say where it
// completes (here: just()) must not compile, and must say why.
// expected-error-regex: `sndr` must say which scheduler it completes on
#include <senet/execution.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/sockets.hpp>

int main() {
  senet::ip::tcp::acceptor acceptor;
  auto sndr = senet::ex::just() | senet::net::async_accept(acceptor);
  (void)sndr;
}
