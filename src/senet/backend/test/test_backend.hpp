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

}  // namespace senet::io::detail

#endif  // SENET_BACKEND_TEST_TEST_BACKEND_HPP
