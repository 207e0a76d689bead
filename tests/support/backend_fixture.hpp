// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_BACKEND_FIXTURE_HPP
#define SENET_TEST_SUPPORT_BACKEND_FIXTURE_HPP

/* A typed-test fixture templated on the backend kind: behaviour that every backend must share is
   written once and run for each of them.

     template <class Backend> class my_test : public senet::test::backend_fixture<Backend> {};
     TYPED_TEST_SUITE(my_test, senet::test::all_backends, senet::test::backend_names);
     TYPED_TEST(my_test, does_something) { auto r = this->run(net::async_...(...)); }

   A backend that cannot be created here (io_uring refused by the kernel, a backend not built in)
   makes each of its tests GTEST_SKIP, never pass.

   `run`, `value_of` and `error_of` hold the sender to exactly one completion within
   `senet::test::wait_limit` (support/run.hpp); `tcp_pair()` connects two sockets over loopback
   (support/loopback.hpp). */

#include <senet/execution.hpp>
#include <senet/io/backend_kind.hpp>
#include <senet/io/io_context.hpp>
#include <support/loopback.hpp>
#include <support/run.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <system_error>
#include <utility>

namespace senet::test {

/** A backend kind as a type, for typed tests. */
template <io::backend_kind Kind>
struct backend_type {
  static constexpr io::backend_kind kind = Kind;
};

using epoll_backend = backend_type<io::backend_kind::epoll>;
using uring_backend = backend_type<io::backend_kind::uring>;
using test_backend = backend_type<io::backend_kind::test>;

/** Every backend, for `TYPED_TEST_SUITE`. */
using all_backends = ::testing::Types<epoll_backend, uring_backend, test_backend>;
/** The backends on real kernel sockets (for behaviour the test backend does not simulate). */
using kernel_backends = ::testing::Types<epoll_backend, uring_backend>;

/** Names typed tests after their backend ("epoll", "uring", "test"). */
struct backend_names {
  template <class Backend>
  static std::string GetName(int) {
    return std::string(io::to_string(Backend::kind));
  }
};

/** Holds an io_context on `Backend`, or skips the test when that backend is unavailable. */
template <class Backend>
class backend_fixture : public ::testing::Test {
 protected:
  static constexpr io::backend_kind kind = Backend::kind;

  void SetUp() override {
    if (!io::io_context::is_available(kind)) {
      GTEST_SKIP() << "the " << io::to_string(kind) << " backend is not available here";
    }
    ctx_.emplace(kind);
  }

  void TearDown() override { ctx_.reset(); }

  [[nodiscard]] io::io_context& ctx() noexcept { return *ctx_; }
  [[nodiscard]] io::io_context::scheduler_type scheduler() noexcept { return ctx_->get_scheduler(); }

  /** `ctx().run_until(sndr)`, with the exactly-once discipline and the deadline of
      `senet::test::run` (support/run.hpp). */
  template <class Sndr>
  auto run(Sndr&& sndr) {
    return senet::test::run(*ctx_, std::forward<Sndr>(sndr));
  }

  /** Runs `sndr` and returns its single value; fails the test if it did not complete with one
      (`senet::test::value_of`). */
  template <class Sndr>
  auto value_of(Sndr&& sndr) {
    return senet::test::value_of(*ctx_, std::forward<Sndr>(sndr));
  }

  /** Runs `sndr` and returns the `std::error_code` it completed with (empty if it completed
      otherwise, which fails the test; `senet::test::error_of`). */
  template <class Sndr>
  std::error_code error_of(Sndr&& sndr) {
    return senet::test::error_of(*ctx_, std::forward<Sndr>(sndr));
  }

  /** A TCP connection over the loopback address of `protocol`, made on this context
      (`senet::test::tcp_pair`); it holds its listener. */
  tcp_connection tcp_pair(ip::tcp protocol = ip::tcp::v4()) { return senet::test::tcp_pair(*ctx_, protocol); }

  std::optional<io::io_context> ctx_;
};

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_BACKEND_FIXTURE_HPP
