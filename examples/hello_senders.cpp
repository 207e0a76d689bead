// SPDX-License-Identifier: BSL-1.0
// The smallest senet program: a sender pipeline, run with sync_wait, and a timer on an io_context.
//
//   hello_senders            prints a greeting, then waits 50 ms on the io_context's timer
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/async_wait.hpp>

#include <chrono>
#include <cstdio>
#include <string>

namespace ex = senet::ex;
using namespace std::chrono_literals;

int main() {
  // A pure sender pipeline: no I/O, sync_wait runs it on this thread.
  auto greeting = ex::just(std::string("hello")) | ex::then([](std::string s) { return s + ", senders"; });
  auto [text] = ex::sync_wait(std::move(greeting)).value();
  std::printf("%s\n", text.c_str());

  // A timer needs an I/O scheduler: run_until drives the io_context on this thread and gives the
  // sender the context's scheduler, so net::async_wait_for finds it.
  senet::io::io_context ctx;
  auto start = std::chrono::steady_clock::now();
  ctx.run_until(senet::net::async_wait_for(50ms) | ex::then([] { std::printf("timer fired\n"); }));
  auto waited =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  std::printf("waited %lld ms on the %s backend\n", static_cast<long long>(waited.count()),
              std::string(senet::io::to_string(ctx.backend())).c_str());
  return 0;
}
