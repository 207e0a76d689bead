// SPDX-License-Identifier: BSL-1.0
// How an io_context sets up io_uring (src/senet/backend/uring/uring_backend.cpp, "init"), and what
// it reports through io_context::backend_info() (include/senet/io/backend_info.hpp): the setup
// flags of a default ring and of one promised to a single thread (context_options::single_thread:
// SINGLE_ISSUER + DEFER_TASKRUN, a registered ring descriptor), the completion-queue size, a burst
// of completions much larger than a tiny completion queue (nothing lost, nothing reordered), other
// threads starting work on a single-thread context, a foreign loop on its wait descriptor, and the
// fallback to epoll, with its reason, when a seccomp filter refuses io_uring_setup (EPERM, ENOSYS).
#include <senet/io/io_context.hpp>

#include <senet/execution.hpp>
#include <senet/io/backend_info.hpp>
#include <senet/io/context_options.hpp>
#include <senet/io/detail/descriptor.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_wait_for.hpp>

#include <support/child_process.hpp>
#include <support/descriptor_pair.hpp>
#include <support/loopback.hpp>
#include <support/operation_record.hpp>
#include <support/refuse_io_uring.hpp>
#include <support/run.hpp>
#include <support/thread_harness.hpp>

#include <gtest/gtest.h>

#include <linux/io_uring.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace iod = senet::io::detail;
namespace net = senet::net;

using senet::test::socket_pair;
using senet::test::start_pending;
using senet::test::transfer_record;

/** The tests of a working io_uring: SKIPPED (never passed) where the kernel refuses it. */
class uring_setup : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!io::io_context::is_available(io::uring)) {
      GTEST_SKIP() << "io_uring is not available here; the fallback tests below still run";
    }
  }
};

io::context_options on_uring(bool single_thread, unsigned cq_entries = 0) {
  io::context_options o;
  o.backend = io::uring;
  o.single_thread = single_thread;
  o.completion_queue_entries = cq_entries;
  return o;
}

// A receive and a send through the senders: the context works.
void echo_once(io::io_context& ctx) {
  auto pair = senet::test::tcp_pair(ctx);
  std::array<char, 5> in{};
  auto r = senet::test::run(ctx,
                            ex::when_all(net::async_receive(pair.server, senet::buffer(in)),
                                         net::async_send(pair.client, senet::buffer("hello", 5))),
                            "receive and send");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 5U);
  EXPECT_EQ(std::string(in.data(), in.size()), "hello");
}

// ---- what a ring is set up with -----------------------------------------------------------------

TEST_F(uring_setup, default_ring_uses_coop_taskrun_and_any_thread_may_run_it) {
  io::io_context ctx{io::uring};
  const io::backend_info& info = ctx.backend_info();
  EXPECT_EQ(info.kind, io::backend_kind::uring);
  EXPECT_FALSE(info.uring_error);
  EXPECT_EQ(info.uring_failed_step, nullptr);
  EXPECT_NE(info.uring_setup_flags & IORING_SETUP_CQSIZE, 0U);
  EXPECT_EQ(info.uring_setup_flags & (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN), 0U);
  EXPECT_FALSE(info.defer_taskrun);
  EXPECT_FALSE(info.registered_ring_fd);
  EXPECT_EQ(info.coop_taskrun, (info.uring_setup_flags & IORING_SETUP_COOP_TASKRUN) != 0);
  EXPECT_NE(info.uring_features & IORING_FEAT_NODROP, 0U);
  EXPECT_NE(info.uring_features & IORING_FEAT_FAST_POLL, 0U);
  EXPECT_EQ(info.submission_queue_entries, 256U);
  EXPECT_EQ(info.completion_queue_entries, 1024U);
  // The batch window a busy loop waits for more completions: 20 µs where the kernel has it
  // (IORING_FEAT_MIN_TIMEOUT, 1 << 15 in Linux 6.12's header; this one is 6.1's).
  constexpr std::uint32_t feat_min_timeout = 1U << 15;
  EXPECT_EQ(info.completion_batch_wait,
            std::chrono::microseconds((info.uring_features & feat_min_timeout) != 0 ? 20 : 0));
  io::context_options no_window = on_uring(false);
  no_window.completion_batch_wait = 0us;
  EXPECT_EQ(io::io_context{no_window}.backend_info().completion_batch_wait, 0us);
  // Any thread may run it, one at a time.
  std::thread t([&] { echo_once(ctx); });
  t.join();
  echo_once(ctx);
}

TEST_F(uring_setup, single_thread_ring_defers_task_work_to_its_thread) {
  io::io_context ctx{on_uring(true)};
  const io::backend_info& info = ctx.backend_info();
  ASSERT_EQ(info.kind, io::backend_kind::uring);
  EXPECT_FALSE(info.uring_error);
  if (!info.defer_taskrun) {
    // Linux before 6.1: the ladder's next step, COOP_TASKRUN, as a default context.
    EXPECT_EQ(info.uring_setup_flags & IORING_SETUP_DEFER_TASKRUN, 0U);
    GTEST_SKIP() << "the kernel refuses IORING_SETUP_DEFER_TASKRUN (Linux 6.1)";
  }
  constexpr std::uint32_t expected = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
                                     IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_CQSIZE;
  EXPECT_EQ(info.uring_setup_flags & expected, expected);
  EXPECT_FALSE(info.coop_taskrun);
  EXPECT_TRUE(info.registered_ring_fd);
  echo_once(ctx);
  echo_once(ctx);
}

TEST_F(uring_setup, single_thread_context_refuses_another_runner) {
  io::io_context ctx{on_uring(true)};
  bool refused = false;
  std::thread t([&] {
    try {
      ctx.poll();
    } catch (const std::logic_error&) {
      refused = true;
    }
  });
  t.join();
  EXPECT_TRUE(refused);
  // Its own thread still runs it.
  echo_once(ctx);
}

TEST_F(uring_setup, completion_queue_size_is_an_option) {
  for (bool single : {false, true}) {
    io::io_context ctx{on_uring(single, 8)};
    EXPECT_EQ(ctx.backend_info().completion_queue_entries, 8U);
    EXPECT_EQ(ctx.backend_info().submission_queue_entries, 8U);
    io::io_context rounded{on_uring(single, 3000)};
    EXPECT_EQ(rounded.backend_info().completion_queue_entries, 4096U);
    EXPECT_EQ(rounded.backend_info().submission_queue_entries, 256U);
  }
}

TEST(uring_setup_epoll, other_backends_report_no_ring) {
  io::io_context ctx{io::epoll};
  const io::backend_info& info = ctx.backend_info();
  EXPECT_EQ(info.kind, io::backend_kind::epoll);
  EXPECT_FALSE(info.uring_error);  // not tried
  EXPECT_EQ(info.uring_failed_step, nullptr);
  EXPECT_EQ(info.uring_setup_flags, 0U);
  EXPECT_EQ(info.completion_queue_entries, 0U);
  io::context_options o;
  o.backend = io::epoll;
  o.single_thread = true;  // ignored by epoll
  io::io_context e{o};
  EXPECT_EQ(e.backend_info().kind, io::backend_kind::epoll);
  echo_once(e);
}

// The batch wait never delays a timer: a 20 ms timer with a 1 s window fires long before the
// window would end. I/O completes with a short window.
TEST_F(uring_setup, completion_batch_wait_leaves_timers_alone) {
  for (bool single : {false, true}) {
    io::context_options o = on_uring(single);
    o.completion_batch_wait = 1s;
    io::io_context ctx{o};
    auto window = ctx.backend_info().completion_batch_wait;
    if (window.count() == 0) {
      GTEST_SKIP() << "the kernel lacks IORING_FEAT_MIN_TIMEOUT (Linux 6.12)";
    }
    EXPECT_EQ(window, std::chrono::microseconds(1s));
    auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(senet::test::run(ctx, net::async_wait_for(20ms), "a 20 ms timer").has_value());
    EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms) << "the timer waited for the batch window";
  }
  io::context_options o = on_uring(false);
  o.completion_batch_wait = 50us;
  io::io_context ctx{o};
  EXPECT_EQ(ctx.backend_info().completion_batch_wait, std::chrono::microseconds(50));
  echo_once(ctx);
}

// Receives pending on the `b` ends of `n` socket pairs, for the batch-wait tests below: the window
// is 1 s, far longer than anything these tests wait for unless a turn waits it out.
struct batch_rig {
  static constexpr std::chrono::milliseconds window = 1s;
  io::io_context ctx;
  std::vector<std::unique_ptr<socket_pair>> pairs;
  std::vector<std::unique_ptr<transfer_record<8>>> rx;

  batch_rig(bool single_thread, std::size_t n) : ctx{with_window(single_thread)} {
    for (std::size_t i = 0; i < n; ++i) {
      pairs.push_back(std::make_unique<socket_pair>());
      rx.push_back(std::make_unique<transfer_record<8>>());
    }
  }

  static io::context_options with_window(bool single_thread) {
    io::context_options o = on_uring(single_thread);
    o.completion_batch_wait = window;
    return o;
  }

  [[nodiscard]] bool has_window() const { return ctx.backend_info().completion_batch_wait.count() != 0; }

  void start(std::size_t i) {
    rx[i]->prepare(iod::op_code::receive, pairs[i]->b.d);
    start_pending(ctx, *rx[i]);
  }

  void send(std::size_t i) { ASSERT_EQ(::send(pairs[i]->a.d.fd, "x", 1, MSG_NOSIGNAL), 1); }

  // A byte for each of receives [first, last), sent by another thread, as a peer would. This
  // thread, the loop's, makes no system call until the bytes are there (it spins, and joins the
  // peer only after its next turn): on a default ring (COOP_TASKRUN) the kernel would post the
  // receives' completions on the way back from any system call of this thread, so that the turn
  // found them there and did not wait at all.
  class peer {
   public:
    peer(batch_rig& rig, std::size_t first, std::size_t last)
        : thread_([this, &rig, first, last] {
            for (std::size_t i = first; i < last; ++i) {
              rig.send(i);
            }
            sent_.store(true, std::memory_order_release);
          }) {
      while (!sent_.load(std::memory_order_acquire)) {
      }
    }
    peer(const peer&) = delete;
    peer& operator=(const peer&) = delete;
    ~peer() { thread_.join(); }

   private:
    std::atomic<bool> sent_{false};
    std::thread thread_;
  };

  // Turns the loop until receives [0, n) have each completed once, with the byte sent.
  void complete_first(std::size_t n) {
    senet::test::run_records_until(ctx, [&] {
      for (std::size_t i = 0; i < n; ++i) {
        if (rx[i]->completions == 0) {
          return false;
        }
      }
      return true;
    });
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(rx[i]->completions, 1) << i;
      ASSERT_EQ(rx[i]->result, 1) << i;
    }
  }
};

// The window holds a waiting turn back only while the loop is busy: a lone operation, and a
// trickle of completions among many waiting operations, are delivered as without it. (Were every
// wait held back, the 10 receives below would take 10 windows, 10 s.)
TEST_F(uring_setup, completion_batch_wait_never_holds_back_a_lone_completion) {
  for (bool single : {false, true}) {
    SCOPED_TRACE(single ? "single_thread" : "default ring");
    batch_rig rig(single, 16);
    if (!rig.has_window()) {
      GTEST_SKIP() << "the kernel lacks IORING_FEAT_MIN_TIMEOUT (Linux 6.12)";
    }
    // Ten receives on the first socket pair, one after another, each answered by a peer.
    auto ten_receives = [&] {
      auto start = std::chrono::steady_clock::now();
      for (int round = 0; round < 10; ++round) {
        rig.rx[0]->completions = 0;
        rig.start(0);
        batch_rig::peer p(rig, 0, 1);
        rig.complete_first(1);
      }
      return std::chrono::steady_clock::now() - start;
    };
    // One operation only.
    EXPECT_LT(ten_receives(), 5 * batch_rig::window) << "a lone receive waited for the batch window";
    // A trickle: 15 more receives wait, and one byte at a time arrives for the first.
    for (std::size_t i = 1; i < rig.rx.size(); ++i) {
      rig.start(i);
    }
    EXPECT_LT(ten_receives(), 5 * batch_rig::window)
        << "a trickle of completions waited for the batch window";
    {
      batch_rig::peer p(rig, 1, rig.rx.size());
      rig.complete_first(rig.rx.size());
    }
  }
}

// Timers are not among the awaited operations the batch is half of: they expire in the core, not
// in the ring. A connection's receive and send complete in the same turn, round after round, while
// 16 timers wait: were the timers counted, each turn would wait for 9 completions and, with 2
// there, wait the window out (10 rounds: 10 s). On a single-thread ring, where the kernel posts
// both completions in the turn that waits for them (see the test below).
TEST_F(uring_setup, completion_batch_wait_does_not_count_timers) {
  using senet::test::completion_record;
  using senet::test::connect_slot;
  using senet::test::record_receiver;
  using timer_slot = decltype(connect_slot(std::declval<io::io_context&>().get_scheduler().schedule_after(1h),
                                           record_receiver{}));
  // Before the context: its destruction ends the timers.
  std::vector<completion_record> recs(16);
  std::vector<timer_slot> timers(16);
  batch_rig rig(true, 1);
  if (!rig.has_window()) {
    GTEST_SKIP() << "the kernel lacks IORING_FEAT_MIN_TIMEOUT (Linux 6.12)";
  }
  for (std::size_t i = 0; i < timers.size(); ++i) {
    timers[i] = connect_slot(rig.ctx.get_scheduler().schedule_after(1h), record_receiver{&rig.ctx, &recs[i]});
    timers[i]->start();
  }
  transfer_record<8> tx;
  tx.data[0] = 'x';
  auto start = std::chrono::steady_clock::now();
  for (int round = 0; round < 10; ++round) {
    rig.rx[0]->completions = 0;
    tx.completions = 0;
    rig.start(0);
    tx.prepare(iod::op_code::send, rig.pairs[0]->a.d, 1);
    start_pending(rig.ctx, tx);
    senet::test::run_records_until(rig.ctx,
                                   [&] { return rig.rx[0]->completions != 0 && tx.completions != 0; });
    ASSERT_EQ(rig.rx[0]->result, 1);
    ASSERT_EQ(tx.result, 1);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5 * batch_rig::window)
      << "a connection waited for a batch that counted the timers";
  for (auto& r : recs) {
    EXPECT_FALSE(r.done());
  }
}

// Under load a waiting turn waits for a batch: once the last turn found several completions, it
// returns as soon as half of the awaited operations have completed, and otherwise only once the
// window has passed. On a single-thread ring (DEFER_TASKRUN), where the kernel posts completions
// only when the loop waits for them; on a default ring it posts them whenever the loop's thread
// passes through the kernel (COOP_TASKRUN), even for an interrupt, so that a turn may find the
// completion it would wait for already there.
TEST_F(uring_setup, completion_batch_wait_waits_for_half_of_the_awaited_operations) {
  {
    batch_rig rig(true, 16);
    if (!rig.has_window()) {
      GTEST_SKIP() << "the kernel lacks IORING_FEAT_MIN_TIMEOUT (Linux 6.12)";
    }
    for (std::size_t i = 0; i < 16; ++i) {
      rig.start(i);
    }
    rig.ctx.poll();
    // Busy: 16 completions at once.
    {
      batch_rig::peer p(rig, 0, 16);
      rig.complete_first(16);
    }

    // 16 awaited again, and the bytes of 8 of them there: the turn returns with those 8 at once.
    for (std::size_t i = 0; i < 16; ++i) {
      rig.rx[i]->completions = 0;
      rig.start(i);
    }
    {
      batch_rig::peer p(rig, 0, 8);
      auto start = std::chrono::steady_clock::now();
      rig.complete_first(8);
      EXPECT_LT(std::chrono::steady_clock::now() - start, batch_rig::window / 2)
          << "the turn waited out the window with its batch there";
    }
    // 8 awaited, one completes: the turn (busy, after a batch of 8) waits out the window for
    // more, then returns with the one.
    {
      batch_rig::peer p(rig, 8, 9);
      auto start = std::chrono::steady_clock::now();
      senet::test::run_records_until(rig.ctx, [&] { return rig.rx[8]->completions != 0; });
      EXPECT_GE(std::chrono::steady_clock::now() - start, batch_rig::window * 9 / 10)
          << "a busy loop's turn returned before its batch or its window";
    }
    EXPECT_EQ(rig.rx[8]->result, 1);
    batch_rig::peer p(rig, 9, 16);
    senet::test::run_records_until(rig.ctx, [&] {
      for (std::size_t i = 9; i < 16; ++i) {
        if (rig.rx[i]->completions == 0) {
          return false;
        }
      }
      return true;
    });
  }
}

// ---- completion-queue overflow ------------------------------------------------------------------

// The message of receive `i` ("m" then the number; appended, since g++ 12 at -O2 warns falsely
// about `"m" + std::to_string(i)`, -Wrestrict).
std::string message(std::size_t i) {
  std::string m = "m";
  m += std::to_string(i);
  return m;
}

// 64 receives complete at once into a 4-entry completion queue: 60 completions wait in the kernel's
// overflow list (IORING_FEAT_NODROP), and each must still arrive once, with its own bytes.
// `used_before`: each socket has completed a receive first, so that the burst's receives take the
// backend's short start path (start_plain) until the 4-entry submission queue is full, and the
// general one, into the backlog, after it; otherwise every receive is its socket's first.
void burst_into_tiny_queue(bool single_thread, bool used_before = false) {
  io::io_context ctx{on_uring(single_thread, 4)};
  ASSERT_EQ(ctx.backend_info().completion_queue_entries, 4U);
  constexpr std::size_t n = 64;
  std::vector<std::unique_ptr<socket_pair>> pairs;
  std::vector<std::unique_ptr<transfer_record<8>>> rx;
  for (std::size_t i = 0; i < n; ++i) {
    pairs.push_back(std::make_unique<socket_pair>());
    rx.push_back(std::make_unique<transfer_record<8>>());
    if (used_before) {
      transfer_record<8> first;
      first.prepare(iod::op_code::receive, pairs[i]->b.d);
      start_pending(ctx, first);
      ASSERT_EQ(::send(pairs[i]->a.d.fd, "x", 1, MSG_NOSIGNAL), 1);
      senet::test::run_records_until(ctx, [&] { return first.completions != 0; });
      ASSERT_EQ(first.result, 1) << i;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    rx[i]->prepare(iod::op_code::receive, pairs[i]->b.d);
    start_pending(ctx, *rx[i]);
  }
  // Let the kernel take every receive (a 4-entry submission queue: several submissions).
  ctx.poll();
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(rx[i]->completions, 0) << i;
  }
  // Every receive completes at once, while nothing reaps.
  for (std::size_t i = 0; i < n; ++i) {
    std::string msg = message(i);
    ASSERT_EQ(::send(pairs[i]->a.d.fd, msg.data(), msg.size(), MSG_NOSIGNAL),
              static_cast<::ssize_t>(msg.size()));
  }
  senet::test::run_records_until(ctx, [&] {
    for (auto& r : rx) {
      if (r->completions == 0) {
        return false;
      }
    }
    return true;
  });
  for (std::size_t i = 0; i < n; ++i) {
    std::string msg = message(i);
    ASSERT_EQ(rx[i]->completions, 1) << i;
    ASSERT_EQ(rx[i]->result, static_cast<std::int64_t>(msg.size())) << i;
    EXPECT_EQ(std::string(rx[i]->data.data(), msg.size()), msg) << i;
  }
  // The ring still works afterwards.
  echo_once(ctx);
}

TEST_F(uring_setup, a_burst_larger_than_a_tiny_completion_queue_loses_nothing) {
  burst_into_tiny_queue(false);
}

TEST_F(uring_setup, a_burst_larger_than_a_tiny_completion_queue_loses_nothing_single_thread) {
  burst_into_tiny_queue(true);
}

// The same burst on sockets that were used before: the first receives go to the ring by the short
// start path, the others wait in the backlog for room; each still completes once, with its bytes.
TEST_F(uring_setup, a_burst_past_a_tiny_ring_on_sockets_in_use_loses_nothing) {
  burst_into_tiny_queue(false, true);
}

TEST_F(uring_setup, a_burst_past_a_tiny_ring_on_sockets_in_use_loses_nothing_single_thread) {
  burst_into_tiny_queue(true, true);
}

// ---- other threads and a single-thread context --------------------------------------------------

// SINGLE_ISSUER: only the constructing thread may submit. Work started from other threads reaches
// the ring through the context's cross-thread queue, which the running thread drains; schedules,
// timers and receives started on three threads all complete, once, on the running thread.
TEST_F(uring_setup, other_threads_start_work_on_a_single_thread_context) {
  io::io_context ctx{on_uring(true)};
  constexpr int threads = 3;
  constexpr int per_thread = 200;
  using senet::test::completion_record;
  using senet::test::connect_slot;
  using senet::test::record_receiver;
  std::vector<completion_record> recs(threads * per_thread);
  using schedule_slot = decltype(connect_slot(ctx.get_scheduler().schedule(), record_receiver{}));
  using timer_slot = decltype(connect_slot(ctx.get_scheduler().schedule_after(1ms), record_receiver{}));
  std::vector<schedule_slot> schedules(recs.size());
  std::vector<timer_slot> timers(recs.size());
  // One receive per thread on a connection of its own, answered by this thread once it ran.
  std::vector<senet::test::tcp_connection> conns;
  for (int t = 0; t < threads; ++t) {
    conns.push_back(senet::test::tcp_pair(ctx));
  }
  std::array<std::array<char, 4>, threads> in{};
  std::array<completion_record, threads> rx_recs;
  using rx_slot =
      decltype(connect_slot(net::async_receive(conns[0].server, senet::buffer(in[0])), record_receiver{}));
  std::array<rx_slot, threads> rx;
  std::atomic<int> started{0};
  std::vector<std::thread> starters;
  for (int t = 0; t < threads; ++t) {
    starters.emplace_back([&, t] {
      rx[static_cast<std::size_t>(t)] =
          connect_slot(net::async_receive(conns[static_cast<std::size_t>(t)].server,
                                          senet::buffer(in[static_cast<std::size_t>(t)])),
                       record_receiver{&ctx, &rx_recs[static_cast<std::size_t>(t)]});
      rx[static_cast<std::size_t>(t)]->start();
      for (int i = 0; i < per_thread; ++i) {
        auto k = static_cast<std::size_t>(t * per_thread + i);
        if (i % 2 == 0) {
          schedules[k] = connect_slot(ctx.get_scheduler().schedule(), record_receiver{&ctx, &recs[k]});
          schedules[k]->start();
        } else {
          timers[k] = connect_slot(ctx.get_scheduler().schedule_after(1ms), record_receiver{&ctx, &recs[k]});
          timers[k]->start();
        }
      }
      started.fetch_add(1);
    });
  }
  bool sent = false;
  auto all_done = [&] {
    for (auto& r : recs) {
      if (!r.done()) {
        return false;
      }
    }
    for (auto& r : rx_recs) {
      if (!r.done()) {
        return false;
      }
    }
    return true;
  };
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!all_done()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "not everything completed within 20 s";
    if (!sent && started.load() == threads) {
      for (auto& c : conns) {
        ASSERT_EQ(c.client.send(senet::buffer("ping", 4)), 4U);
      }
      sent = true;
    }
    ctx.run_for(10ms);
    ctx.restart();
  }
  for (auto& s : starters) {
    s.join();
  }
  for (auto& r : recs) {
    EXPECT_EQ(r.count.load(), 1);
    EXPECT_TRUE(r.is_value());
    EXPECT_EQ(r.thread, std::this_thread::get_id());
  }
  for (std::size_t t = 0; t < threads; ++t) {
    EXPECT_EQ(rx_recs[t].count.load(), 1);
    EXPECT_EQ(rx_recs[t].bytes, 4U);
    EXPECT_EQ(std::string(in[t].data(), 4), "ping");
    EXPECT_EQ(rx_recs[t].thread, std::this_thread::get_id());
  }
}

// With DEFER_TASKRUN the kernel finishes a receive only when the loop thread asks for completions:
// a foreign loop that waits for wait_descriptor() must still be woken by data that arrives.
TEST_F(uring_setup, wait_descriptor_wakes_a_foreign_loop_of_a_single_thread_context) {
  io::io_context ctx{on_uring(true)};
  socket_pair p;
  transfer_record<8> rx;
  rx.prepare(iod::op_code::receive, p.b.d);
  start_pending(ctx, rx);
  ctx.poll();
  ASSERT_EQ(rx.completions, 0);
  ASSERT_EQ(::send(p.a.d.fd, "abc", 3, MSG_NOSIGNAL), 3);
  ::pollfd pfd{ctx.wait_descriptor(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 5000), 1) << "wait_descriptor() did not become readable";
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (rx.completions == 0 && std::chrono::steady_clock::now() < deadline) {
    ctx.poll();
  }
  EXPECT_EQ(rx.completions, 1);
  EXPECT_EQ(rx.result, 3);
}

// ---- the fallback to epoll ----------------------------------------------------------------------

// In a child process: system call `nr` fails with `error`; the context falls back to epoll, says
// that io_uring failed with `expected` at `step`, and works. Returns 0 or the failed checks
// (bit-coded, plus one, for the parent).
int check_fallback(long nr, int error, int expected, const char* step) {
  if (!senet::test::refuse_system_call(nr, error)) {
    return senet::test::refused_child_no_seccomp;
  }
  ::unsetenv("SENET_BACKEND");
  int failures = 0;
  try {
    io::io_context ctx;
    const io::backend_info& info = ctx.backend_info();
    failures |= info.kind != io::backend_kind::epoll ? 1 : 0;
    failures |= info.uring_error != std::error_code(expected, std::system_category()) ? 2 : 0;
    failures |= info.uring_failed_step == nullptr || std::strcmp(info.uring_failed_step, step) != 0 ? 4 : 0;
    failures |= info.uring_setup_flags != 0 || info.completion_queue_entries != 0 ? 8 : 0;
    // The fallback context works (a child process: no watchdog thread; the timer is short).
    failures |= !ctx.run_until(net::async_wait_for(1ms)).has_value() ? 16 : 0;
    // Options without a backend fall back the same way, single_thread or not.
    io::context_options o;
    o.single_thread = true;
    io::io_context c2{o};
    failures |= c2.backend_info().kind != io::backend_kind::epoll ||
                        c2.backend_info().uring_error != std::error_code(expected, std::system_category())
                    ? 32
                    : 0;
  } catch (...) {
    failures |= 64;
  }
  // Asking for io_uring is refused outright.
  try {
    io::io_context ctx{io::uring};
    failures |= 128;
  } catch (const std::system_error& e) {
    failures |= e.code() != std::errc::function_not_supported ? 128 : 0;
  }
  return failures == 0 ? senet::test::refused_child_ok : (failures & 0x3f) + 1;
}

SENET_TEST_CHILD(uring_setup_fallback) {
  return check_fallback(std::stol(args.at(0)), std::stoi(args.at(1)), std::stoi(args.at(2)),
                        args.at(3).c_str());
}

void expect_fallback(long nr, int error, int expected, const char* step) {
  senet::test::expect_refused_child(
      "uring_setup_fallback", {std::to_string(nr), std::to_string(error), std::to_string(expected), step});
}

// Not uring_setup tests: they mean something whether or not this kernel allows io_uring.
TEST(uring_setup_fallback, eperm_from_seccomp_falls_back_to_epoll_and_says_why) {
  expect_fallback(__NR_io_uring_setup, EPERM, EPERM, "setup");
}

TEST(uring_setup_fallback, enosys_falls_back_to_epoll_and_says_why) {
  expect_fallback(__NR_io_uring_setup, ENOSYS, ENOSYS, "setup");
}

TEST(uring_setup_fallback, enomem_falls_back_to_epoll_and_says_why) {
  // What a locked-memory limit gives on kernels before 5.12.
  expect_fallback(__NR_io_uring_setup, ENOMEM, ENOMEM, "setup");
}

// The second rung: a ring is created, but the opcode probe (IORING_REGISTER_PROBE) is refused.
TEST(uring_setup_fallback, a_refused_opcode_probe_falls_back_to_epoll_and_says_why) {
  if (!io::io_context::is_available(io::uring)) {
    GTEST_SKIP() << "io_uring is not available here: the ladder stops at its first step";
  }
  expect_fallback(__NR_io_uring_register, EPERM, ENOTSUP, "opcode probe");
}

}  // namespace
