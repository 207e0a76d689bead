// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_OPERATION_RECORD_HPP
#define SENET_TEST_SUPPORT_OPERATION_RECORD_HPP

/* Raw operation records for the backend tests, which drive a backend directly through the core's
   records (io/detail/operation.hpp) rather than through senders: a record that counts its
   completions and keeps the last result, a receive/send record with its own buffer, and the
   calls that start, cancel and run them as the context's thread would. Every wait is bounded
   (support/deadline.hpp). */

#include <senet/io/detail/descriptor.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/io_context.hpp>
#include <support/deadline.hpp>
#include <support/run.hpp>

#include <gtest/gtest.h>

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>

namespace senet::test {

/** An operation record that counts its completions and remembers the last result (a record may
    be restarted, so a second completion is not an error here: tests compare `completions`). */
struct record : io::detail::io_operation {
  int completions = 0;
  std::int64_t result = 0;

  record() noexcept { complete_ = &record::on_complete; }

  static void on_complete(io::detail::io_operation* op) noexcept {
    auto& self = static_cast<record&>(*op);
    ++self.completions;
    self.result = self.result_;
  }
};

/** A receive or send of up to N bytes through one iovec. */
template <std::size_t N>
struct transfer_record : record {
  std::array<char, N> data{};
  ::iovec iov{};

  void prepare(io::detail::op_code code, io::detail::descriptor& d, std::size_t size = N) noexcept {
    iov = {data.data(), size};
    msg_ = {};
    msg_.msg_iov = &iov;
    msg_.msg_iovlen = 1;
    code_ = code;
    descriptor_ = &d;
    flags_ = 0;
  }
};

/** Starts `r` as the context's thread would (the test thread stands in for it while no thread runs
    the context); fails the test if it completed at once. */
inline void start_pending(io::io_context& ctx, io::detail::io_operation& r) {
  io::detail::context_scope scope(ctx);
  ASSERT_FALSE(io::detail::start_operation(ctx, r)) << "completed inline with " << r.result_;
}

/** Starts `r` and expects it to complete inside start_operation (a send tried first, a receive
    whose descriptor asks for it); delivers it there, as an operation state does. */
inline void start_at_once(io::io_context& ctx, io::detail::io_operation& r) {
  io::detail::context_scope scope(ctx);
  ASSERT_TRUE(io::detail::start_operation(ctx, r)) << "did not complete at once";
  r.complete_(&r);
}

/** Asks the backend to cancel `r`, as the context's thread would. */
inline void cancel_record(io::io_context& ctx, io::detail::io_operation& r) {
  io::detail::context_scope scope(ctx);
  io::detail::request_cancel(ctx, r);
}

/** Turns the loop until `done()` (senet::test::turn_until, support/run.hpp: within `limit`, and
    failing the test if the context runs out of work first). Returns `done()`. */
template <class Pred>
bool run_records_until(io::io_context& ctx, Pred done,
                       std::chrono::steady_clock::duration limit = wait_limit) {
  return turn_until(ctx, done, "run_records_until", limit);
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_OPERATION_RECORD_HPP
