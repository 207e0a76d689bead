// SPDX-License-Identifier: BSL-1.0
// No heap allocation per operation on the steady paths (DESIGN.md, "Performance budget"), on every
// backend: send/receive round trips through the senders and through the core's records,
// async_read/async_write, waits for readiness, timers and cancellation. After the first operation
// of a socket (which takes a descriptor state from the backend's free list, or allocates one),
// nothing is allocated.
#include <senet/io/io_context.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/async_poll.hpp>
#include <senet/io/detail/descriptor.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/forget_descriptor.hpp>
#include <senet/io/poll_events.hpp>
#include <senet/net/async_read.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/async_write.hpp>
#include <senet/net/sockets.hpp>

#include <support/allocation_counter.hpp>
#include <support/backend_fixture.hpp>
#include <support/descriptor_pair.hpp>
#include <support/loopback.hpp>
#include <support/operation_record.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <list>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace iod = senet::io::detail;
namespace ip = senet::ip;
namespace net = senet::net;
using senet::buffer;

template <class Backend>
class allocation_test : public senet::test::backend_fixture<Backend> {
 protected:
  void SetUp() override {
    senet::test::backend_fixture<Backend>::SetUp();
    if (this->IsSkipped()) {
      return;
    }
    acceptor_ = senet::test::listen_tcp(ip::tcp::v4());
    pair_ = senet::test::connect_pair(this->ctx(), acceptor_);
  }

  void TearDown() override {
    pair_ = {};
    senet::test::backend_fixture<Backend>::TearDown();
  }

  // One round trip: the receives start first and wait, the sends complete (inline on epoll and the
  // test backend, through the ring on io_uring), then the receives.
  bool round_trip() {
    auto r = this->run(ex::when_all(net::async_receive(pair_.server, buffer(in_)),
                                    net::async_send(pair_.client, buffer(out_))));
    auto r2 = this->run(ex::when_all(net::async_receive(pair_.client, buffer(in_)),
                                     net::async_send(pair_.server, buffer(out_))));
    return r.has_value() && r2.has_value() && std::get<0>(*r) == out_.size() &&
           std::get<0>(*r2) == out_.size();
  }

  ip::tcp::acceptor acceptor_;
  senet::test::stream_pair<ip::tcp> pair_;
  std::array<char, 64> out_{};
  std::array<char, 64> in_{};
};

TYPED_TEST_SUITE(allocation_test, senet::test::all_backends, senet::test::backend_names);

// ---- through the senders ------------------------------------------------------------------------

TYPED_TEST(allocation_test, async_read_and_async_write_allocate_nothing) {
  // One record per transfer, restarted after partial transfers: nothing allocated per step either.
  std::array<char, 3 * 64> big_out{};
  std::array<char, 3 * 64> big_in{};
  auto exchange = [&] {
    auto r = this->run(ex::when_all(net::async_read(this->pair_.server, buffer(big_in)),
                                    net::async_write(this->pair_.client, buffer(big_out))));
    return r.has_value() && std::get<0>(*r) == big_in.size() && std::get<1>(*r) == big_out.size();
  };
  ASSERT_TRUE(exchange());
  senet::test::allocation_scope scope;
  bool ok = true;
  for (int i = 0; i < 200; ++i) {
    ok = exchange() && ok;
  }
  std::size_t allocations = scope.count();
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0U);
}

TYPED_TEST(allocation_test, send_receive_round_trips_allocate_nothing) {
  // Warm up: the first wait registers each descriptor (one state per socket, reused afterwards).
  ASSERT_TRUE(this->round_trip());
  ASSERT_TRUE(this->round_trip());
  senet::test::allocation_scope scope;
  bool ok = true;
  for (int i = 0; i < 200; ++i) {
    ok = this->round_trip() && ok;
  }
  std::size_t allocations = scope.count();
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0U);
}

TYPED_TEST(allocation_test, timers_and_cancellation_allocate_nothing) {
  ASSERT_TRUE(this->round_trip());
  auto cancelled_receive = [&] {
    return ex::when_any(
        net::async_receive(this->pair_.server, buffer(this->in_)) | ex::then([](std::size_t) {}),
        net::async_wait_for(0ms));
  };
  ASSERT_TRUE(this->run(cancelled_receive()).has_value());
  senet::test::allocation_scope scope;
  bool ok = true;
  for (int i = 0; i < 100; ++i) {
    ok = this->run(cancelled_receive()).has_value() && ok;
    ok = this->run(net::async_wait_for(0ms)).has_value() && ok;
    ok = this->run(ex::schedule(this->ctx().get_scheduler())).has_value() && ok;
  }
  std::size_t allocations = scope.count();
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0U);
}

TYPED_TEST(allocation_test, a_new_socket_reuses_a_released_descriptor_state) {
  if (this->kind == io::backend_kind::test) {
    GTEST_SKIP() << "the test backend (senet::testing, not in libsenet) keeps no free list: it allocates "
                    "the state of each new socket it meets, so only the other backends reuse one";
  }
  ASSERT_TRUE(this->round_trip());
  // Close one connection (its states go to the free list) and make another.
  this->pair_ = senet::test::stream_pair<ip::tcp>{};
  this->pair_ = senet::test::connect_pair(this->ctx(), this->acceptor_);
  ASSERT_TRUE(this->round_trip());
  this->pair_ = senet::test::stream_pair<ip::tcp>{};
  this->pair_ = senet::test::connect_pair(this->ctx(), this->acceptor_);
  senet::test::allocation_scope scope;
  bool ok = this->round_trip();
  std::size_t allocations = scope.count();
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0U);
}

TYPED_TEST(allocation_test, buffer_sequences_are_referred_to_or_moved_not_copied) {
  ASSERT_TRUE(this->round_trip());
  std::vector<senet::const_buffer> gather{buffer(this->out_.data(), 10), buffer(this->out_.data() + 10, 54)};
  std::list<senet::mutable_buffer> scatter{buffer(this->in_.data(), 32), buffer(this->in_.data() + 32, 32)};
  std::vector<senet::const_buffer> moved{buffer(this->out_)};
  senet::test::allocation_scope scope;
  // An lvalue vector is kept as a span, an lvalue list by reference, an rvalue vector is moved.
  auto r = this->run(ex::when_all(net::async_receive(this->pair_.server, scatter),
                                  net::async_send(this->pair_.client, gather)));
  auto r2 = this->run(ex::when_all(net::async_receive(this->pair_.client, buffer(this->in_)),
                                   net::async_send(this->pair_.server, std::move(moved))));
  std::size_t allocations = scope.count();
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(std::get<1>(*r), 64U);
  EXPECT_EQ(allocations, 0U);
}

TYPED_TEST(allocation_test, readiness_waits_allocate_nothing) {
  // Socket waits (one direction, both, stopped), and polls of a foreign pipe once the context's
  // registry knows it.
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  char byte = 'w';
  ASSERT_EQ(::write(fds[1], &byte, 1), 1);
  auto waits = [&] {
    auto r = this->run(ex::when_all(
        net::async_wait(this->pair_.server, net::socket_base::wait_read),
        net::async_wait(this->pair_.client, net::socket_base::wait_read | net::socket_base::wait_write),
        io::async_poll(this->ctx().get_scheduler(), fds[0], io::poll_events::readable),
        net::async_send(this->pair_.client, buffer(this->out_))));
    auto stopped = this->run(ex::when_any(
        net::async_wait(this->pair_.client, net::socket_base::wait_read) | ex::then([](io::poll_events) {}),
        net::async_wait_for(0ms)));
    bool ok = r.has_value() && stopped.has_value() && std::get<0>(*r) == io::poll_events::readable &&
              std::get<2>(*r) == io::poll_events::readable;
    auto drained = this->run(net::async_receive(this->pair_.server, buffer(this->in_)));
    return ok && drained.has_value() && std::get<0>(*drained) == this->out_.size();
  };
  ASSERT_TRUE(waits());
  senet::test::allocation_scope scope;
  bool ok = true;
  for (int i = 0; i < 100; ++i) {
    ok = waits() && ok;
  }
  std::size_t allocations = scope.count();
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0U);
  io::forget_descriptor(this->ctx(), fds[0]);
  ::close(fds[0]);
  ::close(fds[1]);
}

// One 64-byte round trip through the core's records: a sends, b receives, b sends back, a
// receives. Returns false on a wrong completion.
bool round_trip(io::io_context& ctx, senet::test::socket_pair& p,
                senet::test::transfer_record<64> (&ops)[4]) {
  ops[0].prepare(iod::op_code::send, p.a.d);
  ops[1].prepare(iod::op_code::receive, p.b.d);
  ops[2].prepare(iod::op_code::send, p.b.d);
  ops[3].prepare(iod::op_code::receive, p.a.d);
  for (int leg = 0; leg < 2; ++leg) {
    auto& tx = ops[2 * leg];
    auto& rx = ops[2 * leg + 1];
    int before = tx.completions + rx.completions;
    {
      iod::context_scope scope(ctx);
      if (iod::start_operation(ctx, rx)) {
        return false;  // nothing to receive yet: the receive must wait
      }
      if (iod::start_operation(ctx, tx)) {
        tx.complete_(&tx);  // a send tried first completes at once, delivered inline
      }
    }
    if (!senet::test::run_records_until(ctx, [&] { return tx.completions + rx.completions == before + 2; })) {
      return false;
    }
    if (tx.result != 64 || rx.result != 64) {
      return false;
    }
  }
  return true;
}

// ---- the core's records, without the senders ------------------------------------------------------

TYPED_TEST(allocation_test, core_records_round_trips_allocate_nothing) {
  senet::test::socket_pair p;
  senet::test::transfer_record<64> ops[4];
  // Warm up: registers both descriptors with the context.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(round_trip(this->ctx(), p, ops));
  }
  bool ok = true;
  senet::test::allocation_scope scope;
  for (int i = 0; i < 1000 && ok; ++i) {
    ok = round_trip(this->ctx(), p, ops);
  }
  // Eager sends (tried first, completed inline) allocate nothing either.
  p.a.d.eager |= iod::eager_send;
  p.b.d.eager |= iod::eager_send;
  for (int i = 0; i < 1000 && ok; ++i) {
    ok = round_trip(this->ctx(), p, ops);
  }
  std::size_t allocations = scope.count();
  ASSERT_TRUE(ok);
  EXPECT_EQ(allocations, 0U);
}

TYPED_TEST(allocation_test, core_records_reuse_descriptor_states_across_sockets) {
  if (this->kind == io::backend_kind::test) {
    GTEST_SKIP() << "the test backend (senet::testing, not in libsenet) keeps no free list: it allocates "
                    "the state of each new socket it meets, so only the other backends reuse one";
  }
  senet::test::transfer_record<64> ops[4];
  {
    senet::test::socket_pair warm;
    ASSERT_TRUE(round_trip(this->ctx(), warm, ops));
  }
  // A new connection takes the states the closed one returned: still no allocation (the sockets
  // themselves are made before counting starts).
  senet::test::socket_pair p;
  senet::test::allocation_scope scope;
  bool ok = round_trip(this->ctx(), p, ops);
  std::size_t allocations = scope.count();
  ASSERT_TRUE(ok);
  EXPECT_EQ(allocations, 0U);
}

}  // namespace
