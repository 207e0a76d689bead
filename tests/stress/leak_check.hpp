// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TESTS_STRESS_LEAK_CHECK_HPP
#define SENET_TESTS_STRESS_LEAK_CHECK_HPP

/* What every stress test ends with: the process has as many descriptors as before it (counted in
   /proc/self/fd), and every allocation the test's thread made was freed (the counting allocator,
   support/allocation_counter.hpp). And the helpers the stress tests share: CPU time of the process
   (getrusage), raising RLIMIT_NOFILE for the duration of a test. */

#include <support/allocation_counter.hpp>

#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <chrono>
#include <cstddef>

namespace senet::test {

/** The number of descriptors the process has open. */
inline std::size_t open_descriptors() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const ::dirent* e = ::readdir(d)) {
      n += e->d_name[0] != '.' ? 1 : 0;
    }
    ::closedir(d);
    --n;  // the directory's own descriptor
  }
  return n;
}

/** Constructed first in a test, `expect_nothing_leaked()` last, once everything the test made is
    gone: no descriptor and no allocation of this thread outlives the test. */
class leak_check {
 public:
  leak_check() : descriptors_(open_descriptors()) {}

  void expect_nothing_leaked() {
    const std::size_t allocations = scope_.count();
    const std::size_t deallocations = scope_.deallocations();
    const std::size_t descriptors = open_descriptors();
    EXPECT_EQ(descriptors, descriptors_) << "descriptors leaked (/proc/self/fd)";
    EXPECT_EQ(allocations, deallocations) << "allocations of this thread not freed";
  }

 private:
  std::size_t descriptors_;
  allocation_scope scope_;
};

/** CPU time (user + system) the process has used. */
inline std::chrono::microseconds cpu_time() {
  ::rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto us = [](const ::timeval& t) {
    return std::chrono::seconds(t.tv_sec) + std::chrono::microseconds(t.tv_usec);
  };
  return std::chrono::duration_cast<std::chrono::microseconds>(us(u.ru_utime) + us(u.ru_stime));
}

/** Sets the soft RLIMIT_NOFILE for the life of this object, and restores it. */
class descriptor_limit {
 public:
  explicit descriptor_limit(::rlim_t soft) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    ::rlimit l = saved_;
    l.rlim_cur = soft;
    ok_ = ::setrlimit(RLIMIT_NOFILE, &l) == 0;
  }
  descriptor_limit(const descriptor_limit&) = delete;
  descriptor_limit& operator=(const descriptor_limit&) = delete;
  ~descriptor_limit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

  [[nodiscard]] bool ok() const noexcept { return ok_; }

  /** The hard limit (RLIM_INFINITY when none). */
  [[nodiscard]] static ::rlim_t hard() {
    ::rlimit l{};
    ::getrlimit(RLIMIT_NOFILE, &l);
    return l.rlim_max;
  }

 private:
  ::rlimit saved_{};
  bool ok_ = false;
};

}  // namespace senet::test

#endif  // SENET_TESTS_STRESS_LEAK_CHECK_HPP
