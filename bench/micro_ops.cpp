// SPDX-License-Identifier: BSL-1.0
// Micro-benchmarks of single operations that an echo server's round trip cannot isolate
// (docs/performance.md). Each sends 64 bytes on a connected stream socket whose peer is drained
// by a plain read() every 256 sends (outside the timing), so that every send completes at once:
//
// - raw_send: send(2) alone, the floor of the three below.
// - sender_send (argument "backend": 0 = epoll, 1 = uring): `ex::connect` of
//   `net::async_send`, `ex::start`, and its `set_value` inside `start()` (the socket tries the
//   system call first: always on epoll, with `eager_send(true)` on io_uring).
// - write_now_ready: `co_await write_now(buffer)` in a `senet::task` on a stream in memory whose
//   `write_some` completes synchronously: the cost of the coroutine face around a write.
// - c_api_send: `async_socket_send_async` of one buffer, whose callback runs before it returns.
#include <senet/c/async_socket.h>
#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/address.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/sockets.hpp>
#include <senet/stream/write_now.hpp>
#include <senet/task.hpp>

#include <benchmark/benchmark.h>

#include "micro_support.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;

constexpr std::size_t drain_every = 256;

/** Reads everything the peer has sent so far (non-blocking). */
void drain(int fd) {
  std::array<char, 65536> sink;
  while (::recv(fd, sink.data(), sink.size(), MSG_DONTWAIT) > 0) {
  }
}

struct send_receiver {
  using receiver_concept = ex::receiver_t;
  std::size_t* sent;
  io::io_context::scheduler_type sch;
  void set_value(std::size_t n) && noexcept { *sent += n; }
  void set_error(std::error_code) && noexcept {}
  void set_stopped() && noexcept {}
  struct env {
    io::io_context::scheduler_type sch;
    [[nodiscard]] io::io_context::scheduler_type query(ex::get_scheduler_t) const noexcept { return sch; }
  };
  [[nodiscard]] env get_env() const noexcept { return {sch}; }
};

using bench::tcp_pair;

/** The floor of the sends below: send(2) of 64 bytes on a TCP socket (argument 0) or on a Unix
    socket pair (argument 1, as c_api_send uses). */
void raw_send(benchmark::State& state) {
  io::io_context ctx{io::backend_kind::epoll};
  std::optional<std::pair<ip::tcp::socket, ip::tcp::socket>> pair;
  int fds[2] = {-1, -1};
  if (state.range(0) == 0) {
    pair = tcp_pair(state, ctx);
    if (!pair) {
      return;
    }
    fds[0] = pair->first.native_handle();
    fds[1] = pair->second.native_handle();
    state.SetLabel("tcp");
  } else {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
      state.SkipWithError("socketpair failed");
      return;
    }
    state.SetLabel("unix");
  }
  std::array<char, 64> out{};
  std::size_t i = 0;
  for (auto _ : state) {
    if (::send(fds[0], out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) {
      state.SkipWithError("send failed");
      break;
    }
    if (++i % drain_every == 0) {
      state.PauseTiming();
      drain(fds[1]);
      state.ResumeTiming();
    }
  }
  if (!pair) {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  state.SetItemsProcessed(state.iterations());
}

void sender_send(benchmark::State& state) {
  auto kind = bench::backend_of(state);
  if (!kind) {
    return;
  }
  io::io_context ctx{*kind};
  auto pair = tcp_pair(state, ctx);
  if (!pair) {
    return;
  }
  ip::tcp::socket& client = pair->first;
  ip::tcp::socket& server = pair->second;
  client.eager_send(true);
  std::array<char, 64> out{};
  std::size_t sent = 0;
  using op_type = ex::connect_result_t<decltype(net::async_send(client, senet::buffer(out))), send_receiver>;
  std::optional<op_type> op;
  struct connector {
    ip::tcp::socket* s;
    std::array<char, 64>* out;
    std::size_t* sent;
    io::io_context::scheduler_type sch;
    // NOLINTNEXTLINE(google-explicit-constructor)
    operator op_type() const {
      return ex::connect(net::async_send(*s, senet::buffer(*out)), send_receiver{sent, sch});
    }
  };
  std::size_t i = 0;
  // On the context's thread, as a server's code runs: a start elsewhere is handed to the loop.
  ctx.run_until(ex::schedule(ctx.get_scheduler()) | ex::then([&] {
                  for (auto _ : state) {
                    op.emplace(connector{&client, &out, &sent, ctx.get_scheduler()});
                    ex::start(*op);
                    if (++i % drain_every == 0) {
                      state.PauseTiming();
                      drain(server.native_handle());
                      state.ResumeTiming();
                    }
                  }
                }));
  if (sent != i * out.size()) {
    state.SkipWithError("a send did not complete inside start()");
  }
  state.SetItemsProcessed(state.iterations());
}

/** A write stream in memory whose write_some takes everything at once. */
struct ready_stream {
  std::size_t total = 0;
  struct awaiter {
    std::size_t n;
    [[nodiscard]] bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    [[nodiscard]] std::tuple<std::error_code, std::size_t> await_resume() const noexcept {
      return {std::error_code{}, n};
    }
  };
  template <class Buffers>
  awaiter write_some(const Buffers& buffers) {
    std::size_t n = 0;
    for (auto it = senet::buffer_sequence_begin(buffers); it != senet::buffer_sequence_end(buffers); ++it) {
      n += senet::const_buffer(*it).size();
    }
    total += n;
    return {n};
  }
};
static_assert(senet::stream::write_stream<ready_stream>);

senet::task<void> write_loop(benchmark::State& state, ready_stream& s) {
  std::array<char, 64> out{};
  senet::stream::write_now write_all(s);
  for (auto _ : state) {
    auto [ec, n] = co_await write_all(senet::buffer(out));
    benchmark::DoNotOptimize(n);
  }
}

void write_now_ready(benchmark::State& state) {
  ready_stream s;
  ex::sync_wait(write_loop(state, s));
  if (s.total != static_cast<std::size_t>(state.iterations()) * 64) {
    state.SkipWithError("lost bytes");
  }
  state.SetItemsProcessed(state.iterations());
}

void on_sent(void* context, ASYNC_SOCKET_SEND_RESULT result) {
  if (result == ASYNC_SOCKET_SEND_OK) {
    ++*static_cast<std::size_t*>(context);
  }
}

void on_opened(void*, ASYNC_SOCKET_OPEN_RESULT) {}

void c_api_send(benchmark::State& state) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    state.SkipWithError("socketpair failed");
    return;
  }
  ASYNC_SOCKET_HANDLE h = async_socket_create(nullptr, fds[0]);
  if (h == nullptr || async_socket_open_async(h, on_opened, nullptr) != 0) {
    state.SkipWithError("async_socket_create or open failed");
    async_socket_destroy(h);
    ::close(fds[1]);
    return;
  }
  std::array<char, 64> out{};
  ASYNC_SOCKET_BUFFER buffer{out.data(), static_cast<std::uint32_t>(out.size())};
  std::size_t completed = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    if (async_socket_send_async(h, &buffer, 1, on_sent, &completed) != ASYNC_SOCKET_SEND_SYNC_OK) {
      state.SkipWithError("async_socket_send_async failed");
      break;
    }
    if (++i % drain_every == 0) {
      state.PauseTiming();
      drain(fds[1]);
      state.ResumeTiming();
    }
  }
  async_socket_close(h);
  async_socket_destroy(h);
  ::close(fds[1]);
  if (completed != i) {
    state.SkipWithError("a send's callback did not run before the call returned");
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(raw_send)->ArgName("unix")->Arg(0)->Arg(1);
BENCHMARK(sender_send)->ArgName("backend")->Arg(0)->Arg(1);
BENCHMARK(write_now_ready);
BENCHMARK(c_api_send);

}  // namespace

BENCHMARK_MAIN();
