// SPDX-License-Identifier: BSL-1.0
// senet::testing's registration with the core (src/senet/backend/test_hooks.hpp).
//
// A static library's object file that nothing refers to is not linked, and with it would go this
// static initializer. senet::testing's link options (CMake's INTERFACE link options, and the Libs
// line of senet-testing.pc) therefore name `senet_testing_register` as undefined (-u), which makes
// the linker take this file.
#include "senet/backend/test/test_backend.hpp"
#include "senet/backend/test_hooks.hpp"

#include <senet/io/test_network.hpp>

namespace senet::io::detail {
namespace {

constexpr test_backend_hooks hooks{&make_test_backend, &test_network::shutdown_simulated,
                                   &test_network::simulated_peer, &note_linger_set};

}  // namespace
}  // namespace senet::io::detail

/** Registers the test backend with the core; idempotent. Runs before main (below). */
extern "C" void senet_testing_register() noexcept {
  senet::io::detail::register_test_backend(senet::io::detail::hooks);
}

namespace {
struct registrar {
  registrar() noexcept { senet_testing_register(); }
};
const registrar registered_before_main;
}  // namespace
