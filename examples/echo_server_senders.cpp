// SPDX-License-Identifier: BSL-1.0
// An echo server written with senders: one thread, any number of concurrent connections.
//
//   echo_server_senders [--port N] [--address A] [--backend uring|epoll] [--help]
//
// It listens on A (default 127.0.0.1) port N (default 0: the kernel picks a free port), prints
// "listening on port N" on stdout, and sends every byte it receives back to its sender. SIGINT or
// SIGTERM stop it: it stops accepting, ends the open connections, and exits with status 0.
//
// It keeps serving when accept fails for want of resources (too many open files, no memory): it
// says so once on stderr, waits a moment and accepts again; see accept_action in server_options.hpp.
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/address.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/sockets.hpp>

#include "echo_session.hpp"
#include "repeat_until.hpp"
#include "server_options.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>

namespace ex = senet::ex;
namespace net = senet::net;
using senet::ip::tcp;

namespace example {

// The environment the server's work runs in: the context's scheduler, for its networking senders.
// (The stop token comes from the scope the work is spawned in.)
struct server_env {
  senet::io::io_context::scheduler_type sch_;
  [[nodiscard]] auto query(ex::get_scheduler_t) const noexcept { return sch_; }
};

}  // namespace example

namespace {

using example::server_env;

using example::accept_action;
using example::accept_backoff;
using example::classify;
using example::options;

void usage(std::FILE* out) {
  example::usage(out, "echo_server_senders");
}
std::optional<options> parse(int argc, char** argv) {
  return example::parse(argc, argv, "echo_server_senders");
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<options> opts = parse(argc, argv);
  if (!opts) {
    usage(stderr);
    return 2;
  }

  // SIGINT and SIGTERM are blocked in every thread and received by one thread with sigwait, which
  // stops the io_context; no signal handler is installed.
  sigset_t signals = example::block_stop_signals();

  try {
    std::optional<senet::io::io_context> context;
    if (!example::open_context(*opts, context)) {
      return 2;
    }
    senet::io::io_context& ctx = *context;
    auto sch = ctx.get_scheduler();

    tcp::acceptor acceptor(tcp::endpoint(senet::ip::make_address(opts->address), opts->port));
    std::printf("listening on port %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
    std::fflush(stdout);

    // Everything the server does is work spawned in `scope`: the accept loop and one session per
    // connection. A stop request on the scope (from the signal thread) stops them all; ctx.run()
    // returns once none is left.
    ex::counting_scope scope;
    std::atomic<bool> signalled{false};
    std::thread signal_thread([&] {
      int sig = 0;
      if (sigwait(&signals, &sig) == 0 && sig != 0) {
        signalled = true;
        scope.request_stop();
      }
    });

    // The accept loop. Each step accepts one connection and spawns its session. An accept error
    // does not end the server (see accept_action): when descriptors or memory run out it logs once,
    // waits a little and tries again; a connection that died in the backlog is skipped.
    std::size_t accepted = 0;
    bool failed = false;
    bool backing_off = false;
    auto accept_loop = example::repeat_until([&] {
      return net::async_accept(acceptor) | ex::then([&](tcp::socket s, const tcp::endpoint&) {
               if (backing_off) {
                 backing_off = false;
                 std::fprintf(stderr, "echo server: accepting again\n");
               }
               std::error_code ignored;
               s.set_option(tcp::socket::no_delay{true}, ignored);
               ex::spawn(example::echo_session(std::move(s)), scope.get_token(), server_env{sch});
               ++accepted;
               return false;
             }) |
             ex::let_error([&](auto&& error) {
               std::error_code ec;
               if constexpr (std::is_same_v<std::decay_t<decltype(error)>, std::error_code>) {
                 ec = error;
               } else {
                 ec = std::make_error_code(std::errc::not_enough_memory);  // an exception: bad_alloc
               }
               accept_action action = classify(ec);
               if (action == accept_action::back_off && !backing_off) {
                 backing_off = true;  // once per burst: the next accepted connection ends it
                 std::fprintf(stderr, "echo server: accept failed: %s; retrying in %lld ms\n",
                              ec.message().c_str(), static_cast<long long>(accept_backoff.count()));
               } else if (action == accept_action::stop) {
                 failed = true;
                 std::fprintf(stderr, "echo server: accept failed: %s\n", ec.message().c_str());
               }
               auto delay = action == accept_action::back_off ? accept_backoff : std::chrono::milliseconds(0);
               return net::async_wait_for(delay) |
                      ex::then([action] { return action == accept_action::stop; });
             });
    });
    ex::spawn(std::move(accept_loop) | ex::upon_error([&failed](auto&&) noexcept {
                failed = true;
                std::fprintf(stderr, "echo server: the accept loop failed\n");
              }),
              scope.get_token(), server_env{sch});
    ctx.run();
    ex::sync_wait(scope.join());

    if (!signalled) {
      // The server ended by itself (an accept error): wake the signal thread.
      pthread_kill(signal_thread.native_handle(), SIGTERM);
    }
    signal_thread.join();
    std::fprintf(stderr, "echo server: %zu connection(s) served\n", accepted);
    return failed ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo server: %s\n", e.what());
    return 1;
  }
}
