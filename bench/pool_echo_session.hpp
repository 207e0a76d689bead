// SPDX-License-Identifier: BSL-1.0
// One connection of the buffer-pool echo server (bench/senet_pool_echo_server.cpp): receive into
// a pool buffer, write it back, until the peer closes. tests/net/buffer_pool_test.cpp holds the
// memory an idle one of these sessions keeps (issue 10's budget), so both include this file.
#ifndef SENET_BENCH_POOL_ECHO_SESSION_HPP
#define SENET_BENCH_POOL_ECHO_SESSION_HPP

#include <senet/execution.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/buffer_pool.hpp>
#include <senet/net/pooled_buffer.hpp>

#include <cstddef>
#include <utility>

namespace bench {

/** A sender that echoes on `socket`, receiving into `pool`, until the peer closes; a connection
    that fails just ends. The buffer goes back to the pool when its write is done. */
inline auto pool_echo_session(senet::ip::tcp::socket socket, senet::net::buffer_pool& pool) {
  namespace ex = senet::ex;
  namespace net = senet::net;
  return ex::let_value(ex::just(std::move(socket)),
                       [&pool](senet::ip::tcp::socket& s) {
                         return ex::repeat_effect_until(
                             net::async_receive(s, pool) | ex::let_value([&s](net::pooled_buffer& b) {
                               // An empty buffer is the end of the stream: the session is done.
                               bool end = b.empty();
                               return net::async_write(s, b.buffer()) |
                                      ex::then([end](std::size_t) noexcept { return end; });
                             }));
                       }) |
         ex::upon_error([](auto&&) noexcept {});
}

}  // namespace bench

#endif  // SENET_BENCH_POOL_ECHO_SESSION_HPP
