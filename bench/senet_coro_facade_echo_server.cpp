// SPDX-License-Identifier: BSL-1.0
// The echo server the instruction counts of docs/benchmarks.md measure for the libcoro-compatible
// facade (senet::coro): a tcp::server accept loop and one coroutine per connection, on an
// io_scheduler driven by this thread (`thread_strategy_t::manual`, coroutines resumed inline), so
// that one thread does everything, as in bench/senet_echo_server.cpp (senders) and
// bench/senet_coro_echo_server.cpp (senet::task). Same options and output as those, plus --style:
//
//   senet_coro_facade_echo_server [--port N] [--backend uring|epoll] [--exit-after N]
//                                 [--style seed|libcoro]
//
// --style seed (the default): each session awaits `client.recv(buf)` and then `client.send(data)`,
//   as the seed's examples write it (the awaited result finishes what would have blocked).
// --style libcoro: each session polls for read, calls recv, polls for write, calls send, as
//   libcoro 0.15's examples/coro_tcp_echo_server.cpp does.
//
// Listens on 127.0.0.1 port N (default 0: any free port), prints "listening on port P", and exits
// with status 0 once N connections (default: unlimited) have been served and closed.
#include <senet/coro.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace coro = senet::coro;

namespace {

struct counters {
  std::size_t finished = 0;
};

// The seed's way: await the receive and the send.
coro::task<void> seed_session(coro::net::tcp::client client, counters& c) {
  std::array<char, 16384> buf;
  for (;;) {
    auto [rstatus, data] = co_await client.recv(buf);
    if (rstatus != coro::net::recv_status::ok) {
      break;
    }
    auto [sstatus, rest] = co_await client.send(std::span<const char>(data));
    if (sstatus != coro::net::send_status::ok) {
      break;
    }
  }
  ++c.finished;
}

// libcoro 0.15's way: poll, then the synchronous call.
coro::task<void> libcoro_session(coro::net::tcp::client client, counters& c) {
  std::array<char, 16384> buf;
  for (;;) {
    co_await client.poll(coro::poll_op::read);
    auto [rstatus, data] = client.recv(buf);
    if (rstatus == coro::net::recv_status::would_block) {
      continue;
    }
    if (rstatus != coro::net::recv_status::ok) {
      break;
    }
    std::span<const char> rest{data};
    bool failed = false;
    while (!rest.empty() && !failed) {
      co_await client.poll(coro::poll_op::write);
      auto [sstatus, remaining] = client.send(rest);
      failed = sstatus != coro::net::send_status::ok && sstatus != coro::net::send_status::would_block;
      rest = remaining;
    }
    if (failed) {
      break;
    }
  }
  ++c.finished;
}

coro::task<void> accept_loop(std::shared_ptr<coro::io_scheduler> scheduler, coro::net::tcp::server& server,
                             bool libcoro_style, counters& c) {
  for (;;) {
    if (co_await server.poll() != coro::poll_status::event) {
      co_return;  // the scheduler shut down
    }
    // Take every connection that is waiting.
    for (auto client = server.accept(); client.socket().is_valid(); client = server.accept()) {
      int on = 1;
      ::setsockopt(client.socket().native_handle(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
      scheduler->spawn(libcoro_style ? libcoro_session(std::move(client), c)
                                     : seed_session(std::move(client), c));
    }
  }
}

constexpr const char* usage =
    "usage: senet_coro_facade_echo_server [--port N] [--backend uring|epoll] [--exit-after N] "
    "[--style seed|libcoro]\n";

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 0;
  std::optional<senet::io::backend_kind> backend;
  std::size_t exit_after = 0;
  bool libcoro_style = false;
  if (argc % 2 == 0) {
    std::fputs(usage, stderr);
    return 2;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view arg = argv[i];
    std::string_view value = argv[i + 1];
    if (arg == "--port") {
      port = static_cast<unsigned short>(std::atoi(argv[i + 1]));
    } else if (arg == "--backend" && (value == "uring" || value == "epoll")) {
      backend = value == "uring" ? senet::io::uring : senet::io::epoll;
    } else if (arg == "--exit-after") {
      exit_after = static_cast<std::size_t>(std::atol(argv[i + 1]));
    } else if (arg == "--style" && (value == "seed" || value == "libcoro")) {
      libcoro_style = value == "libcoro";
    } else {
      std::fputs(usage, stderr);
      return 2;
    }
  }
  try {
    auto scheduler = coro::io_scheduler::make_shared(coro::io_scheduler::options{
        .thread_strategy = coro::io_scheduler::thread_strategy_t::manual,
        .execution_strategy = coro::io_scheduler::execution_strategy_t::process_tasks_inline,
        .backend = backend});
    counters c;
    {
      coro::net::tcp::server server{
          scheduler,
          coro::net::tcp::server::options{
              .address = coro::net::ip_address::from_string("127.0.0.1"), .port = port, .backlog = 1024}};
      ::sockaddr_in bound{};
      ::socklen_t len = sizeof(bound);
      ::getsockname(server.socket().native_handle(), reinterpret_cast<::sockaddr*>(&bound), &len);
      std::printf("listening on port %u\n", static_cast<unsigned>(ntohs(bound.sin_port)));
      std::fflush(stdout);

      scheduler->spawn(accept_loop(scheduler, server, libcoro_style, c));
      while (exit_after == 0 || c.finished < exit_after) {
        scheduler->process_events(std::chrono::milliseconds{1000});
      }
      scheduler->shutdown();  // ends the accept loop's poll
    }
    std::fprintf(stderr, "senet_coro_facade_echo_server (%s, %s style): %zu connection(s) served\n",
                 std::string(senet::io::to_string(scheduler->context().backend())).c_str(),
                 libcoro_style ? "libcoro" : "seed", c.finished);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "senet_coro_facade_echo_server: %s\n", e.what());
    return 1;
  }
}
