// SPDX-License-Identifier: BSL-1.0
// What senet-demo's faces share (tools/senet_demo.cpp runs them): the face record, the messages
// the check clients send and how they are compared, and the server scaffolding of the faces that
// run on an io_context. Each face lives in its own file, tools/senet_demo_<face>.cpp, and is one
// entry of the table in senet_demo.cpp.
#ifndef SENET_TOOLS_SENET_DEMO_HPP
#define SENET_TOOLS_SENET_DEMO_HPP

#include <senet/execution.hpp>
#include <senet/io/backend_kind.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/address.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/sockets.hpp>

#include <poll.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

namespace senet_demo {

namespace ex = senet::ex;
namespace io = senet::io;
using senet::ip::tcp;
using namespace std::chrono_literals;

/** A face of senet, as the demo runs it.

    `serve` runs in a child process of its own: it serves echo on `listen_fd` (a listening,
    non-blocking TCP socket on 127.0.0.1, which it owns) on backend `kind`, calls `announce_port`
    once it is ready, and returns when `stop_fd` becomes readable; it throws on failure. (A face
    whose API makes its own listening socket closes `listen_fd` and announces the port of its own
    socket instead.)
    `check` is the face's client: it opens `check_connections` connections to `port`, sends each
    `check_messages` messages (`fill_message`) one at a time, and compares what comes back
    (`compare_message`); it returns "" or what went wrong, adds the bytes compared to `bytes`, and
    gives up after `operation_limit`. Clients that run on an io_context use `ctx`, which runs on the
    server's backend. */
struct face {
  std::string_view name;
  std::string_view what;
  void (*serve)(io::backend_kind kind, int listen_fd, int stop_fd);
  std::string (*check)(io::io_context& ctx, std::uint16_t port, std::size_t& bytes);
};

/** Tells the demo that this child's server accepts connections on 127.0.0.1 port `port`. */
void announce_port(std::uint16_t port);

extern const face senders_face;
extern const face coroutines_face;
extern const face c_api_face;
extern const face coro_facade_face;

// ---- the check clients' messages -----------------------------------------------------------------

/** The byte at `offset` of message `seq` on connection `conn`: every message differs from the one
    before it, so that a stale or misplaced echo is seen. */
inline unsigned char message_byte(std::size_t conn, std::size_t seq, std::size_t offset) {
  return static_cast<unsigned char>(conn * 131 + seq * 29 + offset * 7 + offset / 251);
}

/** Message `seq` of connection `conn`, `size` bytes, in `out`. */
template <class Bytes>
void fill_message(Bytes& out, std::size_t conn, std::size_t seq, std::size_t size) {
  out.resize(size);
  for (std::size_t i = 0; i < size; ++i) {
    out[i] = message_byte(conn, seq, i);
  }
}

/** "" when `got` is message `seq` of connection `conn`, else where it differs. */
inline std::string compare_message(const unsigned char* got, std::size_t size, std::size_t conn,
                                   std::size_t seq) {
  for (std::size_t i = 0; i < size; ++i) {
    if (got[i] != message_byte(conn, seq, i)) {
      return "connection " + std::to_string(conn) + ", message " + std::to_string(seq) + ": byte " +
             std::to_string(i) + " of " + std::to_string(size) + " differs";
    }
  }
  return {};
}

/** The sizes of the check messages, in turn: a byte, a ping, more than the servers' 16 KiB read
    buffer, more than a socket buffer takes at once... */
inline constexpr std::array<std::size_t, 6> check_sizes{1, 64, 1000, 16 * 1024 + 1, 70'000, 300};
inline constexpr std::size_t check_connections = 4;
inline constexpr std::size_t check_messages = 12;
/** A check, or a measurement, that has not finished after this (beyond its own length) failed. */
inline constexpr auto operation_limit = 20s;

inline std::size_t check_size(std::size_t conn, std::size_t seq) {
  return check_sizes[(conn + seq) % check_sizes.size()];
}

inline tcp::endpoint loopback(std::uint16_t port) {
  return {senet::ip::make_address("127.0.0.1"), port};
}

/** Waits until `fd` is readable (or hung up). */
inline void wait_readable(int fd) {
  ::pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
}

/** `face::serve` for a server written on an io_context: `Run(ctx, acceptor, scope)` serves until a
    stop request on `scope`, which a thread makes when `stop_fd` becomes readable. */
template <void (*Run)(io::io_context&, tcp::acceptor&, ex::counting_scope&)>
void serve_on_context(io::backend_kind kind, int listen_fd, int stop_fd) {
  io::io_context ctx(kind);
  tcp::acceptor acceptor(tcp::v4(), listen_fd);
  ex::counting_scope scope;
  std::thread stopper([&scope, stop_fd] {
    wait_readable(stop_fd);
    scope.request_stop();
  });
  announce_port(acceptor.local_endpoint().port());
  try {
    Run(ctx, acceptor, scope);
  } catch (...) {
    stopper.detach();  // the process ends now
    throw;
  }
  stopper.join();
}

}  // namespace senet_demo

#endif  // SENET_TOOLS_SENET_DEMO_HPP
