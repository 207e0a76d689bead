// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_OP_QUEUE_HPP
#define SENET_IO_OP_QUEUE_HPP

#include <senet/io/detail/operation.hpp>

#include <atomic>

namespace senet::io::detail {

/** An intrusive FIFO of records linked through `next_`; one thread. */
class op_queue {
 public:
  [[nodiscard]] bool empty() const noexcept { return head_ == nullptr; }

  void push_back(io_operation& op) noexcept {
    op.next_ = nullptr;
    if (tail_ == nullptr) {
      head_ = &op;
    } else {
      tail_->next_ = &op;
    }
    tail_ = &op;
  }

  io_operation* pop_front() noexcept {
    io_operation* op = head_;
    if (op != nullptr) {
      head_ = op->next_;
      if (head_ == nullptr) {
        tail_ = nullptr;
      }
      op->next_ = nullptr;
    }
    return op;
  }

  /** Calls `f(op)` for each record, oldest first (`f` must not change the queue). */
  template <class F>
  void for_each(F f) const {
    for (io_operation* p = head_; p != nullptr; p = p->next_) {
      f(*p);
    }
  }

  /** Removes `op` if it is in the queue (linear: for rare paths). True when it was. */
  bool erase(io_operation& op) noexcept {
    io_operation* previous = nullptr;
    for (io_operation* p = head_; p != nullptr; previous = p, p = p->next_) {
      if (p == &op) {
        (previous == nullptr ? head_ : previous->next_) = op.next_;
        if (tail_ == &op) {
          tail_ = previous;
        }
        op.next_ = nullptr;
        return true;
      }
    }
    return false;
  }

 private:
  io_operation* head_ = nullptr;
  io_operation* tail_ = nullptr;
};

/** A lock-free intrusive multi-producer stack linked through `Link`; one consumer takes the whole
    list at once, in push order. */
template <io_operation* io_operation::*Link>
class remote_stack {
 public:
  /** Any thread. Returns true when the stack was empty. */
  bool push(io_operation& op) noexcept {
    io_operation* head = head_.load(std::memory_order_relaxed);
    do {
      op.*Link = head;
    } while (!head_.compare_exchange_weak(head, &op, std::memory_order_seq_cst, std::memory_order_relaxed));
    return head == nullptr;
  }

  [[nodiscard]] bool empty() const noexcept { return head_.load(std::memory_order_seq_cst) == nullptr; }

  /** Consumer only: takes every record, oldest first (linked through Link, null-terminated). */
  io_operation* take_all() noexcept {
    io_operation* list = head_.exchange(nullptr, std::memory_order_acquire);
    io_operation* reversed = nullptr;
    while (list != nullptr) {
      io_operation* next = list->*Link;
      list->*Link = reversed;
      reversed = list;
      list = next;
    }
    return reversed;
  }

 private:
  std::atomic<io_operation*> head_{nullptr};
};

}  // namespace senet::io::detail

#endif  // SENET_IO_OP_QUEUE_HPP
