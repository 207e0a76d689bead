// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_BACKEND_KIND_HPP
#define SENET_IO_BACKEND_KIND_HPP

#include <string_view>

namespace senet::io {

/** The kinds of backend an `io_context` can run on.

    - `uring`: Linux io_uring (the default where the kernel allows it).
    - `epoll`: Linux epoll, readiness based (the fallback, and an explicit choice).
    - `test`: in-memory sockets and a virtual clock, for deterministic unit tests; only in a
      program that links `senet::testing` (see `io::test_network`).

    `io_context ctx{senet::io::epoll};` picks one explicitly; `io_context ctx;` picks the best one
    available, unless the environment variable `SENET_BACKEND` (`epoll`, `uring`, or `test` where
    `senet::testing` is linked) says otherwise.
*/
enum class backend_kind { uring, epoll, test };

/** `backend_kind::uring`, for `io_context ctx{senet::io::uring};`. */
inline constexpr backend_kind uring = backend_kind::uring;
/** `backend_kind::epoll`, for `io_context ctx{senet::io::epoll};`. */
inline constexpr backend_kind epoll = backend_kind::epoll;
/** `backend_kind::test`, for `io_context ctx{senet::io::test};`. */
inline constexpr backend_kind test = backend_kind::test;

/** The name of `k`: "uring", "epoll" or "test". */
[[nodiscard]] constexpr std::string_view to_string(backend_kind k) noexcept {
  switch (k) {
    case backend_kind::uring:
      return "uring";
    case backend_kind::epoll:
      return "epoll";
    case backend_kind::test:
      return "test";
  }
  return "unknown";
}

}  // namespace senet::io

#endif  // SENET_IO_BACKEND_KIND_HPP
