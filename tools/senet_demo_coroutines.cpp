// SPDX-License-Identifier: BSL-1.0
// senet-demo's coroutines face: an echo server of senet::task sessions
// (examples/echo_session_coro.hpp, spawned by an accept task) and a client of tasks on the stream
// awaitables (read_some, write_now), which never throw.
#include "senet_demo.hpp"

#include "echo_session_coro.hpp"

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/timeout.hpp>
#include <senet/stream/write_now.hpp>
#include <senet/task.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace senet_demo {

namespace {

namespace net = senet::net;
using senet::buffer;

template <class Env>
senet::task<void> coro_accept_loop(tcp::acceptor& acceptor, ex::counting_scope& scope, Env env) {
  for (;;) {
    auto [s, peer] = co_await net::async_accept(acceptor);
    std::error_code ignored;
    s.set_option(tcp::socket::no_delay{true}, ignored);
    ex::spawn(example::coro_echo_session(std::move(s)) | ex::upon_error([](std::exception_ptr) noexcept {}),
              scope.get_token(), env);
  }
}

// An echo server of tasks (examples/echo_session_coro.hpp's sessions), until a stop request on
// `scope`. Throws on failure.
void serve_coroutines(io::io_context& ctx, tcp::acceptor& acceptor, ex::counting_scope& scope) {
  auto env = ex::prop{io::get_io_scheduler, ctx.get_scheduler()};
  bool failed = false;
  ex::spawn(coro_accept_loop(acceptor, scope, env) |
                ex::upon_error([&failed](std::exception_ptr) noexcept { failed = true; }),
            scope.get_token(), env);
  ctx.run();
  ex::sync_wait(scope.join());
  if (failed) {
    throw std::runtime_error("the accept loop failed");
  }
}

// One connection of the coroutine client: the stream awaitables, which never throw.
senet::task<void> coro_connection(std::uint16_t port, std::size_t conn, std::string& error,
                                  std::size_t& bytes) {
  tcp::socket s;
  co_await net::async_connect(s, loopback(port));
  senet::stream::write_now write_all(s);
  std::vector<unsigned char> out;
  std::vector<unsigned char> in;
  for (std::size_t seq = 0; seq < check_messages; ++seq) {
    fill_message(out, conn, seq, check_size(conn, seq));
    auto [wec, written] = co_await write_all(buffer(out));
    if (wec) {
      error = "write: " + wec.message();
      co_return;
    }
    in.assign(out.size(), 0);
    std::size_t got = 0;
    while (got < in.size()) {
      auto [ec, n] = co_await s.read_some(buffer(in.data() + got, in.size() - got));
      if (ec) {
        error = "read: " + ec.message();
        co_return;
      }
      got += n;
    }
    bytes += got;
    if (error = compare_message(in.data(), got, conn, seq); !error.empty()) {
      co_return;
    }
  }
}

std::string check_coroutines(io::io_context& ctx, std::uint16_t port, std::size_t& bytes) {
  std::array<std::string, check_connections> errors;
  std::array<std::size_t, check_connections> counts{};
  static_assert(check_connections == 4);
  ctx.run_until(net::timeout(ex::when_all(coro_connection(port, 0, errors[0], counts[0]),
                                          coro_connection(port, 1, errors[1], counts[1]),
                                          coro_connection(port, 2, errors[2], counts[2]),
                                          coro_connection(port, 3, errors[3], counts[3])),
                             operation_limit));
  for (std::size_t i = 0; i < check_connections; ++i) {
    bytes += counts[i];
    if (!errors[i].empty()) {
      return errors[i];
    }
  }
  return {};
}

}  // namespace

const face coroutines_face{"coroutines", "senet::task, read_some / write_some awaitables",
                           &serve_on_context<&serve_coroutines>, &check_coroutines};

}  // namespace senet_demo
