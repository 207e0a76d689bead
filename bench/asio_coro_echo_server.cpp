// SPDX-License-Identifier: BSL-1.0
// The Boost.Asio echo server with C++20 coroutines that senet is compared with (bench/run,
// docs/performance.md): asio::awaitable sessions spawned with co_spawn, each a loop of
// async_read_some into a 16 KiB buffer, then async_write of what came, errors as values
// (as_tuple, so that a closing peer costs no exception); one io_context run by one thread.
//
//   asio_coro_echo_server [--port N] [--exit-after N] [--backend epoll]
//
// Listens on 127.0.0.1 port N (default 0: any free port), prints "listening on port P", and exits
// with status 0 on SIGINT or SIGTERM, or once N connections have been served and closed.
#include "asio_server.hpp"

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>

#include <array>
#include <cstddef>
#include <utility>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto as_values = asio::as_tuple(asio::use_awaitable);

using server_state = bench::asio_server_state;

asio::awaitable<void> session(tcp::socket socket, server_state& state) {
  std::array<char, 16 * 1024> data;
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(data), as_values);
    if (ec) {
      break;
    }
    auto [write_ec, written] = co_await asio::async_write(socket, asio::buffer(data, n), as_values);
    if (write_ec) {
      break;
    }
  }
  state.session_ended();
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, server_state& state) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(as_values);
    if (ec == asio::error::operation_aborted) {
      co_return;
    }
    // Other accept errors (a connection reset in the backlog, out of descriptors) end only that
    // connection: accept the next.
    if (!ec) {
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      asio::co_spawn(state.io, session(std::move(socket), state), asio::detached);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  return bench::asio_server_main(argc, argv, "asio_coro_echo_server",
                                 [](tcp::acceptor& acceptor, server_state& state) {
                                   asio::co_spawn(state.io, accept_loop(acceptor, state), asio::detached);
                                 });
}
