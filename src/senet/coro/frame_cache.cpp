// SPDX-License-Identifier: BSL-1.0
#include <senet/coro/detail/frame_cache.hpp>

#include <cstddef>
#include <new>

namespace senet::coro::detail {

namespace {

constexpr std::size_t granule = 64;
constexpr std::size_t classes = 64;  // frames up to 4 KiB
constexpr std::size_t depth = 16;    // frames kept per class and thread

struct frame_cache {
  void* slots[classes][depth];
  std::size_t count[classes];

  ~frame_cache();
};

thread_local constinit bool cache_gone = false;
thread_local frame_cache cache{};

frame_cache::~frame_cache() {
  // A frame freed after this (by another thread-local's destructor) goes to operator delete.
  cache_gone = true;
  for (std::size_t k = 0; k < classes; ++k) {
    while (count[k] != 0) {
      ::operator delete(slots[k][--count[k]]);
    }
  }
}

// The size class of a frame of `size` bytes, or `classes` for one too large to cache.
constexpr std::size_t size_class(std::size_t size) noexcept {
  const std::size_t k = (size + granule - 1) / granule;
  return k == 0 ? 0 : (k <= classes ? k - 1 : classes);
}

}  // namespace

void* allocate_task_frame(std::size_t size) {
  const std::size_t k = size_class(size);
  if (k == classes) {
    return ::operator new(size);
  }
  if (!cache_gone && cache.count[k] != 0) {
    return cache.slots[k][--cache.count[k]];
  }
  return ::operator new((k + 1) * granule);
}

void free_task_frame(void* frame, std::size_t size) noexcept {
  const std::size_t k = size_class(size);
  if (k == classes) {
    ::operator delete(frame);
    return;
  }
  if (!cache_gone && cache.count[k] < depth) {
    cache.slots[k][cache.count[k]++] = frame;
    return;
  }
  ::operator delete(frame);
}

}  // namespace senet::coro::detail
