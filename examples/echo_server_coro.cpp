// SPDX-License-Identifier: BSL-1.0
// An echo server written with coroutines (senet::task): one thread, any number of concurrent
// connections, one task per connection.
//
//   echo_server_coro [--port N] [--address A] [--backend uring|epoll] [--help]
//
// It listens on A (default 127.0.0.1) port N (default 0: the kernel picks a free port), prints
// "listening on port N" on stdout, and sends every byte it receives back to its sender. SIGINT or
// SIGTERM stop it: it stops accepting, ends the open connections, and exits with status 0.
//
// It keeps serving when accept fails for want of resources (too many open files, no memory): it
// says so once on stderr, waits a moment and accepts again; see accept_action in server_options.hpp.
//
// The shape (docs/guide.md, "Coroutines"): the accept loop and every session are tasks spawned
// into one counting_scope; the signal thread's scope.request_stop() stops the pending accept and
// every session's pending read, and the program waits until all of them have ended.
#include <senet/execution.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/address.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_wait_for.hpp>
#include <senet/net/sockets.hpp>
#include <senet/task.hpp>

#include "echo_session_coro.hpp"
#include "server_options.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

namespace ex = senet::ex;
namespace net = senet::net;
using senet::ip::tcp;

namespace {

using example::accept_action;
using example::accept_backoff;
using example::classify;
using example::options;

struct accept_stats {
  std::size_t accepted = 0;
  bool failed = false;
};

// The accept loop: each connection becomes an echo_session task spawned into `scope`. An accept
// error does not end the server (see accept_action): when descriptors or memory run out it logs
// once, waits a little and tries again; a connection that died in the backlog is skipped. A stop
// request (the scope's) cancels the pending accept or wait, which ends this task.
template <class Env>
senet::task<void> accept_loop(tcp::acceptor& acceptor, ex::counting_scope& scope, Env env,
                              accept_stats& stats) {
  bool backing_off = false;
  for (;;) {
    std::error_code ec;
    try {
      auto [s, peer] = co_await net::async_accept(acceptor);
      if (backing_off) {
        backing_off = false;
        std::fprintf(stderr, "echo server: accepting again\n");
      }
      std::error_code ignored;
      s.set_option(tcp::socket::no_delay{true}, ignored);
      // echo_session never fails (it ends on any error), so upon_error only satisfies spawn,
      // which takes work that cannot fail; an allocation failure of its frame is thrown here.
      ex::spawn(example::echo_session(std::move(s)) | ex::upon_error([](std::exception_ptr) noexcept {}),
                scope.get_token(), env);
      ++stats.accepted;
      continue;
    } catch (const std::system_error& e) {
      ec = e.code();
    } catch (const std::bad_alloc&) {
      ec = std::make_error_code(std::errc::not_enough_memory);
    }
    accept_action action = classify(ec);
    if (action == accept_action::stop) {
      stats.failed = true;
      std::fprintf(stderr, "echo server: accept failed: %s\n", ec.message().c_str());
      scope.request_stop();  // ends the sessions too, and the program
      co_return;
    }
    if (action == accept_action::back_off) {
      if (!backing_off) {
        backing_off = true;  // once per burst: the next accepted connection ends it
        std::fprintf(stderr, "echo server: accept failed: %s; retrying in %lld ms\n", ec.message().c_str(),
                     static_cast<long long>(accept_backoff.count()));
      }
      co_await net::async_wait_for(accept_backoff);
    }
  }
}

void usage(std::FILE* out) {
  example::usage(out, "echo_server_coro");
}
std::optional<options> parse(int argc, char** argv) {
  return example::parse(argc, argv, "echo_server_coro");
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

    // Everything runs in this environment: the context's I/O scheduler, for the tasks' networking
    // operations (the stop token comes from the scope).
    auto on_ctx = ex::prop{senet::io::get_io_scheduler, sch};
    accept_stats stats;
    ex::spawn(
        accept_loop(acceptor, scope, on_ctx, stats) | ex::upon_error([&stats](std::exception_ptr) noexcept {
          stats.failed = true;
          std::fprintf(stderr, "echo server: the accept loop failed\n");
        }),
        scope.get_token(), on_ctx);
    ctx.run();
    ex::sync_wait(scope.join());

    if (!signalled) {
      // The server ended by itself (an accept error): wake the signal thread.
      pthread_kill(signal_thread.native_handle(), SIGTERM);
    }
    signal_thread.join();
    std::fprintf(stderr, "echo server: %zu connection(s) served\n", stats.accepted);
    return stats.failed ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo server: %s\n", e.what());
    return 1;
  }
}
