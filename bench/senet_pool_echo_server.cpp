// SPDX-License-Identifier: BSL-1.0
// The echo server on a buffer pool that docs/benchmarks.md measures: each session receives with
// net::async_receive(socket, pool) (io_uring: the socket's multishot receive into the pool's
// provided-buffer ring; epoll: recv into pool buffers on each edge) and writes back what came
// with net::async_write, giving the buffer back when the write is done; an idle session holds no
// buffer. One thread and no other, ending by itself after a given number of connections (see
// bench/senet_echo_server.cpp for why), with that server's options and output.
//
//   senet_pool_echo_server [--port N] [--backend uring|epoll] [--exit-after N]
//                          [--single-thread on|off] [--batch-wait US]
//                          [--buffer-size BYTES] [--buffers N]
//
// Listens on 127.0.0.1 port N (default 0: any free port), prints "listening on port P", and exits
// with status 0 once N connections (default: unlimited) have been served and closed. The pool has
// --buffers (default 1024) buffers of --buffer-size (default 4096) bytes; stderr says whether the
// kernel consumes them incrementally (io_uring, Linux 6.12: a message then takes its bytes, not a
// whole buffer). --single-thread and --batch-wait are bench/senet_echo_server's.
#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/address.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/buffer_pool.hpp>
#include <senet/net/pooled_buffer.hpp>
#include <senet/net/sockets.hpp>

#include "../examples/repeat_until.hpp"
#include "pool_echo_session.hpp"
#include "senet_server_options.hpp"

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

namespace ex = senet::ex;
namespace net = senet::net;
using senet::ip::tcp;

namespace {

struct server_env {
  senet::io::io_context::scheduler_type sch_;
  [[nodiscard]] auto query(ex::get_scheduler_t) const noexcept { return sch_; }
};

void usage() {
  std::fprintf(stderr,
               "usage: senet_pool_echo_server [--port N] [--backend uring|epoll] [--exit-after N] "
               "[--single-thread on|off] [--batch-wait US] [--buffer-size BYTES] [--buffers N]\n");
}

}  // namespace

int main(int argc, char** argv) {
  bench::senet_server_options server;
  net::buffer_pool_options pool_options{.buffer_size = 4096, .buffer_count = 1024};
  if (argc % 2 == 0) {
    usage();
    return 2;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view arg = argv[i];
    if (server.parse(arg, argv[i + 1])) {
      continue;
    }
    if (arg == "--buffer-size") {
      pool_options.buffer_size = static_cast<std::size_t>(std::atol(argv[i + 1]));
    } else if (arg == "--buffers") {
      pool_options.buffer_count = static_cast<std::size_t>(std::atol(argv[i + 1]));
    } else {
      usage();
      return 2;
    }
  }
  try {
    senet::io::io_context ctx{server.context()};
    auto sch = ctx.get_scheduler();
    net::buffer_pool pool(ctx, pool_options);
    tcp::acceptor acceptor(tcp::endpoint(senet::ip::address(senet::ip::address_v4::loopback()), server.port));
    std::printf("listening on port %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
    std::fflush(stdout);
    std::fprintf(stderr, "buffer pool: %zu buffers of %zu bytes, %s\n", pool.buffer_count(),
                 pool.buffer_size(), pool.incremental() ? "consumed incrementally" : "a buffer per receive");

    ex::counting_scope scope;
    std::size_t finished = 0;
    auto accept_loop = example::repeat_until([&] {
      return net::async_accept(acceptor) | ex::then([&](tcp::socket s, const tcp::endpoint&) {
               std::error_code ignored;
               s.set_option(tcp::socket::no_delay{true}, ignored);
               ex::spawn(bench::pool_echo_session(std::move(s), pool) | ex::then([&]() noexcept {
                           if (++finished == server.exit_after) {
                             scope.request_stop();
                           }
                         }),
                         scope.get_token(), server_env{sch});
               return false;
             });
    });
    ex::spawn(std::move(accept_loop) | ex::upon_error([](auto&&) noexcept {}), scope.get_token(),
              server_env{sch});
    ctx.run();
    ex::sync_wait(scope.join());
    std::fprintf(stderr, "senet_pool_echo_server (%s): %zu connection(s) served\n",
                 std::string(senet::io::to_string(ctx.backend())).c_str(), finished);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "senet_pool_echo_server: %s\n", e.what());
    return 1;
  }
}
