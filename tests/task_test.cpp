// SPDX-License-Identifier: BSL-1.0
#include <senet/task.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/basic_stream_socket.hpp>

#include "support/backend_fixture.hpp"
#include "support/expect_receiver.hpp"
#include "support/loopback.hpp"
#include "support/test_env.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>

namespace {

namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
using senet::task;

// ---- values, references, move-only results, exceptions ----

task<int> forty_two() {
  co_return 42;
}
task<void> nothing() {
  co_return;
}
task<std::unique_ptr<int>> boxed(int v) {
  co_return std::make_unique<int>(v);
}
int global_value = 7;
task<int&> reference_to_global() {
  co_return global_value;
}
task<int> throws_runtime_error() {
  throw std::runtime_error("boom");
  co_return 0;
}

TEST(task, sync_wait_gives_the_value) {
  auto r = ex::sync_wait(forty_two());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), 42);
}

TEST(task, task_void_completes_with_no_value) {
  auto r = ex::sync_wait(nothing());
  EXPECT_TRUE(r);
  static_assert(std::tuple_size_v<std::remove_cvref_t<decltype(*r)>> == 0);
}

TEST(task, move_only_result) {
  auto r = ex::sync_wait(boxed(5));
  ASSERT_TRUE(r);
  ASSERT_NE(std::get<0>(*r), nullptr);
  EXPECT_EQ(*std::get<0>(*r), 5);
}

TEST(task, reference_result_refers_to_the_object) {
  auto outer = []() -> task<int*> {
    int& r = co_await reference_to_global();
    co_return &r;
  };
  auto r = ex::sync_wait(outer());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), &global_value);
}

TEST(task, an_exception_leaving_the_body_is_the_error) {
  EXPECT_THROW((void)ex::sync_wait(throws_runtime_error()), std::runtime_error);
  senet::test::expect_exception_receiver<std::runtime_error> rcvr;
  auto op = ex::connect(throws_runtime_error(), std::move(rcvr));
  ex::start(op);
}

TEST(task, is_lazy_and_destroys_an_unstarted_frame) {
  auto flag = std::make_shared<int>(0);
  auto body = [](std::shared_ptr<int> f) -> task<void> {
    *f = 1;
    co_return;
  };
  {
    auto t = body(flag);
    EXPECT_EQ(*flag, 0);
    EXPECT_EQ(flag.use_count(), 2);  // the frame holds the argument
  }
  EXPECT_EQ(flag.use_count(), 1);  // destroyed with the task
  EXPECT_EQ(*flag, 0);
}

// ---- awaiting senders and tasks ----

TEST(task, co_await_sender_values) {
  auto body = []() -> task<int> {
    int a = co_await ex::just(1);
    co_await ex::just();
    auto [b, c] = co_await ex::just(2, std::string("x"));
    co_return a + b + static_cast<int>(c.size());
  };
  auto r = ex::sync_wait(body());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), 4);
}

TEST(task, co_await_error_code_throws_system_error) {
  auto body = []() -> task<int> {
    try {
      co_await ex::just_error(std::make_error_code(std::errc::connection_reset));
    } catch (const std::system_error& e) {
      co_return e.code() == std::errc::connection_reset ? 1 : 2;
    }
    co_return 3;
  };
  auto r = ex::sync_wait(body());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), 1);
}

TEST(task, co_await_other_errors_rethrows_them) {
  auto with_eptr = []() -> task<void> {
    co_await ex::just_error(std::make_exception_ptr(std::logic_error("eptr")));
  };
  EXPECT_THROW((void)ex::sync_wait(with_eptr()), std::logic_error);
  auto with_int = []() -> task<int> {
    try {
      co_await ex::just_error(17);
    } catch (int e) {
      co_return e;
    }
    co_return 0;
  };
  auto r = ex::sync_wait(with_int());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), 17);
}

struct destructor_counter {
  int* count;
  ~destructor_counter() { ++*count; }
};

TEST(task, a_stopped_sender_stops_the_task_and_every_awaiting_task) {
  int destroyed = 0;
  bool reached = false;
  auto inner = [](int* d, bool* after) -> task<int> {
    destructor_counter guard{d};
    co_await ex::just_stopped();
    *after = true;
    co_return 1;
  };
  auto outer = [&]() -> task<int> {
    destructor_counter guard{&destroyed};
    int v = co_await inner(&destroyed, &reached);
    reached = true;
    co_return v;
  };
  auto r = ex::sync_wait(outer());
  EXPECT_FALSE(r);
  EXPECT_FALSE(reached);
  EXPECT_EQ(destroyed, 2);  // both frames destroyed with the operation state
}

TEST(task, co_await_task_gives_its_value_and_exception) {
  auto outer = []() -> task<int> {
    int v = co_await forty_two();
    try {
      co_await throws_runtime_error();
    } catch (const std::runtime_error&) {
      v += 1;
    }
    co_return v;
  };
  auto r = ex::sync_wait(outer());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), 43);
}

TEST(task, when_all_of_two_tasks) {
  auto r = ex::sync_wait(ex::when_all(forty_two(), boxed(3)));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), 42);
  EXPECT_EQ(*std::get<1>(*r), 3);
}

// ---- the stack does not grow ----

[[gnu::noinline]] std::uintptr_t stack_position() {
  return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

TEST(task, a_million_synchronous_awaits_do_not_grow_the_stack) {
  constexpr int n = 1'000'000;
  auto body = []() -> task<std::uintptr_t> {
    std::uintptr_t first = stack_position();
    std::uintptr_t worst = 0;
    for (int i = 0; i < n; ++i) {
      int v = co_await ex::just(i);
      (void)v;
      std::uintptr_t now = stack_position();
      std::uintptr_t depth = first > now ? first - now : 0;
      worst = depth > worst ? depth : worst;
    }
    co_return worst;
  };
  auto r = ex::sync_wait(body());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), 0u);
}

TEST(task, a_million_awaited_tasks_do_not_grow_the_stack) {
  constexpr int n = 1'000'000;
  auto body = []() -> task<std::uintptr_t> {
    std::uintptr_t first = stack_position();
    std::uintptr_t worst = 0;
    long sum = 0;
    for (int i = 0; i < n; ++i) {
      sum += co_await forty_two();
      std::uintptr_t now = stack_position();
      std::uintptr_t depth = first > now ? first - now : 0;
      worst = depth > worst ? depth : worst;
    }
    EXPECT_EQ(sum, 42L * n);
    co_return worst;
  };
  auto r = ex::sync_wait(body());
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), 0u);
}

// ---- stop tokens ----

TEST(task, what_it_awaits_sees_the_receivers_stop_token) {
  ex::inplace_stop_source source;
  auto body = [](ex::inplace_stop_token expected) -> task<void> {
    auto token = co_await ex::read_env(ex::get_stop_token);
    EXPECT_TRUE(token == expected);
    auto nested = [](ex::inplace_stop_token e) -> task<void> {
      auto t = co_await ex::read_env(ex::get_stop_token);
      EXPECT_TRUE(t == e);
    };
    co_await nested(expected);
  };
  auto op = ex::connect(body(source.get_token()),
                        senet::test::expect_void_in(senet::test::stop_token_env(source.get_token())));
  ex::start(op);
}

/** A sender that completes with set_stopped when its receiver's stop is requested, and never
    otherwise (single-threaded: the stop is requested after start). */
struct wait_for_stop {
  using sender_concept = ex::sender_t;
  using completion_signatures = ex::completion_signatures<ex::set_value_t(), ex::set_stopped_t()>;
  template <class Rcvr>
  struct operation {
    struct on_stop {
      operation* self;
      void operator()() const noexcept { ex::set_stopped(std::move(self->rcvr)); }
    };
    Rcvr rcvr;
    std::optional<ex::stop_callback_for_t<ex::stop_token_of_t<ex::env_of_t<Rcvr>>, on_stop>> cb{};
    void start() & noexcept { cb.emplace(ex::get_stop_token(ex::get_env(rcvr)), on_stop{this}); }
  };
  template <class Rcvr>
  operation<Rcvr> connect(Rcvr rcvr) && {
    return {std::move(rcvr)};
  }
};

TEST(task, a_stop_request_reaches_what_the_task_awaits) {
  ex::inplace_stop_source source;
  bool after = false;
  auto body = [](bool* a) -> task<void> {
    co_await wait_for_stop{};
    *a = true;
  };
  auto op = ex::connect(body(&after),
                        senet::test::expect_stopped_in(senet::test::stop_token_env(source.get_token())));
  ex::start(op);
  source.request_stop();
  EXPECT_FALSE(after);
}

/** A stop token type other than inplace_stop_token (the task bridges it to its own). */
struct foreign_token {
  template <class Fn>
  struct callback_type {
    template <class Init>
    callback_type(foreign_token t, Init&& init) : cb(t.inner, std::forward<Init>(init)) {}
    ex::inplace_stop_callback<Fn> cb;
  };
  ex::inplace_stop_token inner;
  [[nodiscard]] bool stop_requested() const noexcept { return inner.stop_requested(); }
  [[nodiscard]] bool stop_possible() const noexcept { return inner.stop_possible(); }
  friend bool operator==(const foreign_token&, const foreign_token&) noexcept = default;
};

TEST(task, a_foreign_stop_token_is_bridged) {
  static_assert(ex::stoppable_token<foreign_token>);
  EXPECT_TRUE(foreign_token{} == foreign_token{});
  ex::inplace_stop_source source;
  auto body = []() -> task<void> {
    auto token = co_await ex::read_env(ex::get_stop_token);
    static_assert(std::is_same_v<decltype(token), ex::inplace_stop_token>);
    co_await wait_for_stop{};
  };
  auto op = ex::connect(
      body(), senet::test::expect_stopped_in(senet::test::stop_token_env(foreign_token{source.get_token()})));
  ex::start(op);
  source.request_stop();
}

// ---- allocation ----

struct allocation_log {
  std::size_t allocations = 0;
  std::size_t deallocations = 0;
  std::size_t bytes = 0;
};

template <class T>
struct counting_allocator {
  using value_type = T;
  allocation_log* log;
  explicit counting_allocator(allocation_log* l) noexcept : log(l) {}
  template <class U>
  counting_allocator(const counting_allocator<U>& other) noexcept : log(other.log) {}
  T* allocate(std::size_t n) {
    ++log->allocations;
    log->bytes += n * sizeof(T);
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    ++log->deallocations;
    std::allocator<T>{}.deallocate(p, n);
  }
  friend bool operator==(const counting_allocator& a, const counting_allocator& b) noexcept {
    return a.log == b.log;
  }
};

// Not inlined: clang, inlining a coroutine's ramp into its caller, may build the frame inside the
// caller's (coroutine elision: it does at -O1), and then there is no allocation to see.
[[gnu::noinline]] task<int> child(int v) {
  co_return v;
}

TEST(task, frames_of_tasks_created_in_the_body_come_from_the_environments_allocator) {
  allocation_log log;
  auto body = []() -> task<int> {
    int sum = 0;
    for (int i = 0; i < 3; ++i) {
      sum += co_await child(i);
    }
    co_return sum;
  };
  {
    auto env = senet::test::make_env(senet::test::allocator_entry(counting_allocator<std::byte>(&log)));
    auto op = ex::connect(body(), senet::test::expect_value_in(env, 3));
    ex::start(op);
    EXPECT_EQ(log.allocations, 3u);
    EXPECT_EQ(log.deallocations, 3u);  // each child frame is freed when its awaiter ends
  }
  EXPECT_EQ(log.allocations, log.deallocations);
  // Outside a task body nothing is taken from that allocator.
  auto t = child(1);
  EXPECT_EQ(log.allocations, 3u);
}

// ---- on an io_context ----

template <class Backend>
class task_io : public senet::test::backend_fixture<Backend> {};
TYPED_TEST_SUITE(task_io, senet::test::all_backends, senet::test::backend_names);

TYPED_TEST(task_io, answers_get_io_scheduler_and_get_scheduler) {
  auto body = [](io::io_context* ctx) -> task<void> {
    auto io_sch = co_await ex::read_env(io::get_io_scheduler);
    auto sch = co_await ex::read_env(ex::get_scheduler);
    EXPECT_TRUE(io_sch == ctx->get_scheduler());
    EXPECT_TRUE(sch == ctx->get_scheduler());
  };
  EXPECT_TRUE(this->run(body(&this->ctx())));
}

TYPED_TEST(task_io, co_await_async_receive_needs_nothing_else) {
  auto acceptor = senet::test::listen_tcp(senet::ip::tcp::v4());
  auto pair = senet::test::connect_pair(this->ctx(), acceptor);
  auto body = [](senet::ip::tcp::socket& a, senet::ip::tcp::socket& b) -> task<std::string> {
    std::string out = "hello";
    std::size_t sent = co_await net::async_send(a, senet::buffer(out));
    EXPECT_EQ(sent, 5u);
    char buf[16];
    std::size_t n = co_await net::async_receive(b, senet::buffer(buf));
    co_return std::string(buf, n);
  };
  auto r = this->run(body(pair.client, pair.server));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), "hello");
}

TYPED_TEST(task_io, run_until_stop_cancels_a_pending_receive) {
  auto acceptor = senet::test::listen_tcp(senet::ip::tcp::v4());
  auto pair = senet::test::connect_pair(this->ctx(), acceptor);
  bool after = false;
  auto waiter = [](senet::ip::tcp::socket& s, bool* a) -> task<void> {
    char buf[4];
    co_await net::async_receive(s, senet::buffer(buf));
    *a = true;
  };
  auto stopper = [](io::io_context* ctx) -> task<void> {
    co_await ex::schedule(ctx->get_scheduler());
    co_await ex::just_stopped();  // stops this task, and when_all then stops the waiter
  };
  auto r = this->run(ex::when_all(waiter(pair.server, &after), stopper(&this->ctx())));
  EXPECT_FALSE(r);
  EXPECT_FALSE(after);
}

TYPED_TEST(task_io, receive_error_is_a_system_error) {
  auto acceptor = senet::test::listen_tcp(senet::ip::tcp::v4());
  auto pair = senet::test::connect_pair(this->ctx(), acceptor);
  pair.server.close();
  auto body = [](senet::ip::tcp::socket& s) -> task<std::error_code> {
    char buf[4];
    try {
      co_await net::async_receive(s, senet::buffer(buf));
    } catch (const std::system_error& e) {
      co_return e.code();
    }
    co_return std::error_code();
  };
  auto r = this->run(body(pair.server));
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<0>(*r), std::errc::bad_file_descriptor);
}

}  // namespace
