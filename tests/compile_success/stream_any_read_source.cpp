// SPDX-License-Identifier: BSL-1.0
// The header is self-contained; any_read_source is a read_source, and is neither copyable nor made
// from itself.
#include <senet/stream/any_read_source.hpp>

#include <type_traits>

static_assert(senet::stream::read_source<senet::stream::any_read_source>);
static_assert(!std::is_copy_constructible_v<senet::stream::any_read_source>);
static_assert(std::is_nothrow_move_constructible_v<senet::stream::any_read_source>);
