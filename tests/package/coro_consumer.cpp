// SPDX-License-Identifier: BSL-1.0
// A program written the way a libcoro 0.15 user writes one (its include and namespace alias
// changed to senet's), built against an installed senet (tests/package/check.cmake), and used the
// way such programs use it: an echo server of poll-then-recv/send tasks on a scheduler with a
// thread pool, and clients on four threads of the program's own, each driving its connections
// with coro::sync_wait and closing its sockets itself, from its thread, while the server still
// polls the other end. Exits 0 when every byte came back and the scheduler shut down empty.
#include <senet/coro.hpp>
namespace coro = senet::coro;

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

coro::task<void> connection(coro::net::tcp::client client, std::atomic<int>& ended) {
  std::string buf(256, '\0');
  while (true) {
    co_await client.poll(coro::poll_op::read);
    auto [rstatus, received] = client.recv(buf);
    if (rstatus == coro::net::recv_status::would_block) {
      continue;
    }
    if (rstatus != coro::net::recv_status::ok) {
      break;  // closed by the client (from its own thread), or reset
    }
    std::span<const char> rest{received};
    while (!rest.empty()) {
      co_await client.poll(coro::poll_op::write);
      auto [sstatus, remaining] = client.send(rest);
      if (sstatus != coro::net::send_status::ok && sstatus != coro::net::send_status::would_block) {
        ++ended;
        co_return;
      }
      rest = remaining;
    }
  }
  ++ended;
}

coro::task<void> serve(std::shared_ptr<coro::io_scheduler> scheduler, coro::net::tcp::server& server,
                       std::atomic<int>& ended) {
  co_await scheduler->schedule();
  while (co_await server.poll() == coro::poll_status::event) {
    auto client = server.accept();
    if (client.socket().is_valid()) {
      scheduler->spawn(connection(std::move(client), ended));
    }
  }
}

coro::task<int> client_task(std::shared_ptr<coro::io_scheduler> scheduler, std::uint16_t port, int id) {
  coro::net::tcp::client client{scheduler,
                                {.address = coro::net::ip_address::from_string("127.0.0.1"), .port = port}};
  if (co_await client.connect(5s) != coro::net::connect_status::connected) {
    co_return 0;
  }
  int good = 0;
  std::string reply(64, '\0');
  for (int i = 0; i < 100; ++i) {
    std::string message = "thread client " + std::to_string(id) + " round " + std::to_string(i);
    auto [sstatus, rest] = co_await client.send(message);
    if (sstatus != coro::net::send_status::ok || !rest.empty()) {
      co_return good;
    }
    std::string got;
    while (got.size() < message.size()) {
      auto [rstatus, data] = co_await client.recv(std::span<char>(reply.data(), message.size() - got.size()));
      if (rstatus != coro::net::recv_status::ok) {
        co_return good;
      }
      got.append(data.data(), data.size());
    }
    good += got == message ? 1 : 0;
  }
  client.socket().close();  // on this thread (a pool thread of the scheduler or the caller's)
  co_return good;
}

}  // namespace

int main() {
  constexpr int threads = 4;
  constexpr int clients_per_thread = 5;
  auto scheduler = coro::io_scheduler::make_shared(coro::io_scheduler::options{
      .pool = coro::thread_pool::options{.thread_count = 2},
      .execution_strategy = coro::io_scheduler::execution_strategy_t::process_tasks_on_thread_pool});
  coro::net::tcp::server server{scheduler,
                                {.address = coro::net::ip_address::from_string("127.0.0.1"), .port = 0}};
  sockaddr_in bound{};
  socklen_t length = sizeof(bound);
  if (::getsockname(server.socket().native_handle(), reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
    std::perror("getsockname");
    return 1;
  }
  const std::uint16_t port = ntohs(bound.sin_port);
  std::atomic<int> ended{0};
  if (!scheduler->spawn(serve(scheduler, server, ended))) {
    std::fprintf(stderr, "spawn refused\n");
    return 1;
  }
  std::atomic<int> good{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int c = 0; c < clients_per_thread; ++c) {
        good += coro::sync_wait(client_task(scheduler, port, t * clients_per_thread + c));
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  const int expected = threads * clients_per_thread * 100;
  for (auto deadline = std::chrono::steady_clock::now() + 20s;
       ended.load() < threads * clients_per_thread && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(1ms);
  }
  scheduler->shutdown();
  std::printf("coro consumer: %d of %d echoes, %d of %d connections ended, scheduler %s\n", good.load(),
              expected, ended.load(), threads * clients_per_thread,
              scheduler->empty() ? "empty" : "NOT empty");
  return good.load() == expected && ended.load() == threads * clients_per_thread && scheduler->empty() ? 0
                                                                                                       : 1;
}
