// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_BACKEND_OP_LIST_HPP
#define SENET_BACKEND_OP_LIST_HPP

/* The intrusive list the backends keep their waiting operation records in. */

#include <senet/io/detail/operation.hpp>

namespace senet::io::detail {

/** An intrusive doubly linked list of records through next_/prev_; nothing is allocated. */
class op_list {
 public:
  [[nodiscard]] bool empty() const noexcept { return head_ == nullptr; }
  [[nodiscard]] io_operation* front() const noexcept { return head_; }

  void push_back(io_operation& op) noexcept {
    op.next_ = nullptr;
    op.prev_ = tail_;
    if (tail_ == nullptr) {
      head_ = &op;
    } else {
      tail_->next_ = &op;
    }
    tail_ = &op;
  }

  void erase(io_operation& op) noexcept {
    if (op.prev_ == nullptr) {
      head_ = op.next_;
    } else {
      op.prev_->next_ = op.next_;
    }
    if (op.next_ == nullptr) {
      tail_ = op.prev_;
    } else {
      op.next_->prev_ = op.prev_;
    }
    op.next_ = nullptr;
    op.prev_ = nullptr;
  }

 private:
  io_operation* head_ = nullptr;
  io_operation* tail_ = nullptr;
};

}  // namespace senet::io::detail

#endif  // SENET_BACKEND_OP_LIST_HPP
