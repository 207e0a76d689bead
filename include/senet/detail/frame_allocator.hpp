// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_DETAIL_FRAME_ALLOCATOR_HPP
#define SENET_DETAIL_FRAME_ALLOCATOR_HPP

/* How senet::task allocates its coroutine frames.

   A frame is allocated when the coroutine function is called, before the task is connected to a
   receiver, so the environment's allocator cannot be passed to it. Instead, while the body of a
   task whose environment has an allocator runs, `current_frame_allocator` points at that
   allocator (type-erased), and the frames of the tasks it creates come from it.

   Each frame carries, after its `size` bytes, the function that frees it and a copy of the
   allocator that allocated it: a frame may outlive the task (or the environment) whose allocator
   made it, and is freed correctly wherever it is destroyed. */

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace senet::detail {

/** A type-erased allocator of coroutine frames. */
struct frame_allocator {
  void* (*allocate_)(const frame_allocator& self, std::size_t size);

  [[nodiscard]] void* allocate(std::size_t size) const { return allocate_(*this, size); }
};

/** The allocator for the frames of tasks created on this thread now: that of the environment of
    the task whose body is running, or null (`::operator new`). Set and cleared by the task's
    awaiters; never left set while no task body runs. */
inline thread_local const frame_allocator* current_frame_allocator = nullptr;

using frame_free_fn = void (*)(void* frame, std::size_t size) noexcept;

inline constexpr std::size_t frame_tail_align = alignof(std::max_align_t);

/** Where the tail (free function, allocator copy) of a frame of `size` bytes starts. */
[[nodiscard]] constexpr std::size_t frame_tail_offset(std::size_t size) noexcept {
  return (size + frame_tail_align - 1) & ~(frame_tail_align - 1);
}

inline void free_default_frame(void* frame, std::size_t size) noexcept {
  (void)size;
  ::operator delete(frame);
}

/** A frame from `::operator new`. */
[[nodiscard]] inline void* allocate_default_frame(std::size_t size) {
  void* p = ::operator new(frame_tail_offset(size) + sizeof(frame_free_fn));
  frame_free_fn f = &free_default_frame;
  std::memcpy(static_cast<char*>(p) + frame_tail_offset(size), &f, sizeof f);
  return p;
}

/** A frame from `current_frame_allocator`, else `::operator new`. */
[[nodiscard]] inline void* allocate_frame(std::size_t size) {
  if (const frame_allocator* a = current_frame_allocator) {
    return a->allocate(size);
  }
  return allocate_default_frame(size);
}

/** Frees a frame allocated by `allocate_frame` or a `frame_allocator`. */
inline void free_frame(void* frame, std::size_t size) noexcept {
  frame_free_fn f;
  std::memcpy(&f, static_cast<char*>(frame) + frame_tail_offset(size), sizeof f);
  f(frame, size);
}

/** `Alloc` (any allocator; rebound to `std::byte`) as a `frame_allocator`. The allocator must
    return storage aligned for any object (`std::allocator` does). */
template <class Alloc>
class frame_allocator_of final : public frame_allocator {
 public:
  using byte_allocator = typename std::allocator_traits<Alloc>::template rebind_alloc<std::byte>;
  using traits = std::allocator_traits<byte_allocator>;

  explicit frame_allocator_of(const Alloc& alloc) noexcept
      : frame_allocator{&frame_allocator_of::allocate_impl}, alloc_(alloc) {}

 private:
  static_assert(alignof(byte_allocator) <= frame_tail_align, "senet::task: over-aligned allocator");
  static constexpr std::size_t state_offset = frame_tail_align;  // after the free function

  [[nodiscard]] static constexpr std::size_t total(std::size_t size) noexcept {
    return frame_tail_offset(size) + state_offset + sizeof(byte_allocator);
  }

  static void* allocate_impl(const frame_allocator& self, std::size_t size) {
    byte_allocator a(static_cast<const frame_allocator_of&>(self).alloc_);
    std::byte* p = traits::allocate(a, total(size));
    char* tail = reinterpret_cast<char*>(p) + frame_tail_offset(size);
    frame_free_fn f = &free_impl;
    std::memcpy(tail, &f, sizeof f);
    ::new (static_cast<void*>(tail + state_offset)) byte_allocator(std::move(a));
    return p;
  }

  static void free_impl(void* frame, std::size_t size) noexcept {
    char* tail = static_cast<char*>(frame) + frame_tail_offset(size);
    auto* stored = std::launder(reinterpret_cast<byte_allocator*>(tail + state_offset));
    byte_allocator a(std::move(*stored));
    stored->~byte_allocator();
    traits::deallocate(a, static_cast<std::byte*>(frame), total(size));
  }

  byte_allocator alloc_;
};

}  // namespace senet::detail

#endif  // SENET_DETAIL_FRAME_ALLOCATOR_HPP
