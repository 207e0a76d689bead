// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_HPP
#define SENET_NET_HPP

/** `<senet/net.hpp>`: senet's sender face in one include (P2762).

    Everything a program needs to do networking with senders: the `io_context` (also as
    `senet::net::io_context`) and its scheduler, `senet::ex` (the std::execution names),
    `io::get_io_scheduler`, buffers and errors, addresses and endpoints (`ip::`, `local::`),
    sockets and acceptors, every `net::async_*` operation, timers (`net::async_wait_for`,
    `net::async_wait_until`, `net::timer`, `net::timeout`), `net::without_stop_token` and name
    resolution (`ip::async_resolve`, `ip::resolver`).

    Example:
    ```cpp
    #include <senet/net.hpp>
    namespace net = senet::net;
    net::io_context ctx;
    ```
    It only includes: each entity is documented in its own header.
*/

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/async_poll.hpp>
#include <senet/io/backend_kind.hpp>
#include <senet/io/forget_descriptor.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/poll_events.hpp>
#include <senet/ip/address.hpp>
#include <senet/ip/address_v4.hpp>
#include <senet/ip/address_v6.hpp>
#include <senet/ip/async_resolve.hpp>
#include <senet/ip/bad_address_cast.hpp>
#include <senet/ip/basic_endpoint.hpp>
#include <senet/ip/resolver.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/ip/udp.hpp>
#include <senet/local/basic_endpoint.hpp>
#include <senet/local/datagram_protocol.hpp>
#include <senet/local/stream_protocol.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_read_some.hpp>
#include <senet/net/async_read_until.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_receive_from.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_send_to.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/async_wait_for.hpp>
#include <senet/net/async_wait_until.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/async_write_some.hpp>
#include <senet/net/basic_datagram_socket.hpp>
#include <senet/net/basic_socket.hpp>
#include <senet/net/basic_socket_acceptor.hpp>
#include <senet/net/basic_stream_socket.hpp>
#include <senet/net/dynamic_buffer.hpp>
#include <senet/net/dynamic_string_buffer.hpp>
#include <senet/net/dynamic_vector_buffer.hpp>
#include <senet/net/io_context.hpp>
#include <senet/net/message_flags.hpp>
#include <senet/net/socket_base.hpp>
#include <senet/net/socket_option.hpp>
#include <senet/net/sockets.hpp>
#include <senet/net/timeout.hpp>
#include <senet/net/timer.hpp>
#include <senet/net/without_stop_token.hpp>

#endif  // SENET_NET_HPP
