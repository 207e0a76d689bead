// SPDX-License-Identifier: BSL-1.0
// The Boost.Asio echo server with completion handlers that senet is compared with (bench/run,
// docs/performance.md): Asio's own idiom, a session object shared by its pending handlers,
// async_read_some into a 16 KiB buffer, then async_write of what came; one io_context run by one
// thread, the concurrency hint saying so (Asio then takes no locks).
//
//   asio_echo_server [--port N] [--exit-after N] [--backend epoll]
//
// Listens on 127.0.0.1 port N (default 0: any free port), prints "listening on port P", and exits
// with status 0 on SIGINT or SIGTERM, or once N connections have been served and closed.
#include "asio_server.hpp"

#include <boost/asio.hpp>

#include <array>
#include <cstddef>
#include <memory>
#include <utility>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

using server_state = bench::asio_server_state;

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, server_state& state) : socket_(std::move(socket)), state_(state) {}
  session(const session&) = delete;
  session& operator=(const session&) = delete;
  ~session() { state_.session_ended(); }

  void read() {
    socket_.async_read_some(asio::buffer(data_),
                            [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                              if (!ec) {
                                self->write(n);
                              }
                            });
  }

 private:
  void write(std::size_t n) {
    asio::async_write(socket_, asio::buffer(data_, n),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (!ec) {
                          self->read();
                        }
                      });
  }

  tcp::socket socket_;
  server_state& state_;
  std::array<char, 16 * 1024> data_;
};

void accept(tcp::acceptor& acceptor, server_state& state) {
  acceptor.async_accept([&acceptor, &state](boost::system::error_code ec, tcp::socket socket) {
    if (!ec) {
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<session>(std::move(socket), state)->read();
    } else if (ec == asio::error::operation_aborted) {
      return;
    }
    // Other accept errors (a connection reset in the backlog, out of descriptors) end only that
    // connection: accept the next.
    accept(acceptor, state);
  });
}

}  // namespace

int main(int argc, char** argv) {
  return bench::asio_server_main(
      argc, argv, "asio_echo_server",
      [](tcp::acceptor& acceptor, server_state& state) { accept(acceptor, state); });
}
