// SPDX-License-Identifier: BSL-1.0
// basic_socket's thread-safety rule: close(), cancel(), the destructor and moving from a socket
// from any thread while its operations are pending (docs/design/io_core.md, "Threads").
#include <senet/net/basic_socket.hpp>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_read_some.hpp>
#include <senet/net/async_read_until.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/async_write_some.hpp>
#include <senet/net/dynamic_buffer.hpp>
#include <senet/net/sockets.hpp>

#include <senet/io/test_network.hpp>

#include <support/backend_fixture.hpp>
#include <support/loopback.hpp>
#include <support/thread_harness.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;
using tcp = ip::tcp;

// What one operation completed with, and how often (exactly once is the point).
struct outcome {
  std::atomic<int> completions{0};
  std::atomic<bool> done{false};
  std::size_t bytes = 0;
  std::error_code error;
  bool stopped = false;
  std::thread::id thread;

  [[nodiscard]] bool aborted() const { return error == senet::error::operation_aborted; }
};

// Records a receive's or send's completion in an `outcome`.
struct outcome_receiver {
  using receiver_concept = ex::receiver_t;
  io::io_context* ctx;
  outcome* out;

  struct env {
    io::io_context* ctx;
    [[nodiscard]] io::io_context::scheduler_type query(ex::get_scheduler_t) const noexcept {
      return ctx->get_scheduler();
    }
  };
  [[nodiscard]] env get_env() const noexcept { return {ctx}; }

  void finish() && noexcept {
    out->thread = std::this_thread::get_id();
    out->completions.fetch_add(1, std::memory_order_relaxed);
    out->done.store(true, std::memory_order_release);
  }
  void set_value(std::size_t n) && noexcept {
    out->bytes = n;
    std::move(*this).finish();
  }
  void set_error(std::error_code ec) && noexcept {
    out->error = ec;
    std::move(*this).finish();
  }
  void set_stopped() && noexcept {
    out->stopped = true;
    std::move(*this).finish();
  }
};

// Hands accepted sockets (or accept errors) to callbacks.
struct accept_receiver {
  using receiver_concept = ex::receiver_t;
  std::function<void(tcp::socket)>* on_socket;
  std::function<void()>* on_error;
  void set_value(tcp::socket s, const tcp::endpoint&) && noexcept { (*on_socket)(std::move(s)); }
  void set_error(std::error_code) && noexcept { (*on_error)(); }
  void set_stopped() && noexcept {}
};

// Destroys the socket it is given in its completion, then records the completion (`inner`).
struct destroying_receiver {
  using receiver_concept = ex::receiver_t;
  std::unique_ptr<tcp::socket>* socket;
  senet::test::record_receiver inner;
  [[nodiscard]] auto get_env() const noexcept { return inner.get_env(); }
  void set_value(std::size_t n) && noexcept {
    socket->reset();
    std::move(inner).set_value(n);
  }
  void set_error(std::error_code ec) && noexcept {
    socket->reset();
    std::move(inner).set_error(ec);
  }
  void set_stopped() && noexcept {
    socket->reset();
    std::move(inner).set_stopped();
  }
};

// Keeps operation states of any type alive until the end of a test.
struct kept_base {
  virtual ~kept_base() = default;
};
template <class Sndr, class Rcvr>
struct kept_operation : kept_base {
  kept_operation(Sndr&& s, Rcvr r) : op(ex::connect(std::move(s), std::move(r))) {}
  ex::connect_result_t<Sndr, Rcvr> op;
};
template <class Sndr, class Rcvr>
void start_kept(std::vector<std::unique_ptr<kept_base>>& keep, Sndr s, Rcvr r) {
  auto k = std::make_unique<kept_operation<Sndr, Rcvr>>(std::move(s), std::move(r));
  ex::start(k->op);
  keep.push_back(std::move(k));
}

#if defined(__SANITIZE_THREAD__)
constexpr bool under_tsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool under_tsan = true;
#else
constexpr bool under_tsan = false;
#endif
#else
constexpr bool under_tsan = false;
#endif

// The test backend simulates connections for descriptors it identifies by probing them (fstat) on
// the context's thread; ThreadSanitizer reports that probe against a close(2) on another thread
// (it tracks descriptors as objects), although the simulation tells a closed or reused descriptor
// apart by its identity. The io core's side of these tests runs on epoll and io_uring under TSan,
// and on every backend elsewhere.
#define SKIP_TEST_BACKEND_CLOSING_ACROSS_THREADS_UNDER_TSAN()                                     \
  if (under_tsan && TypeParam::kind == io::backend_kind::test) {                                  \
    GTEST_SKIP() << "the test backend probes descriptors that another thread closes (see above)"; \
  }

// Waits for `f` at most `limit`; a hang is reported and ends the test program instead of blocking
// the suite.
template <class F>
void bounded(F&& f, std::chrono::seconds limit, const char* what) {
  auto done = std::async(std::launch::async, std::forward<F>(f));
  if (done.wait_for(limit) != std::future_status::ready) {
    std::fprintf(stderr, "basic_socket_threads_test: %s did not finish within %llds\n", what,
                 static_cast<long long>(limit.count()));
    std::_Exit(1);
  }
  done.get();
}

template <class Backend>
class basic_socket_threads : public senet::test::backend_fixture<Backend> {
 protected:
  // `n` connected pairs, made on this thread while nobody else runs the context.
  std::vector<senet::test::stream_pair<tcp>> pairs(int n) {
    std::vector<senet::test::stream_pair<tcp>> v;
    v.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      v.push_back(senet::test::connect_pair(this->ctx(), acceptor_));
    }
    return v;
  }

  // Starts a one-byte receive on `s` that has to wait (nothing was sent), and lets it register.
  void start_waiting_receive(tcp::socket& s, char& byte, outcome& out) {
    start_kept(keep_, net::async_receive(this->scheduler(), s, buffer(&byte, 1)),
               outcome_receiver{&this->ctx(), &out});
    this->ctx().poll();
    ASSERT_FALSE(out.done.load());
  }

  tcp::acceptor acceptor_ = senet::test::listen_tcp(tcp::v4());
  std::vector<std::unique_ptr<kept_base>> keep_;
};

TYPED_TEST_SUITE(basic_socket_threads, senet::test::all_backends, senet::test::backend_names);

// A thread runs the context; this thread closes the receiving sockets while the peers' bytes
// arrive: every receive completes exactly once, on the context's thread, with the byte or with
// operation_aborted.
TYPED_TEST(basic_socket_threads, close_racing_completions_from_another_thread) {
  SKIP_TEST_BACKEND_CLOSING_ACROSS_THREADS_UNDER_TSAN();
  constexpr int batches = 10;
  constexpr int per_batch = 100;
  int received = 0;
  int aborted = 0;
  for (int b = 0; b < batches; ++b) {
    auto v = this->pairs(per_batch);
    std::vector<outcome> in(per_batch);
    std::vector<outcome> sent(per_batch);
    std::vector<char> bytes(per_batch, 0);
    for (int i = 0; i < per_batch; ++i) {
      this->start_waiting_receive(v[i].server, bytes[i], in[i]);
    }
    std::thread::id loop_id;
    std::thread loop;
    {
      io::io_context::work_guard guard(this->ctx());
      std::promise<std::thread::id> id;
      loop = std::thread([&] {
        id.set_value(std::this_thread::get_id());
        this->ctx().run();
      });
      loop_id = id.get_future().get();
      static const char x = 'x';
      for (int i = 0; i < per_batch; ++i) {
        start_kept(this->keep_, net::async_send(this->scheduler(), v[i].client, buffer(&x, 1)),
                   outcome_receiver{&this->ctx(), &sent[i]});
        v[i].server.close();
      }
    }
    bounded([&] { loop.join(); }, 60s, "the context's thread");
    for (int i = 0; i < per_batch; ++i) {
      ASSERT_EQ(in[i].completions.load(), 1) << i;
      EXPECT_EQ(in[i].thread, loop_id);
      if (in[i].aborted()) {
        ++aborted;
      } else {
        ASSERT_FALSE(in[i].error) << in[i].error.message();
        ASSERT_FALSE(in[i].stopped);
        EXPECT_EQ(in[i].bytes, 1U);
        EXPECT_EQ(bytes[i], 'x');
        ++received;
      }
      EXPECT_EQ(sent[i].completions.load(), 1);
    }
  }
  EXPECT_EQ(received + aborted, batches * per_batch);
  std::printf("close racing completions: %d received, %d aborted\n", received, aborted);
}

// cancel() from another thread: each waiting receive completes exactly once, stopped or with the
// byte; the socket stays open, and a byte that a stopped receive did not take is still there.
TYPED_TEST(basic_socket_threads, cancel_from_another_thread) {
  constexpr int batches = 10;
  constexpr int per_batch = 100;
  int received = 0;
  int stopped = 0;
  for (int b = 0; b < batches; ++b) {
    auto v = this->pairs(per_batch);
    std::vector<outcome> in(per_batch);
    std::vector<outcome> sent(per_batch);
    std::vector<char> bytes(per_batch, 0);
    for (int i = 0; i < per_batch; ++i) {
      this->start_waiting_receive(v[i].server, bytes[i], in[i]);
    }
    std::thread::id loop_id;
    std::thread loop;
    {
      io::io_context::work_guard guard(this->ctx());
      std::promise<std::thread::id> id;
      loop = std::thread([&] {
        id.set_value(std::this_thread::get_id());
        this->ctx().run();
      });
      loop_id = id.get_future().get();
      static const char x = 'y';
      for (int i = 0; i < per_batch; ++i) {
        start_kept(this->keep_, net::async_send(this->scheduler(), v[i].client, buffer(&x, 1)),
                   outcome_receiver{&this->ctx(), &sent[i]});
        v[i].server.cancel();
        EXPECT_TRUE(v[i].server.is_open());
      }
    }
    bounded([&] { loop.join(); }, 60s, "the context's thread");
    for (int i = 0; i < per_batch; ++i) {
      ASSERT_EQ(in[i].completions.load(), 1) << i;
      EXPECT_EQ(in[i].thread, loop_id);
      ASSERT_FALSE(in[i].error) << in[i].error.message();
      if (in[i].stopped) {
        ++stopped;
        // The socket is usable, and the byte is still there.
        char again = 0;
        auto n = this->value_of(net::async_receive(v[i].server, buffer(&again, 1)));
        EXPECT_EQ(n, 1U);
        EXPECT_EQ(again, 'y');
      } else {
        EXPECT_EQ(in[i].bytes, 1U);
        EXPECT_EQ(bytes[i], 'y');
        ++received;
      }
    }
  }
  EXPECT_EQ(received + stopped, batches * per_batch);
  std::printf("cancel from another thread: %d received, %d stopped\n", received, stopped);
}

TYPED_TEST(basic_socket_threads, cancel_of_a_closed_socket_is_not_open) {
  tcp::socket s;
  std::error_code ec;
  s.cancel(ec);
  EXPECT_EQ(ec, senet::error::not_open);
  EXPECT_THROW(s.cancel(), std::system_error);
}

TYPED_TEST(basic_socket_threads, cancel_on_the_context_thread_completes_stopped) {
  auto v = this->pairs(1);
  char byte = 0;
  outcome in;
  this->start_waiting_receive(v[0].server, byte, in);
  auto r = this->run(ex::schedule(this->scheduler()) | ex::then([&] { v[0].server.cancel(); }));
  ASSERT_TRUE(r.has_value());
  this->ctx().poll();
  EXPECT_EQ(in.completions.load(), 1);
  EXPECT_TRUE(in.stopped);
  EXPECT_TRUE(v[0].server.is_open());
}

// cancel() stops every pending operation of the socket, also those queued behind the first of
// their direction (io_uring hands one per direction to the kernel): none of them runs afterwards,
// and the socket keeps working.
TYPED_TEST(basic_socket_threads, cancel_stops_queued_operations_too) {
  auto v = this->pairs(1);
  char bytes[3] = {};
  outcome in[3];
  for (int i = 0; i < 3; ++i) {
    this->start_waiting_receive(v[0].server, bytes[i], in[i]);
  }
  v[0].server.cancel();
  this->ctx().poll();
  for (auto& o : in) {
    EXPECT_EQ(o.completions.load(), 1);
    EXPECT_TRUE(o.stopped);
  }
  char c = 'k';
  char got = 0;
  ASSERT_EQ(this->value_of(net::async_send(v[0].client, buffer(&c, 1))), 1U);
  EXPECT_EQ(this->value_of(net::async_receive(v[0].server, buffer(&got, 1))), 1U);
  EXPECT_EQ(got, 'k');
}

// Closing the socket in a completion on the context's thread: done at once, no hand-over.
TYPED_TEST(basic_socket_threads, close_from_inside_a_completion) {
  auto v = this->pairs(1);
  char byte = 0;
  outcome in;
  this->start_waiting_receive(v[0].server, byte, in);
  auto r = this->run(net::async_wait_for(1ms) | ex::then([&] {
                       v[0].server.close();
                       EXPECT_FALSE(v[0].server.is_open());
                     }));
  ASSERT_TRUE(r.has_value());
  this->ctx().poll();
  ASSERT_EQ(in.completions.load(), 1);
  EXPECT_TRUE(in.aborted()) << in.error.message();
}

// Nobody runs the context: the closing thread does the release itself; the aborted receive is
// delivered by the next run.
TYPED_TEST(basic_socket_threads, close_while_nobody_runs_the_context) {
  auto v = this->pairs(1);
  char byte = 0;
  outcome in;
  this->start_waiting_receive(v[0].server, byte, in);
  bounded([&] { std::thread([&] { v[0].server.close(); }).join(); }, 30s, "close");
  EXPECT_FALSE(v[0].server.is_open());
  EXPECT_EQ(in.completions.load(), 0);  // not delivered on the closing thread
  this->ctx().poll();
  ASSERT_EQ(in.completions.load(), 1);
  EXPECT_TRUE(in.aborted()) << in.error.message();
}

// How a test ends a socket whose operations' starts have not reached the loop.
enum class ending { close, release, destroy, move, cancel };

const char* name_of(ending how) {
  switch (how) {
    case ending::close:
      return "close";
    case ending::release:
      return "release";
    case ending::destroy:
      return "destroy";
    case ending::move:
      return "move";
    case ending::cancel:
      return "cancel";
  }
  return "?";
}

// Ends `s` the way `how` says; a moved-to socket goes to `moved`, a released descriptor to
// `released`.
void end_socket(ending how, std::unique_ptr<tcp::socket>& s, std::optional<tcp::socket>& moved,
                int& released) {
  switch (how) {
    case ending::close:
      s->close();
      break;
    case ending::release:
      released = s->release();
      break;
    case ending::destroy:
      s.reset();
      break;
    case ending::move:
      moved.emplace(std::move(*s));
      break;
    case ending::cancel:
      s->cancel();
      break;
  }
}

// Operations started on another thread reach the loop through the context's queue; nobody runs
// the context, and this thread closes, releases, destroys, moves or cancels the socket before the
// loop has taken them ("until the loop takes it, close(), release(), cancel(), moving and the
// destructor may be called too", basic_socket). Each operation completes exactly once when the
// context runs, on the context's thread, without touching the socket (gone, after `destroy`:
// AddressSanitizer would see a read), as a pending one would: operation_aborted, or stopped after
// cancel(). A connect started on a closed socket does not open it afterwards.
TYPED_TEST(basic_socket_threads, operations_started_on_another_thread_then_their_socket_ended_complete_once) {
  using senet::test::completion_record;
  using senet::test::record_receiver;
  for (ending how : {ending::close, ending::release, ending::destroy, ending::move, ending::cancel}) {
    SCOPED_TRACE(name_of(how));
    auto v = this->pairs(1);
    auto server = std::make_unique<tcp::socket>(std::move(v[0].server));
    auto fresh = std::make_unique<tcp::socket>();  // closed: a connect opens it
    char byte = 0;
    char out_byte = 'x';
    std::string line;
    completion_record in;
    completion_record sent;
    completion_record wait;
    completion_record connected;
    completion_record line_read;
    completion_record written;
    auto r = senet::test::connect_slot(net::async_receive(this->scheduler(), *server, buffer(&byte, 1)),
                                       record_receiver{&this->ctx(), &in});
    // Two operation states of their own (not io_sender's): a read that prepares its buffer's room
    // before it starts, and a write of several steps.
    auto u = senet::test::connect_slot(
        net::async_read_until(this->scheduler(), *server, net::dynamic_buffer(line), "\n"),
        record_receiver{&this->ctx(), &line_read});
    auto wr = senet::test::connect_slot(net::async_write(this->scheduler(), *server, buffer(&out_byte, 1)),
                                        record_receiver{&this->ctx(), &written});
    auto s = senet::test::connect_slot(net::async_send(this->scheduler(), *server, buffer(&out_byte, 1)),
                                       record_receiver{&this->ctx(), &sent});
    auto w =
        senet::test::connect_slot(net::async_wait(this->scheduler(), *server, net::socket_base::wait_read),
                                  record_receiver{&this->ctx(), &wait});
    auto c = senet::test::connect_slot(
        net::async_connect(this->scheduler(), *fresh, this->acceptor_.local_endpoint()),
        record_receiver{&this->ctx(), &connected});
    std::thread([&] {
      r->start();
      s->start();
      w->start();
      c->start();
      u->start();
      wr->start();
    }).join();
    std::optional<tcp::socket> moved_server;
    std::optional<tcp::socket> moved_fresh;
    int fd = -1;
    end_socket(how, server, moved_server, fd);
    if (how != ending::cancel) {
      int fresh_fd = 0;
      end_socket(how, fresh, moved_fresh, fresh_fd);
      if (how == ending::release) {
        EXPECT_EQ(fresh_fd, -1);
      }
    }
    if (how == ending::cancel) {
      // The socket is closed, but its connect is on its way: cancel() cancels it (no not_open),
      // before it opens the socket.
      EXPECT_NO_THROW(fresh->cancel());
    }
    EXPECT_EQ(in.count.load() + sent.count.load() + wait.count.load() + connected.count.load() +
                  line_read.count.load() + written.count.load(),
              0)
        << "completed before the context ran";
    ASSERT_TRUE(senet::test::eventually([&] {
      this->ctx().poll();
      return in.done() && sent.done() && wait.done() && connected.done() && line_read.done() &&
             written.done();
    })) << "no completion within 20 s";
    // The read's room was given back: the string holds what was read, nothing.
    EXPECT_TRUE(line.empty()) << line.size();
    const std::pair<const char*, completion_record*> records[] = {
        {"receive", &in}, {"send", &sent}, {"wait", &wait}, {"read_until", &line_read}, {"write", &written}};
    for (auto [name, rec] : records) {
      SCOPED_TRACE(name);
      EXPECT_EQ(rec->count.load(), 1);
      EXPECT_EQ(rec->thread, std::this_thread::get_id());
      if (how == ending::cancel) {
        EXPECT_TRUE(rec->is_stopped()) << rec->ec.message();
      } else {
        EXPECT_TRUE(rec->is_error());
        EXPECT_EQ(rec->ec, senet::error::operation_aborted) << rec->ec.message();
      }
    }
    EXPECT_EQ(connected.count.load(), 1);
    char peer_byte = 0;
    if (how == ending::cancel) {
      EXPECT_TRUE(connected.is_stopped()) << connected.ec.message();
      EXPECT_FALSE(fresh->is_open()) << "the cancelled connect opened the socket";
      // The socket still works, both ways.
      ASSERT_EQ(this->value_of(net::async_send(*server, buffer(&out_byte, 1))), 1U);
      ASSERT_EQ(this->value_of(net::async_receive(v[0].client, buffer(&peer_byte, 1))), 1U);
      EXPECT_EQ(peer_byte, 'x');
      continue;
    }
    EXPECT_TRUE(connected.is_error());
    EXPECT_EQ(connected.ec, senet::error::operation_aborted) << connected.ec.message();
    // Nothing went out (the end of the stream after a close, EAGAIN after a release or move).
    // (Both sends, `sent` and `written`, were of 'x'.)
    EXPECT_LE(::recv(v[0].client.native_handle(), &peer_byte, 1, MSG_DONTWAIT), 0) << "the send went out";
    if (server) {
      EXPECT_FALSE(server->is_open());
    }
    if (fresh) {
      EXPECT_FALSE(fresh->is_open()) << "the connect opened the socket after it was ended";
    }
    if (how == ending::release) {
      ASSERT_GE(fd, 0);
      ::close(fd);
    }
    if (how == ending::move) {
      // The moved-to socket has the descriptor and works.
      ASSERT_TRUE(moved_server->is_open());
      EXPECT_FALSE(moved_fresh->is_open());
      ASSERT_EQ(this->value_of(net::async_send(*moved_server, buffer(&out_byte, 1))), 1U);
      ASSERT_EQ(this->value_of(net::async_receive(v[0].client, buffer(&peer_byte, 1))), 1U);
      EXPECT_EQ(peer_byte, 'x');
    }
  }
}

// A start handed over from another thread completes inside its trampoline (a send the backend
// makes at once; eager_send, so that io_uring makes it too), and its receiver destroys the socket
// there: the trampoline, which counted the start on the socket's descriptor, must not touch the
// descriptor afterwards (AddressSanitizer). Also for an async_write of several buffers.
TYPED_TEST(basic_socket_threads,
           a_receiver_destroys_its_socket_in_a_completion_its_handed_off_start_delivered) {
  for (bool write : {false, true}) {
    SCOPED_TRACE(write ? "async_write" : "async_send");
    auto v = this->pairs(1);
    auto sock = std::make_unique<tcp::socket>(std::move(v[0].server));
    sock->eager_send(true);
    const char out[2] = {'a', 'b'};
    std::array<senet::const_buffer, 2> two{buffer(&out[0], 1), buffer(&out[1], 1)};
    senet::test::completion_record rec;
    std::unique_ptr<kept_base> kept;
    std::thread([&] {
      destroying_receiver r{&sock, senet::test::record_receiver{&this->ctx(), &rec}};
      if (write) {
        auto k = std::make_unique<
            kept_operation<decltype(net::async_write(this->scheduler(), *sock, two)), destroying_receiver>>(
            net::async_write(this->scheduler(), *sock, two), r);
        ex::start(k->op);
        kept = std::move(k);
      } else {
        auto k =
            std::make_unique<kept_operation<decltype(net::async_send(this->scheduler(), *sock, buffer(out))),
                                            destroying_receiver>>(
                net::async_send(this->scheduler(), *sock, buffer(out)), r);
        ex::start(k->op);
        kept = std::move(k);
      }
    }).join();
    ASSERT_TRUE(senet::test::eventually([&] {
      this->ctx().poll();
      return rec.done();
    })) << "no completion within 20 s";
    EXPECT_EQ(rec.count.load(), 1);
    EXPECT_TRUE(rec.is_value()) << rec.ec.message();
    EXPECT_EQ(rec.bytes, 2U);
    EXPECT_EQ(sock, nullptr);
    char got[2] = {};
    ASSERT_EQ(this->value_of(net::async_read(v[0].client, buffer(got))), 2U);
    EXPECT_EQ(got[0], 'a');
    EXPECT_EQ(got[1], 'b');
  }
}

// Runs `action` in its completion, then records the completion (`inner`).
struct acting_receiver {
  using receiver_concept = ex::receiver_t;
  std::function<void()>* action;
  senet::test::record_receiver inner;
  [[nodiscard]] auto get_env() const noexcept { return inner.get_env(); }
  void set_value(std::size_t n) && noexcept {
    (*action)();
    std::move(inner).set_value(n);
  }
  void set_error(std::error_code ec) && noexcept {
    (*action)();
    std::move(inner).set_error(ec);
  }
  void set_stopped() && noexcept {
    (*action)();
    std::move(inner).set_stopped();
  }
};

// The step of an operation of several steps completed, and its completion waits in the ready queue
// behind another completion, whose receiver ends the socket (close, release, destroy, move,
// cancel). The operation must not start its next step, which would read the socket: gone after
// `destroy` (AddressSanitizer), closed after the others (the step would fail with
// bad_file_descriptor, or wait on a descriptor that a close on another thread takes away: a
// completion lost). Each completes once, with operation_aborted (stopped after cancel()), after
// the bytes its step read: async_read reports them, async_read_until leaves them in its buffer.
TYPED_TEST(basic_socket_threads, a_step_delivered_after_its_socket_ended_starts_no_next_step) {
  using senet::test::completion_record;
  using senet::test::record_receiver;
  for (ending how : {ending::close, ending::release, ending::destroy, ending::move, ending::cancel}) {
    SCOPED_TRACE(name_of(how));
    auto v = this->pairs(3);
    auto reading = std::make_unique<tcp::socket>(std::move(v[0].server));
    auto until = std::make_unique<tcp::socket>(std::move(v[2].server));
    std::optional<tcp::socket> moved_reading;
    std::optional<tcp::socket> moved_until;
    int released[2] = {-1, -1};
    std::array<char, 8> got{};
    std::size_t transferred = 0;
    std::size_t transferred_at_trigger = 99;
    std::string line;
    char trigger_byte = 0;
    completion_record trigger;
    completion_record read;
    completion_record line_read;
    std::function<void()> end = [&] {
      transferred_at_trigger = transferred;
      end_socket(how, reading, moved_reading, released[0]);
      end_socket(how, until, moved_until, released[1]);
    };
    auto t = senet::test::connect_slot(net::async_receive(v[1].server, buffer(&trigger_byte, 1)),
                                       acting_receiver{&end, record_receiver{&this->ctx(), &trigger}});
    auto r = senet::test::connect_slot(net::async_read(*reading, buffer(got), transferred),
                                       record_receiver{&this->ctx(), &read});
    auto u = senet::test::connect_slot(net::async_read_until(*until, net::dynamic_buffer(line), "\n"),
                                       record_receiver{&this->ctx(), &line_read});
    t->start();
    r->start();
    u->start();
    this->ctx().poll();
    ASSERT_FALSE(trigger.done() || read.done() || line_read.done());
    // The trigger's byte first, then half of what the read wants and a line without its end, sent
    // by the loop when it takes these starts: the three receives complete in the loop's next
    // gather, the trigger's first.
    std::array<outcome, 3> sends;
    start_kept(this->keep_, net::async_send(this->scheduler(), v[1].client, buffer("t", 1)),
               outcome_receiver{&this->ctx(), &sends[0]});
    start_kept(this->keep_, net::async_send(this->scheduler(), v[0].client, buffer("abcd", 4)),
               outcome_receiver{&this->ctx(), &sends[1]});
    start_kept(this->keep_, net::async_send(this->scheduler(), v[2].client, buffer("efgh", 4)),
               outcome_receiver{&this->ctx(), &sends[2]});
    ASSERT_TRUE(senet::test::eventually([&] {
      this->ctx().poll();
      return trigger.done() && read.done() && line_read.done();
    })) << "no completion within 20 s";
    for (std::size_t i = 0; i < sends.size(); ++i) {
      EXPECT_EQ(sends[i].completions.load(), 1);
      EXPECT_EQ(sends[i].bytes, i == 0 ? 1U : 4U) << sends[i].error.message();
    }
    // What shows that the read's step was delivered after the trigger had ended the socket.
    ASSERT_EQ(transferred_at_trigger, 0U) << "the step was delivered before the trigger";
    EXPECT_EQ(transferred, 4U) << "the step did not complete before the trigger";
    EXPECT_EQ(std::string_view(got.data(), 4), "abcd");
    EXPECT_EQ(line, "efgh");
    for (auto [name, rec] : {std::pair{"async_read", &read}, std::pair{"async_read_until", &line_read}}) {
      SCOPED_TRACE(name);
      EXPECT_EQ(rec->count.load(), 1);
      if (how == ending::cancel) {
        EXPECT_TRUE(rec->is_stopped()) << rec->ec.message();
      } else {
        EXPECT_TRUE(rec->is_error());
        EXPECT_EQ(rec->ec, senet::error::operation_aborted) << rec->ec.message();
      }
    }
    for (int fd : released) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
    if (how == ending::cancel || how == ending::move) {
      // The socket still works.
      tcp::socket& s = how == ending::cancel ? *reading : *moved_reading;
      ASSERT_EQ(this->value_of(net::async_send(v[0].client, buffer("ijkl", 4))), 4U);
      char byte = 0;
      ASSERT_EQ(this->value_of(net::async_receive(s, buffer(&byte, 1))), 1U);
      EXPECT_EQ(byte, 'i');
    }
  }
}

// An operation of several steps whose steps complete at once (a read of data that is there
// already, into 4,096 buffers of one byte, 16 to a step) starts every 16th of them in a later turn
// of the loop. So a peer that keeps a socket ready (a fast
// sender, with no delimiter for async_read_until) cannot keep the loop from its other work: here
// an operation started after the read, which asks the read to stop (a close handed to the loop
// from another thread waited for such a read to end). On io_uring, whose steps go to the ring,
// the loop goes round at every step. The read then goes on with nothing lost, or stops with what
// it read reported.
TYPED_TEST(basic_socket_threads, steps_that_complete_at_once_let_the_loop_go_round) {
  using senet::test::completion_record;
  using senet::test::record_receiver;
  std::string data = senet::test::letters(4096);
  for (bool stop : {false, true}) {
    SCOPED_TRACE(stop ? "stopped between steps" : "goes on");
    auto v = this->pairs(1);
    // Sent before the read starts: every step of the read finds its bytes there.
    ASSERT_EQ(this->value_of(net::async_write(v[0].client, buffer(data))), data.size());
    std::string got(data.size(), 0);
    std::vector<senet::mutable_buffer> bytes;
    for (char& c : got) {
      bytes.push_back(buffer(&c, 1));
    }
    std::size_t transferred = 0;
    std::size_t read_when_the_other_ran = 0;
    completion_record read;
    completion_record other;
    auto r = senet::test::connect_slot(net::async_read(v[0].server, bytes, transferred),
                                       record_receiver{&this->ctx(), &read});
    auto o = senet::test::connect_slot(ex::schedule(this->scheduler()) | ex::then([&] {
                                         read_when_the_other_ran = transferred;
                                         if (stop) {
                                           read.stop.request_stop();
                                         }
                                       }),
                                       record_receiver{&this->ctx(), &other});
    r->start();
    o->start();
    ASSERT_TRUE(senet::test::eventually([&] {
      this->ctx().poll();
      return other.done() && read.done();
    })) << "no completion within 20 s";
    EXPECT_LT(read_when_the_other_ran, data.size()) << "the read kept the loop until it had read everything";
    EXPECT_EQ(read.count.load(), 1);
    if (stop) {
      EXPECT_TRUE(read.is_stopped()) << read.ec.message();
      EXPECT_LT(transferred, data.size());
    } else {
      ASSERT_TRUE(read.is_value()) << read.ec.message();
      EXPECT_EQ(read.bytes, data.size());
      EXPECT_EQ(transferred, data.size());
    }
    // What was read, in order.
    EXPECT_EQ(got.substr(0, transferred), data.substr(0, transferred));
    if (stop) {
      // The rest is still there for the next read.
      std::string rest(data.size() - transferred, 0);
      ASSERT_EQ(this->value_of(net::async_read(v[0].server, buffer(rest))), rest.size());
      EXPECT_EQ(rest, data.substr(transferred));
    }
  }
}

// A user's loop over operations of one step that complete at once (ex::repeat_effect_until of
// async_read_some of one byte, with 4,096 bytes there already; of async_write_some of one byte,
// 4,096 times, into a socket with room for them): once the handler running the loop has completed
// 16 operations at once, the loop's next start goes through the context's loop, so that an
// operation started after the loop runs before the loop is done. (Before, on epoll, whose reads
// and sends are made at once while the socket is ready, such a loop held the context for as long
// as its peer kept the socket ready: a timer of 5 ms on the same context fired after seconds.)
// The loop then goes on, or stops between two operations, with nothing lost or reordered.
TYPED_TEST(basic_socket_threads, a_users_loop_over_operations_that_complete_at_once_lets_the_loop_go_round) {
  using senet::test::completion_record;
  constexpr std::size_t count = 4096;
  for (bool write : {false, true}) {
    for (bool stop : {false, true}) {
      SCOPED_TRACE(std::string(write ? "async_write_some" : "async_read_some") +
                   (stop ? ", stopped between operations" : ", goes on"));
      auto v = this->pairs(1);
      std::string data = senet::test::letters(count);
      if (!write) {
        // Sent before the loop starts: every read finds its byte there.
        ASSERT_EQ(this->value_of(net::async_write(v[0].client, buffer(data))), data.size());
      }
      std::size_t done = 0;
      std::size_t done_when_the_other_ran = 0;
      std::string got;
      char byte = 'w';
      auto each = [&](std::size_t n) {
        if (n == 1) {
          if (!write) {
            got.push_back(byte);
          }
          ++done;
        }
        return n != 1 || done == count;
      };
      completion_record loop;
      completion_record other;
      // The loop, started before an operation that notes how far it got (and stops it).
      auto run = [&](auto looped) {
        return senet::test::run_beside_a_loop(this->ctx(), std::move(looped), loop, other, [&] {
          done_when_the_other_ran = done;
          if (stop) {
            loop.stop.request_stop();
          }
        });
      };
      bool completed = write ? run(ex::repeat_effect_until(
                                   net::async_write_some(v[0].server, buffer(&byte, 1)) | ex::then(each)))
                             : run(ex::repeat_effect_until(
                                   net::async_read_some(v[0].server, buffer(&byte, 1)) | ex::then(each)));
      ASSERT_TRUE(completed) << "no completion within 20 s";
      EXPECT_LT(done_when_the_other_ran, count) << "the loop kept the context until it was done";
      EXPECT_EQ(loop.count.load(), 1);
      if (stop) {
        EXPECT_TRUE(loop.is_stopped()) << loop.ec.message();
        EXPECT_LT(done, count);
      } else {
        EXPECT_TRUE(loop.is_value()) << loop.ec.message();
        EXPECT_EQ(done, count);
      }
      if (write) {
        // The peer gets one byte per operation that completed, nothing more.
        std::string sent(done, 0);
        ASSERT_EQ(this->value_of(net::async_read(v[0].client, buffer(sent))), done);
        EXPECT_EQ(sent, std::string(done, 'w'));
        v[0].server.shutdown(tcp::socket::shutdown_send);
        char extra = 0;
        EXPECT_EQ(this->value_of(net::async_read_some(v[0].client, buffer(&extra, 1))), 0U);
      } else {
        // What was read, in order; the rest is still there for the next read.
        EXPECT_EQ(got, data.substr(0, done));
        std::string rest(data.size() - done, 0);
        ASSERT_EQ(this->value_of(net::async_read(v[0].server, buffer(rest))), rest.size());
        EXPECT_EQ(rest, data.substr(done));
      }
    }
  }
}

// A multi-step operation whose steps complete at once, its next step deferred to a later turn of
// the loop (above), and its socket ended meanwhile, on a thread ordered after the start, while
// nobody runs the context (here: this one). On epoll the backend does not know the socket (every
// call completed at once, so none registered it), and only the deferred restart, counted on the
// socket's descriptor as a start on its way is, makes the release go to the loop. The read then
// completes once, with operation_aborted (stopped after cancel()), reporting the bytes it read,
// without touching the socket again (gone after `destroy`: AddressSanitizer).
TYPED_TEST(basic_socket_threads, a_deferred_step_whose_socket_ended_meanwhile_starts_no_more) {
  using senet::test::completion_record;
  using senet::test::record_receiver;
  const std::string data(4096, 'z');
  for (ending how : {ending::close, ending::release, ending::destroy, ending::move, ending::cancel}) {
    SCOPED_TRACE(name_of(how));
    auto v = this->pairs(1);
    ASSERT_EQ(this->value_of(net::async_write(v[0].client, buffer(data))), data.size());
    auto sock = std::make_unique<tcp::socket>(std::move(v[0].server));
    std::string got(data.size(), 0);
    std::vector<senet::mutable_buffer> bytes;
    for (char& c : got) {
      bytes.push_back(buffer(&c, 1));
    }
    std::size_t transferred = 0;
    completion_record read;
    auto r = senet::test::connect_slot(net::async_read(this->scheduler(), *sock, bytes, transferred),
                                       record_receiver{&this->ctx(), &read});
    r->start();
    // The loop takes the start and runs one handler: steps, up to a deferred one.
    this->ctx().poll_one();
    ASSERT_FALSE(read.done());
    std::optional<tcp::socket> moved;
    int released = -1;
    end_socket(how, sock, moved, released);
    ASSERT_TRUE(senet::test::eventually([&] {
      this->ctx().poll();
      return read.done();
    })) << "no completion within 20 s";
    EXPECT_EQ(read.count.load(), 1);
    if (how == ending::cancel) {
      EXPECT_TRUE(read.is_stopped()) << read.ec.message();
    } else {
      EXPECT_TRUE(read.is_error());
      EXPECT_EQ(read.ec, senet::error::operation_aborted) << read.ec.message();
    }
    EXPECT_LT(transferred, data.size());
    EXPECT_EQ(got.substr(0, transferred), data.substr(0, transferred));
    if (released >= 0) {
      ::close(released);
    }
  }
}

// The way a program meets the three tests above: a thread runs the context, a peer streams bytes
// as fast as it can (or reads them, for the write), and this thread destroys or closes the socket
// while an async_read, async_read_until or async_write on it runs, at a moment that varies: its
// steps complete at once, wait, or wait in the ready queue. Each completes exactly once, on the
// context's thread, with its value or operation_aborted; nothing reads the socket afterwards
// (AddressSanitizer, ThreadSanitizer), and the close returns. (Not on the test backend, whose
// simulated connections have no peer on another thread.)
TYPED_TEST(basic_socket_threads, composed_operations_whose_socket_ends_on_another_thread_complete_once) {
  if constexpr (TypeParam::kind == io::backend_kind::test) {
    GTEST_SKIP() << "a peer streaming on another thread needs a real connection";
  }
  using senet::test::completion_record;
  using senet::test::record_receiver;
  enum class composed { read, read_until, write };
  std::vector<char> storage(1 << 20);
  for (composed which : {composed::read, composed::read_until, composed::write}) {
    for (bool destroy : {true, false}) {
      const char* what = which == composed::read ? (destroy ? "async_read, destroyed" : "async_read, closed")
                         : which == composed::read_until
                             ? (destroy ? "async_read_until, destroyed" : "async_read_until, closed")
                             : (destroy ? "async_write, destroyed" : "async_write, closed");
      SCOPED_TRACE(what);
      senet::test::race_budget budget(100, 300ms, senet::test::minimum_iterations);
      while (budget.next()) {
        auto v = this->pairs(1);
        auto sock = std::make_unique<tcp::socket>(std::move(v[0].server));
        senet::test::context_runner runner(this->ctx());
        std::atomic<bool> stop{false};
        int peer = v[0].client.native_handle();
        std::thread streaming([&] {
          char chunk[16384];
          std::memset(chunk, 'x', sizeof chunk);
          while (!stop.load(std::memory_order_relaxed)) {
            ::ssize_t r = which == composed::write
                              ? ::recv(peer, chunk, sizeof chunk, MSG_DONTWAIT)
                              : ::send(peer, chunk, sizeof chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (r <= 0) {
              std::this_thread::yield();
            }
          }
        });
        std::string line;
        completion_record rec;
        std::unique_ptr<kept_base> op;
        auto keep = [&](auto sndr) {
          using S = decltype(sndr);
          auto k = std::make_unique<kept_operation<S, record_receiver>>(std::move(sndr),
                                                                        record_receiver{&this->ctx(), &rec});
          ex::start(k->op);
          op = std::move(k);
        };
        switch (which) {
          case composed::read:
            keep(net::async_read(this->scheduler(), *sock, buffer(storage)));
            break;
          case composed::read_until:
            keep(net::async_read_until(this->scheduler(), *sock, net::dynamic_buffer(line), "\n"));
            break;
          case composed::write:
            keep(net::async_write(this->scheduler(), *sock, buffer(storage)));
            break;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(budget.done() * 37 % 500));
        bounded(
            [&] {
              if (destroy) {
                sock.reset();
              } else {
                sock->close();
              }
            },
            30s, destroy ? "the destruction" : "the close");
        bool done = senet::test::eventually([&] { return rec.done(); });
        stop.store(true, std::memory_order_relaxed);
        streaming.join();
        ASSERT_TRUE(done) << "no completion within 20 s";
        runner.finish();
        EXPECT_EQ(rec.count.load(), 1);
        EXPECT_EQ(rec.thread, runner.id());
        if (!rec.is_value()) {
          ASSERT_TRUE(rec.is_error());
          EXPECT_EQ(rec.ec, senet::error::operation_aborted) << rec.ec.message();
        }
      }
      SENET_EXPECT_RACED(budget, what);
    }
  }
}

// The open descriptors of this process.
std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

// A connect started on a closed socket opens the socket on the context's thread (as the
// Networking TS says). This thread starts it (handed to the loop, which a runner runs), then
// closes, releases or destroys the socket at once: the close either abandons the connect before
// the loop takes it or comes after the loop has opened the socket, and either way nothing is left
// open once it has returned (no descriptor leaked for a destroyed socket; a released one hands
// over what the connect opened, or -1). The connect completes once: with its value when it had
// connected before the close, or operation_aborted. (close() found the socket closed, reading the
// descriptor while the loop wrote it, and did nothing: the socket was open and connected after
// close() had returned, in most iterations on epoll, and a destroyed socket leaked its
// descriptor.)
TYPED_TEST(basic_socket_threads,
           a_connect_that_opens_a_closed_socket_then_closed_on_its_thread_leaves_nothing_open) {
  SKIP_TEST_BACKEND_CLOSING_ACROSS_THREADS_UNDER_TSAN();
  using senet::test::completion_record;
  using senet::test::record_receiver;
  for (ending how : {ending::close, ending::release, ending::destroy}) {
    SCOPED_TRACE(name_of(how));
    senet::test::race_budget budget(100, 300ms, senet::test::minimum_iterations);
    int opened = 0;
    while (budget.next()) {
      // Its own listener, so that the connections it does not accept cannot fill a backlog.
      auto acceptor = senet::test::listen_tcp(tcp::v4());
      const std::size_t before = open_descriptors();
      auto sock = std::make_unique<tcp::socket>();
      completion_record connected;
      auto c =
          senet::test::connect_slot(net::async_connect(this->scheduler(), *sock, acceptor.local_endpoint()),
                                    record_receiver{&this->ctx(), &connected});
      int released = -1;
      {
        senet::test::context_runner runner(this->ctx());
        c->start();  // on this thread: handed to the loop
        std::optional<tcp::socket> moved;
        end_socket(how, sock, moved, released);
        if (how == ending::close) {
          EXPECT_FALSE(sock->is_open()) << "open after close() returned";
        }
        ASSERT_TRUE(senet::test::eventually([&] { return connected.done(); })) << "no completion within 20 s";
        runner.finish();
        EXPECT_EQ(connected.thread, runner.id());
      }
      EXPECT_EQ(connected.count.load(), 1);
      if (!connected.is_value()) {
        EXPECT_TRUE(connected.is_error());
        EXPECT_EQ(connected.ec, senet::error::operation_aborted) << connected.ec.message();
      }
      if (how == ending::close) {
        EXPECT_FALSE(sock->is_open()) << "opened after close() returned";
      }
      if (released >= 0) {
        ++opened;
        ::close(released);
      }
      EXPECT_EQ(open_descriptors(), before) << "a descriptor was left open";
    }
    if (how == ending::release) {
      std::printf("[ info     ] release: %d of the connects had opened the socket before it\n", opened);
    }
  }
}

// cancel() of a closed socket whose connect, started on this thread, is on its way to a loop that a
// runner runs (the loop opens the socket when it takes the connect): cancel() goes to the loop,
// behind the start, so the connect has run when it looks; it cancels it there if it waits, and
// says no error either way. (cancel() read the descriptor while the loop wrote it, a data race;
// found the socket closed, it said not_open and cancelled nothing.) With nobody running the
// context it cancels the connect before it opens the socket:
// operations_started_on_another_thread_then_their_socket_ended_complete_once.
TYPED_TEST(basic_socket_threads, a_connect_that_opens_a_closed_socket_is_cancelled_by_cancel_on_its_thread) {
  SKIP_TEST_BACKEND_CLOSING_ACROSS_THREADS_UNDER_TSAN();
  using senet::test::completion_record;
  using senet::test::record_receiver;
  senet::test::race_budget budget(100, 300ms, senet::test::minimum_iterations);
  int stopped = 0;
  int iterations = 0;
  while (budget.next()) {
    ++iterations;
    auto acceptor = senet::test::listen_tcp(tcp::v4());
    tcp::socket sock;
    completion_record connected;
    auto c = senet::test::connect_slot(net::async_connect(this->scheduler(), sock, acceptor.local_endpoint()),
                                       record_receiver{&this->ctx(), &connected});
    std::error_code ec = make_error_code(std::errc::interrupted);
    {
      senet::test::context_runner runner(this->ctx());
      c->start();  // on this thread: handed to the loop
      sock.cancel(ec);
      ASSERT_TRUE(senet::test::eventually([&] { return connected.done(); })) << "no completion within 20 s";
      runner.finish();
      EXPECT_EQ(connected.thread, runner.id());
    }
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(connected.count.load(), 1);
    if (connected.is_stopped()) {
      ++stopped;
    } else {
      EXPECT_TRUE(connected.is_value()) << connected.ec.message();
      EXPECT_TRUE(sock.is_open());
    }
  }
  std::printf("[ info     ] %d of %d connects were waiting when cancelled\n", stopped, iterations);
}

// The way a program uses this: worker threads start operations on their sockets and destroy
// (or close) them right away, while another thread runs the context. A start may be taken by the
// loop before, during or after the destruction; each operation completes exactly once, on the
// context's thread, and nothing reads a destroyed socket (AddressSanitizer, ThreadSanitizer).
// Repeated: 2 workers, 1000 sockets, or as many as 2 s allow.
TYPED_TEST(basic_socket_threads, workers_start_operations_and_destroy_their_sockets_while_the_context_runs) {
  SKIP_TEST_BACKEND_CLOSING_ACROSS_THREADS_UNDER_TSAN();
  using senet::test::completion_record;
  using senet::test::record_receiver;
  constexpr int per_round = 50;
  struct socket_ops {
    std::unique_ptr<tcp::socket> socket;
    char byte = 0;
    char out_byte = 'y';
    completion_record in;
    completion_record sent;
    std::unique_ptr<kept_base> receive;
    std::unique_ptr<kept_base> send;
  };
  auto sch = this->scheduler();
  auto make_receive = [&](socket_ops& o) {
    auto sndr = net::async_receive(sch, *o.socket, buffer(&o.byte, 1));
    return std::make_unique<kept_operation<decltype(sndr), record_receiver>>(
        std::move(sndr), record_receiver{&this->ctx(), &o.in});
  };
  auto make_send = [&](socket_ops& o) {
    auto sndr = net::async_send(sch, *o.socket, buffer(&o.out_byte, 1));
    return std::make_unique<kept_operation<decltype(sndr), record_receiver>>(
        std::move(sndr), record_receiver{&this->ctx(), &o.sent});
  };
  senet::test::race_budget budget(1000 / (2 * per_round), 2000ms, senet::test::minimum_iterations);
  int aborted = 0;
  int completed = 0;
  while (budget.next()) {
    auto v = this->pairs(2 * per_round);
    std::vector<socket_ops> ops(2 * per_round);
    for (std::size_t i = 0; i < ops.size(); ++i) {
      ops[i].socket = std::make_unique<tcp::socket>(std::move(v[i].server));
    }
    {
      senet::test::context_runner runner(this->ctx());
      auto work = [&](int first) {
        for (int i = first; i < first + per_round; ++i) {
          auto& o = ops[static_cast<std::size_t>(i)];
          auto receive = make_receive(o);
          auto send = make_send(o);
          ex::start(receive->op);
          ex::start(send->op);
          o.receive = std::move(receive);
          o.send = std::move(send);
          if (i % 2 == 0) {
            o.socket.reset();
          } else {
            o.socket->close();
          }
        }
      };
      std::thread a(work, 0);
      std::thread b(work, per_round);
      senet::test::join_within(a, 30s, "the first worker");
      senet::test::join_within(b, 30s, "the second worker");
      ASSERT_TRUE(senet::test::eventually([&] {
        for (auto& o : ops) {
          if (!o.in.done() || !o.sent.done()) {
            return false;
          }
        }
        return true;
      })) << "no completion within 20 s";
      runner.finish();
      for (auto& o : ops) {
        ASSERT_EQ(o.in.count.load(), 1);
        ASSERT_EQ(o.sent.count.load(), 1);
        EXPECT_EQ(o.in.thread, runner.id());
        EXPECT_EQ(o.sent.thread, runner.id());
        // Nothing is sent to the receives: they end aborted. A send taken by the loop before the
        // socket went may have sent its byte.
        EXPECT_TRUE(o.in.is_error());
        EXPECT_EQ(o.in.ec, senet::error::operation_aborted) << o.in.ec.message();
        if (o.sent.is_value()) {
          EXPECT_EQ(o.sent.bytes, 1U);
          ++completed;
        } else {
          EXPECT_TRUE(o.sent.is_error());
          EXPECT_EQ(o.sent.ec, senet::error::operation_aborted) << o.sent.ec.message();
          ++aborted;
        }
      }
    }
  }
  std::printf("workers destroying their sockets: %d sends aborted, %d sent\n", aborted, completed);
  SENET_EXPECT_RACED(budget, "workers destroying their sockets");
}

// The runner leaves (stop()) while a closer may be waiting for it: the closer takes over, never
// hangs. Repeated, so that the close lands before, during and after the runner's exit: 1000
// times, or as many as 2 s allow (ThreadSanitizer's pace), whichever comes first.
TYPED_TEST(basic_socket_threads, runner_leaves_while_a_closer_waits) {
  SKIP_TEST_BACKEND_CLOSING_ACROSS_THREADS_UNDER_TSAN();
  senet::test::race_budget budget(1000, 2000ms, senet::test::minimum_iterations);
  for (int i = 0; budget.next(); ++i) {
    auto v = this->pairs(1);
    char byte = 0;
    outcome in;
    this->start_waiting_receive(v[0].server, byte, in);
    std::atomic<bool> closing{false};
    this->ctx().restart();
    std::thread loop;
    std::thread closer;
    {
      io::io_context::work_guard guard(this->ctx());
      loop = std::thread([&] { this->ctx().run(); });
      closer = std::thread([&] {
        closing.store(true);
        v[0].server.close();
      });
      while (!closing.load()) {
        std::this_thread::yield();
      }
      if (i % 2 == 0) {
        std::this_thread::yield();
      }
      this->ctx().stop();
    }
    bounded(
        [&] {
          closer.join();
          loop.join();
        },
        30s, "close while the runner leaves");
    EXPECT_FALSE(v[0].server.is_open());
    this->ctx().restart();
    this->ctx().poll();
    ASSERT_EQ(in.completions.load(), 1) << i;
    EXPECT_TRUE(in.aborted()) << in.error.message();
  }
  SENET_EXPECT_RACED(budget, "runner leaves while a closer waits");
}

// Moving a socket with an operation pending: the operation (whose record refers to the moved-from
// socket) completes with operation_aborted at once; the moved-to socket owns the descriptor and
// works, registered afresh.
TYPED_TEST(basic_socket_threads, moved_socket_aborts_pending_operations_and_keeps_working) {
  auto v = this->pairs(1);
  char byte = 0;
  outcome in;
  this->start_waiting_receive(v[0].server, byte, in);
  int fd = v[0].server.native_handle();
  tcp::socket moved(std::move(v[0].server));
  EXPECT_FALSE(v[0].server.is_open());  // NOLINT(bugprone-use-after-move): specified
  EXPECT_EQ(moved.native_handle(), fd);
  EXPECT_EQ(moved.io_descriptor().context_state, nullptr);
  this->ctx().poll();
  ASSERT_EQ(in.completions.load(), 1);
  EXPECT_TRUE(in.aborted()) << in.error.message();

  // The descriptor stays open and usable in its new owner.
  char out = 'm';
  char got = 0;
  auto r = this->run(ex::when_all(net::async_receive(moved, buffer(&got, 1)),
                                  net::async_send(v[0].client, buffer(&out, 1))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(got, 'm');

  // Move assignment: the target's own pending operation and the source's both complete aborted.
  auto w = this->pairs(1);
  outcome target_in;
  outcome source_in;
  char b1 = 0;
  char b2 = 0;
  this->start_waiting_receive(moved, b1, target_in);
  this->start_waiting_receive(w[0].server, b2, source_in);
  moved = std::move(w[0].server);
  this->ctx().poll();
  ASSERT_EQ(target_in.completions.load(), 1);
  ASSERT_EQ(source_in.completions.load(), 1);
  EXPECT_TRUE(target_in.aborted());
  EXPECT_TRUE(source_in.aborted());
  out = 'n';
  r = this->run(ex::when_all(net::async_receive(moved, buffer(&got, 1)),
                             net::async_send(w[0].client, buffer(&out, 1))));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(got, 'n');
}

// Moving from another thread while the context runs: the release is handed over like close's.
TYPED_TEST(basic_socket_threads, moved_socket_from_another_thread_while_the_context_runs) {
  constexpr int iterations = 200;
  for (int i = 0; i < iterations; ++i) {
    auto v = this->pairs(1);
    char byte = 0;
    outcome in;
    this->start_waiting_receive(v[0].server, byte, in);
    std::thread loop;
    std::optional<tcp::socket> moved;
    {
      io::io_context::work_guard guard(this->ctx());
      loop = std::thread([&] { this->ctx().run(); });
      moved.emplace(std::move(v[0].server));
    }
    bounded([&] { loop.join(); }, 30s, "the context's thread");
    ASSERT_EQ(in.completions.load(), 1) << i;
    EXPECT_TRUE(in.aborted()) << in.error.message();
    EXPECT_TRUE(moved->is_open());
  }
}

// The shape of the crash a user reported (issue 8, item 9): a server whose context runs on its own
// thread accepts connections, starts a receive on each, and hands the accepted sockets to two
// worker threads that close them while the receives are pending.
TYPED_TEST(basic_socket_threads, workers_close_accepted_sockets_while_the_context_runs) {
  SKIP_TEST_BACKEND_CLOSING_ACROSS_THREADS_UNDER_TSAN();
  constexpr int connections = 3000;
  constexpr std::size_t client_window = 200;

  struct connection {
    tcp::socket socket;
    char byte = 0;
    outcome in;
  };
  std::vector<std::unique_ptr<connection>> accepted;  // touched by the context's thread only
  std::vector<std::unique_ptr<kept_base>> keep;       // likewise
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<connection*> queue;
  bool finished = false;
  std::atomic<int> closed{0};
  int accept_errors = 0;

  io::io_context& ctx = this->ctx();
  auto sch = this->scheduler();

  std::function<void()> accept_next;
  std::function<void(tcp::socket)> on_socket = [&](tcp::socket s) {
    auto c = std::make_unique<connection>();
    c->socket = std::move(s);
    start_kept(keep, net::async_receive(sch, c->socket, buffer(&c->byte, 1)), outcome_receiver{&ctx, &c->in});
    {
      std::lock_guard lock(mutex);
      queue.push_back(c.get());
    }
    ready.notify_one();
    accepted.push_back(std::move(c));
    if (accepted.size() < static_cast<std::size_t>(connections)) {
      accept_next();
    }
  };
  std::function<void()> on_error = [&] {
    ++accept_errors;
    accept_next();
  };
  accept_next = [&] {
    start_kept(keep, net::async_accept(sch, this->acceptor_), accept_receiver{&on_socket, &on_error});
  };

  auto worker = [&] {
    for (;;) {
      connection* c = nullptr;
      {
        std::unique_lock lock(mutex);
        ready.wait(lock, [&] { return finished || !queue.empty(); });
        if (queue.empty()) {
          return;
        }
        c = queue.front();
        queue.pop_front();
      }
      c->socket.close();
      closed.fetch_add(1);
    }
  };

  std::thread loop;
  std::thread workers[2];
  {
    io::io_context::work_guard guard(ctx);
    // The first accept starts on the context's thread.
    ASSERT_TRUE(this->run(ex::schedule(sch) | ex::then([&] { accept_next(); })).has_value());
    loop = std::thread([&] { ctx.run(); });
    for (auto& w : workers) {
      w = std::thread(worker);
    }
    std::deque<tcp::socket> clients;
    auto ep = this->acceptor_.local_endpoint();
    for (int i = 0; i < connections; ++i) {
      tcp::socket client;
      auto r = ex::sync_wait(net::async_connect(sch, client, ep));
      ASSERT_TRUE(r.has_value());
      clients.push_back(std::move(client));
      if (clients.size() > client_window) {
        clients.pop_front();
      }
    }
    bounded(
        [&] {
          while (closed.load() < connections) {
            std::this_thread::yield();
          }
        },
        120s, "the workers");
    {
      std::lock_guard lock(mutex);
      finished = true;
    }
    ready.notify_all();
    for (auto& w : workers) {
      w.join();
    }
  }
  bounded([&] { loop.join(); }, 60s, "the context's thread");
  ASSERT_EQ(accepted.size(), static_cast<std::size_t>(connections));
  EXPECT_EQ(accept_errors, 0);
  for (auto& c : accepted) {
    EXPECT_EQ(c->in.completions.load(), 1);
    EXPECT_FALSE(c->socket.is_open());
    // Aborted by the close, or the peer's end of stream if the client closed first.
    EXPECT_TRUE(c->in.aborted() || (!c->in.error && c->in.bytes == 0)) << c->in.error.message();
  }
}

// ---- More of the rule, with a context_runner (tests/support/thread_harness.hpp) ----------------

// release() from another thread while a third runs the context: the pending receive completes
// exactly once, with operation_aborted, on the context's thread; the descriptor returned is open
// and the caller's (closed here once the runner is done).
TYPED_TEST(basic_socket_threads, release_from_another_thread_while_the_context_runs) {
  senet::test::race_budget budget(200, 300ms, senet::test::minimum_iterations);
  while (budget.next()) {
    auto v = this->pairs(1);
    char byte = 0;
    outcome in;
    this->start_waiting_receive(v[0].server, byte, in);
    int fd = -1;
    {
      senet::test::context_runner runner(this->ctx());
      std::thread t([&] { fd = v[0].server.release(); });
      senet::test::join_within(t, 30s, "the releasing thread");
      ASSERT_TRUE(senet::test::eventually([&] { return in.done.load(); })) << "no completion within 20 s";
      runner.finish();
      ASSERT_EQ(in.completions.load(), 1);
      EXPECT_EQ(in.thread, runner.id());
    }
    EXPECT_TRUE(in.aborted()) << in.error.message();
    EXPECT_FALSE(v[0].server.is_open());
    ASSERT_GE(fd, 0);
    EXPECT_NE(::fcntl(fd, F_GETFD), -1) << "the released descriptor is not open";
    // Closed while nobody runs the context (the test backend probes descriptors on its thread).
    ::close(fd);
  }
  SENET_EXPECT_RACED(budget, "release from another thread");
}

// The destructor on another thread while a third runs the context: the pending receive and wait
// complete exactly once, with operation_aborted, on the context's thread.
TYPED_TEST(basic_socket_threads, destructor_on_another_thread_while_the_context_runs) {
  SKIP_TEST_BACKEND_CLOSING_ACROSS_THREADS_UNDER_TSAN();
  senet::test::race_budget budget(200, 300ms, senet::test::minimum_iterations);
  while (budget.next()) {
    auto v = this->pairs(1);
    auto sock = std::make_unique<tcp::socket>(std::move(v[0].server));
    char byte = 0;
    outcome in;
    senet::test::completion_record wait;
    this->start_waiting_receive(*sock, byte, in);
    auto w = senet::test::connect_slot(net::async_wait(this->scheduler(), *sock, net::socket_base::wait_read),
                                       senet::test::record_receiver{&this->ctx(), &wait});
    w->start();
    this->ctx().poll();
    ASSERT_FALSE(wait.done());
    senet::test::context_runner runner(this->ctx());
    std::thread t([&] { sock.reset(); });
    senet::test::join_within(t, 30s, "the destroying thread");
    ASSERT_TRUE(senet::test::eventually([&] { return in.done.load() && wait.done(); }))
        << "no completion within 20 s";
    runner.finish();
    ASSERT_EQ(in.completions.load(), 1);
    ASSERT_EQ(wait.count.load(), 1);
    EXPECT_EQ(in.thread, runner.id());
    EXPECT_EQ(wait.thread, runner.id());
    EXPECT_TRUE(in.aborted()) << in.error.message();
    EXPECT_TRUE(wait.is_error());
    EXPECT_EQ(wait.ec, senet::error::operation_aborted) << wait.ec.message();
  }
  SENET_EXPECT_RACED(budget, "destructor on another thread");
}

// cancel() from another thread with a receive and a send pending on the socket (its peer reads
// nothing, so the send waits) while a third thread runs the context: both complete exactly once,
// stopped, on the context's thread, and the socket stays open.
TYPED_TEST(basic_socket_threads, cancel_from_another_thread_stops_both_directions) {
  if constexpr (TypeParam::kind == io::backend_kind::test) {
    io::test_network::of(this->ctx()).set_send_buffer_limit(4096);
  }
  senet::test::race_budget budget(50, 300ms, senet::test::minimum_iterations);
  std::vector<char> chunk(64 * 1024, 'c');
  while (budget.next()) {
    auto v = this->pairs(1);
    auto& s = v[0].client;
    // Sends until one waits (the peer's buffers are full).
    outcome sent;
    int sends = 0;
    for (;;) {
      sent.done = false;
      sent.completions = 0;
      start_kept(this->keep_, net::async_send(this->scheduler(), s, buffer(chunk)),
                 outcome_receiver{&this->ctx(), &sent});
      this->ctx().poll();
      if (!sent.done.load()) {
        break;
      }
      ASSERT_FALSE(sent.error) << sent.error.message();
      ASSERT_LT(++sends, 10000) << "the send buffers never filled";
    }
    char byte = 0;
    outcome in;
    this->start_waiting_receive(s, byte, in);
    senet::test::context_runner runner(this->ctx());
    std::thread t([&] { s.cancel(); });
    senet::test::join_within(t, 30s, "the cancelling thread");
    ASSERT_TRUE(senet::test::eventually([&] { return in.done.load() && sent.done.load(); }))
        << "no completion within 20 s";
    runner.finish();
    ASSERT_EQ(in.completions.load(), 1);
    ASSERT_EQ(sent.completions.load(), 1);
    EXPECT_EQ(in.thread, runner.id());
    EXPECT_EQ(sent.thread, runner.id());
    EXPECT_TRUE(in.stopped);
    EXPECT_TRUE(sent.stopped) << sent.error.message();
    EXPECT_TRUE(s.is_open());
  }
  SENET_EXPECT_RACED(budget, "cancel of both directions from another thread");
}

// Closing an acceptor from another thread while accepts wait on it and a third thread runs the
// context: each accept completes exactly once, with operation_aborted, on the context's thread.
TYPED_TEST(basic_socket_threads, acceptor_closed_from_another_thread_while_accepts_wait) {
  SKIP_TEST_BACKEND_CLOSING_ACROSS_THREADS_UNDER_TSAN();
  senet::test::race_budget budget(200, 300ms, senet::test::minimum_iterations);
  while (budget.next()) {
    auto acceptor = senet::test::listen_tcp(tcp::v4());
    std::function<void(tcp::socket)> on_socket = [](tcp::socket) {
      ADD_FAILURE() << "accepted a connection";
    };
    std::atomic<int> errors{0};
    std::thread::id error_thread;
    std::function<void()> on_error = [&] {
      error_thread = std::this_thread::get_id();
      errors.fetch_add(1);
    };
    for (int i = 0; i < 3; ++i) {
      start_kept(this->keep_, net::async_accept(this->scheduler(), acceptor),
                 accept_receiver{&on_socket, &on_error});
    }
    this->ctx().poll();
    senet::test::context_runner runner(this->ctx());
    std::thread t([&] { acceptor.close(); });
    senet::test::join_within(t, 30s, "the closing thread");
    ASSERT_TRUE(senet::test::eventually([&] { return errors.load() == 3; }))
        << errors.load() << " of 3 accepts ended";
    runner.finish();
    EXPECT_EQ(errors.load(), 3);
    EXPECT_EQ(error_thread, runner.id());
  }
  SENET_EXPECT_RACED(budget, "acceptor closed from another thread");
}

// Accepts that completed when their acceptor is closed or destroyed on another thread are still
// delivered after that, on the context's thread (here slowly, so that the acceptor goes while they
// are): their sockets take the protocol the acceptor had when the sender was made. The completion
// used to read it from the acceptor itself, after close() had reset it (a socket of the wrong
// family) or the destructor had freed it (ASan: heap-use-after-free; TSan: a data race with
// close()). Each accept completes exactly once, with a socket of the acceptor's family or with
// operation_aborted. IPv6, whose family is not the default protocol's.
TYPED_TEST(basic_socket_threads, accepts_delivered_after_their_acceptor_went_on_another_thread) {
  if constexpr (TypeParam::kind == io::backend_kind::test) {
    GTEST_SKIP() << "the clients connect with connect(2), which the simulated network does not see";
  } else {
    SENET_TEST_REQUIRE_IPV6();
    constexpr int accepts = 16;
    constexpr int rounds = 40;
    int delivered_sockets = 0;
    for (int round = 0; round < rounds; ++round) {
      const bool destroy = round % 2 == 0;
      auto acceptor = std::make_unique<tcp::acceptor>(senet::test::listen_tcp(tcp::v6()));
      const auto ep = acceptor->local_endpoint();
      std::atomic<int> sockets{0};
      std::atomic<int> errors{0};
      std::atomic<int> wrong_family{0};
      std::function<void(tcp::socket)> on_socket = [&](tcp::socket s) {
        if (s.protocol().family() != AF_INET6) {
          wrong_family.fetch_add(1);
        }
        std::this_thread::sleep_for(300us);  // the acceptor goes while completions are delivered
        sockets.fetch_add(1);
      };
      std::function<void()> on_error = [&] { errors.fetch_add(1); };
      for (int i = 0; i < accepts; ++i) {
        start_kept(this->keep_, net::async_accept(this->scheduler(), *acceptor),
                   accept_receiver{&on_socket, &on_error});
      }
      this->ctx().poll();
      std::vector<int> clients;
      {
        senet::test::context_runner runner(this->ctx());
        // The connections arrive while the context runs; the acceptor goes right after.
        for (int i = 0; i < accepts; ++i) {
          int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
          ASSERT_GE(fd, 0);
          clients.push_back(fd);
          ASSERT_EQ(0, ::connect(fd, static_cast<const ::sockaddr*>(static_cast<const void*>(ep.data())),
                                 ep.size()));
        }
        std::this_thread::sleep_for(std::chrono::microseconds(round % 8 * 100));
        std::thread t([&] {
          if (destroy) {
            acceptor.reset();
          } else {
            acceptor->close();
          }
        });
        senet::test::join_within(t, 30s, "the closing thread");
        ASSERT_TRUE(senet::test::eventually([&] { return sockets.load() + errors.load() == accepts; }))
            << sockets.load() << " sockets and " << errors.load() << " errors of " << accepts << " accepts";
        runner.finish();
      }
      EXPECT_EQ(sockets.load() + errors.load(), accepts);
      EXPECT_EQ(wrong_family.load(), 0);
      delivered_sockets += sockets.load();
      for (int fd : clients) {
        ::close(fd);
      }
    }
    std::printf("%d of %d accepts delivered a socket\n", delivered_sockets, accepts * rounds);
  }
}

}  // namespace
