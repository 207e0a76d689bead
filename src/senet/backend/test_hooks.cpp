// SPDX-License-Identifier: BSL-1.0
#include "senet/backend/test_hooks.hpp"

#include <atomic>

namespace senet::io::detail {

namespace {
std::atomic<const test_backend_hooks*> registered{nullptr};
}  // namespace

void register_test_backend(const test_backend_hooks& hooks) noexcept {
  registered.store(&hooks, std::memory_order_release);
}

const test_backend_hooks* test_backend_registration() noexcept {
  return registered.load(std::memory_order_acquire);
}

std::unique_ptr<backend> make_registered_test_backend(completion_sink& sink) {
  const test_backend_hooks* hooks = test_backend_registration();
  return hooks != nullptr ? hooks->make(sink) : nullptr;
}

bool test_backend_shutdown(int fd, int how) noexcept {
  const test_backend_hooks* hooks = test_backend_registration();
  return hooks != nullptr && hooks->shutdown_simulated(fd, how);
}

std::size_t test_backend_peer(int fd, ::sockaddr* out, std::size_t capacity) noexcept {
  const test_backend_hooks* hooks = test_backend_registration();
  return hooks != nullptr ? hooks->simulated_peer(fd, out, capacity) : 0;
}

void test_backend_linger_set(int fd) noexcept {
  if (const test_backend_hooks* hooks = test_backend_registration(); hooks != nullptr) {
    hooks->linger_set(fd);
  }
}

}  // namespace senet::io::detail
