// SPDX-License-Identifier: BSL-1.0
// The header is self-contained, and file_source is a read_source.
#include <senet/stream/file_source.hpp>

#include <senet/stream/read_source.hpp>

static_assert(senet::stream::read_source<senet::stream::file_source>);
