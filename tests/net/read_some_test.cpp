// SPDX-License-Identifier: BSL-1.0
#include <senet/net/read_some.hpp>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/detail/descriptor.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/basic_stream_socket.hpp>
#include <senet/net/detail/socket_awaitable.hpp>
#include <senet/net/without_stop_token.hpp>
#include <senet/stream/read_stream.hpp>
#include <senet/task.hpp>

#include "stream/suspension_counter.hpp"
#include "support/backend_fixture.hpp"
#include "support/loopback.hpp"
#include "support/test_env.hpp"
#include "support/thread_harness.hpp"

#include <gtest/gtest.h>

#include <array>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
using senet::task;
using senet::ip::tcp;
using senet::test::counted;
using result = std::tuple<std::error_code, std::size_t>;
result ok(std::size_t n) {
  return result{std::error_code{}, n};
}

static_assert(senet::stream::read_stream<tcp::socket>);
static_assert(senet::stream::read_stream<senet::local::stream_protocol::socket>);

template <class Backend>
class read_some : public senet::test::backend_fixture<Backend> {
 protected:
  void SetUp() override {
    senet::test::backend_fixture<Backend>::SetUp();
    if (this->IsSkipped()) {
      return;
    }
    acceptor_.emplace(senet::test::listen_tcp(tcp::v4()));
    pair_ = senet::test::connect_pair(this->ctx(), *acceptor_);
  }
  void send(const std::string& s) {
    ASSERT_TRUE(this->run(net::async_write(pair_.client, senet::buffer(s))));
  }

  // Brings the server socket to where read_some makes its system call itself, without a record
  // (io::detail::may_perform_directly): a read that waited (which registers the socket with the
  // context on every backend), then one that found its data at once. The test backend never
  // allows it; the kernel backends must.
  void prime_direct_reads() {
    std::array<char, 8> buf{};
    auto reader = [&]() -> task<result> {
      co_return co_await this->pair_.server.read_some(senet::buffer(buf));
    };
    auto writer = [&]() -> task<void> {
      co_await ex::schedule(this->ctx().get_scheduler());
      co_await net::async_write(this->pair_.client, senet::buffer("w", 1));
    };
    auto waited = this->run(ex::when_all(reader(), writer()));
    ASSERT_TRUE(waited);
    ASSERT_EQ(std::get<0>(*waited), ok(1u));
    send("i");
    auto at_once = this->run(reader());
    ASSERT_TRUE(at_once);
    ASSERT_EQ(std::get<0>(*at_once), ok(1u));
    EXPECT_EQ(direct_reads_allowed(), this->kind != io::backend_kind::test);
  }

  // One read_some into `buf` in a task, counting its suspensions in `*suspensions`.
  std::optional<result> read_once(std::span<char> buf, int* suspensions) {
    auto body = [&]() -> task<result> {
      co_return co_await counted(pair_.server.read_some(senet::buffer(buf.data(), buf.size())), suspensions);
    };
    auto r = this->run(body());
    if (!r) {
      return std::nullopt;
    }
    return std::get<0>(*r);
  }

  // A read_some that waits, ended by another task that closes the server socket.
  std::optional<result> read_until_closed() {
    std::array<char, 8> buf{};
    auto reader = [&]() -> task<result> { co_return co_await pair_.server.read_some(senet::buffer(buf)); };
    auto closer = [&]() -> task<void> {
      co_await ex::schedule(this->ctx().get_scheduler());
      pair_.server.close();
    };
    auto r = this->run(ex::when_all(reader(), closer()));
    if (!r) {
      return std::nullopt;
    }
    return std::get<0>(*r);
  }

  bool direct_reads_allowed() {
    const auto* head = static_cast<const io::detail::descriptor_state_head*>(
        pair_.server.io_descriptor().context_state.load());
    return head != nullptr && (head->direct & io::detail::direct_receive) != 0;
  }

  std::optional<tcp::acceptor> acceptor_;
  senet::test::stream_pair<tcp> pair_;
};
TYPED_TEST_SUITE(read_some, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(read_some, data_already_there_completes_without_suspending) {
  this->send("hello");
  int suspensions = 0;
  std::array<char, 16> buf{};
  auto r = this->read_once(buf, &suspensions);
  ASSERT_TRUE(r);
  auto [ec, n] = *r;
  EXPECT_FALSE(ec);
  EXPECT_EQ(n, 5u);
  EXPECT_EQ(std::string(buf.data(), n), "hello");
  EXPECT_EQ(suspensions, 0);
}

TYPED_TEST(read_some, waits_for_data_and_the_free_function_is_the_member) {
  int suspensions = 0;
  std::array<char, 16> buf{};
  auto reader = [&]() -> task<result> {
    co_return co_await counted(net::read_some(this->pair_.server, senet::buffer(buf)), &suspensions);
  };
  auto writer = [&]() -> task<void> {
    co_await ex::schedule(this->ctx().get_scheduler());
    std::string s = "late";
    co_await net::async_write(this->pair_.client, senet::buffer(s));
  };
  auto r = this->run(ex::when_all(reader(), writer()));
  ASSERT_TRUE(r);
  auto [ec, n] = std::get<0>(*r);
  EXPECT_FALSE(ec);
  EXPECT_EQ(std::string(buf.data(), n), "late");
  EXPECT_EQ(suspensions, 1);
}

TYPED_TEST(read_some, a_buffer_sequence) {
  this->send("abcdefg");
  char a[2] = {};
  char b[5] = {};
  std::vector<senet::mutable_buffer> bufs{senet::buffer(a), senet::buffer(b)};
  auto body = [&]() -> task<result> { co_return co_await this->pair_.server.read_some(bufs); };
  auto r = this->run(body());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), ok(7u));
  EXPECT_EQ(std::string(a, 2) + std::string(b, 5), "abcdefg");
}

TYPED_TEST(read_some, empty_buffer_completes_at_once_with_zero) {
  int suspensions = 0;
  auto body = [&]() -> task<result> {
    co_return co_await counted(this->pair_.server.read_some(senet::mutable_buffer()), &suspensions);
  };
  auto r = this->run(body());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), ok(0u));
  EXPECT_EQ(suspensions, 0);
}

TYPED_TEST(read_some, end_of_stream_is_eof_with_zero) {
  this->send("x");
  this->pair_.client.close();
  std::array<char, 8> buf{};
  auto body = [&]() -> task<std::vector<result>> {
    std::vector<result> out;
    out.push_back(co_await this->pair_.server.read_some(senet::buffer(buf)));
    out.push_back(co_await this->pair_.server.read_some(senet::buffer(buf)));
    co_return out;
  };
  auto r = this->run(body());
  ASSERT_TRUE(r);
  auto& results = std::get<0>(*r);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0], ok(1u));
  EXPECT_EQ(std::get<0>(results[1]), senet::error::eof);
  EXPECT_EQ(std::get<1>(results[1]), 0u);
}

TYPED_TEST(read_some, a_stop_request_gives_operation_aborted) {
  std::optional<result> got;
  std::array<char, 8> buf{};
  auto reader = [&]() -> task<void> { got = co_await this->pair_.server.read_some(senet::buffer(buf)); };
  auto stopper = [&]() -> task<void> {
    co_await ex::schedule(this->ctx().get_scheduler());
    co_await ex::just_stopped();  // when_all stops the reader
  };
  auto r = this->run(ex::when_all(reader(), stopper()));
  EXPECT_FALSE(r);
  ASSERT_TRUE(got);
  EXPECT_EQ(std::get<0>(*got), senet::error::operation_aborted);
  EXPECT_EQ(std::get<1>(*got), 0u);
}

TYPED_TEST(read_some, closing_the_socket_gives_operation_aborted) {
  auto r = this->read_until_closed();
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), senet::error::operation_aborted);
}

TYPED_TEST(read_some, errors_are_results_never_exceptions) {
  this->pair_.server.close();
  std::array<char, 8> buf{};
  auto body = [&]() -> task<result> { co_return co_await this->pair_.server.read_some(senet::buffer(buf)); };
  auto r = this->run(body());
  ASSERT_TRUE(r);
  EXPECT_TRUE(std::get<0>(std::get<0>(*r)));
  EXPECT_EQ(std::get<1>(std::get<0>(*r)), 0u);
}

TYPED_TEST(read_some, the_socket_keeps_its_own_eager_setting) {
  this->send("ab");
  std::array<char, 1> buf{};
  auto body = [&]() -> task<void> { (void)co_await this->pair_.server.read_some(senet::buffer(buf)); };
  ASSERT_TRUE(this->run(body()));
  EXPECT_FALSE(this->pair_.server.eager_receive());
  this->pair_.server.eager_receive(true);
  ASSERT_TRUE(this->run(body()));
  EXPECT_TRUE(this->pair_.server.eager_receive());
}

// The direct path (socket_awaitable.hpp): once the backend allows it, read_some makes the system
// call itself; everything the record's path promises still holds.

TYPED_TEST(read_some, a_direct_read_completes_without_suspending) {
  this->prime_direct_reads();
  this->send("xyz");
  int suspensions = 0;
  std::array<char, 16> buf{};
  EXPECT_EQ(this->read_once(buf, &suspensions), ok(3u));
  EXPECT_EQ(std::string(buf.data(), 3), "xyz");
  EXPECT_EQ(suspensions, 0);
  EXPECT_EQ(this->direct_reads_allowed(), this->kind != io::backend_kind::test);
}

TYPED_TEST(read_some, a_direct_attempt_that_finds_nothing_waits_once_and_gets_the_data) {
  this->prime_direct_reads();
  int suspensions = 0;
  std::array<char, 16> buf{};
  auto reader = [&]() -> task<result> {
    co_return co_await counted(this->pair_.server.read_some(senet::buffer(buf)), &suspensions);
  };
  auto writer = [&]() -> task<void> {
    co_await ex::schedule(this->ctx().get_scheduler());
    co_await net::async_write(this->pair_.client, senet::buffer("late", 4));
  };
  auto r = this->run(ex::when_all(reader(), writer()));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), ok(4u));
  EXPECT_EQ(std::string(buf.data(), 4), "late");
  EXPECT_EQ(suspensions, 1);
  // The receive that waited ended its direction's wait: the next one may be direct again (at once
  // on io_uring; on epoll after one that completes inline, since its completion went through the
  // ready queue).
  this->send("n");
  auto again = this->run(reader());
  ASSERT_TRUE(again);
  EXPECT_EQ(std::get<0>(*again), ok(1u));
  EXPECT_EQ(this->direct_reads_allowed(), this->kind != io::backend_kind::test);
}

TYPED_TEST(read_some, a_read_started_behind_a_pending_receive_takes_the_bytes_after_it) {
  this->prime_direct_reads();
  // The data is there before either starts: on io_uring the sender's receive goes to the ring
  // (the socket does not ask for eager receives) and is still pending when read_some starts, which
  // must not take the first byte with a system call of its own.
  this->send("xy");
  char a = 0;
  char b = 0;
  auto second = [&]() -> task<result> {
    co_return co_await this->pair_.server.read_some(senet::buffer(&b, 1));
  };
  // when_all starts its children in order.
  auto r = this->run(ex::when_all(net::async_receive(this->pair_.server, senet::buffer(&a, 1)), second()));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), 1u);
  EXPECT_EQ(std::get<1>(*r), ok(1u));
  EXPECT_EQ(a, 'x');
  EXPECT_EQ(b, 'y');
}

// A coroutine that reads, one byte at a time, 4,096 bytes that are there already: once it has
// completed 16 reads at once in the handler running it, its next read goes through the context's
// loop, so that other work runs before it is done (here a task scheduled after it). Before, on
// epoll, whose direct reads never suspend while the socket is ready, such a coroutine held the
// context for as long as its peer kept the socket ready. Every byte arrives once, in order.
TYPED_TEST(read_some, a_coroutine_whose_reads_complete_at_once_lets_the_loop_go_round) {
  this->prime_direct_reads();
  constexpr std::size_t count = 4096;
  std::string data = senet::test::letters(count);
  this->send(data);
  std::string got;
  int suspensions = 0;
  std::size_t read_when_the_other_ran = count;
  auto reader = [&]() -> task<void> {
    char byte = 0;
    while (got.size() < count) {
      auto [ec, n] = co_await counted(this->pair_.server.read_some(senet::buffer(&byte, 1)), &suspensions);
      if (ec || n != 1) {
        ADD_FAILURE() << "read " << n << ": " << ec.message();
        co_return;
      }
      got.push_back(byte);
    }
  };
  auto other = [&]() -> task<void> {
    co_await ex::schedule(this->ctx().get_scheduler());
    read_when_the_other_ran = got.size();
  };
  // when_all starts the reader first.
  ASSERT_TRUE(this->run(ex::when_all(reader(), other())));
  EXPECT_LT(read_when_the_other_ran, count) << "the reader kept the context until it was done";
  EXPECT_GT(suspensions, 0);
  EXPECT_EQ(got, data);
}

// A receiver whose environment has a stop token the test controls and the context's scheduler.
struct stop_env_receiver {
  using receiver_concept = ex::receiver_t;
  std::optional<result>* out;
  bool* done;
  ex::inplace_stop_token token;
  io::io_context* ctx;

  void set_value(result r) && noexcept {
    *out = r;
    *done = true;
  }
  void set_error(std::exception_ptr) && noexcept {
    ADD_FAILURE() << "the task failed";
    *done = true;
  }
  void set_stopped() && noexcept {
    ADD_FAILURE() << "the task was stopped: read_some reports a stop as operation_aborted";
    *done = true;
  }
  [[nodiscard]] auto get_env() const noexcept {
    return senet::test::make_env(senet::test::stop_token_entry(token),
                                 senet::test::scheduler_entry(ctx->get_scheduler()));
  }
};

TYPED_TEST(read_some, a_stop_requested_before_it_starts_gives_operation_aborted_although_data_is_there) {
  this->prime_direct_reads();
  this->send("data");
  ex::inplace_stop_source source;
  std::array<char, 16> buf{};
  auto body = [&]() -> task<result> {
    source.request_stop();
    co_return co_await this->pair_.server.read_some(senet::buffer(buf));
  };
  std::optional<result> out;
  bool done = false;
  auto op = ex::connect(body(), stop_env_receiver{&out, &done, source.get_token(), &this->ctx()});
  ex::start(op);
  ASSERT_TRUE(senet::test::turn_until(this->ctx(), [&] { return done; }));
  ASSERT_TRUE(out);
  EXPECT_EQ(std::get<0>(*out), senet::error::operation_aborted);
  EXPECT_EQ(std::get<1>(*out), 0u);
  // The data is still there for the next read.
  auto r = this->run(
      [&]() -> task<result> { co_return co_await this->pair_.server.read_some(senet::buffer(buf)); }());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), ok(4u));
}

TYPED_TEST(read_some, a_socket_registered_with_another_context_is_refused_there) {
  if constexpr (TypeParam::kind == io::backend_kind::test) {
    GTEST_SKIP() << "a test backend's sockets exist in their own context's network only";
  } else {
    this->prime_direct_reads();
    this->send("data");
    io::io_context other(TypeParam::kind);
    std::array<char, 16> buf{};
    auto r = senet::test::run(other, [&]() -> task<result> {
      co_return co_await this->pair_.server.read_some(senet::buffer(buf));
    }());
    ASSERT_TRUE(r);
    EXPECT_EQ(std::get<0>(std::get<0>(*r)), std::errc::device_or_resource_busy);
    // Its own context still reads it.
    auto mine = this->run(
        [&]() -> task<result> { co_return co_await this->pair_.server.read_some(senet::buffer(buf)); }());
    ASSERT_TRUE(mine);
    EXPECT_EQ(std::get<0>(*mine), ok(4u));
  }
}

// The wait after a direct attempt (socket_awaitable.hpp's wait record): on the kernel backends a
// read that finds nothing goes there. Awaited directly in a senet::task it arms the task's stop
// slot (execution/detail/stop_slot.hpp: one stop callback per task); awaited through another awaiter
// that forwards only the context and token (suspension_counter.hpp's `counted`) it registers a
// callback of its own; either only when the task's token can be stopped. A stop request ends it
// with operation_aborted on both paths. The test backend has no direct path: its reads take the
// operation state's path, with the same results.

TYPED_TEST(read_some,
           a_wait_after_a_direct_attempt_arms_the_stop_slot_or_a_callback_only_when_stop_is_possible) {
  const unsigned kernel = this->kind != io::backend_kind::test ? 1u : 0u;
  std::array<char, 16> buf{};
  int suspensions = 0;
  auto reader = [&]() -> task<result> {
    co_return co_await this->pair_.server.read_some(senet::buffer(buf));
  };
  auto counted_reader = [&]() -> task<result> {
    co_return co_await counted(this->pair_.server.read_some(senet::buffer(buf)), &suspensions);
  };
  auto writer = [&]() -> task<void> {
    co_await ex::schedule(this->ctx().get_scheduler());
    co_await net::async_write(this->pair_.client, senet::buffer("late", 4));
  };
  const auto& counts = net::detail::wait_counts;

  // when_all gives its children a token that can be stopped: the task's slot.
  this->prime_direct_reads();
  auto before = counts;
  auto r = this->run(ex::when_all(reader(), writer()));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), ok(4u));
  EXPECT_EQ(counts.waits - before.waits, kernel);
  EXPECT_EQ(counts.slot_arms - before.slot_arms, kernel);
  EXPECT_EQ(counts.stop_callbacks - before.stop_callbacks, 0u);

  // Without the slot: a callback of its own.
  this->prime_direct_reads();
  before = counts;
  auto c = this->run(ex::when_all(counted_reader(), writer()));
  ASSERT_TRUE(c);
  EXPECT_EQ(std::get<0>(*c), ok(4u));
  EXPECT_EQ(suspensions, 1);
  EXPECT_EQ(counts.waits - before.waits, kernel);
  EXPECT_EQ(counts.slot_arms - before.slot_arms, 0u);
  EXPECT_EQ(counts.stop_callbacks - before.stop_callbacks, kernel);

  // Without a stop token (never_stop_token): neither.
  for (bool with_counter : {false, true}) {
    this->prime_direct_reads();
    before = counts;
    auto unstoppable = with_counter
                           ? this->run(ex::when_all(net::without_stop_token(counted_reader()), writer()))
                           : this->run(ex::when_all(net::without_stop_token(reader()), writer()));
    ASSERT_TRUE(unstoppable);
    EXPECT_EQ(std::get<0>(*unstoppable), ok(4u));
    EXPECT_EQ(std::string(buf.data(), 4), "late");
    EXPECT_EQ(counts.waits - before.waits, kernel);
    EXPECT_EQ(counts.slot_arms - before.slot_arms, 0u);
    EXPECT_EQ(counts.stop_callbacks - before.stop_callbacks, 0u);
  }
}

// Destroys the stop source whose token its environment gives as soon as the task completes.
struct source_owning_receiver {
  using receiver_concept = ex::receiver_t;
  std::unique_ptr<ex::inplace_stop_source>* source;
  io::io_context* ctx;
  std::optional<result>* got;
  using env = senet::test::record_receiver::env;  // ctx's scheduler and the token
  [[nodiscard]] env get_env() const noexcept { return {ctx, (*source)->get_token()}; }
  void set_value(result r) && noexcept {
    *got = r;
    source->reset();
  }
  void set_error(std::exception_ptr) && noexcept { ADD_FAILURE() << "error"; }
  void set_stopped() && noexcept { ADD_FAILURE() << "stopped"; }
};

// The task's stop slot registers its callback with the task's stop token at the first wait; the
// task deregisters it before it completes, so that its receiver may destroy the stop source then,
// before the task's operation state goes (ASan: a heap-use-after-free when the operation state's
// destructor deregistered it).
TYPED_TEST(read_some, the_task_lets_go_of_its_stop_source_before_it_completes) {
  if (this->kind == io::backend_kind::test) {
    GTEST_SKIP() << "the test backend has no direct path, so no wait arms the task's slot";
  }
  std::array<char, 16> buf{};
  auto reader = [&]() -> task<result> {
    co_return co_await this->pair_.server.read_some(senet::buffer(buf));
  };
  this->prime_direct_reads();
  const auto before = net::detail::wait_counts;
  auto source = std::make_unique<ex::inplace_stop_source>();
  std::optional<result> got;
  {
    auto op = ex::connect(ex::starts_on(this->ctx().get_scheduler(), reader()),
                          source_owning_receiver{&source, &this->ctx(), &got});
    ex::start(op);
    this->ctx().poll();  // the read would block: it waits, armed in the task's slot
    ASSERT_EQ(net::detail::wait_counts.slot_arms - before.slot_arms, 1u);
    ASSERT_FALSE(got);
    ASSERT_TRUE(this->run(net::async_write(this->pair_.client, senet::buffer("late", 4))));
    for (int i = 0; i < 1000 && !got; ++i) {
      this->ctx().run_one();
    }
    ASSERT_TRUE(got);
    EXPECT_EQ(std::get<0>(*got), std::error_code{});
    EXPECT_EQ(std::get<1>(*got), 4u);
    EXPECT_EQ(source, nullptr);
  }  // the task's operation state goes after the source
}

TYPED_TEST(read_some, a_stop_request_ends_a_wait_after_a_direct_attempt_with_operation_aborted) {
  const unsigned kernel = this->kind != io::backend_kind::test ? 1u : 0u;
  std::array<char, 8> buf{};
  for (bool with_counter : {false, true}) {
    SCOPED_TRACE(with_counter ? "its own stop callback" : "the task's stop slot");
    this->prime_direct_reads();
    const auto before = net::detail::wait_counts;
    std::optional<result> got;
    int suspensions = 0;
    auto reader = [&]() -> task<void> {
      if (with_counter) {
        got = co_await counted(this->pair_.server.read_some(senet::buffer(buf)), &suspensions);
      } else {
        got = co_await this->pair_.server.read_some(senet::buffer(buf));
      }
    };
    auto stopper = [&]() -> task<void> {
      co_await ex::schedule(this->ctx().get_scheduler());
      co_await ex::just_stopped();  // when_all stops the reader
    };
    EXPECT_FALSE(this->run(ex::when_all(reader(), stopper())));
    ASSERT_TRUE(got);
    EXPECT_EQ(std::get<0>(*got), senet::error::operation_aborted);
    EXPECT_EQ(std::get<1>(*got), 0u);
    const auto& counts = net::detail::wait_counts;
    EXPECT_EQ(counts.waits - before.waits, kernel);
    EXPECT_EQ(counts.slot_arms - before.slot_arms, with_counter ? 0u : kernel);
    EXPECT_EQ(counts.stop_callbacks - before.stop_callbacks, with_counter ? kernel : 0u);
    // The socket stays usable, and the bytes sent afterwards go to the next read.
    this->send("after");
    auto next = this->run(
        [&]() -> task<result> { co_return co_await this->pair_.server.read_some(senet::buffer(buf)); }());
    ASSERT_TRUE(next);
    EXPECT_EQ(std::get<0>(*next), ok(5u));
  }
}

TYPED_TEST(read_some, closing_the_socket_ends_a_wait_after_a_direct_attempt_with_operation_aborted) {
  this->prime_direct_reads();
  const auto before = net::detail::wait_counts;
  auto r = this->read_until_closed();
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), senet::error::operation_aborted);
  EXPECT_EQ(net::detail::wait_counts.waits - before.waits, this->kind != io::backend_kind::test ? 1u : 0u);
}

/** A minimal coroutine that is not a senet::task: its promise's environment has the I/O scheduler,
    so the awaitable starts in await_suspend. */
struct plain_coroutine {
  struct promise_type {
    io::io_context* ctx;
    bool* done;
    template <class... Args>
    promise_type(io::io_context& c, bool& d, Args&...) : ctx(&c), done(&d) {}
    plain_coroutine get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept { *done = true; }
    void unhandled_exception() noexcept { std::terminate(); }
    struct env {
      io::io_context* ctx;
      io::io_context::scheduler_type query(io::get_io_scheduler_t) const noexcept {
        return ctx->get_scheduler();
      }
    };
    env get_env() const noexcept { return {ctx}; }
  };
};

plain_coroutine read_in_plain_coroutine(io::io_context&, bool&, tcp::socket& s, result& out) {
  std::array<char, 8> buf{};
  out = co_await s.read_some(senet::buffer(buf));
}

TYPED_TEST(read_some, in_another_coroutine_from_its_promises_environment) {
  bool done = false;
  result out{};
  read_in_plain_coroutine(this->ctx(), done, this->pair_.server, out);
  EXPECT_FALSE(done);
  this->send("abc");
  // Bounded: a start moved to the context's thread that completes at once is not counted as a
  // handler by run_one, which may then return 0 although it delivered the completion.
  for (int i = 0; i < 100 && !done; ++i) {
    this->ctx().run_one();
  }
  ASSERT_TRUE(done) << "the read did not complete";
  EXPECT_EQ(out, ok(3u));
}

}  // namespace
