// SPDX-License-Identifier: BSL-1.0
// An echo server with one io_context per core: N threads, each running its own context and its own
// acceptor on the same port (SO_REUSEPORT), so that the kernel spreads connections over them and
// no state is shared between threads on the data path.
//
//   echo_server_reuseport [--port P] [--address A] [--threads N] [--exit-after C]
//                         [--backend uring|epoll] [--help]
//
// It listens on A (default 127.0.0.1) port P (default 0: the kernel picks a free port, and the
// other threads bind that one), prints "listening on port P" on stdout, and sends every byte it
// receives back to its sender.
//
// What a production server must do, and this one does:
// - An accept that fails for lack of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM) is not the end of
//   the server: the thread waits a little (the connection stays in the kernel's queue meanwhile)
//   and accepts again, while the connections it already has keep being served. A connection that
//   died in the queue (ECONNABORTED) is skipped. Any other accept error stops the server, status 1.
// - SIGINT or SIGTERM stop it: every thread stops accepting and ends its open connections, and
//   the process exits with status 0. No signal handler is installed: the signals are blocked and
//   one thread receives them with sigwait.
// - `--exit-after C`: after C connections in all (for tests), the threads stop accepting, finish
//   the connections they have, and the process exits with status 0.
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/address.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/sockets.hpp>

#include "echo_session.hpp"
#include "repeat_until.hpp"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

namespace ex = senet::ex;
namespace net = senet::net;
using senet::ip::tcp;
using namespace std::chrono_literals;

namespace example {

// The environment the server's work runs in: the context's scheduler, for its networking senders.
// (The stop token comes from the scope the work is spawned in.)
struct server_env {
  senet::io::io_context::scheduler_type sch_;
  [[nodiscard]] auto query(ex::get_scheduler_t) const noexcept { return sch_; }
};

}  // namespace example

namespace {

using example::server_env;

struct options {
  unsigned short port = 0;
  std::string address = "127.0.0.1";
  unsigned threads = 0;        // 0: one per core
  std::size_t exit_after = 0;  // 0: never
  std::optional<senet::io::backend_kind> backend;
};

void usage(std::FILE* out) {
  std::fprintf(
      out,
      "usage: echo_server_reuseport [--port P] [--address A] [--threads N] [--exit-after C]\n"
      "                             [--backend uring|epoll] [--help]\n"
      "  --port P        port to listen on (default 0: any free port, printed on stdout)\n"
      "  --address A     address to listen on (default 127.0.0.1)\n"
      "  --threads N     threads, each with its own io_context and acceptor (default: one per core)\n"
      "  --exit-after C  exit once C connections were accepted and served\n"
      "  --backend B     io_context backend: uring or epoll (default: the best available)\n"
      "Stops cleanly on SIGINT or SIGTERM.\n");
}

std::optional<unsigned long> parse_number(std::string_view text, unsigned long max) {
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(s.c_str(), &end, 10);
  if (s.empty() || s[0] == '-' || end == nullptr || *end != '\0' || errno != 0 || v > max) {
    return std::nullopt;
  }
  return v;
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
      std::fprintf(stderr, "%s: unknown argument, or it needs a value\n", argv[i]);
      return std::nullopt;
    }
    std::string_view value = argv[++i];
    if (arg == "--port") {
      auto v = parse_number(value, 65535);
      if (!v) {
        std::fprintf(stderr, "bad port: %s\n", argv[i]);
        return std::nullopt;
      }
      opts.port = static_cast<unsigned short>(*v);
    } else if (arg == "--address") {
      opts.address = value;
    } else if (arg == "--threads") {
      auto v = parse_number(value, 1024);
      if (!v || *v == 0) {
        std::fprintf(stderr, "bad thread count: %s (1 to 1024)\n", argv[i]);
        return std::nullopt;
      }
      opts.threads = static_cast<unsigned>(*v);
    } else if (arg == "--exit-after") {
      auto v = parse_number(value, 1'000'000'000);
      if (!v || *v == 0) {
        std::fprintf(stderr, "bad connection count: %s\n", argv[i]);
        return std::nullopt;
      }
      opts.exit_after = *v;
    } else if (arg == "--backend") {
      if (value == "uring") {
        opts.backend = senet::io::uring;
      } else if (value == "epoll") {
        opts.backend = senet::io::epoll;
      } else {
        std::fprintf(stderr, "unknown backend: %s (uring or epoll)\n", argv[i]);
        return std::nullopt;
      }
    } else {
      std::fprintf(stderr, "unknown argument: %s\n", argv[i - 1]);
      return std::nullopt;
    }
  }
  if (opts.threads == 0) {
    opts.threads = std::max(1u, std::thread::hardware_concurrency());
  }
  return opts;
}

// The errors after which accepting again later can succeed: the process or the system is out of
// descriptors or memory for now. The pending connection stays in the listen queue meanwhile.
//
// These two look at the errno value itself rather than comparing with std::errc, and the back-off
// message uses strerror rather than ec.message(): those would be calls on the error category
// object, and a process with no descriptor left is exactly where a sanitizer's check of such a
// call (UBSan's vptr check opens a pipe) fails. Nothing on this path needs a descriptor.
bool out_of_resources(const std::error_code& ec) {
  if (&ec.category() != &std::system_category()) {
    return false;
  }
  int e = ec.value();
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

// A connection that was reset while it waited to be accepted: skip it.
bool connection_gone(const std::error_code& ec) {
  return &ec.category() == &std::system_category() && (ec.value() == ECONNABORTED || ec.value() == EPROTO);
}

// What every thread shares: the connection count and the switches that stop them.
struct server_state {
  std::size_t exit_after = 0;
  std::atomic<std::size_t> accepted{0};
  std::atomic<std::size_t> backoffs{0};
  std::atomic<bool> failed{false};
};

// One thread of the server: its io_context, its acceptor on the shared port, and two scopes, one
// for the accept loop and one for the sessions, so that accepting can stop while the sessions
// finish (--exit-after) or both can stop at once (a signal).
class worker {
 public:
  worker(const options& opts, const tcp::endpoint& ep, server_state& state)
      : acceptor_(ep, /*reuse_address=*/true, /*reuse_port=*/true), state_(&state) {
    if (opts.backend) {
      context_.emplace(*opts.backend);
    } else {
      context_.emplace();
    }
  }

  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  [[nodiscard]] unsigned short port() const { return acceptor_.local_endpoint().port(); }

  // Any thread: stop accepting; the connections already accepted go on.
  void stop_accepting() noexcept { accept_scope_.request_stop(); }

  // Any thread: stop accepting and end every connection.
  void stop_all() noexcept {
    accept_scope_.request_stop();
    session_scope_.request_stop();
  }

  // Runs the thread's server until it has no work left. `stop_others` is called (on this thread)
  // when this thread sees the connection limit reached or a fatal error.
  template <class StopOthers>
  void run(StopOthers stop_others) {
    auto sch = context_->get_scheduler();
    ex::spawn(accept_loop(sch, stop_others) | ex::upon_error([this, &stop_others](auto&& error) noexcept {
                this->report_fatal(error);
                stop_others();
              }),
              accept_scope_.get_token(), server_env{sch});
    context_->run();
    ex::sync_wait(accept_scope_.join());
    ex::sync_wait(session_scope_.join());
  }

  [[nodiscard]] std::size_t served() const noexcept { return served_; }

 private:
  template <class Error>
  void report_fatal(const Error& error) noexcept {
    state_->failed = true;
    if constexpr (std::is_same_v<std::decay_t<Error>, std::error_code>) {
      std::fprintf(stderr, "echo server: accept failed: %s\n", error.message().c_str());
    } else {
      std::fprintf(stderr, "echo server: accept failed\n");
    }
  }

  // One accept per step: a new connection starts a session and the loop goes on (until the
  // connection limit); a resource error waits and goes on; any other error ends the loop.
  template <class StopOthers>
  auto accept_loop(senet::io::io_context::scheduler_type sch, StopOthers& stop_others) {
    return example::repeat_until([this, sch, &stop_others] {
      return net::async_accept(acceptor_) |
             ex::then([this, sch, &stop_others](tcp::socket s, const tcp::endpoint&) {
               std::error_code ignored;
               s.set_option(tcp::socket::no_delay{true}, ignored);
               ex::spawn(example::echo_session(std::move(s)), session_scope_.get_token(), server_env{sch});
               ++served_;
               std::size_t n = state_->accepted.fetch_add(1) + 1;
               if (state_->exit_after != 0 && n >= state_->exit_after) {
                 stop_others();
                 return true;
               }
               return false;
             }) |
             ex::let_error([this, &stop_others](auto&& error) {
               std::error_code ec;
               if constexpr (std::is_same_v<std::decay_t<decltype(error)>, std::error_code>) {
                 ec = error;
               } else {
                 ec = std::make_error_code(std::errc::not_enough_memory);  // spawn could not allocate
               }
               bool resource = out_of_resources(ec);
               bool fatal = !resource && !connection_gone(ec);
               if (resource) {
                 // Print the first back-off of a thread only: under a flood of connections this
                 // would otherwise be all the server does.
                 if (state_->backoffs.fetch_add(1) == 0) {
                   std::fprintf(stderr, "echo server: accept: %s; backing off\n", std::strerror(ec.value()));
                 }
               } else if (fatal) {
                 this->report_fatal(ec);
                 stop_others();
               }
               // The wait lets sessions run and close their sockets before the next accept.
               return net::async_wait_for(resource ? 20ms : 0ms) |
                      ex::then([fatal]() noexcept { return fatal; });
             });
    });
  }

  std::optional<senet::io::io_context> context_;
  tcp::acceptor acceptor_;
  server_state* state_;
  ex::counting_scope accept_scope_;
  ex::counting_scope session_scope_;
  std::size_t served_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::optional<options> opts = parse(argc, argv);
  if (!opts) {
    usage(stderr);
    return 2;
  }

  // SIGINT and SIGTERM are blocked in every thread (the worker threads inherit the mask) and
  // received by one thread with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  try {
    if (opts->backend && !senet::io::io_context::is_available(*opts->backend)) {
      std::fprintf(stderr, "backend %s is not available here\n",
                   std::string(senet::io::to_string(*opts->backend)).c_str());
      return 2;
    }
    server_state state;
    state.exit_after = opts->exit_after;

    // Every acceptor is made here, before any thread starts, so that a port in use or a missing
    // SO_REUSEPORT is reported at once. The first binds the requested port (0: any), the others
    // the port it got.
    std::list<worker> workers;  // not a vector: workers do not move
    tcp::endpoint ep(senet::ip::make_address(opts->address), opts->port);
    for (unsigned i = 0; i < opts->threads; ++i) {
      workers.emplace_back(*opts, ep, state);
      ep.port(workers.front().port());
    }
    std::printf("listening on port %u\n", static_cast<unsigned>(ep.port()));
    std::fflush(stdout);

    auto stop_accepting = [&workers]() noexcept {
      for (worker& w : workers) {
        w.stop_accepting();
      }
    };

    std::atomic<bool> signalled{false};
    std::thread signal_thread([&] {
      int sig = 0;
      if (sigwait(&signals, &sig) == 0 && sig != 0 && !signalled.exchange(true)) {
        for (worker& w : workers) {
          w.stop_all();
        }
      }
    });

    std::vector<std::thread> threads;
    for (worker& w : workers) {
      threads.emplace_back([&w, &stop_accepting] { w.run(stop_accepting); });
    }
    for (std::thread& t : threads) {
      t.join();
    }

    if (!signalled.exchange(true)) {
      // The server ended by itself (--exit-after, or an accept error): wake the signal thread.
      pthread_kill(signal_thread.native_handle(), SIGTERM);
    }
    signal_thread.join();

    std::fprintf(stderr, "echo server: %zu connection(s) served by %zu thread(s):", state.accepted.load(),
                 workers.size());
    for (const worker& w : workers) {
      std::fprintf(stderr, " %zu", w.served());
    }
    std::fprintf(stderr, "; %zu accept back-off(s)\n", state.backoffs.load());
    return state.failed ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo server: %s\n", e.what());
    return 1;
  }
}
