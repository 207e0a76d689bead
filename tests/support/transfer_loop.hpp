// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_TRANSFER_LOOP_HPP
#define SENET_TEST_SUPPORT_TRANSFER_LOOP_HPP

/* `transfer_loop(total, make)`: a sender that repeats the byte-transferring sender `make(offset)`
   (completing with `set_value(std::size_t n)`) until `total` bytes moved, then completes with
   `set_value(total)`; the first error or stop ends it. It iterates rather than recurses when the
   inner sender completes inline, and forwards its receiver's environment (scheduler, stop token)
   to each inner operation. A 0-byte transfer before `total` is an error (`std::errc::io_error`:
   end of stream). */

#include <senet/execution.hpp>

#include <cstddef>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

namespace senet::test {

template <class Make, class Rcvr>
class transfer_loop_operation {
  struct inner_receiver;
  using inner_sender = std::invoke_result_t<Make&, std::size_t>;
  using inner_operation = ex::connect_result_t<inner_sender, inner_receiver>;

  struct inner_receiver {
    using receiver_concept = ex::receiver_t;
    transfer_loop_operation* self;
    void set_value(std::size_t n) && noexcept { self->on_value(n); }
    void set_error(std::error_code ec) && noexcept { self->finish_error(ec); }
    void set_stopped() && noexcept { self->finish_stopped(); }
    [[nodiscard]] ex::env_of_t<Rcvr> get_env() const noexcept;
  };

  struct emplacer {
    transfer_loop_operation* self;
    operator inner_operation() const { return ex::connect(self->make_(self->done_), inner_receiver{self}); }
  };

 public:
  transfer_loop_operation(std::size_t total, Make make, Rcvr rcvr)
      : total_(total), make_(std::move(make)), rcvr_(std::move(rcvr)) {}
  transfer_loop_operation(const transfer_loop_operation&) = delete;
  transfer_loop_operation& operator=(const transfer_loop_operation&) = delete;

  void start() & noexcept { next(); }

 private:
  void next() noexcept {
    for (;;) {
      if (done_ == total_) {
        ex::set_value(std::move(rcvr_), total_);
        return;
      }
      in_start_ = true;
      completed_inline_ = false;
      inner_.emplace(emplacer{this});
      ex::start(*inner_);
      in_start_ = false;
      if (!completed_inline_) {
        return;
      }
      if (error_) {
        ex::set_error(std::move(rcvr_), error_);
        return;
      }
      if (stopped_) {
        ex::set_stopped(std::move(rcvr_));
        return;
      }
    }
  }

  void on_value(std::size_t n) noexcept {
    if (n == 0 && done_ < total_) {
      finish_error(std::make_error_code(std::errc::io_error));
      return;
    }
    done_ += n;
    if (in_start_) {
      completed_inline_ = true;
    } else {
      next();
    }
  }

  void finish_error(std::error_code ec) noexcept {
    if (in_start_) {
      error_ = ec;
      completed_inline_ = true;
    } else {
      ex::set_error(std::move(rcvr_), ec);
    }
  }

  void finish_stopped() noexcept {
    if (in_start_) {
      stopped_ = true;
      completed_inline_ = true;
    } else {
      ex::set_stopped(std::move(rcvr_));
    }
  }

  std::size_t total_;
  std::size_t done_ = 0;
  Make make_;
  Rcvr rcvr_;
  std::optional<inner_operation> inner_;
  bool in_start_ = false;
  bool completed_inline_ = false;
  std::error_code error_;
  bool stopped_ = false;
};

template <class Make, class Rcvr>
ex::env_of_t<Rcvr> transfer_loop_operation<Make, Rcvr>::inner_receiver::get_env() const noexcept {
  return ex::get_env(self->rcvr_);
}

template <class Make>
class transfer_loop_sender {
 public:
  using sender_concept = ex::sender_t;
  using completion_signatures =
      ex::completion_signatures<ex::set_value_t(std::size_t), ex::set_error_t(std::error_code),
                                ex::set_stopped_t()>;

  transfer_loop_sender(std::size_t total, Make make) : total_(total), make_(std::move(make)) {}

  template <class Rcvr>
  transfer_loop_operation<Make, Rcvr> connect(Rcvr rcvr) && {
    return transfer_loop_operation<Make, Rcvr>(total_, std::move(make_), std::move(rcvr));
  }

  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }

 private:
  std::size_t total_;
  Make make_;
};

/** See the file comment. */
template <class Make>
transfer_loop_sender<Make> transfer_loop(std::size_t total, Make make) {
  return {total, std::move(make)};
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_TRANSFER_LOOP_HPP
