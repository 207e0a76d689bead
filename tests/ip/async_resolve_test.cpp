// SPDX-License-Identifier: BSL-1.0
#include <senet/ip/async_resolve.hpp>

#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/detail/handoff.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/udp.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/sockets.hpp>
#include <support/deadline.hpp>
#include <support/loopback.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/socket.h>

namespace {

namespace ex = senet::ex;
using senet::ip::tcp;
using senet::ip::udp;

template <class Sndr>
std::error_code error_of(Sndr&& sndr) {
  std::error_code result;
  auto r = ex::sync_wait(
      ex::upon_error(ex::then(std::forward<Sndr>(sndr), [](auto&&) noexcept { return std::error_code{}; }),
                     [](std::error_code ec) noexcept { return ec; }));
  if (r) {
    result = std::get<0>(*r);
  }
  return result;
}

TEST(async_resolve, numeric_v4) {
  auto r = ex::sync_wait(senet::net::async_resolve("127.0.0.1", "8080"));
  ASSERT_TRUE(r.has_value());
  auto& [eps] = *r;
  ASSERT_EQ(eps.size(), 1U);
  EXPECT_EQ(eps[0], tcp::endpoint(senet::ip::address_v4::loopback(), 8080));
}

TEST(async_resolve, numeric_v6_udp) {
  auto r = ex::sync_wait(senet::ip::async_resolve_for<udp>("::1", "5353"));
  ASSERT_TRUE(r.has_value());
  auto& [eps] = *r;
  ASSERT_EQ(eps.size(), 1U);
  EXPECT_EQ(eps[0], udp::endpoint(senet::ip::address_v6::loopback(), 5353));
}

TEST(async_resolve, localhost_restricted_to_v4) {
  auto r = ex::sync_wait(senet::ip::async_resolve(tcp::v4(), "localhost", "80"));
  ASSERT_TRUE(r.has_value());
  auto& [eps] = *r;
  ASSERT_FALSE(eps.empty());
  for (const auto& ep : eps) {
    EXPECT_EQ(ep.address(), senet::ip::address(senet::ip::address_v4::loopback()));
    EXPECT_EQ(ep.port(), 80);
  }
}

TEST(async_resolve, completes_on_the_receivers_scheduler) {
  // sync_wait's environment has a run_loop scheduler driven by this thread: the completion must
  // come back to it from the worker thread.
  auto caller = std::this_thread::get_id();
  auto r = ex::sync_wait(ex::then(senet::net::async_resolve("::1", "1"),
                                  [](auto&&) noexcept { return std::this_thread::get_id(); }));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), caller);
}

TEST(async_resolve, error_is_mapped) {
  EXPECT_EQ(error_of(senet::net::async_resolve("localhost", "80", senet::ip::resolve_flags::numeric_host)),
            senet::error::host_not_found);
}

TEST(async_resolve, many_at_once) {
  auto r = ex::sync_wait(
      ex::when_all(senet::net::async_resolve("127.0.0.1", "1"), senet::net::async_resolve("::1", "2"),
                   senet::net::async_resolve("127.0.0.1", "3"), senet::net::async_resolve("::1", "4"),
                   senet::net::async_resolve("127.0.0.1", "5"), senet::net::async_resolve("::1", "6")));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r).at(0).port(), 1);
  EXPECT_EQ(std::get<5>(*r).at(0).port(), 6);
}

// A receiver recording how the operation completed, with a stop token of the test's choosing and
// no scheduler (the completion then arrives on the worker thread).
struct recorder {
  std::mutex mutex;
  std::condition_variable cv;
  int completions = 0;
  bool stopped = false;
  bool value = false;
  std::error_code error;

  void done(bool is_value, bool is_stopped, std::error_code ec) {
    std::lock_guard lock(mutex);
    ++completions;
    value = is_value;
    stopped = is_stopped;
    error = ec;
    cv.notify_all();
  }
  bool wait_for_completion() {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, std::chrono::seconds(30), [this] { return completions > 0; });
  }
};

struct recording_receiver {
  using receiver_concept = ex::receiver_tag;
  recorder* rec_;
  ex::inplace_stop_token token_;

  void set_value(std::vector<tcp::endpoint>) && noexcept { rec_->done(true, false, {}); }
  void set_error(std::error_code ec) && noexcept { rec_->done(false, false, ec); }
  void set_stopped() && noexcept { rec_->done(false, true, {}); }
  auto get_env() const noexcept { return senet::test::make_env(senet::test::stop_token_entry(token_)); }
};

TEST(async_resolve, stop_before_start_completes_stopped) {
  ex::inplace_stop_source source;
  source.request_stop();
  recorder rec;
  auto op =
      ex::connect(senet::net::async_resolve("127.0.0.1", "80"), recording_receiver{&rec, source.get_token()});
  ex::start(op);
  ASSERT_TRUE(rec.wait_for_completion());
  EXPECT_TRUE(rec.stopped);
  EXPECT_EQ(rec.completions, 1);
}

// Holds every resolution on the worker thread until released, as a slow DNS server would.
std::mutex gate_mutex;
std::condition_variable gate_cv;
bool gate_open = false;
std::atomic<int> gate_entered{0};

void gated_resolve(senet::ip::detail::resolve_request& r) noexcept {
  gate_entered.fetch_add(1);
  std::unique_lock lock(gate_mutex);
  gate_cv.wait(lock, [] { return gate_open; });
  lock.unlock();
  senet::ip::detail::run_getaddrinfo(r);
}

TEST(async_resolve, stop_while_resolving_completes_stopped_at_once) {
  gate_open = false;
  gate_entered = 0;
  senet::ip::detail::set_resolve_function_for_testing(&gated_resolve);
  {
    ex::inplace_stop_source source;
    recorder rec;
    auto connect = [&] {
      return ex::connect(senet::net::async_resolve("127.0.0.1", "80"),
                         recording_receiver{&rec, source.get_token()});
    };
    std::optional<decltype(connect())> op;
    op.emplace(senet::ip::detail::emplace_result{connect});
    ex::start(*op);
    // Wait until a worker is inside the (blocked) resolution, then cancel.
    senet::test::spin_until([&] { return gate_entered.load() != 0; }, "a worker entering the resolution");
    source.request_stop();
    // The operation completed on this thread, inside request_stop, without waiting for the worker.
    EXPECT_EQ(rec.completions, 1);
    EXPECT_TRUE(rec.stopped);
    op.reset();  // The operation state may go while the worker still holds the request.
  }
  {
    std::lock_guard lock(gate_mutex);
    gate_open = true;
  }
  gate_cv.notify_all();
  senet::ip::detail::set_resolve_function_for_testing(nullptr);
  // The abandoned request is freed by the worker (AddressSanitizer checks that nothing leaks); a
  // new resolution still works.
  auto r = ex::sync_wait(senet::net::async_resolve("127.0.0.1", "81"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r).at(0).port(), 81);
}

// A recording receiver whose environment has an io_context's scheduler (and a stop token).
struct context_receiver {
  using receiver_concept = ex::receiver_tag;
  recorder* rec_;
  ex::inplace_stop_token token_;
  senet::io::io_context::scheduler_type sch_;

  void set_value(std::vector<tcp::endpoint>) && noexcept { rec_->done(true, false, {}); }
  void set_error(std::error_code ec) && noexcept { rec_->done(false, false, ec); }
  void set_stopped() && noexcept { rec_->done(false, true, {}); }
  auto get_env() const noexcept {
    return senet::test::make_env(senet::test::stop_token_entry(token_), senet::test::scheduler_entry(sch_));
  }
};

// Waits (bounded) until no worker holds a request that refers to the handoff: the worker has then
// finished with everything it could have touched.
bool wait_until_released(const std::weak_ptr<senet::io::detail::handoff>& handoff) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!handoff.expired()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::yield();
  }
  return true;
}

TEST(async_resolve, completes_on_the_io_context) {
  senet::io::io_context ctx;
  auto caller = std::this_thread::get_id();
  std::thread::id completed_on;
  auto r = ctx.run_until(ex::then(senet::net::async_resolve("127.0.0.1", "7"), [&](auto&& eps) {
    completed_on = std::this_thread::get_id();
    return eps.at(0).port();
  }));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 7);
  EXPECT_EQ(completed_on, caller);
}

// The io_context goes while getaddrinfo runs (held on the worker thread by the gate, as a slow
// DNS server would): its destructor completes the operation with set_stopped() on this thread, and
// the worker, released afterwards, touches neither the context nor the operation state
// (AddressSanitizer and ThreadSanitizer check that).
TEST(async_resolve, destroying_the_io_context_while_resolving_completes_stopped) {
  gate_open = false;
  gate_entered = 0;
  senet::ip::detail::set_resolve_function_for_testing(&gated_resolve);
  std::weak_ptr<senet::io::detail::handoff> handoff;
  {
    ex::inplace_stop_source source;
    recorder rec;
    std::optional<senet::io::io_context> ctx;
    ctx.emplace();
    handoff = senet::io::detail::handoff_of(*ctx);
    auto connect = [&] {
      return ex::connect(senet::net::async_resolve("127.0.0.1", "80"),
                         context_receiver{&rec, source.get_token(), ctx->get_scheduler()});
    };
    std::optional<decltype(connect())> op;
    op.emplace(senet::ip::detail::emplace_result{connect});
    ex::start(*op);
    senet::test::spin_until([&] { return gate_entered.load() != 0; }, "a worker entering the resolution");
    EXPECT_EQ(rec.completions, 0);
    ctx.reset();
    EXPECT_EQ(rec.completions, 1);
    EXPECT_TRUE(rec.stopped);
    source.request_stop();  // too late: nothing happens
    EXPECT_EQ(rec.completions, 1);
    op.reset();
  }
  {
    std::lock_guard lock(gate_mutex);
    gate_open = true;
  }
  gate_cv.notify_all();
  EXPECT_TRUE(wait_until_released(handoff)) << "the worker still holds the request after 30 s";
  senet::ip::detail::set_resolve_function_for_testing(nullptr);
}

// The same with the worker's hand-back racing the destruction: whichever comes first, the
// operation completes exactly once, stopped (nobody ran the context), and the worker is done
// with the context before the next one is built at the same address.
TEST(async_resolve, destruction_racing_the_hand_back) {
  for (int i = 0; i < 1000; ++i) {
    recorder rec;
    std::weak_ptr<senet::io::detail::handoff> handoff;
    auto connect = [&](senet::io::io_context& ctx) {
      return ex::connect(senet::net::async_resolve("127.0.0.1", "80"),
                         context_receiver{&rec, {}, ctx.get_scheduler()});
    };
    // The operation state outlives the context, as it must while the operation is pending.
    std::optional<decltype(connect(std::declval<senet::io::io_context&>()))> op;
    {
      senet::io::io_context ctx;
      handoff = senet::io::detail::handoff_of(ctx);
      op.emplace(senet::ip::detail::emplace_result{[&] { return connect(ctx); }});
      ex::start(*op);
      if (i % 2 == 1) {
        // Give the worker a head start on every other iteration, of a varying length (bounded:
        // under load every yield is a context switch).
        for (int spin = 0; spin < i % 128; ++spin) {
          std::this_thread::yield();
        }
      }
    }
    ASSERT_EQ(rec.completions, 1) << "iteration " << i;
    ASSERT_TRUE(rec.stopped) << "iteration " << i;
    ASSERT_TRUE(wait_until_released(handoff)) << "iteration " << i;
  }
}

// A stop request while resolving, then the context goes, then the worker finishes.
TEST(async_resolve, stop_then_destruction_while_resolving) {
  gate_open = false;
  gate_entered = 0;
  senet::ip::detail::set_resolve_function_for_testing(&gated_resolve);
  std::weak_ptr<senet::io::detail::handoff> handoff;
  {
    ex::inplace_stop_source source;
    recorder rec;
    std::optional<senet::io::io_context> ctx;
    ctx.emplace();
    handoff = senet::io::detail::handoff_of(*ctx);
    auto op = ex::connect(senet::net::async_resolve("127.0.0.1", "80"),
                          context_receiver{&rec, source.get_token(), ctx->get_scheduler()});
    ex::start(op);
    senet::test::spin_until([&] { return gate_entered.load() != 0; }, "a worker entering the resolution");
    source.request_stop();
    EXPECT_EQ(rec.completions, 1);
    EXPECT_TRUE(rec.stopped);
    ctx.reset();
    EXPECT_EQ(rec.completions, 1);
  }
  {
    std::lock_guard lock(gate_mutex);
    gate_open = true;
  }
  gate_cv.notify_all();
  EXPECT_TRUE(wait_until_released(handoff));
  senet::ip::detail::set_resolve_function_for_testing(nullptr);
}

/** Records how a send completed. */
struct send_record {
  int completions = 0;
  bool stopped = false;
  std::size_t bytes = 0;
  std::error_code error;
};

struct send_receiver {
  using receiver_concept = ex::receiver_tag;
  send_record* rec_;
  senet::io::io_context::scheduler_type sch_;

  void set_value(std::size_t n) && noexcept {
    ++rec_->completions;
    rec_->bytes = n;
  }
  void set_error(std::error_code ec) && noexcept {
    ++rec_->completions;
    rec_->error = ec;
  }
  void set_stopped() && noexcept {
    ++rec_->completions;
    rec_->stopped = true;
  }
  [[nodiscard]] auto get_env() const noexcept { return ex::prop{ex::get_scheduler, sch_}; }
};

/** A resolution's receiver whose `set_stopped()` calls `on_stopped` (user code run by the
    context's destructor). */
struct then_start_receiver {
  using receiver_concept = ex::receiver_tag;
  std::function<void()>* on_stopped_;
  senet::io::io_context::scheduler_type sch_;

  template <class Endpoints>
  void set_value(Endpoints&&) && noexcept {
    ADD_FAILURE() << "the resolution completed with endpoints";
  }
  void set_error(std::error_code ec) && noexcept {
    ADD_FAILURE() << "the resolution failed: " << ec.message();
  }
  void set_stopped() && noexcept { (*on_stopped_)(); }
  [[nodiscard]] auto get_env() const noexcept { return ex::prop{ex::get_scheduler, sch_}; }
};

// A send started by a completion that the context's destructor delivers (a resolution's
// set_stopped) goes nowhere: it completes stopped, as everything started during the shutdown
// does, although a moment before the backend let the socket's sends be made directly
// (io::detail::start_directly: epoll for every send, io_uring with eager_send). The peer gets
// only what was sent before.
TEST(async_resolve, a_send_started_by_a_completion_the_destructor_delivers_sends_nothing) {
  for (senet::io::backend_kind kind : {senet::io::backend_kind::epoll, senet::io::backend_kind::uring}) {
    if (!senet::io::io_context::is_available(kind)) {
      continue;
    }
    SCOPED_TRACE(std::string(senet::io::to_string(kind)));
    gate_open = false;
    gate_entered = 0;
    senet::ip::detail::set_resolve_function_for_testing(&gated_resolve);
    std::weak_ptr<senet::io::detail::handoff> handoff;
    send_record late_send;
    {
      std::optional<senet::io::io_context> ctx;
      ctx.emplace(kind);
      auto sch = ctx->get_scheduler();
      handoff = senet::io::detail::handoff_of(*ctx);
      auto pair = senet::test::tcp_pair(*ctx);
      pair.client.eager_send(kind == senet::io::backend_kind::uring);
      // A receive that waits registers the client with the backend (epoll registers a socket at
      // its first wait).
      char got = 0;
      auto received = ctx->run_until(
          ex::when_all(senet::net::async_receive(pair.client, senet::buffer(&got, 1)),
                       ex::just() | ex::then([&]() noexcept {
                         EXPECT_EQ(::send(pair.server.native_handle(), "y", 1, MSG_NOSIGNAL), 1);
                       })));
      ASSERT_TRUE(received.has_value());
      ASSERT_EQ(got, 'y');
      char first = 'x';
      auto sent = ctx->run_until(senet::net::async_send(pair.client, senet::buffer(&first, 1)));
      ASSERT_TRUE(sent.has_value());
      ASSERT_EQ(std::get<0>(*sent), 1U);
      const auto* head = static_cast<const senet::io::detail::descriptor_state_head*>(
          pair.client.io_descriptor().context_state);
      ASSERT_TRUE(head != nullptr && (head->direct & senet::io::detail::direct_send) != 0)
          << "the backend should allow direct sends after a send that completed at once";

      char second = 'z';
      auto connect_send = [&] {
        return ex::connect(senet::net::async_send(pair.client, senet::buffer(&second, 1)),
                           send_receiver{&late_send, sch});
      };
      std::optional<decltype(connect_send())> send_op;
      std::function<void()> on_stopped = [&] {
        send_op.emplace(senet::ip::detail::emplace_result{connect_send});
        ex::start(*send_op);
      };
      auto resolve_op =
          ex::connect(senet::net::async_resolve("127.0.0.1", "80"), then_start_receiver{&on_stopped, sch});
      ex::start(resolve_op);
      senet::test::spin_until([&] { return gate_entered.load() != 0; }, "a worker entering the resolution");
      ctx.reset();
      EXPECT_EQ(late_send.completions, 1);
      EXPECT_TRUE(late_send.stopped) << "the send completed with " << late_send.bytes << " byte(s), "
                                     << late_send.error.message();
      // On the wire: the first byte only.
      char in[2] = {};
      ::pollfd readable{pair.server.native_handle(), POLLIN, 0};
      ASSERT_EQ(::poll(&readable, 1, 10'000), 1);
      EXPECT_EQ(::recv(pair.server.native_handle(), in, sizeof in, MSG_DONTWAIT), 1);
      EXPECT_EQ(in[0], 'x');
      EXPECT_EQ(::poll(&readable, 1, 50), 0) << "the late send reached the peer";
    }
    {
      std::lock_guard lock(gate_mutex);
      gate_open = true;
    }
    gate_cv.notify_all();
    EXPECT_TRUE(wait_until_released(handoff)) << "the worker still holds the request after 30 s";
    senet::ip::detail::set_resolve_function_for_testing(nullptr);
  }
}

struct any_receiver {
  using receiver_concept = ex::receiver_tag;
  void set_value() && noexcept {}
  void set_error(std::exception_ptr) && noexcept {}
  void set_stopped() && noexcept {}
};

// An operation started while its context is being destroyed (from a completion the destructor
// delivers) completes stopped at once.
TEST(async_resolve, started_during_destruction_completes_stopped) {
  recorder rec;
  std::optional<decltype(ex::connect(senet::net::async_resolve("127.0.0.1", "80"),
                                     std::declval<context_receiver>()))>
      late;
  {
    // The context is destroyed while `first`, whose completion it delivers, is still alive.
    std::optional<senet::io::io_context> ctx{std::in_place};
    auto sch = ctx->get_scheduler();
    auto first = ex::connect(
        ex::schedule(sch) | ex::upon_stopped([&] {
          late.emplace(senet::ip::detail::emplace_result{[&] {
            return ex::connect(senet::net::async_resolve("127.0.0.1", "80"), context_receiver{&rec, {}, sch});
          }});
          ex::start(*late);
        }),
        any_receiver{});
    ex::start(first);
    ctx.reset();
  }
  EXPECT_EQ(rec.completions, 1);
  EXPECT_TRUE(rec.stopped);
}

TEST(async_resolve, completion_without_scheduler_arrives_on_worker) {
  ex::inplace_stop_source source;
  recorder rec;
  auto op =
      ex::connect(senet::net::async_resolve("127.0.0.1", "80"), recording_receiver{&rec, source.get_token()});
  ex::start(op);
  ASSERT_TRUE(rec.wait_for_completion());
  EXPECT_TRUE(rec.value);
  EXPECT_EQ(rec.completions, 1);
}

}  // namespace
