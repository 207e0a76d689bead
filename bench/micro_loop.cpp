// SPDX-License-Identifier: BSL-1.0
// Micro-benchmarks of the io_context's loop that an echo server's round trip cannot isolate
// (docs/performance.md), on each backend (argument "backend": 0 = epoll, 1 = uring); the
// throughput of `schedule()` is bench/loopback_bench.cpp's `schedule`:
//
// - timer_schedule_cancel: a batch of 256 waits of one hour (`net::async_wait_for`), each started
//   with a stop token, then all stopped; time per wait for start + stop + its `set_stopped()`.
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/async_wait_for.hpp>

#include <benchmark/benchmark.h>

#include "micro_support.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;

using bench::backend_of;

/** Counts completions on any channel; its environment carries `token` and `sch`. */
struct counting_receiver {
  using receiver_concept = ex::receiver_t;
  std::size_t* left;
  ex::inplace_stop_token token;
  io::io_context::scheduler_type sch;
  void set_value() && noexcept { --*left; }
  void set_stopped() && noexcept { --*left; }
  struct env {
    ex::inplace_stop_token token;
    io::io_context::scheduler_type sch;
    [[nodiscard]] ex::inplace_stop_token query(ex::get_stop_token_t) const noexcept { return token; }
    [[nodiscard]] io::io_context::scheduler_type query(ex::get_scheduler_t) const noexcept { return sch; }
  };
  [[nodiscard]] env get_env() const noexcept { return {token, sch}; }
};

/** Builds an operation state in place (operation states do not move). */
template <class Op, class MakeSender>
struct connector {
  MakeSender make;
  counting_receiver rcvr;
  // NOLINTNEXTLINE(google-explicit-constructor)
  operator Op() const { return ex::connect(make(), rcvr); }
};

void timer_schedule_cancel(benchmark::State& state) {
  auto kind = backend_of(state);
  if (!kind) {
    return;
  }
  constexpr std::size_t batch = 256;
  io::io_context ctx{*kind};
  auto sch = ctx.get_scheduler();
  auto make = [] { return net::async_wait_for(std::chrono::hours(1)); };
  using op_type = ex::connect_result_t<decltype(make()), counting_receiver>;
  auto ops = std::make_unique<std::optional<op_type>[]>(batch);
  std::size_t left = 0;
  for (auto _ : state) {
    ex::inplace_stop_source stop;
    left = batch;
    ctx.run_until(
        ex::schedule(sch) | ex::then([&] {
          for (std::size_t i = 0; i < batch; ++i) {
            ops[i].emplace(connector<op_type, decltype(make)>{make, {&left, stop.get_token(), sch}});
            ex::start(*ops[i]);
          }
          stop.request_stop();
        }));
    ctx.run();
    if (left != 0) {
      state.SkipWithError("lost a completion");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}

BENCHMARK(timer_schedule_cancel)->ArgName("backend")->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
