// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_NET_HPP
#define SENET_CORO_NET_HPP

/** The networking half of the libcoro-compatible facade, `senet::coro::net` (libcoro 0.15's
    `coro::net`): `domain_t`, `ip_address`, `hostname`, `socket` with `make_socket` and
    `make_accept_socket`, the status enums (`connect_status`, `send_status`, `recv_status`),
    `tcp::server`, `tcp::client`, `udp::peer` and `dns::resolver`. `<senet/coro.hpp>` includes
    it. */

#include <senet/coro/net/buffer_concepts.hpp>  // IWYU pragma: export
#include <senet/coro/net/connect.hpp>          // IWYU pragma: export
#include <senet/coro/net/dns/resolver.hpp>     // IWYU pragma: export
#include <senet/coro/net/hostname.hpp>         // IWYU pragma: export
#include <senet/coro/net/io_result.hpp>        // IWYU pragma: export
#include <senet/coro/net/ip_address.hpp>       // IWYU pragma: export
#include <senet/coro/net/poll_awaitable.hpp>   // IWYU pragma: export
#include <senet/coro/net/recv_status.hpp>      // IWYU pragma: export
#include <senet/coro/net/send_status.hpp>      // IWYU pragma: export
#include <senet/coro/net/socket.hpp>           // IWYU pragma: export
#include <senet/coro/net/tcp/client.hpp>       // IWYU pragma: export
#include <senet/coro/net/tcp/server.hpp>       // IWYU pragma: export
#include <senet/coro/net/udp/peer.hpp>         // IWYU pragma: export

#endif  // SENET_CORO_NET_HPP
