// SPDX-License-Identifier: BSL-1.0
#include <senet/io/detail/handoff.hpp>

namespace senet::io::detail {

bool handoff::enroll(waiter& w) noexcept {
  std::lock_guard lock(mutex_);
  if (detached_) {
    return false;
  }
  w.prev_ = nullptr;
  w.next_ = head_;
  if (head_ != nullptr) {
    head_->prev_ = &w;
  }
  head_ = &w;
  w.linked_ = true;
  return true;
}

bool handoff::withdraw(waiter& w) noexcept {
  std::lock_guard lock(mutex_);
  if (!w.linked_) {
    return false;
  }
  unlink(w);
  return true;
}

bool handoff::enrolled(const void* key) noexcept {
  std::lock_guard lock(mutex_);
  return find(key) != nullptr;
}

bool handoff::claim_and_post(const void* key, io_operation* record) noexcept {
  std::lock_guard lock(mutex_);
  waiter* found = find(key);
  if (found == nullptr) {
    return false;
  }
  unlink(*found);
  if (record != nullptr && ctx_ != nullptr) {
    // Under the mutex: detach() (the context's destructor) cannot run until the record is queued,
    // and the destructor's shutdown then delivers it.
    post_remote(*ctx_, *record);
  }
  return true;
}

void handoff::detach() noexcept {
  waiter* list = nullptr;
  {
    std::lock_guard lock(mutex_);
    detached_ = true;
    list = head_;
    head_ = nullptr;
    for (waiter* w = list; w != nullptr; w = w->next_) {
      w->linked_ = false;
    }
  }
  while (list != nullptr) {
    waiter* next = list->next_;  // on_detached_ may end the waiter's lifetime
    list->on_detached_(list);
    list = next;
  }
}

handoff::waiter* handoff::find(const void* key) const noexcept {
  for (waiter* p = head_; p != nullptr; p = p->next_) {
    if (p->key_ == key) {
      return p;
    }
  }
  return nullptr;
}

void handoff::unlink(waiter& w) noexcept {
  if (w.prev_ != nullptr) {
    w.prev_->next_ = w.next_;
  } else {
    head_ = w.next_;
  }
  if (w.next_ != nullptr) {
    w.next_->prev_ = w.prev_;
  }
  w.prev_ = w.next_ = nullptr;
  w.linked_ = false;
}

std::shared_ptr<handoff> unbound_handoff() {
  // Built on first use, before any thread could race for it (C++ static initialization is
  // thread-safe); a copy in every request keeps it alive past static destruction.
  static const std::shared_ptr<handoff> unbound = std::make_shared<handoff>(nullptr);
  return unbound;
}

}  // namespace senet::io::detail
