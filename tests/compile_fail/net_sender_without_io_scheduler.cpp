// SPDX-License-Identifier: BSL-1.0
// A networking sender connected to a receiver whose environment has no senet I/O scheduler (here:
// sync_wait's run_loop) must not compile, and must say why.
// clang-format off
// expected-error-regex: a networking sender needs a senet I/O scheduler.*senet::io::get_io_scheduler.*pass it explicitly
// clang-format on
#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/sockets.hpp>

int main() {
  senet::ip::tcp::socket socket;
  char data[4];
  auto r = senet::ex::sync_wait(senet::net::async_receive(socket, senet::buffer(data)));
  return r ? 0 : 1;
}
