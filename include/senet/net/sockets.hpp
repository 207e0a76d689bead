// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_SOCKETS_HPP
#define SENET_NET_SOCKETS_HPP

#include <senet/ip/tcp.hpp>
#include <senet/ip/udp.hpp>
#include <senet/local/datagram_protocol.hpp>
#include <senet/local/stream_protocol.hpp>
#include <senet/net/basic_datagram_socket.hpp>
#include <senet/net/basic_socket_acceptor.hpp>
#include <senet/net/basic_stream_socket.hpp>

/** The socket types for senet's protocols, under short names.

    Including this header also completes the nested aliases of the protocol classes:
    `ip::tcp::socket`, `ip::tcp::acceptor`, `ip::udp::socket`, `local::stream_protocol::socket`,
    `local::stream_protocol::acceptor` and `local::datagram_protocol::socket` name the same types.
*/
namespace senet::net {

/** A TCP connection, IPv4 or IPv6 (`ip::tcp::socket`). */
using tcp_socket = basic_stream_socket<ip::tcp>;
/** A TCP listening socket, IPv4 or IPv6 (`ip::tcp::acceptor`). */
using tcp_acceptor = basic_socket_acceptor<ip::tcp>;
/** A UDP socket, IPv4 or IPv6 (`ip::udp::socket`). */
using udp_socket = basic_datagram_socket<ip::udp>;
/** A Unix domain stream connection (`local::stream_protocol::socket`). */
using local_stream_socket = basic_stream_socket<local::stream_protocol>;
/** A Unix domain listening socket (`local::stream_protocol::acceptor`). */
using local_stream_acceptor = basic_socket_acceptor<local::stream_protocol>;
/** A Unix domain datagram socket (`local::datagram_protocol::socket`). */
using local_datagram_socket = basic_datagram_socket<local::datagram_protocol>;

/** The default stream socket: TCP. */
using stream_socket = tcp_socket;
/** The default acceptor: TCP. */
using acceptor = tcp_acceptor;
/** The default datagram socket: UDP. */
using datagram_socket = udp_socket;

}  // namespace senet::net

#endif  // SENET_NET_SOCKETS_HPP
