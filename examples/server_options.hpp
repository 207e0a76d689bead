// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXAMPLES_SERVER_OPTIONS_HPP
#define SENET_EXAMPLES_SERVER_OPTIONS_HPP

// What the example echo servers share: their command line (--port, --address, --backend) and
// what their accept loops do after an accept error (accept_action, classify).

#include <senet/io/backend_kind.hpp>
#include <senet/io/io_context.hpp>

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace example {

struct options {
  unsigned short port = 0;
  std::string address = "127.0.0.1";
  std::optional<senet::io::backend_kind> backend;
};

// What the accept loop does after an accept error.
enum class accept_action {
  next,      // the connection died before it was accepted, or a transient network error: go on
  back_off,  // out of descriptors or memory: wait accept_backoff, then try again
  stop,      // the acceptor itself is broken: end the server
};

// How long the accept loop waits after running out of descriptors or memory. Connections that
// arrive meanwhile wait in the listen backlog.
constexpr std::chrono::milliseconds accept_backoff{100};

inline accept_action classify(std::error_code ec) {
  if (ec.category() != std::generic_category() && ec.category() != std::system_category()) {
    return accept_action::stop;
  }
  switch (ec.value()) {
    case EMFILE:   // this process is out of descriptors
    case ENFILE:   // the system is out of descriptors
    case ENOBUFS:  // out of socket buffers
    case ENOMEM:   // out of memory
      return accept_action::back_off;
    case ECONNABORTED:  // the peer reset the connection while it waited in the backlog
    case EPROTO:
    case EPERM:  // a firewall rule refused it
    case EINTR:
    case EAGAIN:
    // Linux passes pending network errors of the new socket to accept (accept(2), "Error handling").
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
    case ETIMEDOUT:
      return accept_action::next;
    default:
      return accept_action::stop;
  }
}

inline void usage(std::FILE* out, const char* program) {
  std::fprintf(out,
               "usage: %s [--port N] [--address A] [--backend uring|epoll] [--help]\n"
               "  --port N        port to listen on (default 0: any free port, printed on stdout)\n"
               "  --address A     address to listen on (default 127.0.0.1)\n"
               "  --backend B     io_context backend: uring or epoll (default: the best available)\n"
               "Stops cleanly on SIGINT or SIGTERM.\n",
               program);
}

inline std::optional<options> parse(int argc, char** argv, const char* program) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::optional<std::string_view> {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        return std::nullopt;
      }
      return std::string_view(argv[++i]);
    };
    if (arg == "--help" || arg == "-h") {
      usage(stdout, program);
      std::exit(0);
    } else if (arg == "--port") {
      auto v = value();
      if (!v) {
        return std::nullopt;
      }
      std::string text(*v);
      char* end = nullptr;
      long port = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || end == nullptr || *end != '\0' || port < 0 || port > 65535) {
        std::fprintf(stderr, "bad port: %s\n", text.c_str());
        return std::nullopt;
      }
      opts.port = static_cast<unsigned short>(port);
    } else if (arg == "--address") {
      auto v = value();
      if (!v) {
        return std::nullopt;
      }
      opts.address = *v;
    } else if (arg == "--backend") {
      auto v = value();
      if (!v) {
        return std::nullopt;
      }
      if (*v == "uring") {
        opts.backend = senet::io::uring;
      } else if (*v == "epoll") {
        opts.backend = senet::io::epoll;
      } else {
        std::fprintf(stderr, "unknown backend: %s (uring or epoll)\n", std::string(*v).c_str());
        return std::nullopt;
      }
    } else {
      std::fprintf(stderr, "unknown argument: %s\n", argv[i]);
      return std::nullopt;
    }
  }
  return opts;
}

// Blocks SIGINT and SIGTERM in this thread and in the threads it starts afterwards, so that one
// thread can receive them with sigwait (no signal handler is installed). Returns that set.
inline sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// Makes `context` on the backend the options ask for (the best available without --backend);
// false, after saying so on stderr, when that backend is not available here.
inline bool open_context(const options& opts, std::optional<senet::io::io_context>& context) {
  if (opts.backend && !senet::io::io_context::is_available(*opts.backend)) {
    std::fprintf(stderr, "backend %s is not available here\n",
                 std::string(senet::io::to_string(*opts.backend)).c_str());
    return false;
  }
  if (opts.backend) {
    context.emplace(*opts.backend);
  } else {
    context.emplace();
  }
  return true;
}

}  // namespace example

#endif
