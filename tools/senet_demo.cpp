// SPDX-License-Identifier: BSL-1.0
// senet-demo: what senet does, shown on loopback in under a minute (scripts/run builds and runs it).
//
//   senet-demo [--backend B] [--face F] [--connections N] [--seconds S] [--size B] [--json] [--help]
//
// For each backend (io_uring, epoll) and each face of senet (senders, coroutines, the C API, and
// the libcoro-compatible facade when it is built in), it
//  1. starts an echo server written against that face, in a child process of its own, on a port
//     the kernel picks on 127.0.0.1;
//  2. drives every server with a client written against each face, every byte checked;
//  3. measures each server with one load generator (coroutines, on the same backend): round
//     trips per second and p50/p99 latency of S-byte ping-pong at 1 and at N connections, bulk
//     throughput with 64 KiB writes, and the server's CPU time per round trip at N connections
//     (the child's CPU clock, so the client's own cost is not counted);
// then prints a table per backend and ends with "all checks passed", or with what failed and exit
// status 1. A bad option: a one-line error, the usage, exit status 2.
//
// A face is one entry of the `faces` table below (its name, its server, its client), written in a
// file of its own: tools/senet_demo_<face>.cpp.
#include "senet_demo.hpp"

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/backend_kind.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/address.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/sockets.hpp>
#include <senet/net/timeout.hpp>
#include <senet/stream/write_now.hpp>
#include <senet/task.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
using senet::buffer;
using senet::ip::tcp;
using namespace std::chrono_literals;

namespace {

using senet_demo::compare_message;
using senet_demo::face;
using senet_demo::fill_message;
using senet_demo::loopback;
using senet_demo::operation_limit;

// ---- small tools -------------------------------------------------------------------------------

using clock_type = std::chrono::steady_clock;

std::string_view backend_name(io::backend_kind kind) {
  return kind == io::backend_kind::uring ? "io_uring" : io::to_string(kind);
}

// The CPU time (user + system) that process `pid` has used, in nanoseconds; -1 if unknown.
std::int64_t process_cpu_ns(pid_t pid) {
  clockid_t clock{};
  timespec ts{};
  if (::clock_getcpuclockid(pid, &clock) != 0 || ::clock_gettime(clock, &ts) != 0) {
    return -1;
  }
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// The faces, in the order of the table: adding a face is adding its file and a line here.
const face* const faces[] = {&senet_demo::senders_face, &senet_demo::coroutines_face, &senet_demo::c_api_face,
                             &senet_demo::coro_facade_face};

// ---- server processes --------------------------------------------------------------------------

/** An echo server of one face on one backend, in a child process. */
struct server_process {
  const face* face_ = nullptr;
  io::backend_kind kind{};
  pid_t pid = -1;
  int stop_fd = -1;  // closing it asks the child to stop
  std::uint16_t port = 0;
};

// A listening TCP socket on 127.0.0.1, port 0; its port in `port`.
int listen_loopback(std::uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw std::system_error(errno, std::system_category(), "socket");
  }
  ::sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<const ::sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 1024) != 0 ||
      ::getsockname(fd, reinterpret_cast<::sockaddr*>(&addr), &len) != 0) {
    int e = errno;
    ::close(fd);
    throw std::system_error(e, std::system_category(), "bind/listen");
  }
  port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

// In a server's child process: the write end of the pipe on which it announces its port.
static int ready_pipe_end = -1;

void senet_demo::announce_port(std::uint16_t port) {
  std::array<unsigned char, 2> bytes{static_cast<unsigned char>(port >> 8), static_cast<unsigned char>(port)};
  if (::write(ready_pipe_end, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
    throw std::system_error(errno, std::system_category(), "announcing the port");
  }
  ::close(ready_pipe_end);
  ready_pipe_end = -1;
}

namespace {

// Waits (at most 20 s) for the port a server's child announces on `fd`; 0 if it did not.
std::uint16_t read_port(int fd) {
  std::array<unsigned char, 2> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    ::pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, 20'000);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return 0;
    }
    ssize_t r = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (r <= 0) {
      return 0;  // the child ended before it announced its port
    }
    got += static_cast<std::size_t>(r);
  }
  return static_cast<std::uint16_t>(bytes[0] << 8 | bytes[1]);
}

// The write ends of the stop pipes of the servers started so far: a child closes those it
// inherited, so that each server sees the end of its pipe when this process closes its end.
std::vector<int> stop_pipe_ends;

// Starts the server of `f` on backend `kind` in a child process. The caller has no other thread.
server_process start_server(const face& f, io::backend_kind kind) {
  server_process s{&f, kind, -1, -1, 0};
  int listen_fd = listen_loopback(s.port);
  std::array<int, 2> stop_pipe{};
  std::array<int, 2> ready_pipe{};
  if (::pipe2(stop_pipe.data(), O_CLOEXEC) != 0) {
    ::close(listen_fd);
    throw std::system_error(errno, std::system_category(), "pipe2");
  }
  if (::pipe2(ready_pipe.data(), O_CLOEXEC) != 0) {
    int e = errno;
    ::close(listen_fd);
    ::close(stop_pipe[0]);
    ::close(stop_pipe[1]);
    throw std::system_error(e, std::system_category(), "pipe2");
  }
  std::fflush(nullptr);
  s.pid = ::fork();
  if (s.pid < 0) {
    int e = errno;
    for (int fd : {listen_fd, stop_pipe[0], stop_pipe[1], ready_pipe[0], ready_pipe[1]}) {
      ::close(fd);
    }
    throw std::system_error(e, std::system_category(), "fork");
  }
  if (s.pid == 0) {
    // The child.
    ::close(stop_pipe[1]);
    ::close(ready_pipe[0]);
    ready_pipe_end = ready_pipe[1];
    for (int fd : stop_pipe_ends) {
      ::close(fd);
    }
    int status = 0;
    try {
      f.serve(kind, listen_fd, stop_pipe[0]);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "senet-demo: the %s server on %.*s failed: %s\n", std::string(f.name).c_str(),
                   static_cast<int>(backend_name(kind).size()), backend_name(kind).data(), e.what());
      status = 1;
    }
    std::fflush(nullptr);
    ::_exit(status);
  }
  ::close(listen_fd);
  ::close(stop_pipe[0]);
  ::close(ready_pipe[1]);
  s.port = read_port(ready_pipe[0]);
  ::close(ready_pipe[0]);
  s.stop_fd = stop_pipe[1];
  stop_pipe_ends.push_back(s.stop_fd);
  return s;
}

// Asks the server to stop and waits (at most 10 s) for it; "" if it exited with status 0.
std::string stop_server(server_process& s) {
  if (s.pid <= 0) {
    return {};
  }
  ::close(s.stop_fd);
  int status = 0;
  auto deadline = clock_type::now() + 10s;
  for (;;) {
    pid_t r = ::waitpid(s.pid, &status, WNOHANG);
    if (r == s.pid) {
      break;
    }
    if (r < 0 || clock_type::now() > deadline) {
      ::kill(s.pid, SIGKILL);
      ::waitpid(s.pid, &status, 0);
      s.pid = -1;
      return "did not stop within 10 s";
    }
    std::this_thread::sleep_for(5ms);
  }
  s.pid = -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return {};
  }
  return WIFSIGNALED(status) ? "ended by signal " + std::to_string(WTERMSIG(status))
                             : "exited with status " + std::to_string(WEXITSTATUS(status));
}

// ---- the load generator ------------------------------------------------------------------------

struct ping_pong_result {
  std::uint64_t round_trips = 0;
  double seconds = 0;
  double p50_us = 0;
  double p99_us = 0;
  std::int64_t server_cpu_ns = -1;
  std::string error;
  [[nodiscard]] double per_second() const {
    return seconds > 0 ? static_cast<double>(round_trips) / seconds : 0;
  }
};

struct ping_pong_state {
  std::vector<std::uint32_t> latencies_ns;
  std::uint64_t round_trips = 0;
  std::string error;
  clock_type::time_point deadline;
  std::size_t size = 64;
};

// One connection of the ping-pong load: one message in flight, each echo checked.
senet::task<void> pinger(tcp::socket& s, std::size_t conn, ping_pong_state& st) {
  std::vector<unsigned char> out;
  std::vector<unsigned char> in(st.size);
  for (std::size_t seq = 0; clock_type::now() < st.deadline && st.error.empty(); ++seq) {
    fill_message(out, conn, seq, st.size);
    auto t0 = clock_type::now();
    co_await net::async_write(s, buffer(out));
    co_await net::async_read(s, buffer(in));
    auto t1 = clock_type::now();
    if (std::string e = compare_message(in.data(), in.size(), conn, seq); !e.empty()) {
      st.error = e;
      co_return;
    }
    if (st.latencies_ns.size() < st.latencies_ns.capacity()) {
      st.latencies_ns.push_back(static_cast<std::uint32_t>(
          std::min<std::int64_t>(std::chrono::nanoseconds(t1 - t0).count(), UINT32_MAX)));
    }
    ++st.round_trips;
  }
}

senet::task<void> connect_all(std::vector<tcp::socket>& sockets, std::uint16_t port) {
  for (auto& s : sockets) {
    co_await net::async_connect(s, loopback(port));
    s.set_option(tcp::socket::no_delay{true});
  }
}

double percentile(std::vector<std::uint32_t>& v, double p) {
  if (v.empty()) {
    return 0;
  }
  auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k] / 1000.0;
}

ping_pong_result ping_pong(io::io_context& ctx, const server_process& server, std::size_t connections,
                           std::size_t size, clock_type::duration duration) {
  ping_pong_result r;
  try {
    std::vector<tcp::socket> sockets(connections);
    ctx.run_until(net::timeout(connect_all(sockets, server.port), operation_limit));
    ping_pong_state st;
    st.size = size;
    st.latencies_ns.reserve(4'000'000);
    ex::counting_scope scope;
    auto env = ex::prop{io::get_io_scheduler, ctx.get_scheduler()};
    std::int64_t cpu0 = process_cpu_ns(server.pid);
    auto t0 = clock_type::now();
    st.deadline = t0 + duration;
    for (std::size_t i = 0; i < connections; ++i) {
      ex::spawn(pinger(sockets[i], i, st) | ex::upon_error([&st](std::exception_ptr e) noexcept {
                  try {
                    std::rethrow_exception(e);
                  } catch (const std::exception& x) {
                    st.error = x.what();
                  }
                }),
                scope.get_token(), env);
    }
    bool joined = false;
    try {
      joined = ctx.run_until(net::timeout(scope.join(), duration + operation_limit)).has_value();
    } catch (const std::system_error& e) {
      st.error = "the round trips did not end: " + e.code().message();
    }
    if (!joined) {
      // Stop the connections still waiting, and wait for them: they use this frame.
      scope.request_stop();
      ctx.run_until(scope.join());
    }
    r.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
    std::int64_t cpu1 = process_cpu_ns(server.pid);
    if (cpu0 >= 0 && cpu1 >= 0) {
      r.server_cpu_ns = cpu1 - cpu0;
    }
    if (!joined && st.error.empty()) {
      st.error = "stopped";
    }
    r.round_trips = st.round_trips;
    r.p50_us = percentile(st.latencies_ns, 0.50);
    r.p99_us = percentile(st.latencies_ns, 0.99);
    r.error = st.error;
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  return r;
}

struct bulk_result {
  std::uint64_t bytes = 0;
  double seconds = 0;
  std::string error;
  [[nodiscard]] double gigabytes_per_second() const {
    return seconds > 0 ? static_cast<double>(bytes) / seconds / 1e9 : 0;
  }
};

constexpr std::size_t bulk_write_size = 64 * 1024;
// The bulk stream repeats a pattern whose period, a prime, is not a multiple of the write size, so
// that every write starts at another place in it; each write is a slice of `bulk_pattern`.
constexpr std::size_t bulk_period = 65'521;

const std::vector<unsigned char>& bulk_pattern() {
  static const std::vector<unsigned char> pattern = [] {
    std::vector<unsigned char> p(bulk_period + bulk_write_size);
    for (std::size_t i = 0; i < p.size(); ++i) {
      p[i] = static_cast<unsigned char>((i % bulk_period) * 7 + (i % bulk_period) / 251);
    }
    return p;
  }();
  return pattern;
}

// Writes 64 KiB at a time until the deadline, then shuts the connection down for sending.
senet::task<void> bulk_writer(tcp::socket& s, clock_type::time_point deadline, std::uint64_t& sent) {
  const std::vector<unsigned char>& pattern = bulk_pattern();
  while (clock_type::now() < deadline) {
    sent += co_await net::async_write(s, buffer(pattern.data() + sent % bulk_period, bulk_write_size));
  }
  s.shutdown(tcp::socket::shutdown_send);
}

// Reads the echo until the end of the stream, checking every byte.
senet::task<void> bulk_reader(tcp::socket& s, bulk_result& r) {
  const std::vector<unsigned char>& pattern = bulk_pattern();
  std::vector<unsigned char> chunk(bulk_write_size);
  for (;;) {
    auto [ec, n] = co_await s.read_some(buffer(chunk));
    if (ec == senet::error::eof) {
      co_return;
    }
    if (ec) {
      r.error = "read: " + ec.message();
      co_return;
    }
    if (std::memcmp(chunk.data(), pattern.data() + r.bytes % bulk_period, n) != 0) {
      r.error = "bulk: the bytes from offset " + std::to_string(r.bytes) + " differ";
      co_return;
    }
    r.bytes += n;
  }
}

bulk_result bulk(io::io_context& ctx, const server_process& server, clock_type::duration duration) {
  bulk_result r;
  try {
    tcp::socket s;
    ctx.run_until(net::timeout(net::async_connect(s, loopback(server.port)), operation_limit));
    std::uint64_t sent = 0;
    auto t0 = clock_type::now();
    ctx.run_until(net::timeout(ex::when_all(bulk_writer(s, t0 + duration, sent), bulk_reader(s, r)),
                               duration + operation_limit));
    r.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
    if (r.error.empty() && r.bytes != sent) {
      r.error = "bulk: sent " + std::to_string(sent) + " bytes, " + std::to_string(r.bytes) + " came back";
    }
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  return r;
}

// ---- options -----------------------------------------------------------------------------------

struct options {
  std::vector<io::backend_kind> backends{io::backend_kind::uring, io::backend_kind::epoll};
  std::vector<const face*> faces;
  std::size_t connections = 64;
  double seconds = 30;
  std::size_t size = 64;
  bool json = false;
};

void usage(std::FILE* out) {
  std::string names;
  for (const face* f : faces) {
    names += names.empty() ? "" : ", ";
    names += f->name;
  }
  std::fprintf(
      out,
      "usage: senet-demo [--backend B] [--face F] [--connections N] [--seconds S] [--size B] [--json]\n"
      "Starts an echo server for each face of senet on loopback, drives each with a client of every\n"
      "face checking every byte, measures them, and ends with \"all checks passed\" (status 0) or\n"
      "what failed (status 1).\n"
      "  --backend B      uring, epoll or all (default all; one that the kernel refuses is skipped)\n"
      "  --face F         a face, a comma-separated list of faces, or all (default): %s\n"
      "  --connections N  connections of the many-connection ping-pong (default 64; 1..10000)\n"
      "  --seconds S      time spent measuring, in all, split evenly among the measurements\n"
      "                   (default 30; 0.1..3600)\n"
      "  --size B         bytes per ping-pong message (default 64; 1..1048576)\n"
      "  --json           print the results as JSON on stdout (progress and the verdict go to stderr)\n"
      "  --help           print this and exit\n",
      names.c_str());
}

struct bad_option {
  std::string message;
};

template <class T>
T number(std::string_view option, std::string_view text, T min, T max) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
    throw bad_option{std::string(option) + " wants a number from " + std::to_string(min) + " to " +
                     std::to_string(max) + ", not '" + std::string(text) + "'"};
  }
  return v;
}

double decimal(std::string_view option, std::string_view text, double min, double max) {
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || errno != 0 || end != s.c_str() + s.size() || !(v >= min && v <= max)) {
    throw bad_option{std::string(option) + " wants a number of seconds from 0.1 to 3600, not '" + s + "'"};
  }
  return v;
}

// Returns the options, or nullopt after --help.
std::optional<options> parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    std::string_view name = arg;
    bool inline_value = false;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    auto take_value = [&] {
      if (inline_value) {
        return value;
      }
      if (i + 1 >= argc) {
        throw bad_option{std::string(name) + " needs a value"};
      }
      return std::string_view(argv[++i]);
    };
    if (name == "--help" || name == "-h") {
      usage(stdout);
      return std::nullopt;
    } else if (name == "--json") {
      o.json = true;
    } else if (name == "--backend") {
      std::string_view v = take_value();
      if (v == "all") {
        o.backends = {io::backend_kind::uring, io::backend_kind::epoll};
      } else if (v == "uring" || v == "io_uring") {
        o.backends = {io::backend_kind::uring};
      } else if (v == "epoll") {
        o.backends = {io::backend_kind::epoll};
      } else {
        throw bad_option{"--backend wants uring, epoll or all, not '" + std::string(v) + "'"};
      }
    } else if (name == "--face") {
      std::string_view v = take_value();
      o.faces.clear();
      if (v != "all") {
        while (!v.empty()) {
          std::string_view one = v.substr(0, v.find(','));
          v.remove_prefix(std::min(v.size(), one.size() + 1));
          auto it = std::find_if(std::begin(faces), std::end(faces),
                                 [one](const face* f) { return f->name == one; });
          if (it == std::end(faces)) {
            throw bad_option{"--face: no face named '" + std::string(one) + "'"};
          }
          if (std::find(o.faces.begin(), o.faces.end(), *it) == o.faces.end()) {
            o.faces.push_back(*it);
          }
        }
        if (o.faces.empty()) {
          throw bad_option{"--face needs a face"};
        }
      }
    } else if (name == "--connections") {
      o.connections = number<std::size_t>(name, take_value(), 1, 10'000);
    } else if (name == "--seconds") {
      o.seconds = decimal(name, take_value(), 0.1, 3600);
    } else if (name == "--size") {
      o.size = number<std::size_t>(name, take_value(), 1, 1 << 20);
    } else {
      throw bad_option{"unknown option '" + std::string(arg) + "'"};
    }
    if (inline_value && (name == "--json" || name == "--help")) {
      throw bad_option{std::string(name) + " takes no value"};
    }
  }
  if (o.faces.empty()) {
    o.faces.assign(std::begin(faces), std::end(faces));
  }
  return o;
}

// ---- progress and output -----------------------------------------------------------------------

class progress {
 public:
  progress(std::size_t steps, bool show)
      : steps_(steps), tty_(show && ::isatty(STDERR_FILENO) != 0), show_(show) {}

  void step(const std::string& what) {
    ++done_;
    if (!show_) {
      return;
    }
    if (tty_) {
      std::fprintf(stderr, "\r\033[K[%zu/%zu] %s", done_, steps_, what.c_str());
    } else {
      std::fprintf(stderr, "[%zu/%zu] %s\n", done_, steps_, what.c_str());
    }
    std::fflush(stderr);
  }
  // Prints a line of its own (a failure) without mixing it into the progress line.
  void note(const std::string& line) {
    if (tty_) {
      std::fprintf(stderr, "\r\033[K");
    }
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  void end() {
    if (tty_) {
      std::fprintf(stderr, "\r\033[K");
      std::fflush(stderr);
    }
  }

 private:
  std::size_t steps_;
  std::size_t done_ = 0;
  bool tty_;
  bool show_;
};

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string json_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

struct check_record {
  io::backend_kind kind;
  const face* server;
  const face* client;
  std::size_t bytes = 0;
  std::string error;
};

struct measurement {
  io::backend_kind kind;
  const face* server;
  ping_pong_result one;
  ping_pong_result many;
  bulk_result bulk;
};

std::string with_commas(double v) {
  std::string digits = std::to_string(static_cast<std::uint64_t>(v + 0.5));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) {
      out += ',';
    }
    out += digits[i];
  }
  return out;
}

void print_table(io::backend_kind kind, const std::vector<measurement>& ms, const options& o) {
  std::printf("\n%s — %zu-byte ping-pong at 1 and %zu connections, bulk with 64 KiB writes\n",
              std::string(backend_name(kind)).c_str(), o.size, o.connections);
  std::printf("%-12s %12s %9s %9s %12s %9s %9s %10s %14s\n", "server face", "1 conn rt/s", "p50 µs", "p99 µs",
              ("@" + std::to_string(o.connections) + " rt/s").c_str(), "p50 µs", "p99 µs", "bulk GB/s",
              "server CPU/rt");
  for (const measurement& m : ms) {
    if (m.kind != kind) {
      continue;
    }
    std::string cpu = "n/a";
    if (m.many.server_cpu_ns >= 0 && m.many.round_trips > 0) {
      char buf[32];
      std::snprintf(
          buf, sizeof buf, "%.2f µs",
          static_cast<double>(m.many.server_cpu_ns) / static_cast<double>(m.many.round_trips) / 1000.0);
      cpu = buf;
    }
    std::printf("%-12s %12s %9.1f %9.1f %12s %9.1f %9.1f %10.2f %14s\n", std::string(m.server->name).c_str(),
                with_commas(m.one.per_second()).c_str(), m.one.p50_us, m.one.p99_us,
                with_commas(m.many.per_second()).c_str(), m.many.p50_us, m.many.p99_us,
                m.bulk.gigabytes_per_second(), cpu.c_str());
  }
}

std::string ping_pong_json(const ping_pong_result& r, std::size_t connections) {
  return "{\"connections\": " + std::to_string(connections) +
         ", \"round_trips\": " + std::to_string(r.round_trips) + ", \"seconds\": " + json_number(r.seconds) +
         ", \"round_trips_per_second\": " + json_number(r.per_second()) +
         ", \"p50_us\": " + json_number(r.p50_us) + ", \"p99_us\": " + json_number(r.p99_us) + "}";
}

void print_json(const options& o, const std::vector<std::pair<io::backend_kind, std::string>>& skipped,
                const std::vector<check_record>& checks, const std::vector<measurement>& ms,
                const std::vector<std::string>& failures) {
  std::string j = "{\n  \"program\": \"senet-demo\",\n";
  j += "  \"options\": {\"seconds\": " + json_number(o.seconds) + ", \"size\": " + std::to_string(o.size) +
       ", \"connections\": " + std::to_string(o.connections) + "},\n";
  j += "  \"skipped_backends\": [";
  for (std::size_t i = 0; i < skipped.size(); ++i) {
    j += (i ? ", " : "") + std::string("{\"backend\": ") + json_string(backend_name(skipped[i].first)) +
         ", \"reason\": " + json_string(skipped[i].second) + "}";
  }
  j += "],\n  \"checks\": [\n";
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const check_record& c = checks[i];
    j += "    {\"backend\": " + json_string(backend_name(c.kind)) +
         ", \"server\": " + json_string(c.server->name) + ", \"client\": " + json_string(c.client->name) +
         ", \"bytes\": " + std::to_string(c.bytes) + ", \"passed\": " + (c.error.empty() ? "true" : "false") +
         ", \"error\": " + json_string(c.error) + "}" + (i + 1 < checks.size() ? ",\n" : "\n");
  }
  j += "  ],\n  \"measurements\": [\n";
  for (std::size_t i = 0; i < ms.size(); ++i) {
    const measurement& m = ms[i];
    std::string cpu = "null";
    if (m.many.server_cpu_ns >= 0 && m.many.round_trips > 0) {
      cpu = json_number(static_cast<double>(m.many.server_cpu_ns) / static_cast<double>(m.many.round_trips));
    }
    j += "    {\"backend\": " + json_string(backend_name(m.kind)) +
         ", \"face\": " + json_string(m.server->name) +
         ",\n     \"ping_pong_1\": " + ping_pong_json(m.one, 1) +
         ",\n     \"ping_pong_n\": " + ping_pong_json(m.many, o.connections) +
         ",\n     \"bulk\": {\"write_size\": " + std::to_string(bulk_write_size) +
         ", \"bytes\": " + std::to_string(m.bulk.bytes) + ", \"seconds\": " + json_number(m.bulk.seconds) +
         ", \"gigabytes_per_second\": " + json_number(m.bulk.gigabytes_per_second()) + "}" +
         ",\n     \"server_cpu_ns_per_round_trip\": " + cpu + "}" + (i + 1 < ms.size() ? ",\n" : "\n");
  }
  j += "  ],\n  \"failures\": [";
  for (std::size_t i = 0; i < failures.size(); ++i) {
    j += (i ? ", " : "") + json_string(failures[i]);
  }
  j += std::string("],\n  \"passed\": ") + (failures.empty() ? "true" : "false") + "\n}\n";
  std::fputs(j.c_str(), stdout);
}

int run(const options& o) {
  // Which backends this kernel allows.
  std::vector<io::backend_kind> backends;
  std::vector<std::pair<io::backend_kind, std::string>> skipped;
  for (io::backend_kind kind : o.backends) {
    if (io::io_context::is_available(kind)) {
      backends.push_back(kind);
    } else {
      skipped.emplace_back(kind, "not available on this kernel");
    }
  }
  if (backends.empty()) {
    std::fprintf(stderr, "senet-demo: none of the backends asked for is available here\n");
    return 1;
  }

  // Every server first, while this process has a single thread (the children are forks of it).
  std::vector<server_process> servers;
  std::vector<std::string> failures;
  for (io::backend_kind kind : backends) {
    for (const face* f : o.faces) {
      servers.push_back(start_server(*f, kind));
      if (servers.back().port == 0) {
        failures.push_back(std::string(backend_name(kind)) + ": the " + std::string(f->name) +
                           " server did not start");
      }
    }
  }

  // A test hook (tests/tools/senet_demo_test.cpp): SENET_DEMO_KILL_SERVER=<face> kills that face's
  // servers as soon as they started, as a crash would, so that the test sees the run fail.
  if (const char* victim = std::getenv("SENET_DEMO_KILL_SERVER"); victim != nullptr) {
    for (server_process& s : servers) {
      if (s.face_->name == victim) {
        ::kill(s.pid, SIGKILL);
      }
    }
  }

  const std::size_t check_steps = servers.size() * o.faces.size();
  const std::size_t measure_steps = servers.size() * 3;
  progress show(check_steps + measure_steps, true);
  auto cell = std::chrono::duration_cast<clock_type::duration>(
      std::chrono::duration<double>(o.seconds / static_cast<double>(measure_steps)));
  if (!o.json) {
    std::printf(
        "senet-demo: %zu face(s) × %zu backend(s); servers in child processes on 127.0.0.1; %.2f s per "
        "measurement\n",
        o.faces.size(), backends.size(), std::chrono::duration<double>(cell).count());
    for (auto& [kind, why] : skipped) {
      std::printf("  %s skipped: %s\n", std::string(backend_name(kind)).c_str(), why.c_str());
    }
    std::fflush(stdout);
  }

  std::vector<check_record> checks;
  std::vector<measurement> ms;
  for (io::backend_kind kind : backends) {
    io::io_context ctx(kind);
    // The C API's completion port is made when a C client first needs it, on this backend.
    ::setenv("SENET_BACKEND", std::string(io::to_string(kind)).c_str(), 1);
    for (server_process& s : servers) {
      if (s.kind != kind) {
        continue;
      }
      for (const face* client : o.faces) {
        show.step(std::string(backend_name(kind)) + ": " + std::string(s.face_->name) + " server, " +
                  std::string(client->name) + " client");
        check_record c{kind, s.face_, client, 0, {}};
        try {
          c.error = client->check(ctx, s.port, c.bytes);
        } catch (const std::exception& e) {
          c.error = e.what();
        }
        if (!c.error.empty()) {
          failures.push_back(std::string(backend_name(kind)) + ": " + std::string(s.face_->name) +
                             " server, " + std::string(client->name) + " client: " + c.error);
          show.note("FAILED " + failures.back());
        }
        checks.push_back(std::move(c));
      }
    }
    for (server_process& s : servers) {
      if (s.kind != kind) {
        continue;
      }
      measurement m{kind, s.face_, {}, {}, {}};
      std::string where = std::string(backend_name(kind)) + ": " + std::string(s.face_->name) + " server, ";
      show.step(where + std::to_string(o.size) + "-byte ping-pong, 1 connection");
      m.one = ping_pong(ctx, s, 1, o.size, cell);
      show.step(where + std::to_string(o.size) + "-byte ping-pong, " + std::to_string(o.connections) +
                " connections");
      m.many = ping_pong(ctx, s, o.connections, o.size, cell);
      show.step(where + "bulk, 64 KiB writes");
      m.bulk = bulk(ctx, s, cell);
      for (auto [what, error] :
           {std::pair{"ping-pong at 1 connection", &m.one.error},
            std::pair{"ping-pong at many connections", &m.many.error}, std::pair{"bulk", &m.bulk.error}}) {
        if (!error->empty()) {
          failures.push_back(where + what + ": " + *error);
          show.note("FAILED " + failures.back());
        }
      }
      ms.push_back(std::move(m));
    }
  }
  show.end();

  for (server_process& s : servers) {
    if (std::string e = stop_server(s); !e.empty()) {
      failures.push_back(std::string(backend_name(s.kind)) + ": the " + std::string(s.face_->name) +
                         " server " + e);
    }
  }

  std::size_t checked_bytes = 0;
  for (const check_record& c : checks) {
    checked_bytes += c.bytes;
  }
  if (o.json) {
    print_json(o, skipped, checks, ms, failures);
  } else {
    std::printf("\nchecks: %zu client/server pairs, %s bytes echoed and compared\n", checks.size(),
                with_commas(static_cast<double>(checked_bytes)).c_str());
    for (io::backend_kind kind : backends) {
      print_table(kind, ms, o);
    }
    std::printf("\n");
  }
  std::fflush(stdout);
  // The verdict: the last line, on stdout, or on stderr with --json (stdout is the JSON then).
  std::FILE* verdict = o.json ? stderr : stdout;
  if (failures.empty()) {
    std::fprintf(verdict, "all checks passed\n");
    return 0;
  }
  std::string line = std::to_string(failures.size()) + " check(s) FAILED:";
  for (const std::string& f : failures) {
    line += " [" + f + "]";
  }
  std::fprintf(verdict, "%s\n", line.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<options> o;
  try {
    o = parse(argc, argv);
  } catch (const bad_option& e) {
    std::fprintf(stderr, "senet-demo: %s\n", e.message.c_str());
    usage(stderr);
    return 2;
  }
  if (!o) {
    return 0;  // --help
  }
  try {
    return run(*o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "senet-demo: %s\n", e.what());
    return 1;
  }
}
