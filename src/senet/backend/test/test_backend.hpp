// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_BACKEND_TEST_TEST_BACKEND_HPP
#define SENET_BACKEND_TEST_TEST_BACKEND_HPP

/* The in-memory test backend: simulated sockets and a virtual clock (P2762 §3.4, "one allowing
   unit testing"). Its controls are the public senet::io::test_network. */

#include "senet/backend/backend.hpp"

#include <memory>

namespace senet::io::detail {

/** Creates the test backend (src/senet/backend/test/); throws std::system_error on failure. */
std::unique_ptr<backend> make_test_backend(completion_sink& sink);

/** `SO_LINGER` was set on `fd`: if `fd` is an end of a simulated connection of a live test
    context, that context reads the option now, so that closing `fd` resets the connection as the
    kernel would, even if no operation shows it the socket before the close. Thread safety: as
    `test_network::shutdown_simulated`. */
void note_linger_set(int fd) noexcept;

}  // namespace senet::io::detail

#endif  // SENET_BACKEND_TEST_TEST_BACKEND_HPP
