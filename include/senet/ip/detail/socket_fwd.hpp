// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IP_DETAIL_SOCKET_FWD_HPP
#define SENET_IP_DETAIL_SOCKET_FWD_HPP

// Declarations of the socket class templates that the protocol classes (ip::tcp, ip::udp,
// local::stream_protocol) name in their nested aliases (`tcp::socket`, `tcp::acceptor`, ...). The
// templates are defined in include/senet/net/; a program that uses an alias includes the header
// that defines it (`<senet/net/basic_stream_socket.hpp>`), so the vocabulary headers stay free of
// the I/O layer. The definitions there must keep exactly this form: one type parameter, class-key
// `class`.

namespace senet::net {

template <class Protocol>
class basic_stream_socket;

template <class Protocol>
class basic_datagram_socket;

template <class Protocol>
class basic_socket_acceptor;

}  // namespace senet::net

#endif  // SENET_IP_DETAIL_SOCKET_FWD_HPP
