// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_SCRIPTED_STREAM_HPP
#define SENET_TEST_SUPPORT_SCRIPTED_STREAM_HPP

/* A stream in memory whose every operation follows a script, for testing what is layered over a
   stream (buffered writers, chunked and deflate sinks, relays):

     senet::test::scripted_stream s;
     s.script_writes({{.max_bytes = 3}, {.suspend = true}, {.error = make_error_code(std::errc::io_error)}});
     ... co_await s.write_some(buffers) ...           // 3 bytes at once; then all, later; then io_error
     EXPECT_EQ(s.written(), "...");                   // what reached "the other side"

   Each `write_some` / `read_some` on non-empty buffers takes the next `script_step` (after the
   script, `default_step`): it moves at most `max_bytes` bytes (at least 1), or fails with `error`
   (moving nothing), and completes at once or, with `suspend`, later: on the next turn of the I/O
   context of the awaiting coroutine (found in its environment, as a socket's operation finds it),
   like real I/O. A suspended operation whose stop token was signalled by then completes with
   `senet::error::operation_aborted` and moves nothing. Empty buffers complete at once with
   `(no error, 0)` and take no step.

   Reads take bytes given by `feed(bytes)`; after `feed_eof()` and the last byte, a read gives
   `(senet::error::eof, 0)`. A read with nothing to take waits (suspends) until the next `feed` or
   `feed_eof`, which wake it through its I/O context.

   It is also a `stream::write_sink` (and a `read_source`), so that the conformance suite checks it
   and sinks over it can pass the end of stream on: `write` and `write_eof(buffers)` loop
   `write_some` (each call a step), `write_eof()` records the end (`eof_written()`), and after a
   successful `write_eof` every write fails with `senet::error::write_after_eof`.

   Records: `written()`, `eof_written()`, `write_sizes()` (the bytes each successful `write_some`
   moved: "one write" checks), `write_buffer_counts()` (how many non-empty buffers each was given:
   gather-write checks), `steps_taken()`.

   Thread safety: one thread; one read and one write may wait at a time. */

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/detail/sender_support.hpp>
#include <senet/net/detail/socket_awaitable.hpp>
#include <senet/net/detail/transfer_all.hpp>
#include <senet/stream/detail/cached_op.hpp>
#include <senet/stream/detail/sink_support.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <cstring>
#include <deque>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

namespace senet::test {

/** What one operation of a `scripted_stream` does. */
struct script_step {
  /** At most this many bytes (at least 1 is moved when the buffers are not empty). */
  std::size_t max_bytes = std::numeric_limits<std::size_t>::max();
  /** Fail with this error, moving nothing, instead. */
  std::error_code error{};
  /** Complete on the next turn of the I/O context instead of at once. */
  bool suspend = false;
};

class scripted_stream {
 public:
  using size_result = std::tuple<std::error_code, std::size_t>;

  scripted_stream() = default;
  scripted_stream(const scripted_stream&) = delete;
  scripted_stream& operator=(const scripted_stream&) = delete;

  // ---- the script ----
  void script_writes(std::initializer_list<script_step> steps) {
    write_script_.insert(write_script_.end(), steps);
  }
  void script_reads(std::initializer_list<script_step> steps) {
    read_script_.insert(read_script_.end(), steps);
  }
  /** The step of every write (`write_default`) or read (`read_default`) after the script. */
  script_step write_default{};
  script_step read_default{};

  // ---- the read side's input ----
  void feed(std::string_view bytes) {
    input_.append(bytes);
    wake_reader();
  }
  void feed_eof() {
    input_eof_ = true;
    wake_reader();
  }

  // ---- what happened ----
  [[nodiscard]] const std::string& written() const noexcept { return written_; }
  [[nodiscard]] bool eof_written() const noexcept { return eof_written_; }
  [[nodiscard]] const std::vector<std::size_t>& write_sizes() const noexcept { return write_sizes_; }
  [[nodiscard]] const std::vector<std::size_t>& write_buffer_counts() const noexcept {
    return write_buffer_counts_;
  }
  [[nodiscard]] std::size_t steps_taken() const noexcept { return steps_taken_; }

  template <class Buffers, bool Write>
  class operation;

  // ---- write_stream / read_stream ----
  template <const_buffer_sequence Buffers>
  [[nodiscard]] operation<net::detail::stored_buffers_t<Buffers>, true> write_some(Buffers&& buffers) {
    return {*this, net::detail::store_buffers(std::forward<Buffers>(buffers))};
  }
  template <mutable_buffer_sequence Buffers>
  [[nodiscard]] operation<net::detail::stored_buffers_t<Buffers>, false> read_some(Buffers&& buffers) {
    return {*this, net::detail::store_buffers(std::forward<Buffers>(buffers))};
  }

  // ---- write_sink / read_source ----
  template <const_buffer_sequence Buffers>
  [[nodiscard]] stream::detail::cached_op<size_result> write(Buffers&& buffers) {
    return write_all(std::forward<Buffers>(buffers), false);
  }
  template <const_buffer_sequence Buffers>
  [[nodiscard]] stream::detail::cached_op<size_result> write_eof(Buffers&& buffers) {
    return write_all(std::forward<Buffers>(buffers), true);
  }
  [[nodiscard]] stream::detail::cached_op<std::tuple<std::error_code>> write_eof() {
    return stream::detail::with_cache(write_cache_, [&] { return finish(*this); });
  }
  template <mutable_buffer_sequence Buffers>
  [[nodiscard]] stream::detail::cached_op<size_result> read(Buffers&& buffers) {
    return stream::detail::with_cache(read_cache_, [&] {
      return stream::detail::transfer_all_then<false>(
          *this, net::detail::store_buffers(std::forward<Buffers>(buffers)), stream::detail::no_finish{});
    });
  }

 private:
  script_step next_step(bool write) {
    ++steps_taken_;
    auto& script = write ? write_script_ : read_script_;
    if (script.empty()) {
      return write ? write_default : read_default;
    }
    script_step s = script.front();
    script.pop_front();
    return s;
  }

  template <class Buffers>
  size_result do_write(const Buffers& buffers, std::size_t max) {
    if (eof_written_) {
      return {make_error_code(senet::error::write_after_eof), 0};
    }
    std::size_t n = 0;
    std::size_t count = 0;
    for (auto it = buffer_sequence_begin(buffers); it != buffer_sequence_end(buffers) && n < max; ++it) {
      const_buffer b(*it);
      if (b.size() == 0) {
        continue;
      }
      ++count;
      std::size_t take = std::min(b.size(), max - n);
      written_.append(static_cast<const char*>(b.data()), take);
      n += take;
    }
    write_sizes_.push_back(n);
    write_buffer_counts_.push_back(count);
    return {std::error_code{}, n};
  }

  template <class Buffers>
  size_result do_read(const Buffers& buffers, std::size_t max) {
    if (read_pos_ == input_.size()) {
      return {make_error_code(senet::error::eof), 0};  // only called at the end when input_eof_
    }
    std::size_t n = 0;
    for (auto it = buffer_sequence_begin(buffers); it != buffer_sequence_end(buffers) && n < max; ++it) {
      mutable_buffer b(*it);
      std::size_t take = std::min({b.size(), max - n, input_.size() - read_pos_});
      if (take == 0) {
        continue;  // an empty buffer's data() may be null
      }
      std::memcpy(b.data(), input_.data() + read_pos_, take);
      read_pos_ += take;
      n += take;
    }
    return {std::error_code{}, n};
  }

  [[nodiscard]] bool readable() const noexcept { return read_pos_ < input_.size() || input_eof_; }

  void wake_reader();

  // write and write_eof(buffers): a write_some loop; the end is recorded after it, if it succeeded.
  template <class Buffers>
  stream::detail::cached_op<size_result> write_all(Buffers&& buffers, bool eof) {
    if (eof_written_) {
      return stream::detail::with_cache(write_cache_, [&] { return rejected(); });
    }
    struct end {
      scripted_stream* self;
      bool eof;
      std::error_code operator()() const noexcept {
        self->eof_written_ = self->eof_written_ || eof;
        return {};
      }
    };
    return stream::detail::with_cache(write_cache_, [&] {
      return stream::detail::transfer_all_then<true>(
          *this, net::detail::store_buffers(std::forward<Buffers>(buffers)), end{this, eof});
    });
  }

  static stream::detail::cached_op<size_result> rejected() { co_return stream::detail::rejected_write(); }

  static stream::detail::cached_op<std::tuple<std::error_code>> finish(scripted_stream& self) {
    if (self.eof_written_) {
      co_return std::tuple<std::error_code>{make_error_code(senet::error::write_after_eof)};
    }
    self.eof_written_ = true;
    co_return std::tuple<std::error_code>{};
  }

  class waiter;

  std::deque<script_step> write_script_;
  std::deque<script_step> read_script_;
  std::string written_;
  bool eof_written_ = false;
  std::vector<std::size_t> write_sizes_;
  std::vector<std::size_t> write_buffer_counts_;
  std::size_t steps_taken_ = 0;
  std::string input_;
  std::size_t read_pos_ = 0;
  bool input_eof_ = false;
  waiter* waiting_reader_ = nullptr;
  stream::detail::frame_cache write_cache_;
  stream::detail::frame_cache read_cache_;
};

/** The part of an operation that waits for the I/O context: completes on its next turn. */
class scripted_stream::waiter {
 public:
  waiter() = default;
  waiter(const waiter&) = delete;
  waiter& operator=(const waiter&) = delete;
  virtual ~waiter() = default;

  /** Asks the context to call `complete()` on its next turn. */
  void schedule() {
    if (ctx_ == nullptr) {
      ADD_FAILURE() << "scripted_stream: a suspending operation needs an I/O context in the awaiting "
                       "coroutine's environment (run it in a senet::task on an io_context)";
      return;
    }
    op_.emplace(net::detail::emplace_from{
        [&] { return ex::connect(ex::schedule(ctx_->get_scheduler()), receiver{this}); }});
    ex::start(*op_);
  }

 protected:
  virtual void complete(bool context_stopped) noexcept = 0;

  io::io_context* ctx_ = nullptr;
  ex::inplace_stop_token token_{};

 private:
  struct receiver {
    using receiver_concept = ex::receiver_t;
    waiter* self_;
    void set_value() && noexcept { self_->complete(false); }
    void set_stopped() && noexcept { self_->complete(true); }
  };
  using op_type =
      ex::connect_result_t<decltype(ex::schedule(std::declval<io::io_context&>().get_scheduler())), receiver>;
  std::optional<op_type> op_;
};

template <class Buffers, bool Write>
class scripted_stream::operation : waiter {
 public:
  operation(scripted_stream& s, Buffers buffers) : s_(&s), buffers_(std::move(buffers)) {}

  void bind_io_environment(io::io_context* io, ex::inplace_stop_token token) noexcept {
    ctx_ = io;
    token_ = token;
  }

  [[nodiscard]] bool await_ready() {
    if (buffer_size(buffers_) == 0) {
      return true;
    }
    step_ = s_->next_step(Write);
    if (step_.suspend) {
      return false;
    }
    if constexpr (!Write) {
      if (step_.error == std::error_code{} && !s_->readable()) {
        return false;  // waits for feed()
      }
    }
    transfer();
    return true;
  }

  template <class Promise>
  void await_suspend(std::coroutine_handle<Promise> h) {
    handle_ = h;
    if (ctx_ == nullptr) {
      using env_type = ex::env_of_t<Promise>;
      if constexpr (io::detail::env_with_io_scheduler<env_type>) {
        const auto& env = ex::get_env(h.promise());
        ctx_ = &io::get_io_scheduler(env).context();
        token_ = net::detail::awaitable_stop_token(env);
      }
    }
    if constexpr (!Write) {
      if (!s_->readable()) {
        s_->waiting_reader_ = this;  // feed() schedules it
        return;
      }
    }
    schedule();
  }

  [[nodiscard]] size_result await_resume() noexcept { return result_; }

 private:
  friend class scripted_stream;

  void transfer() {
    if (step_.error) {
      result_ = {step_.error, 0};
    } else if constexpr (Write) {
      result_ = s_->do_write(buffers_, std::max<std::size_t>(step_.max_bytes, 1));
    } else {
      result_ = s_->do_read(buffers_, std::max<std::size_t>(step_.max_bytes, 1));
    }
  }

  void complete(bool context_stopped) noexcept override {
    if (context_stopped || token_.stop_requested()) {
      result_ = {make_error_code(senet::error::operation_aborted), 0};
    } else {
      transfer();
    }
    handle_.resume();
  }

  scripted_stream* s_;
  Buffers buffers_;
  script_step step_{};
  std::coroutine_handle<> handle_{};
  size_result result_{};
};

inline void scripted_stream::wake_reader() {
  if (waiter* w = std::exchange(waiting_reader_, nullptr)) {
    w->schedule();
  }
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_SCRIPTED_STREAM_HPP
