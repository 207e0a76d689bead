// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_FD_HPP
#define SENET_CORO_FD_HPP

namespace senet::coro {

/** A file descriptor, as libcoro 0.15 names it (`coro::fd_t`): what `io_scheduler::poll` waits on
    and what `net::socket::native_handle()` returns. */
using fd_t = int;

}  // namespace senet::coro

#endif  // SENET_CORO_FD_HPP
