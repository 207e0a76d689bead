// SPDX-License-Identifier: BSL-1.0
#include <senet/io/detail/handoff.hpp>

#include <senet/io/io_context.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>

namespace {

namespace io = senet::io;
using io::detail::handoff;

struct probe : handoff::waiter {
  int detached = 0;
  static void on_detached(handoff::waiter* w) noexcept { ++static_cast<probe*>(w)->detached; }
  explicit probe(const void* key) noexcept {
    key_ = key;
    on_detached_ = &on_detached;
  }
};

struct record : io::detail::io_operation {
  int runs = 0;
  std::int64_t seen = 1;
  record() noexcept {
    code_ = io::detail::op_code::schedule;
    complete_ = [](io::detail::io_operation* op) noexcept {
      auto* self = static_cast<record*>(op);
      ++self->runs;
      self->seen = op->result_;
    };
  }
};

TEST(handoff, claim_posts_the_record_to_the_context) {
  io::io_context ctx;
  auto h = io::detail::handoff_of(ctx);
  int key = 0;
  probe w(&key);
  record r;
  ASSERT_TRUE(h->enroll(w));
  EXPECT_TRUE(h->enrolled(&key));
  EXPECT_TRUE(h->claim_and_post(&key, &r));
  EXPECT_FALSE(h->enrolled(&key));
  EXPECT_FALSE(h->withdraw(w));
  EXPECT_FALSE(h->claim_and_post(&key, &r));
  EXPECT_EQ(ctx.run_one(), 1U);
  EXPECT_EQ(r.runs, 1);
  EXPECT_EQ(r.seen, 0);
}

TEST(handoff, withdraw_wins_over_a_later_claim) {
  io::io_context ctx;
  auto h = io::detail::handoff_of(ctx);
  int key = 0;
  probe w(&key);
  ASSERT_TRUE(h->enroll(w));
  EXPECT_TRUE(h->withdraw(w));
  EXPECT_FALSE(h->claim_and_post(&key, nullptr));
}

TEST(handoff, keys_not_addresses_identify_waiters) {
  io::io_context ctx;
  auto h = io::detail::handoff_of(ctx);
  int old_key = 0;
  int new_key = 0;
  std::optional<probe> w;
  w.emplace(&old_key);
  ASSERT_TRUE(h->enroll(*w));
  ASSERT_TRUE(h->withdraw(*w));
  w.emplace(&new_key);  // a new waiter at the old address
  ASSERT_TRUE(h->enroll(*w));
  EXPECT_FALSE(h->claim_and_post(&old_key, nullptr));
  EXPECT_TRUE(h->claim_and_post(&new_key, nullptr));
}

TEST(handoff, destruction_detaches_every_waiter_and_refuses_later_ones) {
  std::shared_ptr<handoff> h;
  int k1 = 0;
  int k2 = 0;
  int k3 = 0;
  probe w1(&k1);
  probe w2(&k2);
  probe w3(&k3);
  record r;
  {
    io::io_context ctx;
    h = io::detail::handoff_of(ctx);
    ASSERT_TRUE(h->enroll(w1));
    ASSERT_TRUE(h->enroll(w2));
    ASSERT_TRUE(h->enroll(w3));
    ASSERT_TRUE(h->claim_and_post(&k3, &r));  // handed back, never run: delivered by the destructor
  }
  EXPECT_EQ(w1.detached, 1);
  EXPECT_EQ(w2.detached, 1);
  EXPECT_EQ(w3.detached, 0);
  EXPECT_EQ(r.runs, 1);
  EXPECT_LT(r.seen, 0);
  // The handoff outlives its context: claims and enrollments fail, nothing is touched.
  EXPECT_FALSE(h->claim_and_post(&k1, &r));
  probe late(&k1);
  EXPECT_FALSE(h->enroll(late));
  EXPECT_EQ(r.runs, 1);
}

TEST(handoff, a_claim_racing_the_destruction_is_decided_once) {
  for (int i = 0; i < 2000; ++i) {
    int key = 0;
    probe w(&key);
    record r;
    std::shared_ptr<handoff> h;
    std::atomic<bool> go{false};
    std::atomic<int> claimed{-1};
    std::thread other;
    {
      io::io_context ctx;
      h = io::detail::handoff_of(ctx);
      ASSERT_TRUE(h->enroll(w));
      other = std::thread([&, h] {
        while (!go.load(std::memory_order_acquire)) {
        }
        claimed.store(h->claim_and_post(&key, &r) ? 1 : 0);
      });
      go.store(true, std::memory_order_release);
    }
    other.join();
    // Either the claim posted the record (the destructor delivered it, stopped) or the destructor
    // detached the waiter first; never both, never neither.
    ASSERT_EQ(w.detached + r.runs, 1) << "iteration " << i;
    ASSERT_EQ(claimed.load(), r.runs) << "iteration " << i;
  }
}

TEST(handoff, unbound_handoff_arbitrates_without_a_context) {
  auto h = io::detail::unbound_handoff();
  int key = 0;
  probe w(&key);
  record r;
  ASSERT_TRUE(h->enroll(w));
  EXPECT_TRUE(h->claim_and_post(&key, &r));  // no context: nothing is posted
  EXPECT_EQ(r.runs, 0);
  EXPECT_FALSE(h->withdraw(w));
}

}  // namespace
