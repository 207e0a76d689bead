// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_DETAIL_FOREIGN_DESCRIPTOR_HPP
#define SENET_IO_DETAIL_FOREIGN_DESCRIPTOR_HPP

/* The per-context registry of descriptors that no senet socket owns (a pipe, an eventfd, another
   library's socket), for io::async_poll: one io::detail::descriptor per fd and context, so that
   several waits on one fd share its registration with the backend. docs/design/io_core.md,
   "Foreign descriptors". */

#include <senet/io/detail/descriptor.hpp>

namespace senet::io {
class io_context;
}  // namespace senet::io

namespace senet::io::detail {

/** The registry's descriptor for `fd` on `ctx`, created on first use (context's thread only).
    Null with `error` set (an `errno` value: EBADF for a negative fd, ENOMEM) when it cannot be
    had. The descriptor stays at its address until `forget_foreign_descriptor` or the context's
    destruction. */
[[nodiscard]] descriptor* foreign_descriptor(io_context& ctx, int fd, int& error) noexcept;

/** Forgets `fd` in `ctx`'s registry: waits pending on it complete with `io_operation::aborted`
    and the backend deregisters it. False if the registry did not know `fd`. On the context's
    thread, or while no thread runs it; std::logic_error when another thread runs it. */
bool forget_foreign_descriptor(io_context& ctx, int fd);

}  // namespace senet::io::detail

#endif  // SENET_IO_DETAIL_FOREIGN_DESCRIPTOR_HPP
