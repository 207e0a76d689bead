// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_SENET_HPP
#define SENET_SENET_HPP

/** `<senet/senet.hpp>`: all of senet's public headers in one include.

    Today that is the sender face (`<senet/net.hpp>`), the execution vocabulary `senet::ex`
    (`<senet/execution.hpp>`, with `ex::on`, `ex::repeat_effect_until` and `ex::repeat_effect`),
    the coroutine face (`senet::task`, the socket awaitables `net::read_some` / `write_some`, the
    stream concepts, `stream::write_now`, the sinks and sources of `<senet/stream/>` and
    `stream::relay`) and the library version (`<senet/version.hpp>`).
    The in-memory test network (`<senet/io/test_network.hpp>`) is not included: it belongs to the
    testing library that a program's tests link, not to the program.

    It only includes: each entity is documented in its own header.
*/

#include <senet/execution.hpp>
#include <senet/net.hpp>
#include <senet/net/read_some.hpp>
#include <senet/net/write_some.hpp>
#include <senet/stream/any_read_source.hpp>
#include <senet/stream/any_write_sink.hpp>
#include <senet/stream/awaitable_decomposes_to.hpp>
#include <senet/stream/buffered_writer.hpp>
#include <senet/stream/file_ownership.hpp>
#include <senet/stream/file_sink.hpp>
#include <senet/stream/file_source.hpp>
#include <senet/stream/io_awaitable.hpp>
#include <senet/stream/read_source.hpp>
#include <senet/stream/read_stream.hpp>
#include <senet/stream/relay.hpp>
#include <senet/stream/socket_sink.hpp>
#include <senet/stream/socket_source.hpp>
#include <senet/stream/write_now.hpp>
#include <senet/stream/write_sink.hpp>
#include <senet/stream/write_stream.hpp>
#include <senet/task.hpp>
#include <senet/version.hpp>

#endif  // SENET_SENET_HPP
