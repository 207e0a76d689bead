// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_FILE_OWNERSHIP_HPP
#define SENET_STREAM_FILE_OWNERSHIP_HPP

namespace senet::stream {

/** Whether a `file_sink` or `file_source` made from a descriptor closes it.

    - `adopt`: the object owns the descriptor and closes it when destroyed (or on `close()`).
    - `borrow`: the caller keeps the descriptor open for the object's life and closes it itself.
*/
enum class file_ownership { adopt, borrow };

}  // namespace senet::stream

#endif  // SENET_STREAM_FILE_OWNERSHIP_HPP
