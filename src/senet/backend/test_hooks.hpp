// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_BACKEND_TEST_HOOKS_HPP
#define SENET_BACKEND_TEST_HOOKS_HPP

/* Where the in-memory test backend plugs into libsenet. The test backend is not part of libsenet:
   it is the library senet::testing (src/senet/backend/test/, pkg-config senet-testing), which a
   program's tests link and a production program does not. When it is linked, it registers these
   hooks before main (src/senet/backend/test/registration.cpp); without it, the core has no test
   backend: `io_context{backend_kind::test}` fails and `SENET_BACKEND=test` is refused. */

#include "senet/backend/backend.hpp"

#include <sys/socket.h>

#include <cstddef>
#include <memory>

namespace senet::io::detail {

/** What senet::testing gives the core. */
struct test_backend_hooks {
  /** Creates the test backend; throws std::system_error on failure. */
  std::unique_ptr<backend> (*make)(completion_sink& sink);
  /** `io::test_network::shutdown_simulated`. */
  bool (*shutdown_simulated)(int fd, int how) noexcept;
  /** `io::test_network::simulated_peer`. */
  std::size_t (*simulated_peer)(int fd, ::sockaddr* out, std::size_t capacity) noexcept;
  /** `SO_LINGER` was set on `fd` (the test backend notes whether closing it resets its connection:
      it may not see the socket again before the close). */
  void (*linger_set)(int fd) noexcept;
};

/** Called by senet::testing (once, before main); `hooks` must live for the whole program. */
void register_test_backend(const test_backend_hooks& hooks) noexcept;

/** The hooks of senet::testing, or null when it is not linked into the program. */
[[nodiscard]] const test_backend_hooks* test_backend_registration() noexcept;

/** The test backend when senet::testing is linked, null otherwise. */
std::unique_ptr<backend> make_registered_test_backend(completion_sink& sink);

/** Why `backend_kind::test` is not available, for the core's error messages. */
inline constexpr const char* test_backend_missing =
    "the test backend is a testing tool and is not linked into this program "
    "(link senet::testing, or pkg-config senet-testing, into your tests)";

/** For the socket classes: the simulated shutdown and peer address of a test connection; false
    and 0 when senet::testing is not linked or `fd` is not simulated. */
[[nodiscard]] bool test_backend_shutdown(int fd, int how) noexcept;
[[nodiscard]] std::size_t test_backend_peer(int fd, ::sockaddr* out, std::size_t capacity) noexcept;
/** For the socket classes' `set_option`: `SO_LINGER` was set on `fd`; nothing when senet::testing
    is not linked. */
void test_backend_linger_set(int fd) noexcept;

}  // namespace senet::io::detail

#endif  // SENET_BACKEND_TEST_HOOKS_HPP
