// SPDX-License-Identifier: BSL-1.0
// The header is self-contained, and socket_source over a stream socket is a read_source.
#include <senet/stream/socket_source.hpp>

#include <senet/ip/tcp.hpp>
#include <senet/local/stream_protocol.hpp>
#include <senet/net/basic_stream_socket.hpp>

static_assert(senet::stream::read_source<senet::stream::socket_source<senet::ip::tcp::socket>>);
static_assert(
    senet::stream::read_source<senet::stream::socket_source<senet::local::stream_protocol::socket>>);
