// SPDX-License-Identifier: BSL-1.0
// What the two Boost.Asio echo servers of bench/ share (bench/asio_echo_server.cpp,
// bench/asio_coro_echo_server.cpp): the count of served connections and the program around the
// accept loop (options, the listening socket, SIGINT/SIGTERM, one io_context on one thread).
#ifndef SENET_BENCH_ASIO_SERVER_HPP
#define SENET_BENCH_ASIO_SERVER_HPP

#include "echo_options.h"

#include <boost/asio.hpp>

#include <csignal>
#include <cstdio>
#include <exception>

namespace bench {

namespace asio = boost::asio;

/** The server's io_context and its count of connections served; the `exit_after`-th stops it. */
struct asio_server_state {
  asio::io_context& io;
  unsigned long long exit_after;
  unsigned long long served = 0;

  void session_ended() {
    if (++served == exit_after) {
      io.stop();
    }
  }
};

/** The whole program: parses the options, listens, calls `start_accepting(acceptor, state)` and
    runs the io_context (its concurrency hint says one thread: Asio then takes no locks) until a
    signal or `--exit-after`. Returns main's exit status. */
template <class StartAccepting>
int asio_server_main(int argc, char** argv, const char* name, StartAccepting start_accepting) {
  echo_options options;
  echo_options_parse(argc, argv, name, "epoll", &options);
  try {
    asio::io_context io(1);
    asio_server_state state{io, options.exit_after};
    asio::ip::tcp::acceptor acceptor(io);
    acceptor.assign(asio::ip::tcp::v4(), echo_listen(name, options.port, SOCK_NONBLOCK));
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&io](boost::system::error_code, int) { io.stop(); });
    start_accepting(acceptor, state);
    io.run();
    std::fprintf(stderr, "%s: %llu connection(s) served\n", name, state.served);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
}

}  // namespace bench

#endif  // SENET_BENCH_ASIO_SERVER_HPP
