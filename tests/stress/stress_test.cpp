// SPDX-License-Identifier: BSL-1.0
// Stress tests (CTest label "stress"; docs/reliability.md has the figures): many connections and
// operations, peers that misbehave, resources that run out. Bounded in count and time, loopback
// only, on the io_context a program gets by default (io_uring where the kernel allows it, else
// epoll). Each test ends checking that nothing leaked: the process's descriptors (/proc/self/fd)
// and the test thread's allocations (the counting allocator) are as before it.
#include "stress/leak_check.hpp"

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_wait_for.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/detail/sender_support.hpp>
#include <senet/net/sockets.hpp>
#include <senet/task.hpp>

#include <support/loopback.hpp>
#include <support/sanitizers.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
using senet::task;
using senet::ip::tcp;
using senet::test::leak_check;

auto on(io::io_context& ctx) {
  return ex::prop{io::get_io_scheduler, ctx.get_scheduler()};
}

// ---- 10,000 concurrent connections ----------------------------------------------------------------

constexpr int many_connections = 10000;

struct echo_stats {
  int live = 0;
  int peak = 0;
  int served = 0;
  int errors = 0;
};

// Echoes one byte, then waits for the end of the stream. The frame lives until then, so that all
// sessions exist at once while the clients hold their connections.
task<void> echo_one_byte(tcp::socket s, echo_stats* st) {
  st->peak = std::max(st->peak, ++st->live);
  struct leave {
    echo_stats* st;
    ~leave() { --st->live; }
  } left{st};
  char c = 0;
  if (co_await net::async_receive(s, senet::buffer(&c, 1)) != 1) {
    ++st->errors;
    co_return;
  }
  co_await net::async_write(s, senet::buffer(&c, 1));
  if (co_await net::async_receive(s, senet::buffer(&c, 1)) != 0) {
    ++st->errors;
    co_return;
  }
  ++st->served;
}

task<void> accept_sessions(tcp::acceptor& acceptor, ex::counting_scope& scope, io::io_context& ctx, int count,
                           echo_stats* st) {
  for (int i = 0; i < count; ++i) {
    auto [s, peer] = co_await net::async_accept(acceptor);
    ex::spawn(
        echo_one_byte(std::move(s), st) | ex::upon_error([st](std::exception_ptr) noexcept { ++st->errors; }),
        scope.get_token(), on(ctx));
  }
}

// The clients, in a child process: 10,000 connections take 20,000 descriptors, more than one
// process may hold where the hard limit is 20,000. Plain blocking calls, each bounded by a 30 s
// timeout; only system calls after fork. Connects all, then sends a byte on each, then reads each
// echo, then closes all: every server session is alive at once.
[[noreturn]] void run_clients(const tcp::endpoint& server, int* fds) {
  ::rlimit l{};
  ::getrlimit(RLIMIT_NOFILE, &l);
  l.rlim_cur = std::min<::rlim_t>(l.rlim_max, many_connections + 64);
  if (::setrlimit(RLIMIT_NOFILE, &l) != 0) {
    ::_exit(2);
  }
  ::timeval limit{30, 0};
  for (int i = 0; i < many_connections; ++i) {
    fds[i] = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fds[i] < 0 || ::setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0 ||
        ::setsockopt(fds[i], SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) != 0 ||
        ::connect(fds[i], server.data(), static_cast<::socklen_t>(server.size())) != 0) {
      ::_exit(3);
    }
  }
  for (int i = 0; i < many_connections; ++i) {
    if (::write(fds[i], "x", 1) != 1) {
      ::_exit(4);
    }
  }
  for (int i = 0; i < many_connections; ++i) {
    char c = 0;
    if (::read(fds[i], &c, 1) != 1 || c != 'x') {
      ::_exit(5);
    }
  }
  for (int i = 0; i < many_connections; ++i) {
    ::close(fds[i]);
  }
  ::_exit(0);
}

TEST(stress, ten_thousand_concurrent_connections_on_one_context) {
  const ::rlim_t need = many_connections + 256;
  const ::rlim_t hard = senet::test::descriptor_limit::hard();
  if (hard != RLIM_INFINITY && hard < need) {
    GTEST_SKIP() << "needs RLIMIT_NOFILE of at least " << need << " descriptors; the hard limit is " << hard
                 << " (raise it: ulimit -Hn " << need << ")";
  }
  senet::test::descriptor_limit limit(need);
  ASSERT_TRUE(limit.ok());
  std::vector<int> client_fds(many_connections, -1);  // the child's table, allocated before fork
  leak_check leaks;
  {
    io::io_context ctx;
    tcp::acceptor acceptor = senet::test::listen_tcp(tcp::v4());
    const tcp::endpoint ep = acceptor.local_endpoint();
    const ::pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      run_clients(ep, client_fds.data());
    }
    echo_stats st;
    ex::counting_scope scope;
    ctx.run_until(accept_sessions(acceptor, scope, ctx, many_connections, &st));
    ctx.run_until(scope.join());
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the clients failed: status " << status;
    EXPECT_EQ(st.served, many_connections);
    EXPECT_EQ(st.peak, many_connections) << "not all connections were open at once";
    EXPECT_EQ(st.errors, 0);
  }
  leaks.expect_nothing_leaked();
}

// ---- one million operations started, then cancelled ---------------------------------------------------

struct cancel_counts {
  long stopped = 0;
  long other = 0;
};

struct cancel_receiver {
  using receiver_concept = ex::receiver_t;
  io::io_context* ctx;
  ex::inplace_stop_token token;
  cancel_counts* counts;
  void set_value(std::size_t) && noexcept { ++counts->other; }
  void set_value() && noexcept { ++counts->other; }
  void set_error(std::error_code) && noexcept { ++counts->other; }
  void set_stopped() && noexcept { ++counts->stopped; }
  [[nodiscard]] auto get_env() const noexcept {
    return senet::test::make_env(senet::test::scheduler_entry(ctx->get_scheduler()),
                                 senet::test::stop_token_entry(token));
  }
};

template <class Sndr>
struct cancel_slot {
  ex::inplace_stop_source stop;
  std::optional<ex::connect_result_t<Sndr, cancel_receiver>> op;
};

TEST(stress, one_million_operations_started_then_cancelled) {
  constexpr long total = 1'000'000;
  constexpr int batch = 1000;  // 3 receives and 1 timer of every 4
  leak_check leaks;
  {
    io::io_context ctx;
    auto pair = senet::test::tcp_pair(ctx);
    char byte = 0;
    using receive_sender = decltype(net::async_receive(pair.server, senet::buffer(&byte, 1)));
    using timer_sender = decltype(net::async_wait_for(1h));
    auto receives = std::make_unique<std::array<std::optional<cancel_slot<receive_sender>>, batch>>();
    auto timers = std::make_unique<std::array<std::optional<cancel_slot<timer_sender>>, batch>>();
    cancel_counts counts;
    long started = 0;
    std::size_t steady_allocations = 0;
    for (int round = 0; started < total; ++round) {
      senet::test::allocation_scope allocations;
      // Started in a handler on the loop (as a program does), each stop requested right after.
      ctx.run_until(ex::then(ex::schedule(ctx.get_scheduler()), [&] {
        for (int i = 0; i < batch; ++i) {
          const auto k = static_cast<std::size_t>(i);
          if (i % 4 != 3) {
            auto& s = (*receives)[k].emplace();
            s.op.emplace(net::detail::emplace_from{[&] {
              return ex::connect(net::async_receive(pair.server, senet::buffer(&byte, 1)),
                                 cancel_receiver{&ctx, s.stop.get_token(), &counts});
            }});
            ex::start(*s.op);
            s.stop.request_stop();
          } else {
            auto& s = (*timers)[k].emplace();
            s.op.emplace(net::detail::emplace_from{[&] {
              return ex::connect(net::async_wait_for(1h), cancel_receiver{&ctx, s.stop.get_token(), &counts});
            }});
            ex::start(*s.op);
            s.stop.request_stop();
          }
        }
      }));
      started += batch;
      while (counts.stopped + counts.other < started) {
        if (ctx.poll() == 0) {
          ctx.run_for(10ms);
        }
      }
      for (auto& s : *receives) {
        s.reset();
      }
      for (auto& s : *timers) {
        s.reset();
      }
      if (round > 0) {
        steady_allocations += allocations.count();
      }
    }
    EXPECT_EQ(counts.stopped, total) << "every operation completes once, stopped";
    EXPECT_EQ(counts.other, 0);
    EXPECT_EQ(steady_allocations, 0U) << "no allocation per operation after the first round";
    // The socket is still usable.
    std::string out = "after";
    std::string in(out.size(), '\0');
    auto r = ctx.run_until(ex::when_all(net::async_write(pair.client, senet::buffer(out)),
                                        net::async_read(pair.server, senet::buffer(in))));
    ASSERT_TRUE(r);
    EXPECT_EQ(in, out);
  }
  leaks.expect_nothing_leaked();
}

// ---- peers that reset mid-transfer ---------------------------------------------------------------------

struct reset_stats {
  int writes_failed = 0;
  int writes_done = 0;
  int receives_reset = 0;
  int receives_eof = 0;
  int unexpected = 0;
  int readers_done = 0;
};

// Writes more than the connection can hold; the peer resets it midway.
task<void> write_until_reset(tcp::socket& s, const std::vector<char>& data, reset_stats* st) {
  try {
    co_await net::async_write(s, senet::buffer(data));
    ++st->writes_done;
  } catch (const std::system_error& e) {
    if (e.code() == std::errc::connection_reset || e.code() == std::errc::broken_pipe) {
      ++st->writes_failed;
    } else {
      ++st->unexpected;
    }
  }
}

// Reads a part of the stream, checks it, then resets the connection (SO_LINGER {on, 0}).
task<void> read_then_reset(tcp::socket& s, const std::vector<char>& data, reset_stats* st) {
  std::vector<char> part(64 * 1024);
  co_await net::async_read(s, senet::buffer(part));
  if (!std::equal(part.begin(), part.end(), data.begin())) {
    ++st->unexpected;
  }
  s.set_option(net::socket_base::linger(true, 0));
  s.close();
  ++st->readers_done;
}

// Waits for bytes that never come; the peer resets the connection.
task<void> receive_until_reset(tcp::socket& s, reset_stats* st) {
  try {
    char c = 0;
    if (co_await net::async_receive(s, senet::buffer(&c, 1)) == 0) {
      ++st->receives_eof;
    } else {
      ++st->unexpected;
    }
  } catch (const std::system_error& e) {
    if (e.code() == std::errc::connection_reset) {
      ++st->receives_reset;
    } else {
      ++st->unexpected;
    }
  }
}

task<void> reset_after(tcp::socket& s, std::chrono::milliseconds d) {
  co_await net::async_wait_for(d);
  s.set_option(net::socket_base::linger(true, 0));
  s.close();
}

TEST(stress, peers_that_reset_mid_transfer) {
  constexpr int pairs = 32;
  leak_check leaks;
  {
    std::vector<char> data(16 * 1024 * 1024);
    for (std::size_t i = 0; i < data.size(); ++i) {
      data[i] = static_cast<char>(i * 31 + i / 4093);
    }
    io::io_context ctx;
    std::vector<senet::test::tcp_connection> writing;
    std::vector<senet::test::tcp_connection> receiving;
    for (int i = 0; i < pairs; ++i) {
      writing.push_back(senet::test::tcp_pair(ctx));
      receiving.push_back(senet::test::tcp_pair(ctx));
    }
    reset_stats st;
    ex::counting_scope scope;
    auto count_error = ex::upon_error([&st](std::exception_ptr) noexcept { ++st.unexpected; });
    for (int i = 0; i < pairs; ++i) {
      auto& w = writing[static_cast<std::size_t>(i)];
      auto& r = receiving[static_cast<std::size_t>(i)];
      ex::spawn(write_until_reset(w.server, data, &st) | count_error, scope.get_token(), on(ctx));
      ex::spawn(read_then_reset(w.client, data, &st) | count_error, scope.get_token(), on(ctx));
      ex::spawn(receive_until_reset(r.server, &st) | count_error, scope.get_token(), on(ctx));
      ex::spawn(reset_after(r.client, std::chrono::milliseconds(i % 8)) | count_error, scope.get_token(),
                on(ctx));
    }
    ctx.run_until(scope.join());
    EXPECT_EQ(st.readers_done, pairs);
    EXPECT_EQ(st.writes_failed, pairs) << "a write cut by a reset fails with ECONNRESET or EPIPE";
    EXPECT_EQ(st.writes_done, 0);
    EXPECT_EQ(st.receives_reset + st.receives_eof, pairs);
    EXPECT_EQ(st.unexpected, 0);
    // The sockets that saw the reset are still usable objects: closing them is clean.
    for (auto& p : writing) {
      std::error_code ec;
      p.server.close(ec);
      EXPECT_FALSE(ec);
    }
  }
  leaks.expect_nothing_leaked();
}

// ---- an accept loop under EMFILE -----------------------------------------------------------------------

struct emfile_stats {
  int emfile = 0;
  int accepted = 0;
  int served = 0;
  int other_errors = 0;
};

task<void> echo_and_end(tcp::socket s, emfile_stats* st) {
  char c = 0;
  if (co_await net::async_receive(s, senet::buffer(&c, 1)) == 1) {
    co_await net::async_write(s, senet::buffer(&c, 1));
    ++st->served;
  }
}

// The accept loop of a production server (docs/guide.md, examples/echo_server_reuseport.cpp): an
// accept that fails for lack of descriptors is reported, and the loop waits a little before it
// accepts again; it serves `count` connections.
task<void> accept_with_backoff(tcp::acceptor& acceptor, ex::counting_scope& scope, io::io_context& ctx,
                               int count, emfile_stats* st) {
  while (st->accepted < count) {
    std::optional<tcp::socket> s;
    bool back_off = false;
    try {
      auto [sock, peer] = co_await net::async_accept(acceptor);
      s.emplace(std::move(sock));
    } catch (const std::system_error& e) {
      if (e.code() == std::errc::too_many_files_open) {
        ++st->emfile;
        back_off = true;
      } else {
        ++st->other_errors;
        co_return;
      }
    }
    if (back_off) {
      co_await net::async_wait_for(20ms);
      continue;
    }
    ++st->accepted;
    ex::spawn(echo_and_end(std::move(*s), st) |
                  ex::upon_error([st](std::exception_ptr) noexcept { ++st->other_errors; }),
              scope.get_token(), on(ctx));
  }
}

// The highest descriptor open.
int highest_descriptor() {
  int high = 0;
  for (int fd = 0; fd < 65536; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1) {
      high = fd;
    }
    if (fd > high + 1024) {
      break;
    }
  }
  return high;
}

class stress_emfile : public ::testing::TestWithParam<bool> {};

TEST_P(stress_emfile, accept_loop_reports_it_keeps_serving_and_does_not_spin) {
  constexpr int clients_count = 16;
#if SENET_TEST_ADDRESS_SANITIZER
  // The asan preset adds UndefinedBehaviorSanitizer, whose vptr check probes memory through a pipe
  // (sanitizer_common's IsAccessibleMemoryRange): a process without a descriptor left cannot make
  // one, and the check reports the next virtual call as made on an invalid object. Nothing turns
  // that off at run time (tests/examples/echo_test.cpp says the same), so this runs in the other
  // presets only.
  GTEST_SKIP() << "an UndefinedBehaviorSanitizer build cannot run out of descriptors (its vptr check "
                  "needs a pipe)";
#endif
  leak_check leaks;
  {
    io::io_context ctx;
    tcp::acceptor acceptor = senet::test::listen_tcp(tcp::v4());
    if (GetParam()) {
      acceptor.standing_accept(8);
    }
    std::vector<tcp::socket> clients(clients_count);
    for (auto& c : clients) {
      c.open(tcp::v4());
    }
    emfile_stats st;
    ex::counting_scope scope;
    // Out of descriptors: a limit just above those open, and the rest taken. (Before the accept
    // is armed: io_uring reads the limit when it prepares an accept.)
    std::vector<int> hoard;
    {
      senet::test::descriptor_limit limit(static_cast<::rlim_t>(highest_descriptor() + 1 + 4));
      ASSERT_TRUE(limit.ok());
      for (int fd = ::dup(0); fd >= 0; fd = ::dup(0)) {
        hoard.push_back(fd);
      }
      ex::spawn(accept_with_backoff(acceptor, scope, ctx, clients_count, &st) |
                    ex::upon_error([&st](std::exception_ptr) noexcept { ++st.other_errors; }),
                scope.get_token(), on(ctx));
      // The clients connect (the kernel completes the handshake; their descriptors exist already).
      for (auto& c : clients) {
        ASSERT_TRUE(ctx.run_until(net::async_connect(c, acceptor.local_endpoint())));
      }
      const auto cpu_before = senet::test::cpu_time();
      ctx.run_for(1s);
      const auto cpu_used = senet::test::cpu_time() - cpu_before;
      EXPECT_GT(st.emfile, 0) << "the accept reports EMFILE";
      EXPECT_EQ(st.accepted, 0);
      // A loop that spun on the ready listener would use about a second of CPU in this second.
      EXPECT_LT(cpu_used, 300ms) << "the accept loop spins while out of descriptors";
      for (int fd : hoard) {
        ::close(fd);
      }
    }
    // Descriptors are free again: every pending connection is accepted and served.
    for (auto& c : clients) {
      char b = 'e';
      auto r = ctx.run_until(
          ex::when_all(net::async_write(c, senet::buffer(&b, 1)), net::async_read(c, senet::buffer(&b, 1))));
      ASSERT_TRUE(r);
      EXPECT_EQ(b, 'e');
    }
    ctx.run_until(scope.join());
    EXPECT_EQ(st.accepted, clients_count);
    EXPECT_EQ(st.served, clients_count);
    EXPECT_EQ(st.other_errors, 0);
  }
  leaks.expect_nothing_leaked();
}

INSTANTIATE_TEST_SUITE_P(stress, stress_emfile, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "standing" : "plain";
                         });

// ---- slow readers ----------------------------------------------------------------------------------------

task<void> write_all(tcp::socket& s, const std::vector<char>& data, bool* done) {
  co_await net::async_write(s, senet::buffer(data));
  *done = true;
}

task<void> read_all_later(tcp::socket& s, const std::vector<char>& data, std::chrono::milliseconds pause,
                          int* good) {
  co_await net::async_wait_for(pause);
  std::vector<char> in(data.size());
  co_await net::async_read(s, senet::buffer(in));
  *good += in == data ? 1 : 0;
}

TEST(stress, slow_readers_make_writers_wait_without_spinning) {
  constexpr int pairs = 4;
  leak_check leaks;
  {
    std::vector<char> data(2 * 1024 * 1024);
    for (std::size_t i = 0; i < data.size(); ++i) {
      data[i] = static_cast<char>(i * 7 + i / 1021);
    }
    io::io_context ctx;
    std::vector<senet::test::tcp_connection> conns;
    for (int i = 0; i < pairs; ++i) {
      conns.push_back(senet::test::tcp_pair(ctx));
      conns.back().client.set_option(net::socket_base::send_buffer_size(16 * 1024));
      conns.back().server.set_option(net::socket_base::receive_buffer_size(16 * 1024));
    }
    std::array<bool, pairs> written{};
    int good = 0;
    ex::counting_scope scope;
    int errors = 0;
    auto count_error = ex::upon_error([&errors](std::exception_ptr) noexcept { ++errors; });
    for (std::size_t i = 0; i < pairs; ++i) {
      ex::spawn(write_all(conns[i].client, data, &written[i]) | count_error, scope.get_token(), on(ctx));
      ex::spawn(read_all_later(conns[i].server, data, 2s, &good) | count_error, scope.get_token(), on(ctx));
    }
    // The readers sleep for 2 s: the writers hit EAGAIN and wait; waiting costs no CPU.
    const auto cpu_before = senet::test::cpu_time();
    ctx.run_for(1500ms);
    const auto cpu_used = senet::test::cpu_time() - cpu_before;
    for (bool w : written) {
      EXPECT_FALSE(w) << "a 2 MB write finished into 16 KB buffers with nobody reading";
    }
    EXPECT_LT(cpu_used, 300ms) << "writers that wait for a slow reader spin";
    ctx.run_until(scope.join());
    for (bool w : written) {
      EXPECT_TRUE(w);
    }
    EXPECT_EQ(good, pairs) << "every reader got the bytes, in order";
    EXPECT_EQ(errors, 0);
  }
  leaks.expect_nothing_leaked();
}

}  // namespace
