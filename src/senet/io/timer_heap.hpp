// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_TIMER_HEAP_HPP
#define SENET_IO_TIMER_HEAP_HPP

#include <senet/io/detail/operation.hpp>

#include <cstdint>

namespace senet::io::detail {

/** An intrusive pairing heap of timer records ordered by (deadline, sequence number): insertion
    O(1), removal of the minimum or of any record O(log n) amortised, no allocation.

    Links: `child_` is the first child; `next_` the next sibling; `prev_` the previous sibling, or
    the parent for a first child (null for the root). One thread. */
class timer_heap {
 public:
  [[nodiscard]] bool empty() const noexcept { return root_ == nullptr; }
  [[nodiscard]] timer_operation* top() const noexcept { return root_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  void insert(timer_operation& t) noexcept {
    t.child_ = nullptr;
    t.next_ = nullptr;
    t.prev_ = nullptr;
    root_ = meld(root_, &t);
    ++size_;
  }

  timer_operation* pop() noexcept {
    timer_operation* t = root_;
    if (t != nullptr) {
      root_ = merge_pairs(t->child_);
      if (root_ != nullptr) {
        root_->prev_ = nullptr;
      }
      --size_;
      unlink_fields(*t);
    }
    return t;
  }

  /** Removes `t`, which must be in the heap. */
  void erase(timer_operation& t) noexcept {
    if (&t == root_) {
      pop();
      return;
    }
    // Detach t (with its subtree) from its parent or previous sibling.
    auto* prev = static_cast<timer_operation*>(t.prev_);
    auto* next = static_cast<timer_operation*>(t.next_);
    if (prev->child_ == &t) {
      prev->child_ = next;
    } else {
      prev->next_ = next;
    }
    if (next != nullptr) {
      next->prev_ = prev;
    }
    timer_operation* sub = merge_pairs(t.child_);
    if (sub != nullptr) {
      sub->prev_ = nullptr;
    }
    root_ = meld(root_, sub);
    --size_;
    unlink_fields(t);
  }

 private:
  static bool less(const timer_operation& a, const timer_operation& b) noexcept {
    return a.deadline_ < b.deadline_ || (a.deadline_ == b.deadline_ && a.seq_ < b.seq_);
  }

  static void unlink_fields(timer_operation& t) noexcept {
    t.child_ = nullptr;
    t.next_ = nullptr;
    t.prev_ = nullptr;
  }

  // Melds two roots (siblings links of both are ignored and overwritten).
  static timer_operation* meld(timer_operation* a, timer_operation* b) noexcept {
    if (a == nullptr) {
      return b;
    }
    if (b == nullptr) {
      return a;
    }
    if (less(*b, *a)) {
      timer_operation* tmp = a;
      a = b;
      b = tmp;
    }
    // b becomes a's first child.
    b->next_ = a->child_;
    if (a->child_ != nullptr) {
      a->child_->prev_ = b;
    }
    b->prev_ = a;
    a->child_ = b;
    a->next_ = nullptr;
    a->prev_ = nullptr;
    return a;
  }

  // The two-pass pairing of a sibling list starting at `first`; returns the new root.
  static timer_operation* merge_pairs(timer_operation* first) noexcept {
    if (first == nullptr) {
      return nullptr;
    }
    // Pass 1, left to right: meld pairs; chain the results in reverse through prev_.
    timer_operation* pairs = nullptr;
    while (first != nullptr) {
      timer_operation* a = first;
      auto* b = static_cast<timer_operation*>(a->next_);
      first = b != nullptr ? static_cast<timer_operation*>(b->next_) : nullptr;
      timer_operation* m = meld(a, b);
      m->prev_ = pairs;
      pairs = m;
    }
    // Pass 2, right to left: meld each pair into the accumulated heap.
    timer_operation* result = nullptr;
    while (pairs != nullptr) {
      auto* next = static_cast<timer_operation*>(pairs->prev_);
      pairs->prev_ = nullptr;
      result = meld(result, pairs);
      pairs = next;
    }
    return result;
  }

  timer_operation* root_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace senet::io::detail

#endif  // SENET_IO_TIMER_HEAP_HPP
