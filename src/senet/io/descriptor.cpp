// SPDX-License-Identifier: BSL-1.0
#include <senet/io/detail/descriptor.hpp>

#include "senet/backend/backend.hpp"

namespace senet::io::detail {

void release_descriptor(descriptor& d) noexcept {
  auto* state = static_cast<descriptor_state*>(d.context_state);
  if (state == nullptr) {
    return;
  }
  if (state->owner != nullptr) {
    state->owner->release(d);
  } else {
    // The backend that registered the descriptor is gone; the state outlived it for this call.
    state->destroy(state);
  }
  d.context_state = nullptr;
}

}  // namespace senet::io::detail
