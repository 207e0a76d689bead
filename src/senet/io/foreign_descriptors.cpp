// SPDX-License-Identifier: BSL-1.0
// The registry of descriptors that no senet socket owns (io::async_poll, io::forget_descriptor).
// It belongs to the backend object (backend::foreign()), so that it lives exactly as long as the
// states it registers, and is reached only by readiness waits on foreign descriptors.
#include <senet/io/detail/foreign_descriptor.hpp>

#include <senet/io/io_context.hpp>

#include "senet/backend/backend.hpp"

#include <cerrno>
#include <memory>
#include <new>
#include <unordered_map>

namespace senet::io::detail {

/** Descriptors by fd. Each is allocated once per fd and context (a repeated wait on one fd
    allocates nothing) and released through the backend like a socket's. */
class foreign_descriptors {
 public:
  foreign_descriptors() = default;
  foreign_descriptors(const foreign_descriptors&) = delete;
  foreign_descriptors& operator=(const foreign_descriptors&) = delete;

  ~foreign_descriptors() {
    for (auto& [fd, d] : by_fd_) {
      release_descriptor(*d);
    }
  }

  descriptor* find_or_add(int fd) noexcept {
    try {
      auto [it, added] = by_fd_.try_emplace(fd);
      if (added) {
        it->second = std::make_unique<descriptor>();
        it->second->fd = fd;
      }
      return it->second.get();
    } catch (...) {
      by_fd_.erase(fd);
      return nullptr;
    }
  }

  bool forget(int fd) noexcept {
    auto it = by_fd_.find(fd);
    if (it == by_fd_.end()) {
      return false;
    }
    release_descriptor(*it->second);
    by_fd_.erase(it);
    return true;
  }

 private:
  std::unordered_map<int, std::unique_ptr<descriptor>> by_fd_;
};

backend::~backend() {
  delete foreign_;
}

foreign_descriptors* backend::foreign() noexcept {
  if (foreign_ == nullptr) {
    foreign_ = new (std::nothrow) foreign_descriptors;
  }
  return foreign_;
}

descriptor* foreign_descriptor(io_context& ctx, int fd, int& error) noexcept {
  if (fd < 0) {
    error = EBADF;
    return nullptr;
  }
  struct args {
    int fd;
    descriptor* found;
  } a{fd, nullptr};
  with_backend(
      ctx,
      [](void* p, backend& b) noexcept {
        auto& a = *static_cast<args*>(p);
        if (foreign_descriptors* registry = b.foreign()) {
          a.found = registry->find_or_add(a.fd);
        }
      },
      &a);
  if (a.found == nullptr) {
    error = ENOMEM;
  }
  return a.found;
}

bool forget_foreign_descriptor(io_context& ctx, int fd) {
  struct args {
    int fd;
    bool known;
  } a{fd, false};
  with_backend(
      ctx,
      [](void* p, backend& b) noexcept {
        auto& a = *static_cast<args*>(p);
        if (foreign_descriptors* registry = b.foreign()) {
          a.known = registry->forget(a.fd);
        }
      },
      &a);
  return a.known;
}

}  // namespace senet::io::detail
