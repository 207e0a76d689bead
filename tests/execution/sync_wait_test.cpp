// SPDX-License-Identifier: BSL-1.0
// [exec.sync.wait]: sync_wait.
#include <senet/execution.hpp>

#include <support/channel_sender.hpp>

#include <gtest/gtest.h>

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <type_traits>

namespace {

namespace ex = senet::ex;
namespace t = senet::test;

auto const reset = std::make_error_code(std::errc::connection_reset);

TEST(sync_wait, returns_the_values) {
  auto result = ex::sync_wait(ex::just(1, std::string{"two"}));
  static_assert(std::is_same_v<decltype(result), std::optional<std::tuple<int, std::string>>>);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(std::make_tuple(1, std::string{"two"}), *result);
}

TEST(sync_wait, returns_an_empty_tuple_for_no_values) {
  auto result = ex::sync_wait(ex::just());
  static_assert(std::is_same_v<decltype(result), std::optional<std::tuple<>>>);
  EXPECT_TRUE(result.has_value());
}

TEST(sync_wait, returns_nullopt_when_stopped) {
  auto result = ex::sync_wait(t::channel_sender<int>::stopped());
  static_assert(std::is_same_v<decltype(result), std::optional<std::tuple<int>>>);
  EXPECT_FALSE(result.has_value());
}

TEST(sync_wait, throws_an_error_code_as_system_error_with_that_code) {
  try {
    ex::sync_wait(t::channel_sender<int>::error(reset));
    ADD_FAILURE() << "sync_wait did not throw";
  } catch (std::system_error const& e) {
    EXPECT_EQ(reset, e.code());
  }
}

struct custom_error {
  int id;
};

TEST(sync_wait, rethrows_an_exception_ptr_as_itself) {
  auto const eptr = std::make_exception_ptr(custom_error{42});
  try {
    ex::sync_wait(t::basic_channel_sender<std::exception_ptr, int>::error(eptr));
    ADD_FAILURE() << "sync_wait did not throw";
  } catch (custom_error const& e) {
    EXPECT_EQ(42, e.id);
    EXPECT_TRUE(std::current_exception() == eptr) << "sync_wait threw a copy, not the exception itself";
  }
}

TEST(sync_wait, rethrows_an_exception_from_the_work) {
  EXPECT_THROW(ex::sync_wait(ex::just() | ex::then([]() -> int { throw std::logic_error{"work"}; })),
               std::logic_error);
}

TEST(sync_wait, throws_another_error_type_as_itself) {
  try {
    ex::sync_wait(t::basic_channel_sender<custom_error>::error(custom_error{7}));
    ADD_FAILURE() << "sync_wait did not throw";
  } catch (custom_error const& e) {
    EXPECT_EQ(7, e.id);
  }
}

TEST(sync_wait, runs_work_scheduled_on_its_own_run_loop_on_the_calling_thread) {
  auto const caller = std::this_thread::get_id();
  auto result =
      ex::sync_wait(ex::read_env(ex::get_scheduler) | ex::let_value([](auto sch) {
                      return ex::schedule(sch) | ex::then([] { return std::this_thread::get_id(); });
                    }));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(caller, std::get<0>(*result));
}

TEST(sync_wait, waits_for_work_completed_by_a_run_loop_on_another_thread) {
  ex::run_loop loop;
  std::thread driver{[&] { loop.run(); }};
  auto const driver_id = driver.get_id();
  auto result = ex::sync_wait(ex::starts_on(
      loop.get_scheduler(),
      ex::just(3) | ex::then([](int x) { return std::make_pair(x, std::this_thread::get_id()); })));
  loop.finish();
  driver.join();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(3, std::get<0>(*result).first);
  EXPECT_EQ(driver_id, std::get<0>(*result).second);
}

TEST(sync_wait, work_on_another_thread_then_back_on_the_callers_loop) {
  ex::run_loop loop;
  std::thread driver{[&] { loop.run(); }};
  auto const caller = std::this_thread::get_id();
  auto sndr = ex::read_env(ex::get_scheduler) | ex::let_value([&](auto own) {
                return ex::starts_on(loop.get_scheduler(), ex::just()) | ex::continues_on(own) |
                       ex::then([] { return std::this_thread::get_id(); });
              });
  auto result = ex::sync_wait(std::move(sndr));
  loop.finish();
  driver.join();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(caller, std::get<0>(*result));
}

TEST(sync_wait, environment_has_no_stoppable_token) {
  auto result = ex::sync_wait(ex::read_env(ex::get_stop_token) |
                              ex::then([](auto token) { return token.stop_possible(); }));
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(std::get<0>(*result));
}

int referenced = 3;

TEST(sync_wait, decays_reference_values) {
  auto result = ex::sync_wait(ex::just() | ex::then([]() noexcept -> int& { return referenced; }));
  static_assert(std::is_same_v<decltype(result), std::optional<std::tuple<int>>>);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(3, std::get<0>(*result));
}

}  // namespace
