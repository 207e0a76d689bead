// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_BACKEND_URING_URING_BACKEND_HPP
#define SENET_BACKEND_URING_URING_BACKEND_HPP

/* The io_uring backend (src/senet/backend/uring/uring_backend.cpp describes it). The io core picks
   this header up when it exists and prefers the backend whenever the kernel allows it. */

#include "senet/backend/backend.hpp"

#include <senet/io/backend_info.hpp>
#include <senet/io/context_options.hpp>

#include <memory>

namespace senet::io::detail {

/** Creates the io_uring backend set up as `options` say, or returns null when the kernel refuses
    io_uring (`io_uring_setup` fails: seccomp, `kernel.io_uring_disabled`, memlock limits) or lacks
    a feature or opcode the backend needs; the caller then falls back to epoll. `info` receives the
    outcome of the start-up ladder: the setup flags, features and queue sizes, or the error and the
    step that refused (io::backend_info). */
std::unique_ptr<backend> make_uring_backend(completion_sink& sink, const context_options& options,
                                            backend_info& info);

}  // namespace senet::io::detail

#endif  // SENET_BACKEND_URING_URING_BACKEND_HPP
