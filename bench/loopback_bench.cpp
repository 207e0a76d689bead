// SPDX-License-Identifier: BSL-1.0
// Loopback micro-benchmarks on each backend (argument "backend": 0 = epoll, 1 = uring):
//
// - ping_pong: one TCP connection on 127.0.0.1; per iteration the client sends 64 bytes, the
//   server receives them and sends them back, the client receives them (net::async_send /
//   async_receive, driven by io_context::run_until). Time per iteration = one round trip.
// - schedule: throughput of ex::schedule(ctx.get_scheduler()) from the context's own thread: a
//   batch of 1024 scheduled operations is started and the loop run until all have completed.
// - schedule_remote: the same batch started from another thread while the loop runs (the
//   cross-thread queue and, when the loop sleeps, the backend's wake-up).
//
// docs/benchmarks.md gives the figures and how they were taken.
#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/address.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/sockets.hpp>

#include <benchmark/benchmark.h>

#include "micro_support.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

using bench::backend_of;

void ping_pong(benchmark::State& state) {
  auto kind = backend_of(state);
  if (!kind) {
    return;
  }
  io::io_context ctx{*kind};
  auto pair = bench::tcp_pair(state, ctx);
  if (!pair) {
    return;
  }
  ip::tcp::socket& client = pair->first;
  ip::tcp::socket& server = pair->second;
  client.set_option(ip::tcp::socket::no_delay(true));
  server.set_option(ip::tcp::socket::no_delay(true));

  std::array<char, 64> out{};
  std::array<char, 64> echo{};
  std::array<char, 64> back{};
  out.fill('p');
  auto round_trip = [&] {
    return ex::when_all(
        net::async_send(client, buffer(out)) |
            ex::let_value([&](std::size_t) { return net::async_receive(client, buffer(back)); }),
        net::async_receive(server, buffer(echo)) |
            ex::let_value([&](std::size_t n) { return net::async_send(server, buffer(echo.data(), n)); }));
  };
  for (auto _ : state) {
    auto r = ctx.run_until(round_trip());
    if (!r || std::get<0>(*r) != out.size()) {
      state.SkipWithError("short round trip");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

/** A receiver counting completions of a batch. */
struct count_receiver {
  using receiver_concept = ex::receiver_t;
  std::atomic<std::size_t>* left;
  void set_value() && noexcept { left->fetch_sub(1, std::memory_order_relaxed); }
  void set_stopped() && noexcept { left->fetch_sub(1, std::memory_order_relaxed); }
  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }
};

using schedule_sender = decltype(std::declval<io::io_context&>().get_scheduler().schedule());
using schedule_op = ex::connect_result_t<schedule_sender, count_receiver>;

/** Connects in place (operation states do not move). */
struct connector {
  io::io_context* ctx;
  count_receiver rcvr;
  operator schedule_op() const { return ex::connect(ctx->get_scheduler().schedule(), rcvr); }
};

constexpr std::size_t batch = 1024;

void schedule(benchmark::State& state) {
  auto kind = backend_of(state);
  if (!kind) {
    return;
  }
  io::io_context ctx{*kind};
  auto ops = std::make_unique<std::optional<schedule_op>[]>(batch);
  std::atomic<std::size_t> left{0};
  for (auto _ : state) {
    left.store(batch, std::memory_order_relaxed);
    // Started from a handler, as a server's code would: on the context's thread.
    ctx.run_until(ex::schedule(ctx.get_scheduler()) | ex::then([&] {
                    for (std::size_t i = 0; i < batch; ++i) {
                      ops[i].emplace(connector{&ctx, count_receiver{&left}});
                      ex::start(*ops[i]);
                    }
                  }));
    ctx.run();
    if (left.load() != 0) {
      state.SkipWithError("lost a completion");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}

void schedule_remote(benchmark::State& state) {
  auto kind = backend_of(state);
  if (!kind) {
    return;
  }
  io::io_context ctx{*kind};
  auto ops = std::make_unique<std::optional<schedule_op>[]>(batch);
  std::atomic<std::size_t> left{0};
  for (auto _ : state) {
    left.store(batch, std::memory_order_relaxed);
    std::thread producer([&] {
      for (std::size_t i = 0; i < batch; ++i) {
        ops[i].emplace(connector{&ctx, count_receiver{&left}});
        ex::start(*ops[i]);
      }
    });
    {
      io::io_context::work_guard guard(ctx);
      while (left.load(std::memory_order_relaxed) != 0) {
        ctx.run_one();
      }
    }
    producer.join();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}

BENCHMARK(ping_pong)->ArgName("backend")->Arg(0)->Arg(1)->UseRealTime();
BENCHMARK(schedule)->ArgName("backend")->Arg(0)->Arg(1);
BENCHMARK(schedule_remote)->ArgName("backend")->Arg(0)->Arg(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
