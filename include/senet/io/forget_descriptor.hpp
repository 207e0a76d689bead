// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_FORGET_DESCRIPTOR_HPP
#define SENET_IO_FORGET_DESCRIPTOR_HPP

#include <senet/io/detail/foreign_descriptor.hpp>
#include <senet/io/io_context.hpp>

namespace senet::io {

/** Makes `ctx` forget the foreign descriptor `fd` that `io::async_poll` waited on, before its
    owner closes it: waits still pending on `fd` complete with `senet::error::operation_aborted`
    (in a later turn of the loop), and the backend drops its registration. Returns whether the
    context knew `fd`; forgetting an unknown descriptor does nothing. A later `async_poll` on `fd`
    registers it afresh.

    Thread safety: any thread. On the thread that runs `ctx` (from a completion, for instance) it
    is done at once; from another thread while `ctx` runs, it is handed to that thread and this
    call waits until it is done (as `basic_socket::close` does); while no thread runs `ctx`, the
    calling thread does it.
*/
inline bool forget_descriptor(io_context& ctx, int fd) {
  return detail::forget_foreign_descriptor(ctx, fd);
}

/** `forget_descriptor(sch.context(), fd)`. */
template <detail::io_scheduler Sch>
bool forget_descriptor(const Sch& sch, int fd) {
  return detail::forget_foreign_descriptor(sch.context(), fd);
}

}  // namespace senet::io

#endif  // SENET_IO_FORGET_DESCRIPTOR_HPP
