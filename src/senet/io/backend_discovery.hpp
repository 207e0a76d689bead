// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_BACKEND_DISCOVERY_HPP
#define SENET_IO_BACKEND_DISCOVERY_HPP

/* Which backends this build of senet has (SENET_HAVE_<NAME>_BACKEND in the generated
   <senet/config.hpp>, set by CMake) and how an io_context picks one. */

#include <senet/io/backend_info.hpp>
#include <senet/io/backend_kind.hpp>
#include <senet/io/context_options.hpp>

#include <memory>

namespace senet::io::detail {

class backend;
class completion_sink;

/** The backend `kind` delivering to `sink`, set up as `options` say, or null when it is not built
    in or the kernel refuses it. Each backend provides `make_<name>_backend(completion_sink&)` in
    src/senet/backend/<name>/<name>_backend.hpp (docs/design/io_core.md). When `info` is not null
    it receives what the set-up found (io_uring: flags and sizes, or why and where it refused). */
std::unique_ptr<backend> make_backend(backend_kind kind, completion_sink& sink,
                                      const context_options& options = {}, backend_info* info = nullptr);

/** make_backend, throwing std::system_error (function_not_supported) instead of returning null. */
std::unique_ptr<backend> make_required_backend(backend_kind kind, completion_sink& sink,
                                               const context_options& options = {},
                                               backend_info* info = nullptr);

/** The backend named by the environment variable SENET_BACKEND, else io_uring, else epoll. */
std::unique_ptr<backend> make_default_backend(completion_sink& sink, const context_options& options = {},
                                              backend_info* info = nullptr);

}  // namespace senet::io::detail

#endif  // SENET_IO_BACKEND_DISCOVERY_HPP
