// SPDX-License-Identifier: BSL-1.0
// The code samples of P2762R0 §3 ("Design Choices"), written against senet: the paper's
// `async::accept` / `async::read` / `wait_for` / `on` are spelled through the aliases below, and
// each sample is compiled and run on loopback sockets.
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_read_some.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/timer.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/sockets.hpp>

#include <support/deadline.hpp>
#include <support/loopback.hpp>
#include <support/run.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include <senet/config.hpp>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace ip = senet::ip;
using std::error_code;

// The paper's names.
namespace async {
inline constexpr const auto& accept = senet::net::async_accept;
inline constexpr const auto& read = senet::net::async_read_some;
}  // namespace async
inline constexpr const auto& on = ex::on;
inline constexpr const auto& then = ex::then;
inline constexpr const auto& upon_error = ex::upon_error;
inline constexpr const auto& wait_for = senet::net::async_wait_for;

class p2762_samples : public ::testing::Test {
 protected:
  void SetUp() override {
    acceptor_ = senet::test::listen_tcp(ip::tcp::v4());
    pair_ = senet::test::connect_pair(ctx_, acceptor_);
  }

  io::io_context ctx_;
  ip::tcp::acceptor acceptor_;
  senet::test::stream_pair<ip::tcp> pair_;
};

// §3.1, option 1: the scheduler is an argument of the sender factory.
auto make_accept_explicit(auto scheduler, auto& socket) {
  return async::accept(scheduler, socket);
}

// §3.1, option 2: the operation is a sender adaptor, and the scheduler is the one the upstream
// sender completes on (get_completion_scheduler<set_value_t>).
auto make_accept_adapted(auto scheduler, auto& socket) {
  return ex::schedule(scheduler) | async::accept(socket);
}

// §3.1, option 3: the scheduler comes from the receiver, injected with `on`, which starts the
// child on `scheduler` and comes back to the receiver's scheduler afterwards. (With stdexec, whose
// `on` announces `scheduler` to the child as get_start_scheduler rather than get_scheduler, the
// child finds it through io::get_io_scheduler all the same.)
auto inject(auto scheduler, auto&& sndr) {
  return on(scheduler, std::forward<decltype(sndr)>(sndr));
}

auto make_accept_injected(auto scheduler, auto& socket) {
  return inject(scheduler, async::accept(socket));
}

TEST_F(p2762_samples, obtaining_the_scheduler_option_1) {
  ip::tcp::socket client;
  auto r =
      senet::test::run(ctx_, ex::when_all(make_accept_explicit(ctx_.get_scheduler(), acceptor_),
                                          senet::net::async_connect(client, acceptor_.local_endpoint())));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<1>(*r), client.local_endpoint());
  EXPECT_EQ(std::get<0>(*r).remote_endpoint(), client.local_endpoint());
}

TEST_F(p2762_samples, obtaining_the_scheduler_option_2) {
  ip::tcp::socket client;
  std::thread loop;
  std::optional<std::tuple<ip::tcp::socket, ip::tcp::endpoint>> accepted;
  {
    io::io_context::work_guard guard(ctx_);
    loop = std::thread([&] { ctx_.run(); });
    senet::test::deadline_guard deadline("p2762 option 2: accept and connect under sync_wait");
    // sync_wait's own scheduler is a run_loop's; schedule(ctx's scheduler) tells the accept where
    // to run.
    accepted = ex::sync_wait(ex::when_all(
        make_accept_adapted(ctx_.get_scheduler(), acceptor_),
        ex::schedule(ctx_.get_scheduler()) | senet::net::async_connect(client, acceptor_.local_endpoint())));
  }
  loop.join();
  ASSERT_TRUE(accepted.has_value());
  EXPECT_EQ(std::get<1>(*accepted), client.local_endpoint());
}

TEST_F(p2762_samples, obtaining_the_scheduler_option_3) {
  ip::tcp::socket client;
  std::thread loop;
  std::optional<std::tuple<ip::tcp::socket, ip::tcp::endpoint>> accepted;
  {
    io::io_context::work_guard guard(ctx_);
    loop = std::thread([&] { ctx_.run(); });
    senet::test::deadline_guard deadline("p2762 option 3: accept and connect under sync_wait");
    // sync_wait's own scheduler is a run_loop's; `on` gives the accept the io_context's.
    accepted = ex::sync_wait(ex::when_all(
        make_accept_injected(ctx_.get_scheduler(), acceptor_),
        inject(ctx_.get_scheduler(), senet::net::async_connect(client, acceptor_.local_endpoint()))));
  }
  loop.join();
  ASSERT_TRUE(accepted.has_value());
  EXPECT_EQ(std::get<1>(*accepted), client.local_endpoint());
}

// §3.2, option 3 (senet's choice): set_value for success, set_error for failure, in a pipe.
TEST_F(p2762_samples, error_reporting_with_set_value_and_set_error) {
  std::array<char, 8> data{};
  std::string hello = "hi";
  EXPECT_EQ(
      std::get<0>(senet::test::run(ctx_, senet::net::async_send(pair_.client, senet::buffer(hello))).value()),
      2U);
  int success = 0;
  int failure = 0;
  auto sender = async::read(pair_.server, senet::buffer(data)) |
                then([&](std::size_t n) noexcept { success += static_cast<int>(n); }) |
                upon_error([&](error_code const&) noexcept { ++failure; });
  ASSERT_TRUE(senet::test::run(ctx_, std::move(sender)).has_value());
  EXPECT_EQ(success, 2);
  EXPECT_EQ(failure, 0);
  EXPECT_EQ(std::string(data.data(), 2), "hi");

  ip::tcp::socket closed;
  auto failing = async::read(closed, senet::buffer(data)) | then([&](std::size_t) noexcept { ++success; }) |
                 upon_error([&](error_code const& ec) noexcept {
                   EXPECT_EQ(ec, std::errc::bad_file_descriptor);
                   ++failure;
                 });
  ASSERT_TRUE(senet::test::run(ctx_, std::move(failing)).has_value());
  EXPECT_EQ(failure, 1);
  EXPECT_EQ(success, 2);
}

// §3.3: non-member operations composed with pipes.
TEST_F(p2762_samples, non_member_operations_in_a_pipe) {
  std::array<char, 8> buffer{};
  std::string x = "x";
  EXPECT_EQ(
      std::get<0>(senet::test::run(ctx_, senet::net::async_send(pair_.client, senet::buffer(x))).value()),
      1U);
  auto sender = async::read(pair_.server, senet::buffer(buffer)) |
                then([](auto&&... results) { return sizeof...(results); });
  auto r = senet::test::run(ctx_, std::move(sender));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 1U);
  EXPECT_EQ(buffer[0], 'x');
}

// §3.5: a timer as just a sender, and a timer object.
TEST_F(p2762_samples, timer_as_a_sender_or_an_object) {
  auto sch = ctx_.get_scheduler();
  auto start = sch.now();
  auto sender = wait_for(5ms);
  ASSERT_TRUE(senet::test::run(ctx_, std::move(sender)).has_value());
  EXPECT_GE(sch.now() - start, 5ms);
  senet::net::timer timer(ctx_.get_scheduler());
  start = sch.now();
  ASSERT_TRUE(senet::test::run(ctx_, wait_for(timer, 5ms)).has_value());
  EXPECT_GE(sch.now() - start, 5ms);
}

}  // namespace
