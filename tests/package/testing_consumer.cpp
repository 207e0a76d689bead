// SPDX-License-Identifier: BSL-1.0
// A user's test built against an installed senet with senet::testing (tests/package/check.cmake):
// the in-memory test backend runs a ten-minute wait at once, on its virtual clock.
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/test_network.hpp>
#include <senet/net/async_wait.hpp>

#include <chrono>
#include <cstdio>

int main() {
  if (!senet::io::io_context::is_available(senet::io::backend_kind::test)) {
    std::printf("the test backend is not available although senet::testing is linked\n");
    return 1;
  }
  senet::io::io_context ctx{senet::io::backend_kind::test};
  auto& net = senet::io::test_network::of(ctx);
  auto before = net.now();
  auto wall = std::chrono::steady_clock::now();
  ctx.run_until(senet::net::async_wait_for(std::chrono::minutes(10)));
  bool virtual_time = net.now() - before >= std::chrono::minutes(10) &&
                      std::chrono::steady_clock::now() - wall < std::chrono::minutes(1);
  std::printf("senet::testing: %s\n", virtual_time ? "virtual clock ran" : "virtual clock did not run");
  return virtual_time ? 0 : 1;
}
