// SPDX-License-Identifier: BSL-1.0
// An echo client written with senders: many concurrent connections on one thread.
//
//   echo_client_senders --port N [--host H] [--connections C] [--messages M] [--size S]
//                       [--backend uring|epoll] [--help]
//
// Resolves H (default 127.0.0.1), opens C connections (default 1) to port N, and on each sends M
// messages (default 100) of S bytes (default 64), waiting for each message's echo and checking it.
// Prints a summary; exits with status 0 only if every byte came back as sent.
#include <senet/net.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace ex = senet::ex;
namespace net = senet::net;
using senet::ip::tcp;

namespace {

struct options {
  std::string host = "127.0.0.1";
  std::string port;
  std::size_t connections = 1;
  std::size_t messages = 100;
  std::size_t size = 64;
  std::optional<senet::io::backend_kind> backend;
};

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: echo_client_senders --port N [--host H] [--connections C] [--messages M] [--size S]\n"
               "                           [--backend uring|epoll] [--help]\n"
               "  --port N          the echo server's port (required)\n"
               "  --host H          the echo server's host name or address (default 127.0.0.1)\n"
               "  --connections C   concurrent connections (default 1)\n"
               "  --messages M      messages per connection, each echoed before the next (default 100)\n"
               "  --size S          bytes per message (default 64)\n"
               "  --backend B       io_context backend: uring or epoll (default: the best available)\n");
}

bool parse_count(std::string_view text, std::size_t min, std::size_t& out) {
  std::string s(text);
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || end == nullptr || *end != '\0' || v < min) {
    return false;
  }
  out = static_cast<std::size_t>(v);
  return true;
}

std::optional<options> parse(int argc, char** argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "unknown argument or missing value: %s\n", argv[i]);
      return std::nullopt;
    }
    std::string_view v = argv[++i];
    bool ok = true;
    if (arg == "--port") {
      std::size_t port = 0;
      ok = parse_count(v, 1, port) && port <= 65535;
      opts.port = v;
    } else if (arg == "--host") {
      opts.host = v;
    } else if (arg == "--connections") {
      ok = parse_count(v, 1, opts.connections);
    } else if (arg == "--messages") {
      ok = parse_count(v, 1, opts.messages);
    } else if (arg == "--size") {
      ok = parse_count(v, 1, opts.size);
    } else if (arg == "--backend") {
      if (v == "uring") {
        opts.backend = senet::io::uring;
      } else if (v == "epoll") {
        opts.backend = senet::io::epoll;
      } else {
        ok = false;
      }
    } else {
      std::fprintf(stderr, "unknown argument: %s\n", argv[i - 1]);
      return std::nullopt;
    }
    if (!ok) {
      std::fprintf(stderr, "bad value for %s: %s\n", argv[i - 1], argv[i]);
      return std::nullopt;
    }
  }
  if (opts.port.empty()) {
    std::fprintf(stderr, "--port is required\n");
    return std::nullopt;
  }
  return opts;
}

struct totals {
  std::size_t messages = 0;
  std::size_t bytes = 0;
  std::size_t mismatches = 0;
  std::size_t errors = 0;
};

// What one connection keeps while it runs (inside its operation state, through let_value).
struct connection {
  tcp::socket socket;
  std::size_t id;
  std::size_t sent = 0;
  std::vector<unsigned char> out;
  std::vector<unsigned char> in;

  // Message `sent` of this connection: bytes that differ between connections and messages.
  void fill() {
    for (std::size_t j = 0; j < out.size(); ++j) {
      out[j] = static_cast<unsigned char>(id * 131 + sent * 31 + j);
    }
  }
};

// One connection: connect, then send each message and read its echo, at the same time (a message
// larger than the socket buffers would otherwise deadlock with the server), and compare.
auto client_session(const tcp::endpoint& ep, std::size_t id, const options& opts, totals& sum) {
  return ex::let_value(
             ex::just(connection{tcp::socket(ep.protocol()), id, 0, std::vector<unsigned char>(opts.size),
                                 std::vector<unsigned char>(opts.size)}),
             [ep, &opts, &sum](connection& c) {
               return net::async_connect(c.socket, ep) | ex::let_value([&c, &opts, &sum] {
                        return ex::repeat_effect_until(
                            ex::just() | ex::let_value([&c] {
                              c.fill();
                              return ex::when_all(net::async_write(c.socket, senet::buffer(c.out)),
                                                  net::async_read(c.socket, senet::buffer(c.in)));
                            }) |
                            ex::then([&c, &opts, &sum](std::size_t, std::size_t n) noexcept {
                              if (c.in != c.out) {
                                ++sum.mismatches;
                              }
                              sum.bytes += n;
                              ++sum.messages;
                              return ++c.sent == opts.messages;
                            }));
                      });
             }) |
         ex::upon_error([&sum, id](auto&& error) noexcept {
           ++sum.errors;
           if constexpr (std::is_same_v<std::decay_t<decltype(error)>, std::error_code>) {
             std::fprintf(stderr, "connection %zu: %s\n", id, error.message().c_str());
           } else {
             std::fprintf(stderr, "connection %zu: failed\n", id);
           }
         }) |
         ex::upon_stopped([&sum]() noexcept { ++sum.errors; });
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<options> opts = parse(argc, argv);
  if (!opts) {
    usage(stderr);
    return 2;
  }
  try {
    if (opts->backend && !senet::io::io_context::is_available(*opts->backend)) {
      std::fprintf(stderr, "backend %s is not available here\n",
                   std::string(senet::io::to_string(*opts->backend)).c_str());
      return 2;
    }
    std::optional<senet::io::io_context> context;
    if (opts->backend) {
      context.emplace(*opts->backend);
    } else {
      context.emplace();
    }
    senet::io::io_context& ctx = *context;

    // Find the server: the first resolved endpoint that accepts a connection.
    auto [endpoints] = ctx.run_until(net::async_resolve(opts->host, opts->port)).value();
    std::optional<tcp::endpoint> server;
    std::error_code last_error;
    for (const tcp::endpoint& ep : endpoints) {
      tcp::socket probe(ep.protocol());
      auto r = ctx.run_until(net::async_connect(probe, ep) |
                             ex::then([]() noexcept { return std::error_code{}; }) |
                             ex::upon_error([](std::error_code ec) noexcept { return ec; }));
      if (r && !std::get<0>(*r)) {
        server = ep;
        break;
      }
      if (r) {
        last_error = std::get<0>(*r);
      }
    }
    if (!server) {
      std::fprintf(stderr, "echo client: cannot connect to %s port %s: %s\n", opts->host.c_str(),
                   opts->port.c_str(), last_error.message().c_str());
      return 1;
    }

    totals sum;
    ex::counting_scope scope;
    auto start = std::chrono::steady_clock::now();
    for (std::size_t id = 0; id < opts->connections; ++id) {
      ex::spawn(ex::starts_on(ctx.get_scheduler(), client_session(*server, id, *opts, sum)),
                scope.get_token());
    }
    // The connections run until they are done; then the (empty) scope is joined.
    ctx.run();
    ex::sync_wait(scope.join());
    auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
            .count();

    std::size_t expected = opts->connections * opts->messages;
    std::printf(
        "echo client: %zu connection(s), %zu/%zu message(s) of %zu byte(s), %zu byte(s) echoed, "
        "%zu mismatch(es), %zu error(s), %lld ms (%s)\n",
        opts->connections, sum.messages, expected, opts->size, sum.bytes, sum.mismatches, sum.errors,
        static_cast<long long>(elapsed), std::string(senet::io::to_string(ctx.backend())).c_str());
    return sum.mismatches == 0 && sum.errors == 0 && sum.messages == expected ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo client: %s\n", e.what());
    return 1;
  }
}
