// SPDX-License-Identifier: BSL-1.0
// Compile test: this file only has to compile (tests/CMakeLists.txt builds
// every file here as part of the tests). The completion signatures the headers
// promise (P2762 §3.2), checked where the compiler checks them rather than in
// run-time tests that could not fail.
#include <senet/net/async_connect.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_write_some.hpp>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/net/message_flags.hpp>
#include <senet/net/sockets.hpp>

#include <cstddef>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

namespace ex = senet::ex;
namespace ip = senet::ip;
namespace net = senet::net;

template <class... Values>
using io_signatures = ex::completion_signatures<ex::set_value_t(Values...), ex::set_error_t(std::error_code),
                                                ex::set_stopped_t()>;

using tcp_socket = ip::tcp::socket;
using endpoint_vector = std::vector<ip::tcp::endpoint>;

// net::async_connect(socket, endpoint): value(), error(error_code), stopped().
static_assert(std::is_same_v<typename decltype(net::async_connect(
                                 std::declval<tcp_socket&>(), ip::tcp::endpoint()))::completion_signatures,
                             io_signatures<>>);

// net::async_connect(socket, endpoints): value(the endpoint connected to).
static_assert(
    std::is_same_v<typename decltype(net::async_connect(
                       std::declval<tcp_socket&>(), std::declval<endpoint_vector&>()))::completion_signatures,
                   io_signatures<ip::tcp::endpoint>>);

// net::async_send(socket, buffers) and with flags: value(bytes sent).
static_assert(std::is_same_v<
              typename decltype(net::async_send(std::declval<tcp_socket&>(),
                                                std::declval<senet::const_buffer>()))::completion_signatures,
              io_signatures<std::size_t>>);
static_assert(
    ex::sender<decltype(net::async_send(std::declval<tcp_socket&>(), net::message_flags::do_not_route,
                                        std::declval<senet::const_buffer>()))>);

// net::async_write_some(socket, buffers) is async_send on a socket: value(bytes
// written).
static_assert(std::is_same_v<typename decltype(net::async_write_some(
                                 std::declval<tcp_socket&>(),
                                 std::declval<senet::const_buffer>()))::completion_signatures,
                             io_signatures<std::size_t>>);

}  // namespace
