// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_DETAIL_BUFFER_ARCHETYPES_HPP
#define SENET_STREAM_DETAIL_BUFFER_ARCHETYPES_HPP

/* The buffer sequences a stream concept passes to the operations it checks: a single buffer and a
   range of buffers, the two shapes every stream operation must accept. */

#include <senet/buffer.hpp>

#include <span>

namespace senet::stream::detail {

using const_buffer_archetype = senet::const_buffer;
using const_buffers_archetype = std::span<const senet::const_buffer>;
using mutable_buffer_archetype = senet::mutable_buffer;
using mutable_buffers_archetype = std::span<const senet::mutable_buffer>;

}  // namespace senet::stream::detail

#endif  // SENET_STREAM_DETAIL_BUFFER_ARCHETYPES_HPP
