// SPDX-License-Identifier: BSL-1.0
// The header is self-contained.
#include <senet/stream/file_ownership.hpp>

static_assert(senet::stream::file_ownership::adopt != senet::stream::file_ownership::borrow);
