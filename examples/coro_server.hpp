// SPDX-License-Identifier: BSL-1.0
// What the coroutine servers (examples/echo_server_coro.cpp, examples/http_server.cpp) share: the
// accept loop that spawns one session task per connection and survives accept errors, and the
// program around it (signals, the io_context, the counting_scope, a clean shutdown).
//
// The shape (docs/guide.md, "Coroutines"): the accept loop and every session are tasks spawned
// into one counting_scope; the signal thread's scope.request_stop() stops the pending accept and
// every session's pending operation, and the program waits until all of them have ended.
#ifndef SENET_EXAMPLES_CORO_SERVER_HPP
#define SENET_EXAMPLES_CORO_SERVER_HPP

#include <senet/execution.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/address.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_wait_for.hpp>
#include <senet/net/sockets.hpp>
#include <senet/task.hpp>

#include "server_options.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <new>
#include <optional>
#include <system_error>
#include <thread>

namespace example {

struct accept_stats {
  std::size_t accepted = 0;
  bool failed = false;
};

// The accept loop: each connection becomes the task `make_session(std::move(socket))`, spawned into
// `scope`. An accept error does not end the server (see accept_action): when descriptors or memory
// run out it logs once, waits a little and tries again; a connection that died in the backlog is
// skipped. A stop request (the scope's) cancels the pending accept or wait, which ends this task.
// `name` prefixes the log lines ("echo server").
template <class Env, class MakeSession>
senet::task<void> accept_loop(senet::ip::tcp::acceptor& acceptor, senet::ex::counting_scope& scope, Env env,
                              accept_stats& stats, const char* name, MakeSession make_session) {
  namespace ex = senet::ex;
  using senet::ip::tcp;
  bool backing_off = false;
  for (;;) {
    std::error_code ec;
    try {
      auto [s, peer] = co_await senet::net::async_accept(acceptor);
      if (backing_off) {
        backing_off = false;
        std::fprintf(stderr, "%s: accepting again\n", name);
      }
      std::error_code ignored;
      s.set_option(tcp::socket::no_delay{true}, ignored);
      // A session never fails (it ends on any error), so upon_error only satisfies spawn, which
      // takes work that cannot fail; an allocation failure of its frame is thrown here.
      ex::spawn(make_session(std::move(s)) | ex::upon_error([](std::exception_ptr) noexcept {}),
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
      std::fprintf(stderr, "%s: accept failed: %s\n", name, ec.message().c_str());
      scope.request_stop();  // ends the sessions too, and the program
      co_return;
    }
    if (action == accept_action::back_off) {
      if (!backing_off) {
        backing_off = true;  // once per burst: the next accepted connection ends it
        std::fprintf(stderr, "%s: accept failed: %s; retrying in %lld ms\n", name, ec.message().c_str(),
                     static_cast<long long>(accept_backoff.count()));
      }
      co_await senet::net::async_wait_for(accept_backoff);
    }
  }
}

// Runs a server until SIGINT or SIGTERM (exit status 0) or a fatal accept error (1): listens on the
// options' address and port, prints "listening on port N" on stdout, and serves each connection
// with `make_session(std::move(socket))` (a senet::task<void> that never fails). `name` prefixes
// the log lines on stderr.
template <class MakeSession>
int run_server(const options& opts, const char* name, MakeSession make_session) {
  namespace ex = senet::ex;
  using senet::ip::tcp;
  // SIGINT and SIGTERM are blocked in every thread and received by one thread with sigwait, which
  // stops the scope; no signal handler is installed.
  sigset_t signals = block_stop_signals();

  try {
    std::optional<senet::io::io_context> context;
    if (!open_context(opts, context)) {
      return 2;
    }
    senet::io::io_context& ctx = *context;
    auto sch = ctx.get_scheduler();

    tcp::acceptor acceptor(tcp::endpoint(senet::ip::make_address(opts.address), opts.port));
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
    ex::spawn(accept_loop(acceptor, scope, on_ctx, stats, name, make_session) |
                  ex::upon_error([&stats, name](std::exception_ptr) noexcept {
                    stats.failed = true;
                    std::fprintf(stderr, "%s: the accept loop failed\n", name);
                  }),
              scope.get_token(), on_ctx);
    ctx.run();
    ex::sync_wait(scope.join());

    if (!signalled) {
      // The server ended by itself (an accept error): wake the signal thread.
      pthread_kill(signal_thread.native_handle(), SIGTERM);
    }
    signal_thread.join();
    std::fprintf(stderr, "%s: %zu connection(s) served\n", name, stats.accepted);
    return stats.failed ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
}

}  // namespace example

#endif  // SENET_EXAMPLES_CORO_SERVER_HPP
