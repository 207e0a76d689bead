// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_HPP
#define SENET_CORO_HPP

/** The libcoro-compatible facade, `senet::coro`: libcoro 0.15's io_scheduler, task, sync_wait,
    when_all, thread_pool, event, poll and networking API, built on senet's io_context.

    Code written for libcoro 0.15 builds against senet by replacing `#include <coro/coro.hpp>` with
    `#include <senet/coro.hpp>` and adding `namespace coro = senet::coro;`. The differences (what
    senet does better, and the few things it does not provide) are listed in each header and in
    docs/guide.md, "Porting from libcoro".
*/

#include <senet/coro/event.hpp>         // IWYU pragma: export
#include <senet/coro/fd.hpp>            // IWYU pragma: export
#include <senet/coro/io_scheduler.hpp>  // IWYU pragma: export
#include <senet/coro/poll.hpp>          // IWYU pragma: export
#include <senet/coro/sync_wait.hpp>     // IWYU pragma: export
#include <senet/coro/task.hpp>          // IWYU pragma: export
#include <senet/coro/thread_pool.hpp>   // IWYU pragma: export
#include <senet/coro/time.hpp>          // IWYU pragma: export
#include <senet/coro/when_all.hpp>      // IWYU pragma: export

// ---- coro::net (include/senet/coro/net/, the networking half of the facade) ----------------------
// <senet/coro/net.hpp> includes every net header: ip_address, hostname, socket, connect,
// send_status, recv_status, io_result, poll_awaitable, tcp/client, tcp/server, udp/peer.
#include <senet/coro/net.hpp>  // IWYU pragma: export

#endif  // SENET_CORO_HPP
