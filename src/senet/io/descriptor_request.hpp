// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_DESCRIPTOR_REQUEST_HPP
#define SENET_IO_DESCRIPTOR_REQUEST_HPP

/* How release_descriptor / cancel_descriptor (src/senet/io/descriptor.cpp) reach the io core that
   registered a descriptor, from any thread. docs/design/io_core.md, "Threads". */

#include <senet/io/detail/descriptor.hpp>

namespace senet::io::detail {

class backend;

enum class descriptor_action : unsigned char {
  release,  ///< backend::release: waiting operations complete `aborted`, the state is freed
  cancel,   ///< backend::cancel_descriptor: waiting operations complete -ECANCELED
};

/** `d` has starts handed to a loop that has not taken them yet (`descriptor::on_its_way`): has
    that loop mark them abandoned (`release`) or cancelled (`cancel`), so that they complete
    without reading the socket, and gives their count back. Threads: as `run_descriptor_action`. */
void settle_handed_off_starts(descriptor& d, descriptor_action action) noexcept;

/** Performs `action` on `d`, registered with `owner` (its context_state's owner), on the thread of
    the context that owns `owner`: at once when called there (or when no thread runs the context:
    the caller takes the runner's role meanwhile), otherwise handed over and waited for. */
void run_descriptor_action(backend& owner, descriptor& d, descriptor_action action) noexcept;

}  // namespace senet::io::detail

#endif  // SENET_IO_DESCRIPTOR_REQUEST_HPP
