// SPDX-License-Identifier: BSL-1.0
// The senet echo server the instruction counts of docs/benchmarks.md measure: the sessions of
// examples/echo_server_senders.cpp (examples/echo_session.hpp: async_read_some, then async_write
// of what came, in example::repeat_until), on one thread and no other, and ending by itself after
// a given number of connections instead of on a signal. (Valgrind 3.19, the instruction counter
// used where the CPU's counters are not available, holds its global lock while a thread blocks in
// io_uring_enter, so the example's signal thread can never run under it; this server needs none.)
//
//   senet_echo_server [--port N] [--backend uring|epoll] [--exit-after N] [--single-thread on|off]
//                     [--batch-wait US]
//
// --single-thread on makes the context with io::context_options::single_thread (io_uring:
// SINGLE_ISSUER + DEFER_TASKRUN and a registered ring descriptor); it runs on this thread only.
// --batch-wait US sets io::context_options::completion_batch_wait (io_uring, Linux 6.12: under
// load a wait returns a batch of completions, at most US microseconds late; default 20, 0: off).
// Listens on 127.0.0.1 port N (default 0: any free port), prints "listening on port P", and exits
// with status 0 once N connections (default: unlimited) have been served and closed.
#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/address.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/sockets.hpp>

#include "../examples/echo_session.hpp"
#include "../examples/repeat_until.hpp"
#include "senet_server_options.hpp"

#include <cstddef>
#include <cstdio>
#include <exception>
#include <string>

namespace ex = senet::ex;
namespace net = senet::net;
using senet::ip::tcp;

namespace {

struct server_env {
  senet::io::io_context::scheduler_type sch_;
  [[nodiscard]] auto query(ex::get_scheduler_t) const noexcept { return sch_; }
};

}  // namespace

int main(int argc, char** argv) {
  bench::senet_server_options server;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!server.parse(argv[i], argv[i + 1])) {
      std::fprintf(stderr,
                   "usage: senet_echo_server [--port N] [--backend uring|epoll] [--exit-after N] "
                   "[--single-thread on|off] [--batch-wait US]\n");
      return 2;
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr,
                 "usage: senet_echo_server [--port N] [--backend uring|epoll] [--exit-after N] "
                 "[--single-thread on|off] [--batch-wait US]\n");
    return 2;
  }
  try {
    senet::io::io_context ctx{server.context()};
    auto sch = ctx.get_scheduler();
    tcp::acceptor acceptor(tcp::endpoint(senet::ip::address(senet::ip::address_v4::loopback()), server.port));
    std::printf("listening on port %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
    std::fflush(stdout);

    ex::counting_scope scope;
    std::size_t finished = 0;
    auto accept_loop = example::repeat_until([&] {
      return net::async_accept(acceptor) | ex::then([&](tcp::socket s, const tcp::endpoint&) {
               std::error_code ignored;
               s.set_option(tcp::socket::no_delay{true}, ignored);
               ex::spawn(example::echo_session(std::move(s)) | ex::then([&]() noexcept {
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
    const senet::io::backend_info& info = ctx.backend_info();
    std::fprintf(stderr, "senet_echo_server (%s, io_uring setup flags 0x%x): %zu connection(s) served\n",
                 std::string(senet::io::to_string(info.kind)).c_str(), info.uring_setup_flags, finished);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "senet_echo_server: %s\n", e.what());
    return 1;
  }
}
