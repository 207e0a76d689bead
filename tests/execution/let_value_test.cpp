// SPDX-License-Identifier: BSL-1.0
// [exec.let]: let_value.
#include <senet/execution.hpp>

#include <support/channel_sender.hpp>
#include <support/completion_signatures.hpp>
#include <support/expect_receiver.hpp>
#include <support/pending_sender.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

using int_sender = t::channel_sender<int>;
auto const reset = std::make_error_code(std::errc::connection_reset);

TEST(let_value, completes_with_the_value_of_the_returned_sender) {
  t::start_inline(int_sender::value(21) | ex::let_value([](int x) { return ex::just(x * 2); }),
                  t::expect_value_receiver{42});
}

TEST(let_value, completes_with_the_error_of_the_returned_sender) {
  t::start_inline(ex::just(1) | ex::let_value([](int) { return ex::just_error(reset); }),
                  t::expect_error_receiver{reset});
}

TEST(let_value, completes_with_stopped_of_the_returned_sender) {
  t::start_inline(ex::just(1) | ex::let_value([](int) { return ex::just_stopped(); }),
                  t::expect_stopped_receiver{});
}

TEST(let_value, passes_an_error_through_without_calling_the_function) {
  bool called = false;
  t::start_inline(int_sender::error(reset) | ex::let_value([&](int x) {
                    called = true;
                    return ex::just(x);
                  }),
                  t::expect_error_receiver{reset});
  EXPECT_FALSE(called);
}

TEST(let_value, passes_stopped_through_without_calling_the_function) {
  bool called = false;
  t::start_inline(int_sender::stopped() | ex::let_value([&](int x) {
                    called = true;
                    return ex::just(x);
                  }),
                  t::expect_stopped_receiver{});
  EXPECT_FALSE(called);
}

TEST(let_value, exception_from_the_function_becomes_an_error) {
  auto fn = [](int) -> decltype(ex::just(0)) { throw std::runtime_error{"let_value threw"}; };
  t::start_inline(ex::just(1) | ex::let_value(fn),
                  t::expect_exception_receiver<std::runtime_error>{"let_value threw"});
}

TEST(let_value, values_live_in_the_operation_until_the_returned_sender_completes) {
  // The function gets lvalues that stay valid while the sender it returns runs.
  auto sndr = ex::just(std::string{"kept"}) |
              ex::let_value([](std::string& s) { return ex::just() | ex::then([&s] { return s + "!"; }); });
  t::start_inline(std::move(sndr), t::expect_value_receiver{std::string{"kept!"}});
}

TEST(let_value, function_may_modify_the_stored_values) {
  auto sndr = ex::just(1) | ex::let_value([](int& x) {
                ++x;
                return ex::just(&x);
              }) |
              ex::then([](int* p) { return *p; });
  // The pointer is only read while the let_value operation still exists (inside then).
  t::start_inline(std::move(sndr), t::expect_value_receiver{2});
}

TEST(let_value, completion_signatures_are_those_of_the_returned_sender) {
  using sndr =
      decltype(int_sender::value(0) | ex::let_value([](int) noexcept { return ex::just(1.5, 'c'); }));
  static_assert(t::sends_exactly_v<sndr, t::empty_env, ex::set_value_t(double, char),
                                   ex::set_error_t(std::error_code), ex::set_stopped_t()>);
  using simple = decltype(ex::just(1) | ex::let_value([](int) noexcept { return ex::just(1.0); }));
  static_assert(t::sends_exactly_v<simple, t::empty_env, ex::set_value_t(double)>);
  using throwing = decltype(ex::just(1) | ex::let_value([](int) { return ex::just(1.0); }));
  static_assert(t::sends_v<throwing, ex::set_error_t(std::exception_ptr)>);
  static_assert(t::sends_v<throwing, ex::set_value_t(double)>);
  static_assert(!t::sends_v<throwing, ex::set_value_t(int)>);
}

TEST(let_value, stop_request_reaches_the_returned_sender) {
  ex::inplace_stop_source source;
  t::pending_control leaf;
  auto sndr = ex::just() | ex::let_value([&] { return leaf.sender(); });
  auto op = ex::connect(std::move(sndr), t::expect_stopped_in(t::stop_token_env(source.get_token())));
  ex::start(op);
  ASSERT_TRUE(leaf.started());
  EXPECT_FALSE(leaf.completed());
  source.request_stop();
  EXPECT_TRUE(leaf.stop_requested());
  EXPECT_TRUE(leaf.stopped());
}

TEST(let_value, returned_sender_completing_later_completes_the_operation) {
  t::pending_control leaf;
  auto op =
      ex::connect(ex::just(3) | ex::let_value([&](int) { return leaf.sender(); }), t::expect_void_receiver{});
  ex::start(op);
  ASSERT_TRUE(leaf.started());
  EXPECT_TRUE(leaf.complete());
}

TEST(let_value, move_only_values) {
  auto sndr = ex::just(std::make_unique<int>(6)) |
              ex::let_value([](std::unique_ptr<int>& p) { return ex::just(std::move(p)); });
  auto result = ex::sync_wait(std::move(sndr));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(6, *std::get<0>(*result));
}

// An environment with internal linkage (this anonymous namespace), and a sender whose connect
// deduces its return type and reads its receiver's environment. Computing let_value's completions
// asks whether connecting the returned sender may throw, which instantiates that connect for an
// archetype receiver with this environment: its members must be defined, or clang rejects the
// archetype's internal-linkage get_env as used but undefined (-Wundefined-internal, an error
// with -Werror).
struct internal_env {};

struct internal_env_receiver {
  using receiver_concept = ex::receiver_t;
  int* value;
  void set_value(int v) && noexcept { *value = v; }
  void set_error(std::exception_ptr) && noexcept { ADD_FAILURE() << "unexpected set_error"; }
  void set_stopped() && noexcept { ADD_FAILURE() << "unexpected set_stopped"; }
  [[nodiscard]] internal_env get_env() const noexcept { return {}; }
};

template <class Rcvr>
struct value_operation {
  Rcvr rcvr;
  int value;
  void start() & noexcept { ex::set_value(std::move(rcvr), value); }
};

// Completes with `value`; its connect looks at the receiver's environment.
struct env_reading_sender {
  using sender_concept = ex::sender_t;
  using completion_signatures = ex::completion_signatures<ex::set_value_t(int)>;
  int value;
  template <class Rcvr>
  auto connect(Rcvr rcvr) const noexcept {
    (void)ex::get_env(rcvr);
    return value_operation<Rcvr>{std::move(rcvr), value};
  }
};

TEST(let_value, returned_sender_connects_to_an_environment_of_internal_linkage) {
  int value = 0;
  t::start_inline(ex::just(2) | ex::let_value([](int x) noexcept { return env_reading_sender{x + 3}; }),
                  internal_env_receiver{&value});
  EXPECT_EQ(value, 5);
}

// A sender whose operation state holds `Size` bytes, counts itself in `*alive` while it exists and
// completes with `value`: inside start() (then writes to itself once more, as an operation may
// until its start() returns), or from another thread `*thread` runs: joined inside start() when
// `join_in_start`, else left for the test to join.
template <std::size_t Size>
struct sized_sender {
  using sender_concept = ex::sender_t;
  using completion_signatures = ex::completion_signatures<ex::set_value_t(int)>;
  std::atomic<int>* alive;
  int value;
  std::thread* thread = nullptr;
  bool join_in_start = false;

  template <class Rcvr>
  struct operation {
    using operation_state_concept = ex::operation_state_t;
    operation(Rcvr r, const sized_sender& s) : rcvr(std::move(r)), sndr(s) { ++*sndr.alive; }
    operation(operation&&) = delete;
    ~operation() { --*sndr.alive; }
    void start() & noexcept {
      if (sndr.thread == nullptr) {
        ex::set_value(std::move(rcvr), sndr.value);
      } else {
        *sndr.thread = std::thread([this] { ex::set_value(std::move(rcvr), sndr.value); });
        if (!sndr.join_in_start) {
          return;  // the other thread may complete and end this state at any time
        }
        sndr.thread->join();
      }
      bytes[0] = 1;
    }
    Rcvr rcvr;
    sized_sender sndr;
    unsigned char bytes[Size]{};
  };
  template <class Rcvr>
  operation<Rcvr> connect(Rcvr rcvr) const noexcept {
    return {std::move(rcvr), *this};
  }
};

TEST(let_value, predecessor_state_ends_before_the_returned_sender_is_connected) {
  std::atomic<int> alive{0};
  int seen_alive = -1;
  auto sndr = sized_sender<4096>{&alive, 20} | ex::let_value([&](int x) noexcept {
                seen_alive = alive.load();
                return sized_sender<4096>{&alive, x + 22};
              });
  int value = 0;
  {
    auto op = ex::connect(std::move(sndr), internal_env_receiver{&value});
    // One storage for both: the predecessor's state and the returned sender's are never alive at once.
    EXPECT_LT(sizeof(op), 2 * 4096);
    EXPECT_EQ(alive.load(), 1);
    ex::start(op);
    EXPECT_EQ(seen_alive, 0);
    EXPECT_EQ(alive.load(), 1);  // the returned sender's
  }
  EXPECT_EQ(value, 42);
  EXPECT_EQ(alive.load(), 0);
}

TEST(let_value, predecessor_completing_on_another_thread_inside_its_start) {
  // The predecessor completes on another thread while its start() still runs (and touches its
  // state after): its state ends only once start() has returned.
  for (int i = 0; i < 200; ++i) {
    std::atomic<int> alive{0};
    std::thread thread;
    int value = 0;
    auto sndr = sized_sender<64>{&alive, i, &thread, true} | ex::let_value([&](int x) noexcept {
                  return sized_sender<64>{&alive, x + 1};
                });
    {
      auto op = ex::connect(std::move(sndr), internal_env_receiver{&value});
      ex::start(op);
      EXPECT_EQ(value, i + 1);
    }
    EXPECT_EQ(alive.load(), 0);
  }
}

TEST(let_value, predecessor_completing_on_another_thread_after_its_start) {
  // The completion races with the end of start(): whichever comes second continues.
  for (int i = 0; i < 200; ++i) {
    std::atomic<int> alive{0};
    std::atomic<int> value{0};
    std::thread thread;
    auto sndr = sized_sender<64>{&alive, i, &thread, false} | ex::let_value([&](int x) noexcept {
                  return sized_sender<64>{&alive, x + 1};
                }) |
                ex::then([&](int x) noexcept { value.store(x); });
    {
      auto op = ex::connect(std::move(sndr), t::expect_void_receiver{});
      ex::start(op);
      thread.join();
      EXPECT_EQ(value.load(), i + 1);
    }
    EXPECT_EQ(alive.load(), 0);
  }
}

// Completes an operation state it owns and destroys it in the completion, as spawn's receiver does.
struct owner {
  void* op = nullptr;
  void (*destroy)(void*) = nullptr;
  int seen = 0;
};

struct destroying_receiver {
  using receiver_concept = ex::receiver_t;
  owner* o;
  void set_value(int) && noexcept { end(1); }
  void set_error(std::error_code) && noexcept { end(2); }
  void set_stopped() && noexcept { end(3); }
  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }
  void end(int how) const noexcept {
    o->seen = how;
    o->destroy(o->op);
  }
};

template <class Sndr>
void start_owned(Sndr sndr, owner& o) {
  using op_t = ex::connect_result_t<Sndr, destroying_receiver>;
  auto* op = new op_t(ex::connect(std::move(sndr), destroying_receiver{&o}));
  o.op = op;
  o.destroy = [](void* p) { delete static_cast<op_t*>(p); };
  ex::start(*op);
}

TEST(let_value, receiver_may_destroy_the_operation_in_a_completion_inside_start) {
  // Every channel, completed inside start(): the operation must not be touched after its receiver
  // destroyed it (ASan reports a use after free otherwise; the leak check, a state not destroyed).
  auto fn = [](int x) noexcept { return ex::just(x + 1); };
  owner value;
  start_owned(int_sender::value(41) | ex::let_value(fn), value);
  EXPECT_EQ(value.seen, 1);
  owner error;
  start_owned(int_sender::error(reset) | ex::let_value(fn), error);
  EXPECT_EQ(error.seen, 2);
  owner stopped;
  start_owned(int_sender::stopped() | ex::let_value(fn), stopped);
  EXPECT_EQ(stopped.seen, 3);
}

}  // namespace
