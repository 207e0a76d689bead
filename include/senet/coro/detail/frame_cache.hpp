// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_DETAIL_FRAME_CACHE_HPP
#define SENET_CORO_DETAIL_FRAME_CACHE_HPP

#include <cstddef>

namespace senet::coro::detail {

/** The allocation of `coro::task` frames (src/senet/coro/frame_cache.cpp): frames up to 4 KiB are
    rounded up to 64 bytes and, when freed, kept in a small cache of the freeing thread for the next
    frame of that size class, so that the tasks libcoro's API makes per operation (`poll`,
    `schedule_after`...) cost no allocation on the steady path. Larger frames, and frames freed while
    the thread's cache is full, go to `::operator new` / `::operator delete`. */
[[nodiscard]] void* allocate_task_frame(std::size_t size);

/** Frees (or caches) a frame that `allocate_task_frame(size)` returned. */
void free_task_frame(void* frame, std::size_t size) noexcept;

}  // namespace senet::coro::detail

#endif  // SENET_CORO_DETAIL_FRAME_CACHE_HPP
