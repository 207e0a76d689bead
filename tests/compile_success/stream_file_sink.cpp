// SPDX-License-Identifier: BSL-1.0
// The header is self-contained, and file_sink is a write_sink.
#include <senet/stream/file_sink.hpp>

#include <senet/stream/write_sink.hpp>

static_assert(senet::stream::write_sink<senet::stream::file_sink>);
