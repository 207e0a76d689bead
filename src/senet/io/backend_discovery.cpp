// SPDX-License-Identifier: BSL-1.0
#include "senet/io/backend_discovery.hpp"

#include <senet/config.hpp>

#include "senet/backend/backend.hpp"
#if SENET_HAVE_URING_BACKEND
#include "senet/backend/uring/uring_backend.hpp"
#endif
// The test backend is the library senet::testing, registered when linked (test_hooks.hpp).
#include "senet/backend/test_hooks.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace senet::io::detail {

std::unique_ptr<backend> make_backend(backend_kind kind, completion_sink& sink,
                                      const context_options& options, backend_info* info) {
  backend_info scratch;
  backend_info& out = info != nullptr ? *info : scratch;
  out = backend_info{};
  out.kind = kind;
  switch (kind) {
    case backend_kind::epoll:
      return make_epoll_backend(sink);
    case backend_kind::uring:
#if SENET_HAVE_URING_BACKEND
      return make_uring_backend(sink, options, out);
#else
      static_cast<void>(options);
      return nullptr;
#endif
    case backend_kind::test:
      return make_registered_test_backend(sink);
  }
  return nullptr;
}

std::unique_ptr<backend> make_required_backend(backend_kind kind, completion_sink& sink,
                                               const context_options& options, backend_info* info) {
  auto b = make_backend(kind, sink, options, info);
  if (!b) {
    throw std::system_error(
        std::make_error_code(std::errc::function_not_supported),
        std::string("senet: io_context backend not available: ") + std::string(to_string(kind)) +
            (kind == backend_kind::test ? std::string(": ") + test_backend_missing : std::string()));
  }
  return b;
}

std::unique_ptr<backend> make_default_backend(completion_sink& sink, const context_options& options,
                                              backend_info* info) {
  if (const char* name = std::getenv("SENET_BACKEND"); name != nullptr && *name != '\0') {
    std::string_view n(name);
    for (backend_kind k : {backend_kind::uring, backend_kind::epoll, backend_kind::test}) {
      if (n == to_string(k)) {
        if (k == backend_kind::test && test_backend_registration() == nullptr) {
          // An environment variable must not switch a production program onto simulated sockets.
          throw std::invalid_argument(std::string("senet: SENET_BACKEND=test refused: ") +
                                      test_backend_missing);
        }
        return make_required_backend(k, sink, options, info);
      }
    }
    throw std::invalid_argument("senet: SENET_BACKEND must be epoll, uring or test, not " + std::string(n));
  }
  backend_info uring_info;
  if (auto b = make_backend(backend_kind::uring, sink, options, &uring_info)) {
    if (info != nullptr) {
      *info = uring_info;
    }
    return b;
  }
  auto b = make_required_backend(backend_kind::epoll, sink, options, info);
  if (info != nullptr) {
    // Say why the context is not on io_uring.
    info->uring_error = uring_info.uring_error;
    info->uring_failed_step = uring_info.uring_failed_step;
  }
  return b;
}

}  // namespace senet::io::detail
