// SPDX-License-Identifier: BSL-1.0
// senet-demo's senders face: an echo server of sender pipelines (examples/echo_session.hpp's
// sessions, spawned by an accept loop) and a client of net::async_connect / async_write /
// async_read pipelines.
#include "senet_demo.hpp"

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/timeout.hpp>

#include "echo_session.hpp"
#include "repeat_until.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace senet_demo {

namespace {

namespace net = senet::net;
using senet::buffer;

// The environment of the server's work: the context's scheduler, for its networking senders.
struct server_env {
  io::io_context::scheduler_type sch_;
  [[nodiscard]] auto query(ex::get_scheduler_t) const noexcept { return sch_; }
};

// An echo server of senders (examples/echo_session.hpp's sessions) on `acceptor`, until a stop
// request on `scope`. Throws on failure.
void serve_senders(io::io_context& ctx, tcp::acceptor& acceptor, ex::counting_scope& scope) {
  auto sch = ctx.get_scheduler();
  bool failed = false;
  auto accept_loop = example::repeat_until([&] {
    return net::async_accept(acceptor) | ex::then([&](tcp::socket s, const tcp::endpoint&) {
             std::error_code ignored;
             s.set_option(tcp::socket::no_delay{true}, ignored);
             ex::spawn(example::echo_session(std::move(s)), scope.get_token(), server_env{sch});
             return false;
           });
  });
  ex::spawn(std::move(accept_loop) | ex::upon_error([&failed](auto&&) noexcept { failed = true; }),
            scope.get_token(), server_env{sch});
  ctx.run();
  ex::sync_wait(scope.join());
  if (failed) {
    throw std::runtime_error("the accept loop failed");
  }
}

// One connection of the senders client: `check_messages` messages written and read back with
// net::async_write / net::async_read, each compared.
struct sender_connection {
  tcp::socket socket;
  std::size_t conn = 0;
  std::size_t seq = 0;
  std::vector<unsigned char> out;
  std::vector<unsigned char> in;
  std::string error;
  std::size_t bytes = 0;

  auto run(std::uint16_t port) {
    return net::async_connect(socket, loopback(port)) | ex::let_value([this] {
             return example::repeat_until([this] {
               fill_message(out, conn, seq, check_size(conn, seq));
               in.assign(out.size(), 0);
               return net::async_write(socket, buffer(out)) |
                      ex::let_value([this](std::size_t) { return net::async_read(socket, buffer(in)); }) |
                      ex::then([this](std::size_t n) {
                        error = n == in.size() ? compare_message(in.data(), n, conn, seq) : "short read";
                        bytes += n;
                        return !error.empty() || ++seq == check_messages;
                      });
             });
           });
  }
};

std::string check_senders(io::io_context& ctx, std::uint16_t port, std::size_t& bytes) {
  std::array<sender_connection, check_connections> c;
  for (std::size_t i = 0; i < c.size(); ++i) {
    c[i].conn = i;
  }
  static_assert(check_connections == 4);
  ctx.run_until(net::timeout(ex::when_all(c[0].run(port), c[1].run(port), c[2].run(port), c[3].run(port)),
                             operation_limit));
  for (auto& conn : c) {
    bytes += conn.bytes;
    if (!conn.error.empty()) {
      return conn.error;
    }
  }
  return {};
}

}  // namespace

const face senders_face{"senders", "senet::net::async_* senders", &serve_on_context<&serve_senders>,
                        &check_senders};

}  // namespace senet_demo
