// SPDX-License-Identifier: BSL-1.0
// What the Google Benchmark programs of bench/ share.
#ifndef SENET_BENCH_MICRO_SUPPORT_HPP
#define SENET_BENCH_MICRO_SUPPORT_HPP

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/address.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/sockets.hpp>

#include <benchmark/benchmark.h>

#include <optional>
#include <string>
#include <tuple>
#include <utility>

namespace bench {

/** The backend of a benchmark run from its first argument (0 = epoll, 1 = uring), named in the
    run's label; nullopt, and the run skipped with the reason, if the kernel does not offer it. */
inline std::optional<senet::io::backend_kind> backend_of(benchmark::State& state) {
  namespace io = senet::io;
  io::backend_kind kind = state.range(0) == 0 ? io::backend_kind::epoll : io::backend_kind::uring;
  if (!io::io_context::is_available(kind)) {
    state.SkipWithError((std::string(io::to_string(kind)) + " is not available here").c_str());
    return std::nullopt;
  }
  state.SetLabel(std::string(io::to_string(kind)));
  return kind;
}

/** A connected TCP pair on 127.0.0.1 (client, server), made on `ctx`; nullopt, and the run
    skipped, if the connection fails. */
inline std::optional<std::pair<senet::ip::tcp::socket, senet::ip::tcp::socket>> tcp_pair(
    benchmark::State& state, senet::io::io_context& ctx) {
  namespace ip = senet::ip;
  namespace net = senet::net;
  ip::tcp::acceptor acceptor(ip::tcp::endpoint(ip::address(ip::address_v4::loopback()), 0));
  ip::tcp::socket client;
  auto accepted = ctx.run_until(senet::ex::when_all(net::async_accept(acceptor),
                                                    net::async_connect(client, acceptor.local_endpoint())));
  if (!accepted) {
    state.SkipWithError("connect failed");
    return std::nullopt;
  }
  return std::pair{std::move(client), std::move(std::get<0>(*accepted))};
}

}  // namespace bench

#endif  // SENET_BENCH_MICRO_SUPPORT_HPP
