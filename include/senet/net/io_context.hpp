// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_IO_CONTEXT_HPP
#define SENET_NET_IO_CONTEXT_HPP

#include <senet/io/io_context.hpp>

namespace senet::net {

/** `senet::net::io_context`: the event loop of the networking operations, `senet::io::io_context`
    under the name that Asio (`asio::io_context`), the Networking TS (`std::net::io_context`) and
    beman.net spell. The same type: everything about it is documented on `senet::io::io_context`.
*/
using io_context = io::io_context;

}  // namespace senet::net

#endif  // SENET_NET_IO_CONTEXT_HPP
