// SPDX-License-Identifier: BSL-1.0
// A pooled receive (net::async_receive(socket, pool)) on a datagram socket must not compile, and
// must say why: a pool's buffers hold a byte stream, which loses datagram boundaries.
// clang-format off
// expected-error-regex: async_receive\(socket, pool\) receives from a stream socket
// clang-format on
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/udp.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/buffer_pool.hpp>
#include <senet/net/sockets.hpp>

int main() {
  senet::io::io_context ctx;
  senet::net::buffer_pool pool(ctx);
  senet::ip::udp::socket socket(senet::ip::udp::v4());
  auto sender = senet::net::async_receive(ctx.get_scheduler(), socket, pool);
  (void)sender;
  return 0;
}
