// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_DETAIL_OP_STORAGE_HPP
#define SENET_CORO_DETAIL_OP_STORAGE_HPP

#include <new>
#include <utility>

namespace senet::coro::detail {

/** Room for one immovable operation state, constructed later, in place, from the prvalue that a
    function returns (`ex::connect(...)`); destroyed with the storage. */
template <class Op>
class op_storage {
 public:
  op_storage() noexcept = default;
  op_storage(const op_storage&) = delete;
  op_storage& operator=(const op_storage&) = delete;
  ~op_storage() {
    if (op_ != nullptr) {
      op_->~Op();
    }
  }

  template <class F>
  Op& construct(F&& f) {
    op_ = ::new (static_cast<void*>(buffer_)) Op(std::forward<F>(f)());
    return *op_;
  }

  /** The operation state; `construct` was called. */
  Op& get() noexcept { return *op_; }

 private:
  alignas(Op) unsigned char buffer_[sizeof(Op)];
  Op* op_ = nullptr;
};

}  // namespace senet::coro::detail

#endif  // SENET_CORO_DETAIL_OP_STORAGE_HPP
