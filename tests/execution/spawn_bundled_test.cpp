// SPDX-License-Identifier: BSL-1.0
// [exec.spawn] of the bundled core: the one allocation of the execution core, and where its
// allocator comes from.
#include <senet/execution/spawn.hpp>

#include <senet/execution.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>

namespace {

namespace ex = senet::execution;

struct allocation_log {
  int allocations = 0;
  int deallocations = 0;
  std::size_t live_bytes = 0;
};

template <class T>
struct counting_allocator {
  using value_type = T;

  explicit counting_allocator(allocation_log* log) noexcept : log_(log) {}
  template <class U>
  counting_allocator(counting_allocator<U> const& other) noexcept : log_(other.log_) {}

  T* allocate(std::size_t n) {
    ++log_->allocations;
    log_->live_bytes += n * sizeof(T);
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    ++log_->deallocations;
    log_->live_bytes -= n * sizeof(T);
    std::allocator<T>{}.deallocate(p, n);
  }

  template <class U>
  bool operator==(counting_allocator<U> const& other) const noexcept {
    return log_ == other.log_;
  }

  allocation_log* log_;
};

// A sender that stays pending until its receiver's stop token is stopped, then completes stopped.
struct wait_for_stop_sender {
  using sender_concept = ex::sender_tag;
  using completion_signatures = ex::completion_signatures<ex::set_stopped_t()>;

  // The stop callback may run on another thread before callback_.emplace returns; whichever of start
  // and the callback comes second completes the operation.
  template <class Rcvr>
  struct operation {
    struct on_stop {
      void operator()() noexcept {
        if ((op_->state_.fetch_or(callback_ran) & start_done) != 0) {
          ex::set_stopped(std::move(op_->rcvr_));
        }
      }
      operation* op_;
    };
    void start() & noexcept {
      callback_.emplace(ex::get_stop_token(ex::get_env(rcvr_)), on_stop{this});
      if ((state_.fetch_or(start_done) & callback_ran) != 0) {
        ex::set_stopped(std::move(rcvr_));
      }
    }
    static constexpr int start_done = 1;
    static constexpr int callback_ran = 2;
    Rcvr rcvr_;
    std::atomic<int> state_{0};
    std::optional<ex::stop_callback_for_t<ex::stop_token_of_t<ex::env_of_t<Rcvr>>, on_stop>> callback_{};
  };

  template <class Rcvr>
  operation<Rcvr> connect(Rcvr rcvr) const {
    return {std::move(rcvr)};
  }
};

// A sender whose attributes offer an allocator.
struct sender_with_allocator {
  using sender_concept = ex::sender_tag;
  using completion_signatures = ex::completion_signatures<ex::set_value_t()>;

  struct attrs {
    counting_allocator<std::byte> query(ex::get_allocator_t) const noexcept { return alloc_; }
    counting_allocator<std::byte> alloc_;
  };

  template <class Rcvr>
  struct operation {
    void start() & noexcept { ex::set_value(std::move(rcvr_)); }
    Rcvr rcvr_;
  };
  template <class Rcvr>
  operation<Rcvr> connect(Rcvr rcvr) const {
    return {std::move(rcvr)};
  }
  attrs get_env() const noexcept { return {alloc_}; }

  counting_allocator<std::byte> alloc_;
};

struct flag_receiver {
  using receiver_concept = ex::receiver_tag;
  void set_value() && noexcept { *flag_ = true; }
  bool* flag_;
};

TEST(spawn, allocates_with_the_environments_allocator_and_frees_on_completion) {
  allocation_log log;
  ex::counting_scope scope;
  auto env = ex::env{ex::prop{ex::get_allocator, counting_allocator<std::byte>{&log}}};
  ex::spawn(wait_for_stop_sender{}, scope.get_token(), env);
  EXPECT_EQ(1, log.allocations);
  EXPECT_EQ(0, log.deallocations);
  EXPECT_GT(log.live_bytes, 0u);
  scope.request_stop();
  EXPECT_EQ(1, log.deallocations);
  EXPECT_EQ(0u, log.live_bytes);
  ex::sync_wait(scope.join());
}

TEST(spawn, the_spawned_work_sees_the_environment) {
  allocation_log log;
  ex::counting_scope scope;
  bool saw_allocator = false;
  auto env = ex::env{ex::prop{ex::get_allocator, counting_allocator<std::byte>{&log}}};
  ex::spawn(ex::read_env(ex::get_allocator) | ex::then([&](counting_allocator<std::byte> alloc) noexcept {
              saw_allocator = alloc.log_ == &log;
            }),
            scope.get_token(), env);
  EXPECT_TRUE(saw_allocator);
  EXPECT_EQ(log.allocations, log.deallocations);
  ex::sync_wait(scope.join());
}

TEST(spawn, falls_back_to_the_senders_allocator) {
  allocation_log log;
  ex::counting_scope scope;
  ex::spawn(sender_with_allocator{counting_allocator<std::byte>{&log}}, scope.get_token());
  EXPECT_EQ(1, log.allocations);
  EXPECT_EQ(1, log.deallocations);
  ex::sync_wait(scope.join());
}

TEST(spawn, into_a_closed_scope_frees_the_work_without_starting_it) {
  allocation_log log;
  ex::counting_scope scope;
  scope.close();
  bool ran = false;
  auto env = ex::env{ex::prop{ex::get_allocator, counting_allocator<std::byte>{&log}}};
  ex::spawn(ex::just() | ex::then([&]() noexcept { ran = true; }), scope.get_token(), env);
  EXPECT_FALSE(ran);
  EXPECT_EQ(1, log.allocations);
  EXPECT_EQ(1, log.deallocations);
  ex::sync_wait(scope.join());
}

TEST(spawn, join_after_request_stop_waits_for_every_stopped_operation) {
  allocation_log log;
  ex::counting_scope scope;
  auto env = ex::env{ex::prop{ex::get_allocator, counting_allocator<std::byte>{&log}}};
  for (int i = 0; i < 5; ++i) {
    ex::spawn(wait_for_stop_sender{}, scope.get_token(), env);
  }
  EXPECT_EQ(5, log.allocations);
  bool joined = false;
  // Without a scheduler in its environment, the join completes on the thread of the last operation.
  auto op = ex::connect(scope.join(), flag_receiver{&joined});
  ex::start(op);
  EXPECT_FALSE(joined);
  scope.request_stop();
  EXPECT_EQ(5, log.deallocations);
  EXPECT_TRUE(joined);
}

// The spawned operation is destroyed inside the stop callbacks that complete it: when_all, when_any and
// the scope's stop token must not touch their state afterwards (AddressSanitizer checks it).
TEST(spawn, work_destroyed_inside_its_stop_callbacks) {
  allocation_log log;
  ex::counting_scope scope;
  auto env = ex::env{ex::prop{ex::get_allocator, counting_allocator<std::byte>{&log}}};
  ex::spawn(ex::when_all(wait_for_stop_sender{}, wait_for_stop_sender{}), scope.get_token(), env);
  ex::spawn(ex::when_any(wait_for_stop_sender{}, wait_for_stop_sender{}), scope.get_token(), env);
  ex::spawn(ex::when_all(ex::when_any(wait_for_stop_sender{}), wait_for_stop_sender{}) |
                ex::upon_stopped([]() noexcept {}),
            scope.get_token(), env);
  EXPECT_EQ(3, log.allocations);
  scope.request_stop();
  EXPECT_EQ(3, log.deallocations);
  ex::sync_wait(scope.join());
}

struct stopped_receiver {
  using receiver_concept = ex::receiver_tag;
  void set_stopped() && noexcept { *stopped_ = true; }
  auto get_env() const noexcept { return ex::env{ex::prop{ex::get_stop_token, token_}}; }
  bool* stopped_;
  ex::inplace_stop_token token_;
};

// A sender wrapped by the scope's token also obeys its receiver's own stop token.
TEST(counting_scope, wrapped_work_obeys_both_stop_tokens) {
  ex::counting_scope scope;
  ex::inplace_stop_source source;
  bool stopped = false;
  auto op = ex::connect(scope.get_token().wrap(wait_for_stop_sender{}),
                        stopped_receiver{&stopped, source.get_token()});
  ex::start(op);
  EXPECT_FALSE(stopped);
  source.request_stop();
  EXPECT_TRUE(stopped);
  scope.request_stop();  // no second completion
  ex::sync_wait(scope.join());
}

TEST(counting_scope, association_is_raii_and_fails_once_closed) {
  ex::counting_scope scope;
  auto token = scope.get_token();
  {
    auto assoc = token.try_associate();
    EXPECT_TRUE(static_cast<bool>(assoc));
    auto second = assoc.try_associate();
    EXPECT_TRUE(static_cast<bool>(second));
    scope.close();
    EXPECT_FALSE(static_cast<bool>(token.try_associate()));
    EXPECT_FALSE(static_cast<bool>(assoc.try_associate()));
  }
  static_assert(ex::scope_token<ex::counting_scope::token>);
  static_assert(ex::scope_association<ex::counting_scope::association>);
  ex::sync_wait(scope.join());
}

}  // namespace
