// SPDX-License-Identifier: BSL-1.0
// Compile test: this file only has to compile (tests/CMakeLists.txt builds
// every file here as part of the tests). net::timeout is a sender in an
// environment with an io scheduler and a stop token, and adds
// set_error(error_code) (timed_out) to its child's completions.
#include <senet/net/timeout.hpp>

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <support/test_env.hpp>

#include <chrono>
#include <utility>

namespace {

namespace ex = senet::ex;
namespace test = senet::test;

using env =
    decltype(test::make_env(test::scheduler_entry(std::declval<senet::io::io_context&>().get_scheduler()),
                            test::stop_token_entry(ex::inplace_stop_token{})));
using sndr = decltype(senet::net::timeout(ex::just(1), std::chrono::seconds(1)));

static_assert(ex::sender_in<sndr, env>);

}  // namespace
