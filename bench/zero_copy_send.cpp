// SPDX-License-Identifier: BSL-1.0
// Zero-copy send against copying send over loopback (docs/benchmarks.md, "Zero-copy send").
//
// One TCP connection on 127.0.0.1. The sender (this thread, an io_context on io_uring) sends
// `--bytes` bytes in sends of S bytes (net::async_send from one buffer, reused for every send) with
// the socket's zero_copy_threshold off (copy) and at 1 byte (every send zero-copy); a receiver
// thread reads with blocking recv into a 4 MiB buffer. For each S from 4 KiB to 4 MiB and each
// mode it prints the median of `--runs` runs of: GB/s, and the sender thread's CPU time
// (getrusage(RUSAGE_THREAD), user + system) per GB sent.
//
//   zero_copy_send [--bytes N] [--runs R] [--backend uring|epoll]
#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/address.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/sockets.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;

struct figures {
  double gb_per_s = 0;
  double cpu_s_per_gb = 0;
};

double thread_cpu_seconds() {
  ::rusage u{};
  ::getrusage(RUSAGE_THREAD, &u);
  auto seconds = [](const ::timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

// One run: `total` bytes in sends of `size` from `data`; the receiver drains on its own thread.
figures run_once(io::backend_kind kind, std::size_t total, std::size_t size, bool zero_copy,
                 std::vector<char>& data) {
  io::io_context ctx{kind};
  ip::tcp::acceptor acceptor(ip::tcp::endpoint(ip::address(ip::address_v4::loopback()), 0));
  ip::tcp::socket client;
  auto accepted = ctx.run_until(
      ex::when_all(net::async_accept(acceptor), net::async_connect(client, acceptor.local_endpoint())));
  if (!accepted) {
    std::fprintf(stderr, "connect failed\n");
    std::exit(1);
  }
  ip::tcp::socket server = std::move(std::get<0>(*accepted));
  int fd = server.native_handle();
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  std::thread receiver([fd, total] {
    std::vector<char> sink(4 * 1024 * 1024);
    std::size_t got = 0;
    while (got < total) {
      ::ssize_t n = ::recv(fd, sink.data(), sink.size(), 0);
      if (n <= 0) {
        std::fprintf(stderr, "recv: %s\n", n == 0 ? "end of stream" : std::strerror(errno));
        std::exit(1);
      }
      got += static_cast<std::size_t>(n);
    }
  });
  client.zero_copy_threshold(zero_copy ? 1 : 0);
  double cpu0 = thread_cpu_seconds();
  auto t0 = std::chrono::steady_clock::now();
  std::size_t sent = 0;
  while (sent < total) {
    std::size_t n = std::min(size, total - sent);
    auto r = ctx.run_until(net::async_send(client, senet::buffer(data.data(), n)));
    if (!r) {
      std::fprintf(stderr, "send failed\n");
      std::exit(1);
    }
    sent += std::get<0>(*r);
  }
  receiver.join();
  auto t1 = std::chrono::steady_clock::now();
  double cpu = thread_cpu_seconds() - cpu0;
  double seconds = std::chrono::duration<double>(t1 - t0).count();
  double gb = static_cast<double>(total) / 1e9;
  return {gb / seconds, cpu / gb};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t total = std::size_t{1} << 30;
  int runs = 3;
  io::backend_kind kind = io::backend_kind::uring;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i];
    if (arg == "--bytes") {
      total = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (arg == "--runs") {
      runs = std::max(1, std::atoi(argv[i + 1]));
    } else if (arg == "--backend") {
      kind = std::string(argv[i + 1]) == "epoll" ? io::backend_kind::epoll : io::backend_kind::uring;
    } else {
      std::fprintf(stderr, "usage: %s [--bytes N] [--runs R] [--backend uring|epoll]\n", argv[0]);
      return 2;
    }
  }
  std::vector<char> data(4 * 1024 * 1024, 'z');
  std::printf("backend %s, %zu bytes per run, median of %d runs\n", io::to_string(kind).data(), total, runs);
  std::printf(
      "| send size | copy GB/s | zero-copy GB/s | copy sender CPU s/GB | zero-copy sender CPU s/GB |\n");
  std::printf("|---:|---:|---:|---:|---:|\n");
  for (std::size_t size = 4 * 1024; size <= 4 * 1024 * 1024; size *= 4) {
    std::vector<double> rate[2];
    std::vector<double> cpu[2];
    for (int r = 0; r < runs; ++r) {
      for (int zc = 0; zc < 2; ++zc) {
        figures f = run_once(kind, total, size, zc != 0, data);
        rate[zc].push_back(f.gb_per_s);
        cpu[zc].push_back(f.cpu_s_per_gb);
      }
    }
    std::printf("| %zu KiB | %.2f | %.2f | %.3f | %.3f |\n", size / 1024, median(rate[0]), median(rate[1]),
                median(cpu[0]), median(cpu[1]));
    std::fflush(stdout);
  }
  return 0;
}
