// SPDX-License-Identifier: BSL-1.0
// senet-demo's libcoro face (<senet/coro.hpp>, libcoro 0.15's API on senet): an echo server of
// coro::net::tcp::server and one coroutine per connection on an io_scheduler this process drives
// (bench/senet_coro_facade_echo_server.cpp's seed-style sessions), and a client of
// coro::net::tcp::client on an io_scheduler with its own I/O thread. As libcoro's server does, it
// makes its own listening socket, and announces that one's port.
#include "senet_demo.hpp"

#include <senet/coro.hpp>
#include <senet/io/backend_kind.hpp>
#include <senet/io/io_context.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace senet_demo {

namespace {

namespace coro = senet::coro;

// As libcoro's examples write a session: await the receive, then the send of what came.
coro::task<void> facade_session(coro::net::tcp::client client) {
  std::array<char, 16 * 1024> buf;
  for (;;) {
    auto [rstatus, data] = co_await client.recv(buf);
    if (rstatus != coro::net::recv_status::ok) {
      co_return;  // closed by the peer, or an error: the connection ends
    }
    auto [sstatus, rest] = co_await client.send(std::span<const char>(data));
    if (sstatus != coro::net::send_status::ok) {
      co_return;
    }
  }
}

coro::task<void> facade_accept_loop(std::shared_ptr<coro::io_scheduler> scheduler,
                                    coro::net::tcp::server& server) {
  for (;;) {
    if (co_await server.poll() != coro::poll_status::event) {
      co_return;  // the scheduler shut down
    }
    for (auto client = server.accept(); client.socket().is_valid(); client = server.accept()) {
      int on = 1;
      ::setsockopt(client.socket().native_handle(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      scheduler->spawn(facade_session(std::move(client)));
    }
  }
}

void serve_facade(io::backend_kind kind, int listen_fd, int stop_fd) {
  ::close(listen_fd);  // tcp::server makes its own socket
  auto scheduler = coro::io_scheduler::make_shared(coro::io_scheduler::options{
      .thread_strategy = coro::io_scheduler::thread_strategy_t::manual,
      .execution_strategy = coro::io_scheduler::execution_strategy_t::process_tasks_inline,
      .backend = kind});
  coro::net::tcp::server server{
      scheduler, coro::net::tcp::server::options{
                     .address = coro::net::ip_address::from_string("127.0.0.1"), .port = 0, .backlog = 1024}};
  ::sockaddr_in bound{};
  ::socklen_t len = sizeof bound;
  if (::getsockname(server.socket().native_handle(), reinterpret_cast<::sockaddr*>(&bound), &len) != 0) {
    throw std::system_error(errno, std::system_category(), "getsockname");
  }
  std::atomic<bool> stop{false};
  std::thread stopper([&stop, stop_fd] {
    wait_readable(stop_fd);
    stop = true;
  });
  scheduler->spawn(facade_accept_loop(scheduler, server));
  announce_port(ntohs(bound.sin_port));
  while (!stop.load()) {
    scheduler->process_events(std::chrono::milliseconds{100});
  }
  stopper.join();
  scheduler->shutdown();
}

// One connection of the client: connect, then each message sent whole and received back whole.
coro::task<void> facade_connection(std::shared_ptr<coro::io_scheduler> scheduler, std::uint16_t port,
                                   std::size_t conn, std::string& error, std::size_t& bytes) {
  constexpr auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(operation_limit);
  co_await scheduler->schedule();
  coro::net::tcp::client client{
      scheduler, coro::net::tcp::client::options{.address = coro::net::ip_address::from_string("127.0.0.1"),
                                                 .port = port}};
  if (auto status = co_await client.connect(limit); status != coro::net::connect_status::connected) {
    error = "connect: " + coro::net::to_string(status);
    co_return;
  }
  std::vector<char> out;
  std::vector<char> in;
  for (std::size_t seq = 0; seq < check_messages; ++seq) {
    fill_message(out, conn, seq, check_size(conn, seq));
    auto [sstatus, rest] = co_await client.send(std::span<const char>(out), limit);
    if (sstatus != coro::net::send_status::ok || !rest.empty()) {
      error = "send: " + coro::net::to_string(sstatus);
      co_return;
    }
    in.assign(out.size(), 0);
    std::size_t got = 0;
    while (got < in.size()) {
      auto [rstatus, data] = co_await client.recv(std::span<char>(in.data() + got, in.size() - got), limit);
      if (rstatus != coro::net::recv_status::ok) {
        error = "recv: " + coro::net::to_string(rstatus);
        co_return;
      }
      got += data.size();
    }
    bytes += got;
    if (error = compare_message(reinterpret_cast<const unsigned char*>(in.data()), got, conn, seq);
        !error.empty()) {
      co_return;
    }
  }
}

std::string check_facade(io::io_context& ctx, std::uint16_t port, std::size_t& bytes) {
  // The facade's scheduler has its own I/O thread, on the backend of the server's.
  auto scheduler = coro::io_scheduler::make_shared(coro::io_scheduler::options{
      .thread_strategy = coro::io_scheduler::thread_strategy_t::spawn,
      .execution_strategy = coro::io_scheduler::execution_strategy_t::process_tasks_inline,
      .backend = ctx.backend()});
  std::array<std::string, check_connections> errors;
  std::array<std::size_t, check_connections> counts{};
  std::vector<coro::task<void>> tasks;
  for (std::size_t i = 0; i < check_connections; ++i) {
    tasks.push_back(facade_connection(scheduler, port, i, errors[i], counts[i]));
  }
  coro::sync_wait(coro::when_all(std::move(tasks)));
  scheduler->shutdown();
  for (std::size_t i = 0; i < check_connections; ++i) {
    bytes += counts[i];
    if (!errors[i].empty()) {
      return errors[i];
    }
  }
  return {};
}

}  // namespace

const face coro_facade_face{"libcoro", "senet::coro, libcoro 0.15's tcp::server / tcp::client", &serve_facade,
                            &check_facade};

}  // namespace senet_demo
