// SPDX-License-Identifier: BSL-1.0
// One connection of the echo server (examples/echo_server_senders.cpp): receive what is there,
// write all of it back, until the peer closes. bench/senet_echo_server.cpp measures these same
// sessions, so both include this file.
#ifndef SENET_EXAMPLES_ECHO_SESSION_HPP
#define SENET_EXAMPLES_ECHO_SESSION_HPP

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_read_some.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/basic_stream_socket.hpp>

#include <array>
#include <cstddef>
#include <utility>

namespace example {

/** A sender that echoes on `socket` until the peer closes; a connection that fails (reset by its
    peer) just ends, so the sender always completes with `set_value()` or `set_stopped()`.

    The socket and the 16 KiB buffer are captured by the function of `let_value`, which lives in
    the session's operation state for as long as the session runs: one copy of each per
    connection. (`ex::let_value(ex::just(std::move(socket), buffer), f)` would hold two: `just`
    keeps its values in its own operation state, and `let_value` keeps the copies it gives `f`.) */
inline auto echo_session(senet::ip::tcp::socket socket) {
  namespace ex = senet::ex;
  namespace net = senet::net;
  return ex::let_value(
             ex::just(),
             [s = std::move(socket), buffer = std::array<char, 16 * 1024>{}]() mutable {
               return ex::repeat_effect_until(net::async_read_some(s, senet::buffer(buffer)) |
                                              ex::let_value([&s, &buffer](std::size_t n) {
                                                return net::async_write(s, senet::buffer(buffer, n));
                                              }) |
                                              // A zero-byte read means the peer closed: the session is done.
                                              ex::then([](std::size_t n) noexcept { return n == 0; }));
             }) |
         ex::upon_error([](auto&&) noexcept {});
}

}  // namespace example

#endif  // SENET_EXAMPLES_ECHO_SESSION_HPP
