// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_ALLOCATION_COUNTER_HPP
#define SENET_TEST_SUPPORT_ALLOCATION_COUNTER_HPP

#include <cstddef>

namespace senet::test {

/** Counts the heap allocations that the current thread makes while this object is alive.

    Every test executable links replaced global `operator new` / `operator delete` (all forms:
    plain, array, sized, aligned, nothrow), which count each allocation of the calling thread and
    then allocate with `malloc` / `posix_memalign`, so they work under AddressSanitizer and
    ThreadSanitizer too. (Under Clang's ThreadSanitizer, whose static runtime owns operator new, the
    count comes from the sanitizer's allocation hooks instead and includes `malloc` calls.)
    Allocations made by other threads are not counted. Scopes nest: each counts every allocation of
    its thread since it was constructed.

    Example:
    @code
    senet::test::allocation_scope scope;
    auto result = ex::sync_wait(pipeline);
    auto const n = scope.count();   // read before any gtest assertion, which may allocate
    EXPECT_EQ(0u, n);
    @endcode

    Thread safety: use a scope only on the thread that created it.
*/
class allocation_scope {
 public:
  allocation_scope() noexcept;
  allocation_scope(allocation_scope const&) = delete;
  allocation_scope& operator=(allocation_scope const&) = delete;
  ~allocation_scope() = default;

  /** The number of allocations by this thread since this scope was constructed. */
  std::size_t count() const noexcept;

  /** The number of bytes those allocations asked for. */
  std::size_t bytes() const noexcept;

  /** What glibc's `malloc` takes for those allocations on x86-64: each request plus an 8-byte
      header, rounded up to 16 bytes, at least 32 (whichever allocator is in use: a sanitizer's
      rounds otherwise, but this is the figure of a program's resident size). */
  std::size_t malloc_bytes() const noexcept;

  /** The number of deallocations by this thread since this scope was constructed. */
  std::size_t deallocations() const noexcept;

 private:
  std::size_t count_at_start_;
  std::size_t bytes_at_start_;
  std::size_t chunk_bytes_at_start_;
  std::size_t deallocations_at_start_;
};

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_ALLOCATION_COUNTER_HPP
