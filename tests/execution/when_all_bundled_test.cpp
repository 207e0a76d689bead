// SPDX-License-Identifier: BSL-1.0
// [exec.when.all] and when_any of the bundled core under concurrency (run it under ThreadSanitizer
// too): children completing on other threads while a stop request arrives from yet another one.
#include <senet/execution/when_all.hpp>

#include <senet/execution.hpp>

#include <support/deadline.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <optional>
#include <thread>

namespace {

namespace ex = senet::execution;

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

// A run_loop driven by its own thread.
struct loop_thread {
  loop_thread() : thread_([this] { loop_.run(); }) {}
  ~loop_thread() {
    loop_.finish();
    thread_.join();
  }
  ex::run_loop::scheduler scheduler() noexcept { return loop_.get_scheduler(); }
  ex::run_loop loop_;
  std::thread thread_;
};

struct count_receiver {
  using receiver_concept = ex::receiver_tag;
  template <class... Vs>
  void set_value(Vs&&...) && noexcept {
    done_->values_.fetch_add(1);
    done_->done_.store(true);
  }
  void set_stopped() && noexcept {
    done_->stopped_.fetch_add(1);
    done_->done_.store(true);
  }
  auto get_env() const noexcept { return ex::env{ex::prop{ex::get_stop_token, token_}}; }

  struct results {
    std::atomic<int> values_{0};
    std::atomic<int> stopped_{0};
    std::atomic<bool> done_{false};
  };
  results* done_;
  ex::inplace_stop_token token_;
};

TEST(when_all, children_on_other_threads_race_an_outer_stop_request) {
  loop_thread a;
  loop_thread b;
  for (int round = 0; round < 200; ++round) {
    ex::inplace_stop_source source;
    count_receiver::results results;
    auto sndr =
        ex::when_all(ex::starts_on(a.scheduler(), ex::just(1)), ex::starts_on(b.scheduler(), ex::just(2)),
                     ex::starts_on(a.scheduler(), wait_for_stop_sender{}));
    auto op = ex::connect(std::move(sndr), count_receiver{&results, source.get_token()});
    ex::start(op);
    std::thread stopper{[&] { source.request_stop(); }};
    stopper.join();
    senet::test::spin_until([&] { return results.done_.load(); }, "the operation completing");
    EXPECT_EQ(0, results.values_.load());
    EXPECT_EQ(1, results.stopped_.load());
  }
}

TEST(when_any, children_on_other_threads_race_each_other) {
  loop_thread a;
  loop_thread b;
  for (int round = 0; round < 200; ++round) {
    ex::inplace_stop_source source;
    count_receiver::results results;
    auto sndr =
        ex::when_any(ex::starts_on(a.scheduler(), ex::just(1)), ex::starts_on(b.scheduler(), ex::just(2)),
                     ex::starts_on(b.scheduler(), wait_for_stop_sender{}));
    auto op = ex::connect(std::move(sndr), count_receiver{&results, source.get_token()});
    ex::start(op);
    if (round % 2 == 0) {
      source.request_stop();
    }
    senet::test::spin_until([&] { return results.done_.load(); }, "the operation completing");
    EXPECT_EQ(1, results.values_.load() + results.stopped_.load());
  }
}

// A receiver that destroys its own operation state when it is completed.
struct destroying_receiver {
  using receiver_concept = ex::receiver_tag;
  template <class... Vs>
  void set_value(Vs&&...) && noexcept {
    (*destroy_)();
  }
  void set_stopped() && noexcept { (*destroy_)(); }
  auto get_env() const noexcept { return ex::env{ex::prop{ex::get_stop_token, token_}}; }
  std::function<void()>* destroy_;
  ex::inplace_stop_token token_;
};

// Holds an immovable operation state, constructed from the result of a function.
template <class Op>
struct holder {
  template <class F>
  explicit holder(F f) : op_(f()) {}
  Op op_;
};

template <class Sndr>
void complete_inside_the_stop_request_and_destroy(Sndr sndr) {
  using op_t = ex::connect_result_t<Sndr, destroying_receiver>;
  ex::inplace_stop_source source;
  std::optional<holder<op_t>> op;
  bool destroyed = false;
  std::function<void()> destroy = [&] {
    op.reset();
    destroyed = true;
  };
  op.emplace([&] { return ex::connect(std::move(sndr), destroying_receiver{&destroy, source.get_token()}); });
  ex::start(op->op_);
  EXPECT_FALSE(destroyed);
  source.request_stop();  // the children stop inside it, and the operation is destroyed inside it
  EXPECT_TRUE(destroyed);
}

TEST(when_all, completes_and_is_destroyed_inside_the_outer_stop_request) {
  complete_inside_the_stop_request_and_destroy(ex::when_all(wait_for_stop_sender{}, wait_for_stop_sender{}));
}

TEST(when_any, completes_and_is_destroyed_inside_the_outer_stop_request) {
  complete_inside_the_stop_request_and_destroy(ex::when_any(wait_for_stop_sender{}, wait_for_stop_sender{}));
}

TEST(counting_scope, wrapped_work_completes_and_is_destroyed_inside_the_stop_request) {
  ex::counting_scope scope;
  complete_inside_the_stop_request_and_destroy(scope.get_token().wrap(wait_for_stop_sender{}));
  ex::sync_wait(scope.join());
}

}  // namespace
