// SPDX-License-Identifier: BSL-1.0
// senet-test-labels: threaded
// coro::net::dns::resolver (libcoro 0.15's), on both execution strategies: names of this machine
// (/etc/hosts) and numeric addresses, names that fail, many lookups at once from several threads,
// shutdown, a connect to what a lookup found, the null executor. No lookup leaves the machine:
// "localhost" is in /etc/hosts, and a name whose label is longer than 63 bytes is refused by the
// system's resolver before it asks anyone. (The time limit is not tested: no lookup here is slow.)
#include <senet/coro.hpp>
#include <senet/error.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

namespace coro = senet::coro;
namespace dns = senet::coro::net::dns;
using namespace std::chrono_literals;
using coro::net::domain_t;
using coro::net::ip_address;
using scheduler_ptr = std::shared_ptr<coro::io_scheduler>;

scheduler_ptr make_scheduler(bool on_pool) {
  if (on_pool) {
    return coro::io_scheduler::make_shared(
        coro::io_scheduler::options{.pool = coro::thread_pool::options{.thread_count = 2}});
  }
  return coro::io_scheduler::make_shared(coro::io_scheduler::options{
      .execution_strategy = coro::io_scheduler::execution_strategy_t::process_tasks_inline});
}

// A name the system's resolver refuses without asking a server: a label over 63 bytes.
const std::string unresolvable = std::string(70, 'a') + ".invalid";

std::unique_ptr<dns::result<coro::io_scheduler>> lookup(const scheduler_ptr& scheduler,
                                                        dns::resolver<coro::io_scheduler>& resolver,
                                                        std::string name) {
  auto task = [](scheduler_ptr s, dns::resolver<coro::io_scheduler>& r,
                 coro::net::hostname hn) -> coro::task<std::unique_ptr<dns::result<coro::io_scheduler>>> {
    co_await s->schedule();
    co_return co_await r.host_by_name(hn);
  };
  return coro::sync_wait(task(scheduler, resolver, coro::net::hostname{std::move(name)}));
}

class dns_resolver : public ::testing::TestWithParam<bool> {};

INSTANTIATE_TEST_SUITE_P(strategies, dns_resolver, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "thread_pool" : "inline");
                         });

// libcoro's own test (test/net/test_dns_resolver.cpp; its co_await std::move(...) of the task, which
// clang calls a pessimizing move, dropped), on a name of this machine instead of
// www.example.com, whose lookup would leave the machine.
TEST_P(dns_resolver, libcoros_test_on_localhost) {
  auto scheduler = make_scheduler(GetParam());
  dns::resolver<coro::io_scheduler> dns_resolver{scheduler, std::chrono::milliseconds{5000}};
  auto make_host_by_name_task = [](std::shared_ptr<coro::io_scheduler> scheduler,
                                   dns::resolver<coro::io_scheduler>& dns_resolver,
                                   coro::net::hostname hn) -> coro::task<std::vector<std::string>> {
    co_await scheduler->schedule();
    auto result_ptr = co_await dns_resolver.host_by_name(hn);
    std::vector<std::string> seen;
    if (result_ptr->status() == dns::status::complete) {
      for (const auto& ip_addr : result_ptr->ip_addresses()) {
        seen.push_back(coro::net::to_string(ip_addr.domain()) + " " + ip_addr.to_string());
      }
    }
    co_return seen;
  };
  auto seen =
      coro::sync_wait(make_host_by_name_task(scheduler, dns_resolver, coro::net::hostname{"localhost"}));
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front(), "ipv4 127.0.0.1");
  scheduler->shutdown();
  EXPECT_TRUE(scheduler->empty());
}

TEST_P(dns_resolver, numeric_addresses_resolve_to_themselves) {
  auto scheduler = make_scheduler(GetParam());
  dns::resolver<coro::io_scheduler> resolver{scheduler, 5s};
  auto v4 = lookup(scheduler, resolver, "192.0.2.7");
  ASSERT_EQ(v4->status(), dns::status::complete) << v4->error().message();
  ASSERT_EQ(v4->ip_addresses().size(), 1u);
  EXPECT_EQ(v4->ip_addresses()[0], ip_address::from_string("192.0.2.7"));
  EXPECT_FALSE(v4->error());
  auto v6 = lookup(scheduler, resolver, "2001:db8::5");
  ASSERT_EQ(v6->status(), dns::status::complete) << v6->error().message();
  ASSERT_EQ(v6->ip_addresses().size(), 1u);
  EXPECT_EQ(v6->ip_addresses()[0], ip_address::from_string("2001:db8::5", domain_t::ipv6));
  scheduler->shutdown();
}

TEST_P(dns_resolver, names_without_an_address_are_errors) {
  auto scheduler = make_scheduler(GetParam());
  dns::resolver<coro::io_scheduler> resolver{scheduler, 5s};
  auto bad = lookup(scheduler, resolver, unresolvable);
  EXPECT_EQ(bad->status(), dns::status::error);
  EXPECT_TRUE(bad->ip_addresses().empty());
  EXPECT_EQ(bad->error(), senet::error::host_not_found) << bad->error().message();
  // The empty name is not the loopback address (as getaddrinfo would have it), but no name.
  auto empty = lookup(scheduler, resolver, "");
  EXPECT_EQ(empty->status(), dns::status::error);
  EXPECT_TRUE(empty->ip_addresses().empty());
  EXPECT_EQ(empty->error(), senet::error::host_not_found);
  // The resolver goes on working.
  EXPECT_EQ(lookup(scheduler, resolver, "127.0.0.1")->status(), dns::status::complete);
  scheduler->shutdown();
  EXPECT_TRUE(scheduler->empty());
}

TEST_P(dns_resolver, many_lookups_at_once_from_several_threads) {
  auto scheduler = make_scheduler(GetParam());
  dns::resolver<coro::io_scheduler> resolver{scheduler, 5s};
  constexpr int threads = 4;
  constexpr int per_thread = 25;
  std::atomic<int> complete{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      auto many = [](scheduler_ptr s, dns::resolver<coro::io_scheduler>& r, int t, std::atomic<int>& complete,
                     std::atomic<int>& failed) -> coro::task<void> {
        co_await s->schedule();
        std::vector<coro::task<std::unique_ptr<dns::result<coro::io_scheduler>>>> lookups;
        for (int i = 0; i < per_thread; ++i) {
          lookups.push_back(r.host_by_name(
              coro::net::hostname{i % 5 == 4   ? unresolvable
                                  : i % 2 == 0 ? "localhost"
                                               : "10.0." + std::to_string(t) + "." + std::to_string(i)}));
        }
        for (auto& l : co_await coro::when_all(std::move(lookups))) {
          auto& r = l.return_value();
          (r->status() == dns::status::complete ? complete : failed)++;
        }
      };
      coro::sync_wait(many(scheduler, resolver, t, complete, failed));
    });
  }
  for (auto& t : ts) {
    t.join();
  }
  EXPECT_EQ(complete.load(), threads * per_thread * 4 / 5);
  EXPECT_EQ(failed.load(), threads * per_thread / 5);
  scheduler->shutdown();
  EXPECT_TRUE(scheduler->empty());
}

TEST_P(dns_resolver, a_lookup_after_shutdown_is_an_error) {
  auto scheduler = make_scheduler(GetParam());
  dns::resolver<coro::io_scheduler> resolver{scheduler, 5s};
  scheduler->shutdown();
  auto r = coro::sync_wait(resolver.host_by_name(coro::net::hostname{"localhost"}));
  EXPECT_EQ(r->status(), dns::status::error);
  EXPECT_TRUE(r->ip_addresses().empty());
  EXPECT_EQ(r->error(), std::errc::operation_canceled) << r->error().message();
}

// docs/guide.md §12: a lookup, then a client connected to the first address found.
TEST_P(dns_resolver, the_guides_lookup_then_a_connect_to_what_it_found) {
  auto scheduler = make_scheduler(GetParam());
  coro::net::tcp::server server{scheduler,
                                {.address = ip_address::from_string("127.0.0.1"), .port = 0, .backlog = 16}};
  ::sockaddr_in sin{};
  ::socklen_t len = sizeof(sin);
  ASSERT_EQ(::getsockname(server.socket().native_handle(), reinterpret_cast<::sockaddr*>(&sin), &len), 0);
  const std::uint16_t port = ntohs(sin.sin_port);
  auto client_task = [](scheduler_ptr scheduler,
                        std::uint16_t port) -> coro::task<coro::net::connect_status> {
    co_await scheduler->schedule();
    coro::net::dns::resolver<coro::io_scheduler> dns{scheduler, std::chrono::milliseconds{5000}};
    auto r = co_await dns.host_by_name(coro::net::hostname{"localhost"});
    if (r->status() != coro::net::dns::status::complete) {
      co_return coro::net::connect_status::error;
    }
    coro::net::tcp::client client{scheduler, {.address = r->ip_addresses().front(), .port = port}};
    co_return co_await client.connect(5s);
  };
  EXPECT_EQ(coro::sync_wait(client_task(scheduler, port)), coro::net::connect_status::connected);
  scheduler->shutdown();
  EXPECT_TRUE(scheduler->empty());
}

// The task keeps what it needs: the resolver (and the hostname) may be gone before it runs.
// (It read the resolver's members when first resumed: AddressSanitizer saw a stack-use-after-scope
// and, for a resolver on the heap, a heap-use-after-free.)
TEST_P(dns_resolver, a_lookup_outlives_its_resolver) {
  auto scheduler = make_scheduler(GetParam());
  auto task = dns::resolver<coro::io_scheduler>(scheduler, 5s).host_by_name(coro::net::hostname{"localhost"});
  auto r = coro::sync_wait(std::move(task));
  EXPECT_EQ(r->status(), dns::status::complete) << r->error().message();
  auto resolver = std::make_unique<dns::resolver<coro::io_scheduler>>(scheduler, 5s);
  std::vector<coro::task<std::unique_ptr<dns::result<coro::io_scheduler>>>> lookups;
  for (int i = 0; i < 8; ++i) {
    lookups.push_back(resolver->host_by_name(coro::net::hostname{"127.0.0." + std::to_string(i + 1)}));
  }
  resolver.reset();
  int complete = 0;
  for (auto& l : coro::sync_wait(coro::when_all(std::move(lookups)))) {
    complete += l.return_value()->status() == dns::status::complete ? 1 : 0;
  }
  EXPECT_EQ(complete, 8);
  scheduler->shutdown();
  EXPECT_TRUE(scheduler->empty());
}

TEST(dns_resolver_construction, a_null_executor_throws_as_in_libcoro) {
  EXPECT_THROW(dns::resolver<coro::io_scheduler>(nullptr, 1s), std::runtime_error);
}

}  // namespace
