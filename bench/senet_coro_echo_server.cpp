// SPDX-License-Identifier: BSL-1.0
// The senet coroutine echo server the instruction counts of docs/benchmarks.md measure: the
// sessions of examples/echo_server_coro.cpp (examples/echo_session_coro.hpp: a senet::task that
// awaits sock.read_some, then write_now of what came), on one thread and no other, and ending by
// itself after a given number of connections instead of on a signal. Same options and output as
// bench/senet_echo_server.cpp, the sender version. (Valgrind 3.19, the instruction counter
// used where the CPU's counters are not available, holds its global lock while a thread blocks in
// io_uring_enter, so the example's signal thread can never run under it; this server needs none.)
//
//   senet_coro_echo_server [--port N] [--backend uring|epoll] [--exit-after N]
//
// Listens on 127.0.0.1 port N (default 0: any free port), prints "listening on port P", and exits
// with status 0 once N connections (default: unlimited) have been served and closed.
#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/address.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/sockets.hpp>
#include <senet/task.hpp>

#include "../examples/echo_session_coro.hpp"

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

namespace ex = senet::ex;
namespace net = senet::net;
using senet::ip::tcp;

namespace {

// Accepts connections and spawns one echo session task each; the `exit_after`-th finished session
// stops the scope (and with it this loop).
template <class Env>
senet::task<void> accept_loop(tcp::acceptor& acceptor, ex::counting_scope& scope, Env env,
                              std::size_t exit_after, std::size_t& finished) {
  for (;;) {
    auto [s, peer] = co_await net::async_accept(acceptor);
    std::error_code ignored;
    s.set_option(tcp::socket::no_delay{true}, ignored);
    ex::spawn(example::coro_echo_session(std::move(s)) | ex::then([&scope, &finished, exit_after]() noexcept {
                if (++finished == exit_after) {
                  scope.request_stop();
                }
              }) | ex::upon_error([](std::exception_ptr) noexcept {}),
              scope.get_token(), env);
  }
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 0;
  std::optional<senet::io::backend_kind> backend;
  std::size_t exit_after = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view arg = argv[i];
    std::string_view value = argv[i + 1];
    if (arg == "--port") {
      port = static_cast<unsigned short>(std::atoi(argv[i + 1]));
    } else if (arg == "--backend" && (value == "uring" || value == "epoll")) {
      backend = value == "uring" ? senet::io::uring : senet::io::epoll;
    } else if (arg == "--exit-after") {
      exit_after = static_cast<std::size_t>(std::atol(argv[i + 1]));
    } else {
      std::fprintf(stderr,
                   "usage: senet_coro_echo_server [--port N] [--backend uring|epoll] [--exit-after N]\n");
      return 2;
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr,
                 "usage: senet_coro_echo_server [--port N] [--backend uring|epoll] [--exit-after N]\n");
    return 2;
  }
  try {
    std::optional<senet::io::io_context> context;
    if (backend) {
      context.emplace(*backend);
    } else {
      context.emplace();
    }
    senet::io::io_context& ctx = *context;
    auto sch = ctx.get_scheduler();
    tcp::acceptor acceptor(tcp::endpoint(senet::ip::address(senet::ip::address_v4::loopback()), port));
    std::printf("listening on port %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
    std::fflush(stdout);

    ex::counting_scope scope;
    std::size_t finished = 0;
    auto on_ctx = ex::prop{senet::io::get_io_scheduler, sch};
    ex::spawn(accept_loop(acceptor, scope, on_ctx, exit_after, finished) |
                  ex::upon_error([](std::exception_ptr) noexcept {}),
              scope.get_token(), on_ctx);
    ctx.run();
    ex::sync_wait(scope.join());
    std::fprintf(stderr, "senet_coro_echo_server (%s): %zu connection(s) served\n",
                 std::string(senet::io::to_string(ctx.backend())).c_str(), finished);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "senet_coro_echo_server: %s\n", e.what());
    return 1;
  }
}
