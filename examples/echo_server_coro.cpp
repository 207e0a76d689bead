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
// every session's pending read, and the program waits until all of them have ended. That program
// is examples/coro_server.hpp, which examples/http_server.cpp shares.
#include <senet/ip/tcp.hpp>

#include "coro_server.hpp"
#include "echo_session_coro.hpp"
#include "server_options.hpp"

#include <optional>

int main(int argc, char** argv) {
  std::optional<example::options> opts = example::parse(argc, argv, "echo_server_coro");
  if (!opts) {
    example::usage(stderr, "echo_server_coro");
    return 2;
  }
  return example::run_server(*opts, "echo server", [](senet::ip::tcp::socket s) {
    return example::coro_echo_session(std::move(s));
  });
}
