// SPDX-License-Identifier: BSL-1.0
// Order of operations on one socket, on every backend (docs/design/io_core.md): sends started on
// one socket are written in start order, receives take the bytes in start order and complete in
// that order, accepts take the connections in the order they arrived. Started back to back on the
// context's thread, and from two other threads under a mutex (those starts go through the
// context's cross-thread queue).
#include <senet/net/async_send.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/test_network.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/sockets.hpp>
#include <senet/net/timeout.hpp>

#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>
#include <support/run.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <poll.h>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

constexpr int operations = 1000;

/** What the operations of one test completed with, filled on the context's thread. */
struct completion_log {
  std::vector<int> order;           // operation indices in completion order
  std::vector<std::int64_t> bytes;  // per operation: bytes transferred, or -errno (-1 stopped)
  std::atomic<int> count{0};

  explicit completion_log(int n) : bytes(static_cast<std::size_t>(n), -2) { order.reserve(n); }

  void record(int index, std::int64_t result) noexcept {
    bytes[static_cast<std::size_t>(index)] = result;
    order.push_back(index);
    count.fetch_add(1, std::memory_order_release);
  }
  [[nodiscard]] bool done(int n) const noexcept { return count.load(std::memory_order_acquire) == n; }
};

/** The environment every receiver here gives: the context's scheduler. */
struct io_env {
  io::io_context* ctx;
  [[nodiscard]] io::io_context::scheduler_type query(ex::get_scheduler_t) const noexcept {
    return ctx->get_scheduler();
  }
};

/** Records a transfer's result under its index. */
struct transfer_receiver {
  using receiver_concept = ex::receiver_t;
  io::io_context* ctx;
  completion_log* log;
  int index;

  void set_value(std::size_t n) && noexcept { log->record(index, static_cast<std::int64_t>(n)); }
  void set_error(std::error_code ec) && noexcept { log->record(index, -ec.value()); }
  void set_stopped() && noexcept { log->record(index, -1); }
  [[nodiscard]] io_env get_env() const noexcept { return {ctx}; }
};

/** Keeps an accepted socket and the port of its peer under its index. */
struct accept_receiver {
  using receiver_concept = ex::receiver_t;
  io::io_context* ctx;
  completion_log* log;
  int index;
  std::vector<ip::tcp::socket>* sockets;

  void set_value(ip::tcp::socket s, ip::tcp::endpoint peer) && noexcept {
    (*sockets)[static_cast<std::size_t>(index)] = std::move(s);
    log->record(index, peer.port());
  }
  void set_error(std::error_code ec) && noexcept { log->record(index, -ec.value()); }
  void set_stopped() && noexcept { log->record(index, -1); }
  [[nodiscard]] io_env get_env() const noexcept { return {ctx}; }
};

/** Operation states connected in place (they cannot move), kept until the test ends. */
template <class Sndr, class Rcvr>
struct started {
  using op_type = decltype(ex::connect(std::declval<Sndr>(), std::declval<Rcvr>()));
  op_type op;
  started(Sndr sndr, Rcvr rcvr) : op(ex::connect(std::move(sndr), std::move(rcvr))) {}
};

template <class Sndr, class Rcvr>
std::unique_ptr<started<Sndr, Rcvr>> connect_and_start(Sndr sndr, Rcvr rcvr) {
  auto p = std::make_unique<started<Sndr, Rcvr>>(std::move(sndr), std::move(rcvr));
  ex::start(p->op);
  return p;
}

/** Turns `ctx` on this thread until `done()` (which may start more work), at most 60 s, so that a
    hang fails instead of blocking. */
bool drive(io::io_context& ctx, const std::function<bool()>& done) {
  auto limit = std::chrono::steady_clock::now() + 60s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > limit) {
      return false;
    }
    if (ctx.poll() == 0 && !done()) {
      ::pollfd p{ctx.wait_descriptor(), POLLIN, 0};
      ::poll(&p, 1, 10);
    }
  }
  return true;
}

/** On destruction (also when an assertion failed): closes the sockets, so that operations still
    pending complete (aborted), and turns the loop until `settled()`, before the operation states
    are destroyed. Declared after them. */
class settle_on_exit {
 public:
  settle_on_exit(io::io_context& ctx, std::function<void()> close, std::function<bool()> settled)
      : ctx_(&ctx), close_(std::move(close)), settled_(std::move(settled)) {}
  settle_on_exit(const settle_on_exit&) = delete;
  settle_on_exit& operator=(const settle_on_exit&) = delete;
  ~settle_on_exit() {
    close_();
    EXPECT_TRUE(drive(*ctx_, settled_)) << "operations still pending after their sockets were closed";
  }

 private:
  io::io_context* ctx_;
  std::function<void()> close_;
  std::function<bool()> settled_;
};

/** Calls `start(i)` for i = 0..n-1, in that order: on the context's thread (`threads` 0), or from
    `threads` other threads that take the numbers under one mutex; then turns the context on this
    thread until `done()`. */
void start_numbered(io::io_context& ctx, int n, int threads, const std::function<void(int)>& start,
                    const std::function<bool()>& done) {
  if (threads == 0) {
    senet::test::run(ctx, ex::just() | ex::then([&] {
                            for (int i = 0; i < n; ++i) {
                              start(i);
                            }
                          }));
    ASSERT_TRUE(drive(ctx, done)) << "the operations did not complete within 60 s";
    return;
  }
  std::mutex mutex;
  int next = 0;
  std::vector<std::thread> starters;
  for (int t = 0; t < threads; ++t) {
    starters.emplace_back([&] {
      for (;;) {
        std::lock_guard lock(mutex);
        if (next == n) {
          return;
        }
        start(next++);
      }
    });
  }
  bool ok = drive(ctx, done);
  for (auto& t : starters) {
    t.join();
  }
  ASSERT_TRUE(ok) << "the operations did not complete within 60 s";
}

/** Message `i` of a stream: its number (4 bytes, little end first), then a pattern of it. */
std::string message(int i, std::size_t size) {
  std::string m(size, '\0');
  for (std::size_t j = 0; j < size; ++j) {
    m[j] = static_cast<char>((static_cast<std::size_t>(i) * 131 + j * 7) & 0xff);
  }
  for (std::size_t j = 0; j < 4 && j < size; ++j) {
    m[j] = static_cast<char>((static_cast<unsigned>(i) >> (8 * j)) & 0xff);
  }
  return m;
}

/** Receives everything that arrives on a socket into one string, one receive at a time; `pump()`
    is called between loop turns, on the loop's thread. */
class stream_reader {
 public:
  stream_reader(io::io_context& ctx, ip::tcp::socket& s, std::size_t capacity)
      : ctx_(&ctx), socket_(&s), data_(capacity, '\0'), log_(1) {}

  // Collects the receive that completed, starts the next one; false on an error or end of stream.
  bool pump() {
    if (op_ && log_.done(1)) {
      std::int64_t n = log_.bytes[0];
      op_.reset();
      if (n <= 0) {
        ADD_FAILURE() << "the reader's receive completed with " << n;
        return false;
      }
      size_ += static_cast<std::size_t>(n);
    }
    if (!op_ && size_ < data_.size()) {
      log_.order.clear();
      log_.count.store(0, std::memory_order_relaxed);
      op_ =
          connect_and_start(net::async_receive(*socket_, buffer(data_.data() + size_, data_.size() - size_)),
                            transfer_receiver{ctx_, &log_, 0});
    }
    return true;
  }

  [[nodiscard]] std::string_view data() const noexcept { return {data_.data(), size_}; }

  /** No receive is pending (after the socket was closed, the last one completes). */
  bool settled() {
    if (op_ && log_.done(1)) {
      op_.reset();
    }
    return !op_;
  }

 private:
  using op_type = started<decltype(net::async_receive(std::declval<ip::tcp::socket&>(),
                                                      buffer(std::declval<char*>(), std::size_t{}))),
                          transfer_receiver>;
  io::io_context* ctx_;
  ip::tcp::socket* socket_;
  std::string data_;
  std::size_t size_ = 0;
  completion_log log_;
  std::unique_ptr<op_type> op_;
};

/** How many of `ops` were started. */
template <class Op>
int log_started(const std::vector<std::unique_ptr<Op>>& ops) {
  int n = 0;
  for (const auto& op : ops) {
    n += op ? 1 : 0;
  }
  return n;
}

template <class Backend>
class operation_order_test : public senet::test::backend_fixture<Backend> {
 protected:
  /** A connected pair with small buffers, so that sends fill them and wait. */
  senet::test::tcp_connection tcp_pair() {
    auto pair = senet::test::tcp_pair(this->ctx());
    if (this->kind == io::backend_kind::test) {
      auto& network = io::test_network::of(this->ctx());
      network.set_send_buffer_limit(16 * 1024);
      network.set_max_transfer(1500);  // some transfers come out short, as the kernel's may
    } else {
      pair.client.set_option(net::socket_base::send_buffer_size{16 * 1024});
      pair.server.set_option(net::socket_base::receive_buffer_size{16 * 1024});
    }
    return pair;
  }

  // 1,000 numbered sends of 1,000 bytes on one socket while the peer reads: the stream holds, for
  // each send in start order, the bytes that send reported (a short send writes a prefix of its
  // message); and the sends complete in start order.
  void sends_in_start_order(int threads) {
    auto pair = tcp_pair();
    constexpr std::size_t size = 1000;
    std::vector<std::string> messages;
    for (int i = 0; i < operations; ++i) {
      messages.push_back(message(i, size));
    }
    completion_log log(operations);
    using op_type = started<decltype(net::async_send(pair.client, buffer(messages[0]))), transfer_receiver>;
    std::vector<std::unique_ptr<op_type>> sends(operations);
    stream_reader reader(this->ctx(), pair.server, operations * size);
    settle_on_exit settle(
        this->ctx(),
        [&] {
          pair.client.close();
          pair.server.close();
        },
        [&] { return reader.settled() && log.count.load() == log_started(sends); });
    std::size_t sent = 0;
    start_numbered(
        this->ctx(), operations, threads,
        [&](int i) {
          auto k = static_cast<std::size_t>(i);
          sends[k] = connect_and_start(net::async_send(pair.client, buffer(messages[k])),
                                       transfer_receiver{&this->ctx(), &log, i});
        },
        [&] {
          if (!reader.pump()) {
            return true;
          }
          if (!log.done(operations)) {
            return false;
          }
          if (sent == 0) {
            for (std::int64_t n : log.bytes) {
              sent += n > 0 ? static_cast<std::size_t>(n) : 0;
            }
          }
          return reader.data().size() >= sent;
        });
    ASSERT_TRUE(log.done(operations));
    std::string expected;
    for (int i = 0; i < operations; ++i) {
      std::int64_t n = log.bytes[static_cast<std::size_t>(i)];
      ASSERT_GT(n, 0) << "send " << i << " failed";
      expected.append(messages[static_cast<std::size_t>(i)], 0, static_cast<std::size_t>(n));
    }
    ASSERT_EQ(reader.data().size(), expected.size());
    for (std::size_t at = 0; at < expected.size(); ++at) {
      ASSERT_EQ(reader.data()[at], expected[at]) << "the streams differ at byte " << at;
    }
    for (int i = 0; i < operations; ++i) {
      ASSERT_EQ(log.order[static_cast<std::size_t>(i)], i) << "completion order";
    }
  }

  // 1,000 numbered receives of 4 bytes on one socket while the peer writes a numbered stream: the
  // receives, in start order, take consecutive bytes of the stream, and complete in that order.
  void receives_in_start_order(int threads) {
    auto pair = tcp_pair();
    constexpr std::size_t size = 4;
    std::string stream;
    // Twice what the receives take, so that no receive waits for ever after a short one.
    for (int i = 0; i < 2 * operations; ++i) {
      stream += message(i, size);
    }
    completion_log log(operations);
    std::vector<std::array<char, size>> buffers(operations);
    using op_type = started<decltype(net::async_receive(pair.server, buffer(buffers[0]))), transfer_receiver>;
    std::vector<std::unique_ptr<op_type>> receives(operations);
    completion_log write_log(1);
    using write_type = started<decltype(net::async_write(pair.client, buffer(stream))), transfer_receiver>;
    std::unique_ptr<write_type> writer;
    settle_on_exit settle(
        this->ctx(),
        [&] {
          pair.client.close();
          pair.server.close();
        },
        [&] {
          return log.count.load() == log_started(receives) && write_log.count.load() == (writer ? 1 : 0);
        });
    start_numbered(
        this->ctx(), operations, threads,
        [&](int i) {
          auto k = static_cast<std::size_t>(i);
          receives[k] = connect_and_start(net::async_receive(pair.server, buffer(buffers[k])),
                                          transfer_receiver{&this->ctx(), &log, i});
        },
        [&] {
          if (!writer) {
            writer = connect_and_start(net::async_write(pair.client, buffer(stream)),
                                       transfer_receiver{&this->ctx(), &write_log, 0});
          }
          return log.done(operations) && write_log.done(1);
        });
    ASSERT_TRUE(log.done(operations));
    EXPECT_EQ(write_log.bytes[0], static_cast<std::int64_t>(stream.size()));
    std::string taken;
    for (int i = 0; i < operations; ++i) {
      auto k = static_cast<std::size_t>(i);
      ASSERT_GT(log.bytes[k], 0) << "receive " << i << " failed";
      taken.append(buffers[k].data(), static_cast<std::size_t>(log.bytes[k]));
    }
    ASSERT_EQ(std::string_view(stream).substr(0, taken.size()), taken) << "receives took bytes out of order";
    for (int i = 0; i < operations; ++i) {
      ASSERT_EQ(log.order[static_cast<std::size_t>(i)], i) << "completion order";
    }
  }

  // 200 numbered accepts on one listener, then 200 clients connecting one after the other: accept i
  // takes connection i.
  void accepts_in_start_order(int threads) {
    constexpr int count = 200;
    acceptor_ = senet::test::listen_tcp(ip::tcp::v4());
    auto endpoint = acceptor_.local_endpoint();
    completion_log log(count);
    std::vector<ip::tcp::socket> accepted(count);
    std::atomic<int> started_count{0};
    using op_type = started<decltype(net::async_accept(acceptor_)), accept_receiver>;
    std::vector<std::unique_ptr<op_type>> accepts(count);
    settle_on_exit settle(
        this->ctx(), [&] { acceptor_.close(); }, [&] { return log.count.load() == log_started(accepts); });
    start_numbered(
        this->ctx(), count, threads,
        [&](int i) {
          accepts[static_cast<std::size_t>(i)] = connect_and_start(
              net::async_accept(acceptor_), accept_receiver{&this->ctx(), &log, i, &accepted});
          started_count.fetch_add(1, std::memory_order_release);
        },
        [&] { return started_count.load(std::memory_order_acquire) == count; });
    // Every accept has been started (a start from another thread is queued for the context's thread:
    // one more turn hands them all to the backend).
    this->ctx().poll();
    std::vector<ip::tcp::socket> clients(count);
    for (int i = 0; i < count; ++i) {
      auto k = static_cast<std::size_t>(i);
      clients[k].open(ip::tcp::v4());
      ASSERT_TRUE(this->run(net::async_connect(clients[k], endpoint)).has_value());
    }
    ASSERT_TRUE(drive(this->ctx(), [&] { return log.done(count); })) << "the accepts did not complete";
    for (int i = 0; i < count; ++i) {
      auto k = static_cast<std::size_t>(i);
      ASSERT_EQ(log.bytes[k], clients[k].local_endpoint().port())
          << "accept " << i << " took another connection";
      ASSERT_EQ(log.order[k], i) << "completion order";
    }
  }

  ip::tcp::acceptor acceptor_;
};

TYPED_TEST_SUITE(operation_order_test, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(operation_order_test, sends_started_on_the_loop_thread_are_written_in_start_order) {
  this->sends_in_start_order(0);
}

TYPED_TEST(operation_order_test, sends_started_from_two_threads_are_written_in_start_order) {
  this->sends_in_start_order(2);
}

TYPED_TEST(operation_order_test, receives_started_on_the_loop_thread_take_the_bytes_in_start_order) {
  this->receives_in_start_order(0);
}

TYPED_TEST(operation_order_test, receives_started_from_two_threads_take_the_bytes_in_start_order) {
  this->receives_in_start_order(2);
}

TYPED_TEST(operation_order_test, accepts_started_on_the_loop_thread_take_connections_in_start_order) {
  this->accepts_in_start_order(0);
}

TYPED_TEST(operation_order_test, accepts_started_from_two_threads_take_connections_in_start_order) {
  this->accepts_in_start_order(2);
}

// A send started outside the loop is handed to it; a send started after it, inside run_until,
// must not overtake it on the wire (found by fuzz/test_network_fuzz.cpp). Likewise receives.
TYPED_TEST(operation_order_test, a_send_started_before_run_until_is_written_before_one_started_in_it) {
  auto pair = senet::test::tcp_pair(this->ctx());
  completion_log log(1);
  const std::string first(64, 'a');
  const std::string second(64, 'b');
  auto op = connect_and_start(net::async_send(pair.client, buffer(first)),
                              transfer_receiver{&this->ctx(), &log, 0});
  ASSERT_TRUE(this->run(net::async_send(pair.client, buffer(second))).has_value());
  ASSERT_TRUE(drive(this->ctx(), [&] { return log.done(1); }));
  EXPECT_EQ(log.bytes[0], 64);
  std::string got(128, '?');
  ASSERT_TRUE(this->run(net::async_read(pair.server, buffer(got))).has_value());
  EXPECT_EQ(got, first + second);
}

/** Records a transfer's result under its index; its environment has a stop token. */
struct stoppable_transfer_receiver {
  using receiver_concept = ex::receiver_t;
  io::io_context* ctx;
  completion_log* log;
  int index;
  ex::inplace_stop_token token;

  void set_value(std::size_t n) && noexcept { log->record(index, static_cast<std::int64_t>(n)); }
  void set_error(std::error_code ec) && noexcept { log->record(index, -ec.value()); }
  void set_stopped() && noexcept { log->record(index, -1); }
  [[nodiscard]] auto get_env() const noexcept {
    return senet::test::make_env(senet::test::scheduler_entry(ctx->get_scheduler()),
                                 senet::test::stop_token_entry(token));
  }
};

/** Counts the turns of the loop it was scheduled for. */
struct turn_receiver {
  using receiver_concept = ex::receiver_t;
  io::io_context* ctx;
  int* turns;

  void set_value() && noexcept { ++*turns; }
  void set_stopped() && noexcept { ADD_FAILURE() << "a schedule on a running context was stopped"; }
  [[nodiscard]] io_env get_env() const noexcept { return {ctx}; }
};

// Found by fuzz/test_network_fuzz.cpp. Two receives wait; bytes for both arrive and the loop
// collects the completions; then, before the loop delivers them, a stop is requested on the
// first from outside the loop, which queues the cancel request for the loop. The first receive
// completed before the stop took effect, so it completes with its byte, and before the second.
// (A completion used to wait for its queued cancel request and was delivered after the second.)
TYPED_TEST(operation_order_test, a_receive_asked_to_stop_from_outside_completes_before_a_later_one) {
  auto pair = senet::test::tcp_pair(this->ctx());
  completion_log log(2);
  std::array<char, 1> first{};
  std::array<char, 1> second{};
  ex::inplace_stop_source stop;
  auto a = connect_and_start(net::async_receive(pair.server, buffer(first)),
                             stoppable_transfer_receiver{&this->ctx(), &log, 0, stop.get_token()});
  auto b = connect_and_start(net::async_receive(pair.server, buffer(second)),
                             stoppable_transfer_receiver{&this->ctx(), &log, 1, {}});
  this->ctx().poll();  // both wait in the backend
  if constexpr (TypeParam::kind == io::backend_kind::test) {
    // The simulation hands the bytes to the waiting receives while the write runs: their
    // completions wait in the ready queue when run() returns.
    ASSERT_TRUE(this->run(net::async_write(pair.client, buffer(std::string_view("ab")))).has_value());
  } else {
    // The kernel has the bytes; a turn that starts with a record from outside the loop (ahead in
    // the ready queue) collects the completions and returns after delivering that record only.
    // (epoll collects both; io_uring hands one receive of a socket to the ring at a time, so the
    // second is collected later.)
    ASSERT_EQ(::send(pair.client.native_handle(), "ab", 2, MSG_NOSIGNAL), 2);
    ::pollfd readable{pair.server.native_handle(), POLLIN, 0};
    ASSERT_EQ(::poll(&readable, 1, 10'000), 1);
    int turns = 0;
    auto turn =
        connect_and_start(ex::schedule(this->ctx().get_scheduler()), turn_receiver{&this->ctx(), &turns});
    ASSERT_EQ(this->ctx().poll_one(), 1U);
    ASSERT_EQ(turns, 1);
  }
  ASSERT_EQ(log.count.load(), 0) << "both completions wait for delivery";
  stop.request_stop();  // from outside the loop: queued for it
  ASSERT_TRUE(drive(this->ctx(), [&] { return log.done(2); }));
  EXPECT_EQ(log.bytes[0], 1) << "the first receive completed before the stop took effect";
  EXPECT_EQ(log.bytes[1], 1);
  EXPECT_EQ(first[0], 'a');
  EXPECT_EQ(second[0], 'b');
  EXPECT_EQ(log.order, (std::vector<int>{0, 1})) << "completions are delivered in start order";
}

// A receive that waits is stopped on the loop's thread: its completion (stopped) goes into the
// ready queue. A receive started right after it, in the same handler, on a socket that tries at
// once (eager_receive) and has a byte there, must not complete inside its start(), ahead of the
// stopped one: it completes after it (the direction's ticket, also after a cancel).
TYPED_TEST(operation_order_test, an_operation_started_after_a_cancelled_one_completes_after_it) {
  auto pair = senet::test::tcp_pair(this->ctx());
  pair.server.eager_receive(true);
  completion_log log(2);
  std::array<char, 1> first{};
  std::array<char, 1> second{};
  ex::inplace_stop_source stop;
  auto a = connect_and_start(net::async_receive(pair.server, buffer(first)),
                             stoppable_transfer_receiver{&this->ctx(), &log, 0, stop.get_token()});
  this->ctx().poll();  // it waits in the backend
  ASSERT_EQ(log.count.load(), 0);
  // On epoll the byte is there before the loop looks (io_uring's waiting receive would take it
  // in the kernel at once; the test backend's likewise): the second would find it at once.
  constexpr bool byte_first = TypeParam::kind == io::backend_kind::epoll;
  if constexpr (byte_first) {
    ASSERT_EQ(::send(pair.client.native_handle(), "b", 1, MSG_NOSIGNAL), 1);
    ::pollfd readable{pair.server.native_handle(), POLLIN, 0};
    ASSERT_EQ(::poll(&readable, 1, 10'000), 1);
  }
  std::unique_ptr<started<decltype(net::async_receive(pair.server, buffer(second))), transfer_receiver>> b;
  bool second_done_before_first = false;
  // On the loop's thread, before the loop looks at the kernel again: stop the first, start the
  // second.
  ASSERT_TRUE(this->ctx()
                  .run_until(ex::just() | ex::then([&] {
                               stop.request_stop();
                               b = connect_and_start(net::async_receive(pair.server, buffer(second)),
                                                     transfer_receiver{&this->ctx(), &log, 1});
                               second_done_before_first = log.bytes[1] != -2 && log.bytes[0] == -2;
                             }))
                  .has_value());
  if constexpr (!byte_first) {
    ASSERT_TRUE(this->run(net::async_write(pair.client, buffer(std::string_view("b")))).has_value());
  }
  ASSERT_TRUE(drive(this->ctx(), [&] { return log.done(2); }));
  EXPECT_FALSE(second_done_before_first) << "the second receive completed inside its start()";
  EXPECT_EQ(log.bytes[0], -1) << "the first receive was stopped";
  EXPECT_EQ(log.bytes[1], 1);
  EXPECT_EQ(second[0], 'b');
  EXPECT_EQ(log.order, (std::vector<int>{0, 1})) << "completions are delivered in start order";
}

// Start order is the order of the transfers (docs/design/io_core.md, "Order"): a later receive
// that times out, or that is stopped, completes when that happens, having taken nothing, also
// while an earlier receive of the socket still waits; the earlier one then takes the next bytes.
// (io_uring: the later one never reached the ring, it waited behind the earlier one.)
TYPED_TEST(operation_order_test, a_later_receive_that_times_out_completes_while_an_earlier_one_waits) {
  auto pair = senet::test::tcp_pair(this->ctx());
  completion_log log(1);
  std::array<char, 1> first{};
  std::array<char, 1> second{};
  auto a = connect_and_start(net::async_receive(pair.server, buffer(first)),
                             transfer_receiver{&this->ctx(), &log, 0});
  EXPECT_EQ(this->error_of(net::timeout(net::async_receive(pair.server, buffer(second)), 20ms)),
            std::errc::timed_out);
  EXPECT_EQ(log.count.load(), 0) << "the earlier receive still waits";
  ASSERT_TRUE(this->run(net::async_write(pair.client, buffer(std::string_view("a")))).has_value());
  ASSERT_TRUE(drive(this->ctx(), [&] { return log.done(1); }));
  EXPECT_EQ(log.bytes[0], 1);
  EXPECT_EQ(first[0], 'a');
  EXPECT_EQ(second[0], 0) << "the receive that timed out took nothing";
}

TYPED_TEST(operation_order_test, a_later_receive_that_is_stopped_completes_while_an_earlier_one_waits) {
  auto pair = senet::test::tcp_pair(this->ctx());
  completion_log log(2);
  std::array<char, 1> first{};
  std::array<char, 1> second{};
  ex::inplace_stop_source stop;
  auto a = connect_and_start(net::async_receive(pair.server, buffer(first)),
                             stoppable_transfer_receiver{&this->ctx(), &log, 0, {}});
  auto b = connect_and_start(net::async_receive(pair.server, buffer(second)),
                             stoppable_transfer_receiver{&this->ctx(), &log, 1, stop.get_token()});
  this->ctx().poll();  // both wait: the first in the backend, the second behind it
  ASSERT_EQ(log.count.load(), 0);
  stop.request_stop();  // from outside the loop: queued for it
  ASSERT_TRUE(drive(this->ctx(), [&] { return log.count.load() == 1; }));
  EXPECT_EQ(log.order, (std::vector<int>{1})) << "the stopped receive completed first";
  EXPECT_EQ(log.bytes[1], -1);
  ASSERT_TRUE(this->run(net::async_write(pair.client, buffer(std::string_view("a")))).has_value());
  ASSERT_TRUE(drive(this->ctx(), [&] { return log.done(2); }));
  EXPECT_EQ(log.bytes[0], 1);
  EXPECT_EQ(first[0], 'a');
  EXPECT_EQ(second[0], 0) << "the stopped receive took nothing";
}

TYPED_TEST(operation_order_test,
           a_receive_started_before_run_until_takes_the_bytes_before_one_started_in_it) {
  auto pair = senet::test::tcp_pair(this->ctx());
  completion_log log(1);
  std::string first(4, '?');
  std::string second(4, '?');
  auto op = connect_and_start(net::async_receive(pair.server, buffer(first)),
                              transfer_receiver{&this->ctx(), &log, 0});
  ASSERT_TRUE(this->run(net::async_write(pair.client, buffer(std::string_view("aaaabbbb")))).has_value());
  ASSERT_TRUE(this->run(net::async_read(pair.server, buffer(second))).has_value());
  ASSERT_TRUE(drive(this->ctx(), [&] { return log.done(1); }));
  EXPECT_EQ(first, "aaaa");
  EXPECT_EQ(second, "bbbb");
}

}  // namespace
