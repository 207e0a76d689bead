// SPDX-License-Identifier: BSL-1.0
// One connection of the coroutine echo server (examples/echo_server_coro.cpp): read what is there,
// write all of it back, until the peer closes. bench/senet_coro_echo_server.cpp measures these
// same sessions, so both include this file.
#ifndef SENET_EXAMPLES_ECHO_SESSION_CORO_HPP
#define SENET_EXAMPLES_ECHO_SESSION_CORO_HPP

#include <senet/buffer.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/basic_stream_socket.hpp>
#include <senet/stream/write_now.hpp>
#include <senet/task.hpp>

#include <array>

namespace example {

/** Echoes on `s` until the peer closes. Nothing throws: the awaitables give error codes, and any
    error (a reset, the stop of a shutdown: `operation_aborted`) just ends the connection. The
    socket and the buffer live in the coroutine's frame, its one allocation; `write_now` writes all
    of what came, without suspending when the kernel takes it at once. */
inline senet::task<void> coro_echo_session(senet::ip::tcp::socket s) {
  std::array<char, 16 * 1024> buffer;
  senet::stream::write_now write_all(s);
  for (;;) {
    auto [ec, n] = co_await s.read_some(senet::buffer(buffer));
    if (ec) {
      co_return;  // senet::error::eof: the peer closed
    }
    auto [write_ec, written] = co_await write_all(senet::buffer(buffer.data(), n));
    if (write_ec) {
      co_return;
    }
  }
}

}  // namespace example

#endif  // SENET_EXAMPLES_ECHO_SESSION_CORO_HPP
