// SPDX-License-Identifier: BSL-1.0
// Replaced global allocation functions that count the allocations of each thread, and the
// allocation_scope that reads those counts. The replacements live in the same object file as
// allocation_scope, and every test executable references operator new, so the linker always takes
// them from the test support library before the C++ runtime's (a shared library).
#include <support/allocation_counter.hpp>

#include <cstdlib>
#include <new>

// Clang links its ThreadSanitizer runtime statically, with its own operator new and delete, so they
// cannot be replaced there; that runtime counts through its allocation hooks instead, which see every
// allocation of the program (operator new and malloc alike).
#if defined(__clang__) && defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SENET_TEST_COUNT_WITH_SANITIZER_HOOKS 1
#endif
#endif
#ifndef SENET_TEST_COUNT_WITH_SANITIZER_HOOKS
#define SENET_TEST_COUNT_WITH_SANITIZER_HOOKS 0
#endif

#if SENET_TEST_COUNT_WITH_SANITIZER_HOOKS
#include <sanitizer/allocator_interface.h>
#endif

namespace {

// Plain thread_local integers: no dynamic initialisation or destruction, so they are safe to touch
// from operator new at any point of a thread's life, including during thread start and exit.
thread_local std::size_t allocation_count = 0;
thread_local std::size_t allocation_bytes = 0;
thread_local std::size_t allocation_chunk_bytes = 0;
thread_local std::size_t deallocation_count = 0;

// What glibc's malloc takes for a request of `size` bytes: an 8-byte header, rounded up to 16, at
// least 32 (x86-64).
constexpr std::size_t chunk_size(std::size_t size) noexcept {
  std::size_t chunk = (size + 8 + 15) & ~std::size_t{15};
  return chunk < 32 ? 32 : chunk;
}

#if SENET_TEST_COUNT_WITH_SANITIZER_HOOKS

void count_allocation(const volatile void*, std::size_t size) {
  ++allocation_count;
  allocation_bytes += size;
  allocation_chunk_bytes += chunk_size(size);
}

void count_deallocation(const volatile void*) {
  ++deallocation_count;
}

[[maybe_unused]] int const hooks_installed =
    __sanitizer_install_malloc_and_free_hooks(&count_allocation, &count_deallocation);

#else

void* allocate(std::size_t size, std::size_t alignment) noexcept {
  ++allocation_count;
  allocation_bytes += size;
  allocation_chunk_bytes += chunk_size(size);
  if (size == 0) {
    size = 1;  // operator new must return a distinct non-null pointer for size 0.
  }
  if (alignment <= alignof(std::max_align_t)) {
    return std::malloc(size);
  }
  void* p = nullptr;
  return ::posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
}

// operator new must retry through the installed new-handler, and throw bad_alloc when there is none.
void* allocate_or_throw(std::size_t size, std::size_t alignment) {
  for (;;) {
    if (void* p = allocate(size, alignment)) {
      return p;
    }
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) {
      throw std::bad_alloc{};
    }
    handler();
  }
}

void* allocate_nothrow(std::size_t size, std::size_t alignment) noexcept {
  try {
    return allocate_or_throw(size, alignment);
  } catch (...) {
    return nullptr;
  }
}

void deallocate(void* p) noexcept {
  if (p != nullptr) {
    ++deallocation_count;
    std::free(p);
  }
}

std::size_t checked_alignment(std::align_val_t alignment) noexcept {
  auto const a = static_cast<std::size_t>(alignment);
  // posix_memalign needs a power of two that is a multiple of sizeof(void*).
  return a < sizeof(void*) ? sizeof(void*) : a;
}

#endif  // SENET_TEST_COUNT_WITH_SANITIZER_HOOKS

}  // namespace

namespace senet::test {

allocation_scope::allocation_scope() noexcept
    : count_at_start_(allocation_count),
      bytes_at_start_(allocation_bytes),
      chunk_bytes_at_start_(allocation_chunk_bytes),
      deallocations_at_start_(deallocation_count) {}

std::size_t allocation_scope::count() const noexcept {
  return allocation_count - count_at_start_;
}

std::size_t allocation_scope::bytes() const noexcept {
  return allocation_bytes - bytes_at_start_;
}

std::size_t allocation_scope::malloc_bytes() const noexcept {
  return allocation_chunk_bytes - chunk_bytes_at_start_;
}

std::size_t allocation_scope::deallocations() const noexcept {
  return deallocation_count - deallocations_at_start_;
}

}  // namespace senet::test

#if !SENET_TEST_COUNT_WITH_SANITIZER_HOOKS

// --- replaced allocation functions ([new.delete]) -----------------------------------------------

void* operator new(std::size_t size) {
  return allocate_or_throw(size, 0);
}
void* operator new[](std::size_t size) {
  return allocate_or_throw(size, 0);
}
void* operator new(std::size_t size, std::nothrow_t const&) noexcept {
  return allocate_nothrow(size, 0);
}
void* operator new[](std::size_t size, std::nothrow_t const&) noexcept {
  return allocate_nothrow(size, 0);
}

void* operator new(std::size_t size, std::align_val_t alignment) {
  return allocate_or_throw(size, checked_alignment(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return allocate_or_throw(size, checked_alignment(alignment));
}
void* operator new(std::size_t size, std::align_val_t alignment, std::nothrow_t const&) noexcept {
  return allocate_nothrow(size, checked_alignment(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment, std::nothrow_t const&) noexcept {
  return allocate_nothrow(size, checked_alignment(alignment));
}

void operator delete(void* p) noexcept {
  deallocate(p);
}
void operator delete[](void* p) noexcept {
  deallocate(p);
}
void operator delete(void* p, std::nothrow_t const&) noexcept {
  deallocate(p);
}
void operator delete[](void* p, std::nothrow_t const&) noexcept {
  deallocate(p);
}
void operator delete(void* p, std::size_t) noexcept {
  deallocate(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  deallocate(p);
}

void operator delete(void* p, std::align_val_t) noexcept {
  deallocate(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  deallocate(p);
}
void operator delete(void* p, std::align_val_t, std::nothrow_t const&) noexcept {
  deallocate(p);
}
void operator delete[](void* p, std::align_val_t, std::nothrow_t const&) noexcept {
  deallocate(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  deallocate(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  deallocate(p);
}

#endif  // !SENET_TEST_COUNT_WITH_SANITIZER_HOOKS
