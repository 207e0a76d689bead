// SPDX-License-Identifier: BSL-1.0
#include <senet/io/detail/descriptor.hpp>

#include "senet/backend/backend.hpp"
#include "senet/io/descriptor_request.hpp"

namespace senet::io::detail {

namespace {

void on_descriptor(descriptor& d, descriptor_action action) noexcept {
  // Starts on their way to a loop read the socket when the loop takes them: that loop marks them
  // first, whether or not the descriptor is registered yet.
  if (d.on_its_way.count() != 0) [[unlikely]] {
    settle_handed_off_starts(d, action);
  }
  // Null: never registered (the common case for a socket that only ever completed at once or
  // was never used), or already released.
  auto* state = static_cast<descriptor_state*>(d.context_state);
  if (state == nullptr) {
    return;
  }
  if (state->owner == nullptr) {
    // The backend that registered the descriptor is gone; the state outlived it for this call.
    if (action == descriptor_action::release) {
      state->destroy(state);
      d.context_state = nullptr;
    }
    return;
  }
  run_descriptor_action(*state->owner, d, action);
}

}  // namespace

void release_descriptor(descriptor& d) noexcept {
  on_descriptor(d, descriptor_action::release);
}

void cancel_descriptor(descriptor& d) noexcept {
  on_descriptor(d, descriptor_action::cancel);
}

}  // namespace senet::io::detail
