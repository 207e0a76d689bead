// SPDX-License-Identifier: BSL-1.0
// Compile test: this file only has to compile (tests/CMakeLists.txt builds
// every file here as part of the tests). net::io_context is the io_context of
// senet::io, and its scheduler a P2300 scheduler.
#include <senet/net/io_context.hpp>

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>

#include <type_traits>

static_assert(std::is_same_v<senet::net::io_context, senet::io::io_context>);
static_assert(std::is_same_v<senet::net::io_context::scheduler_type, senet::io::io_context::scheduler_type>);
static_assert(senet::ex::scheduler<senet::io::io_context::scheduler_type>);
