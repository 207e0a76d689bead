// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_BACKEND_URING_URING_BACKEND_HPP
#define SENET_BACKEND_URING_URING_BACKEND_HPP

/* The io_uring backend (src/senet/backend/uring/uring_backend.cpp describes it). The io core picks
   this header up when it exists and prefers the backend whenever the kernel allows it. */

#include "senet/backend/backend.hpp"

#include <memory>

namespace senet::io::detail {

/** Creates the io_uring backend, or returns null when the kernel refuses io_uring
    (`io_uring_queue_init` fails: seccomp, `kernel.io_uring_disabled`, memlock limits) or lacks a
    feature or opcode the backend needs; the caller then falls back to epoll. */
std::unique_ptr<backend> make_uring_backend(completion_sink& sink);

}  // namespace senet::io::detail

#endif  // SENET_BACKEND_URING_URING_BACKEND_HPP
