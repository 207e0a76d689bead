// SPDX-License-Identifier: BSL-1.0
// The header is self-contained, and a buffered_writer over any write_stream is a write_sink.
#include <senet/stream/buffered_writer.hpp>

#include <senet/ip/tcp.hpp>
#include <senet/local/stream_protocol.hpp>
#include <senet/net/basic_stream_socket.hpp>

static_assert(senet::stream::write_sink<senet::stream::buffered_writer<senet::ip::tcp::socket>>);
static_assert(
    senet::stream::write_sink<senet::stream::buffered_writer<senet::local::stream_protocol::socket>>);
