// SPDX-License-Identifier: BSL-1.0
// The options the senet echo servers of bench/ share (bench/senet_echo_server.cpp and
// bench/senet_pool_echo_server.cpp): --port N, --backend uring|epoll, --exit-after N,
// --single-thread on|off and --batch-wait US, and the io_context options they ask for.
#ifndef SENET_BENCH_SENET_SERVER_OPTIONS_HPP
#define SENET_BENCH_SENET_SERVER_OPTIONS_HPP

#include <senet/io/backend_kind.hpp>
#include <senet/io/context_options.hpp>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <optional>
#include <string_view>

namespace bench {

struct senet_server_options {
  unsigned short port = 0;
  std::optional<senet::io::backend_kind> backend;
  std::size_t exit_after = 0;
  bool single_thread = false;
  // Empty: the context's default window.
  std::optional<long> batch_wait_us;

  /** Takes `arg value` when it is one of these options with a valid value; false otherwise (a
      server's own option, or a bad one). */
  bool parse(std::string_view arg, const char* value) {
    std::string_view v = value;
    if (arg == "--port") {
      port = static_cast<unsigned short>(std::atoi(value));
    } else if (arg == "--backend" && (v == "uring" || v == "epoll")) {
      backend = v == "uring" ? senet::io::uring : senet::io::epoll;
    } else if (arg == "--exit-after") {
      exit_after = static_cast<std::size_t>(std::atol(value));
    } else if (arg == "--single-thread" && (v == "on" || v == "off")) {
      single_thread = v == "on";
    } else if (arg == "--batch-wait") {
      batch_wait_us = std::atol(value);
    } else {
      return false;
    }
    return true;
  }

  /** The io_context these options ask for. */
  [[nodiscard]] senet::io::context_options context() const {
    senet::io::context_options o;
    o.backend = backend;
    o.single_thread = single_thread;
    if (batch_wait_us) {
      o.completion_batch_wait = std::chrono::microseconds(*batch_wait_us);
    }
    return o;
  }
};

}  // namespace bench

#endif  // SENET_BENCH_SENET_SERVER_OPTIONS_HPP
