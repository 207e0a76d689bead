// SPDX-License-Identifier: BSL-1.0
// Stress test (CTest labels "stress", "threaded"): sockets closed, and cancelled, from another
// thread while operations on them are pending in the context that a first thread runs. Every
// operation completes exactly once, with the documented result; nothing leaks (the descriptors of
// the process and the allocations of the test's thread are as before).
#include "stress/leak_check.hpp"

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/backend_kind.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/detail/sender_support.hpp>
#include <senet/net/sockets.hpp>

#include <support/loopback.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
using senet::ip::tcp;

/** How one operation completed; written on the context's thread. */
struct outcome {
  std::atomic<int> completions{0};
  int channel = -1;  // 0 value, 1 error, 2 stopped
  std::size_t bytes = 0;
  std::error_code error{};
};

struct outcome_receiver {
  using receiver_concept = ex::receiver_t;
  io::io_context* ctx;
  outcome* out;
  void done(int channel) noexcept {
    out->channel = channel;
    out->completions.fetch_add(1, std::memory_order_release);
  }
  void set_value(std::size_t n) && noexcept {
    out->bytes = n;
    done(0);
  }
  void set_error(std::error_code ec) && noexcept {
    out->error = ec;
    done(1);
  }
  void set_stopped() && noexcept { done(2); }
  [[nodiscard]] auto get_env() const noexcept { return senet::test::scheduler_env(ctx->get_scheduler()); }
};

template <class Sndr>
using state_t = ex::connect_result_t<Sndr, outcome_receiver>;

/** One thread that closes sockets when asked, for all rounds: a std::thread's state is allocated
    by the thread that starts it and freed by the thread itself, which the test thread's allocation
    count would take for a leak if each round started one. */
class closer_thread {
 public:
  closer_thread() : thread_([this] { loop(); }) {}
  closer_thread(const closer_thread&) = delete;
  closer_thread& operator=(const closer_thread&) = delete;
  ~closer_thread() {
    job_.store(&quit_, std::memory_order_release);
    thread_.join();
  }

  /** Runs `job()` on the closer thread; `done()` tells when it has returned. */
  void post(const std::function<void()>* job) {
    done_.store(false, std::memory_order_relaxed);
    job_.store(job, std::memory_order_release);
  }
  [[nodiscard]] bool done() const noexcept { return done_.load(std::memory_order_acquire); }

 private:
  void loop() {
    for (;;) {
      const std::function<void()>* job = job_.exchange(nullptr, std::memory_order_acq_rel);
      if (job == &quit_) {
        return;
      }
      if (job == nullptr) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        continue;
      }
      (*job)();
      done_.store(true, std::memory_order_release);
    }
  }

  const std::function<void()> quit_;
  std::atomic<const std::function<void()>*> job_{nullptr};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

/** What the other thread does to each connection. */
enum class closing {
  client,            ///< closes the client (every other one after a cancel(), in odd rounds)
  client_then_peer,  ///< the same, then closes the server at once
  cancel_then_peer,  ///< cancels the client's operations, then closes the server at once
};

// Each round: on each of 40 connections, a receive and a write wait on the client; another thread
// closes (or cancels) the clients in a shuffled order, as `how` says, while this thread runs the
// context. Closing the server right after makes its FIN or RST reach the client at once: the
// client's operations must still end as close() and cancel() say they do once they returned.
void close_from_another_thread(io::backend_kind kind, closing how) {
  const bool close_peer = how != closing::client;
  const bool cancel_only = how == closing::cancel_then_peer;
  constexpr int rounds = 10;
  constexpr int pairs = 40;
  if (!io::io_context::is_available(kind)) {
    GTEST_SKIP() << "the " << io::to_string(kind) << " backend is not available here";
  }
  closer_thread closer;
  senet::test::leak_check leaks;
  {
    io::io_context ctx{kind};
    std::vector<char> data(4 * 1024 * 1024, 'w');
    std::mt19937 random(15);
    int aborted = 0;
    int stopped = 0;
    for (int round = 0; round < rounds; ++round) {
      std::vector<senet::test::tcp_connection> conns;
      for (int i = 0; i < pairs; ++i) {
        conns.push_back(senet::test::tcp_pair(ctx));
        conns.back().client.set_option(net::socket_base::send_buffer_size(16 * 1024));
        conns.back().server.set_option(net::socket_base::receive_buffer_size(16 * 1024));
      }
      char byte = 0;
      using receive_state = state_t<decltype(net::async_receive(conns[0].client, senet::buffer(&byte, 1)))>;
      using write_state = state_t<decltype(net::async_write(conns[0].client, senet::buffer(data)))>;
      std::vector<outcome> receives(pairs);
      std::vector<outcome> writes(pairs);
      std::vector<std::optional<receive_state>> receive_ops(pairs);
      std::vector<std::optional<write_state>> write_ops(pairs);
      // Started on the context's thread, on each client: a receive that waits for bytes that never
      // come, and a write that waits because the server does not read.
      ctx.run_until(ex::then(ex::schedule(ctx.get_scheduler()), [&] {
        for (std::size_t i = 0; i < pairs; ++i) {
          receive_ops[i].emplace(net::detail::emplace_from{[&] {
            return ex::connect(net::async_receive(conns[i].client, senet::buffer(&byte, 1)),
                               outcome_receiver{&ctx, &receives[i]});
          }});
          ex::start(*receive_ops[i]);
          write_ops[i].emplace(net::detail::emplace_from{[&] {
            return ex::connect(net::async_write(conns[i].client, senet::buffer(data)),
                               outcome_receiver{&ctx, &writes[i]});
          }});
          ex::start(*write_ops[i]);
        }
      }));
      ctx.poll();
      // Another thread closes each pair's sockets, in a shuffled order, some after a cancel().
      std::vector<int> order(pairs);
      for (int i = 0; i < pairs; ++i) {
        order[static_cast<std::size_t>(i)] = i;
      }
      std::shuffle(order.begin(), order.end(), random);
      const bool cancel_first = round % 2 == 1 && !cancel_only;
      const int stopped_before = stopped;
      const std::function<void()> close_all = [&] {
        for (int i : order) {
          auto& c = conns[static_cast<std::size_t>(i)];
          if (cancel_only || (cancel_first && i % 2 == 0)) {
            c.client.cancel();
          }
          if (!cancel_only) {
            c.client.close();
          }
          if (close_peer) {
            c.server.close();
          }
        }
      };
      closer.post(&close_all);
      // Meanwhile this thread runs the context, until every operation has completed.
      auto all_done = [&] {
        for (std::size_t i = 0; i < pairs; ++i) {
          if (receives[i].completions.load(std::memory_order_acquire) == 0 ||
              writes[i].completions.load(std::memory_order_acquire) == 0) {
            return false;
          }
        }
        return closer.done();
      };
      const auto limit = std::chrono::steady_clock::now() + 30s;
      while (!all_done() && std::chrono::steady_clock::now() < limit) {
        if (ctx.poll() == 0) {
          ::pollfd p{ctx.wait_descriptor(), POLLIN, 0};
          ::poll(&p, 1, 5);
        }
      }
      while (!closer.done()) {
        std::this_thread::sleep_for(1ms);  // (only if they were not all done: conns must outlive the job)
      }
      ASSERT_TRUE(all_done()) << "operations still pending 30 s after their sockets were closed";
      // The client, whose operations wait, is closed (or cancelled) first: both are aborted (or
      // stopped, when cancel() came first).
      for (std::size_t i = 0; i < pairs; ++i) {
        for (outcome* o : {&receives[i], &writes[i]}) {
          EXPECT_EQ(o->completions.load(), 1) << "pair " << i;
          if (cancel_only) {
            EXPECT_EQ(o->channel, 2) << "pair " << i << (o == &writes[i] ? " write" : " receive")
                                     << ": cancel() gives set_stopped(), not " << o->bytes << " bytes or "
                                     << o->error.message();
          }
          if (o->channel == 2) {
            ++stopped;
            continue;
          }
          EXPECT_EQ(o->channel, 1) << "pair " << i << (o == &writes[i] ? " write" : " receive")
                                   << ": completed with a value, " << o->bytes << " bytes";
          EXPECT_EQ(o->error, senet::error::operation_aborted) << "pair " << i << ": " << o->error.message();
          ++aborted;
        }
      }
      if (!cancel_first && !cancel_only) {
        EXPECT_EQ(stopped, stopped_before) << "a close alone gives operation_aborted, not set_stopped";
      }
    }
    EXPECT_EQ(aborted + stopped, rounds * pairs * 2);
  }
  leaks.expect_nothing_leaked();
}

class stress_threads : public ::testing::TestWithParam<io::backend_kind> {};

TEST_P(stress_threads, sockets_closed_from_another_thread_while_operations_are_pending) {
  close_from_another_thread(GetParam(), closing::client);
}

// io_uring once failed this: close() returned before the receive's cancellation had reached the
// kernel (it waited in the ring for the loop's next submission), and the peer's FIN or RST,
// which the client's socket still got through the ring's reference to its file, completed the
// receive first with 0 or ECONNRESET.
TEST_P(stress_threads, operations_are_aborted_when_the_peer_closes_right_after_close_returned) {
  close_from_another_thread(GetParam(), closing::client_then_peer);
}

TEST_P(stress_threads, operations_are_stopped_when_the_peer_closes_right_after_cancel_returned) {
  close_from_another_thread(GetParam(), closing::cancel_then_peer);
}

INSTANTIATE_TEST_SUITE_P(stress, stress_threads,
                         ::testing::Values(io::backend_kind::uring, io::backend_kind::epoll),
                         [](const ::testing::TestParamInfo<io::backend_kind>& info) {
                           return std::string(io::to_string(info.param));
                         });

}  // namespace
