// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_WRITE_NOW_HPP
#define SENET_STREAM_WRITE_NOW_HPP

#include <senet/buffer.hpp>
#include <senet/detail/task_promise.hpp>
#include <senet/execution.hpp>
#include <senet/io/detail/stoppable_operation.hpp>
#include <senet/io/get_io_scheduler.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/detail/socket_awaitable.hpp>
#include <senet/net/detail/transfer_all.hpp>
#include <senet/stream/write_stream.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <memory>
#include <new>
#include <span>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace senet::stream {

namespace detail {

/** The frame cache of a `write_now`: the memory of its loop coroutine, kept across calls. */
struct write_now_frame_cache {
  void* memory_ = nullptr;
  std::size_t size_ = 0;

  write_now_frame_cache() noexcept = default;
  write_now_frame_cache(const write_now_frame_cache&) = delete;
  write_now_frame_cache& operator=(const write_now_frame_cache&) = delete;
  ~write_now_frame_cache() { ::operator delete(memory_); }

  [[nodiscard]] void* get(std::size_t size) {
    if (size > size_) {
      void* fresh = ::operator new(size);
      ::operator delete(memory_);
      memory_ = fresh;
      size_ = size;
    }
    return memory_;
  }
};

/** The cache the next loop coroutine's frame comes from (set just before it is created). */
inline thread_local write_now_frame_cache* current_write_now_cache = nullptr;

enum : int { loop_started = 0, loop_suspended = 1, loop_done = 2 };

/** The coroutine that goes on writing after a `write_some` did not complete at once. Its frame
    comes from the `write_now`'s cache and is never freed by the coroutine itself. */
struct write_now_loop {
  struct promise_type {
    static void* operator new(std::size_t size) { return current_write_now_cache->get(size); }
    static void operator delete(void*, std::size_t) noexcept {}  // the cache keeps the memory

    const senet::detail::task_context* ctx_ = nullptr;
    std::coroutine_handle<> continuation_{};
    // started until the awaitable's await_suspend has seen the loop wait (suspended), or the
    // loop ended inside that call (done).
    std::atomic<int>* state_ = nullptr;

    write_now_loop get_return_object() noexcept {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct final_awaiter {
      [[nodiscard]] bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) const noexcept {
        promise_type& p = h.promise();
        if (p.state_->exchange(loop_done, std::memory_order_acq_rel) == loop_started) {
          return std::noop_coroutine();  // the awaitable's await_suspend returns false
        }
        return p.continuation_;
      }
      void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }  // the body does not throw
    [[nodiscard]] senet::detail::task_env get_env() const noexcept { return senet::detail::task_env(ctx_); }
  };
  std::coroutine_handle<promise_type> handle_;
};

template <class A>
concept io_bindable = senet::detail::binds_io_environment<A>;

}  // namespace detail

/** `write_now wn(stream); auto [ec, n] = co_await wn(buffers);`: writes the whole buffer
    sequence to a `write_stream` by looping `write_some`, with two properties a plain loop does
    not have:

    1. Eager completion: when every `write_some` completes synchronously (its `await_ready()`
       returns true, as a socket's does when the kernel takes the bytes), the whole `co_await
       wn(buffers)` completes inside `await_ready()`: the coroutine does not suspend.
    2. Frame caching: when a `write_some` must wait, the rest of the write runs in a coroutine
       whose frame is cached in the `write_now` object and reused by every later call: at most
       one allocation over the object's life (more only when a later call needs a larger frame),
       none when nothing ever waits.

    Result of `auto [ec, n] = co_await wn(buffers);` (`std::tuple<std::error_code, std::size_t>`,
    never thrown): `!ec`, `n == buffer_size(buffers)` on success; `ec`, `n` the bytes written
    before the error otherwise (`senet::error::operation_aborted` when cancelled). Empty
    `buffers`: `(no error, 0)` at once. A `write_some` that reports success with 0 bytes (which
    the `write_stream` contract forbids) ends the write with `std::errc::io_error`.

    It is the tool for code constrained on `write_stream` alone (a raw socket). Code constrained
    on `write_sink` should call `sink.write` / `write_eof`, which the sink implements in the way
    natural to it and which `write_now` cannot replicate (`write_eof(buffers)` is atomic).

    In a `senet::task`, the task's I/O context and stop token reach each `write_some` before its
    `await_ready()`; in another coroutine they are taken from the promise's environment in
    `await_suspend()` (and property 1 then holds from there: no suspension that returns to the
    event loop).
    Cancellation: the awaiting coroutine's stop token cancels the pending `write_some`; the write
    then ends with its error (`operation_aborted` for a socket), and `n` bytes were written.
    Buffer lifetime: the bytes of `buffers` (and `buffers` itself, when it is an lvalue range) stay
    valid until the `co_await` completes.
    Thread safety: one `co_await wn(...)` at a time per `write_now`; `stream` and the `write_now`
    outlive it. Not copyable or movable (the cached frame belongs to it).

    Example:
    ```cpp
    template <senet::stream::write_stream Stream>
    senet::task<void> send_data(Stream& stream) {
      senet::stream::write_now wn(stream);
      if (auto [ec, n] = co_await wn(senet::buffer("hello", 5)); ec) co_return;
      auto [ec, n] = co_await wn(senet::buffer("world", 5));   // no allocation
    }
    ```
*/
template <write_stream Stream>
class write_now {
 public:
  using result_type = std::tuple<std::error_code, std::size_t>;

  explicit write_now(Stream& stream) noexcept : stream_(&stream) {}
  write_now(const write_now&) = delete;
  write_now& operator=(const write_now&) = delete;
  ~write_now() = default;

  template <class Buffers>
  class operation;

  /** The awaitable that writes all of `buffers`. */
  template <const_buffer_sequence Buffers>
  [[nodiscard]] operation<net::detail::stored_buffers_t<Buffers>> operator()(Buffers&& buffers) {
    return operation<net::detail::stored_buffers_t<Buffers>>(
        *this, net::detail::store_buffers(std::forward<Buffers>(buffers)));
  }

 private:
  Stream* stream_;
  detail::write_now_frame_cache cache_;
};

template <class Stream>
write_now(Stream&) -> write_now<Stream>;

template <write_stream Stream>
template <class Buffers>
class write_now<Stream>::operation {
  // One buffer: what is left is that buffer, advanced (no cursor, no window to build); a sequence:
  // a window of its next buffers.
  static constexpr bool single = senet::detail::single_buffer<Buffers>;
  using window_type = std::conditional_t<single, const_buffer, std::span<const const_buffer>>;
  using rest_type =
      std::conditional_t<single, const_buffer, net::detail::consuming_buffers<const_buffer, Buffers>>;
  using inner_type = decltype(std::declval<Stream&>().write_some(std::declval<window_type>()));
  static constexpr bool bindable = detail::io_bindable<inner_type>;

 public:
  operation(write_now& owner, Buffers&& buffers) noexcept(std::is_nothrow_move_constructible_v<Buffers>)
      : owner_(&owner), buffers_(std::move(buffers)), rest_(buffers_), total_(buffer_size(buffers_)) {}
  operation(const operation&) = delete;
  operation& operator=(const operation&) = delete;
  ~operation() {
    if (loop_) {
      loop_.destroy();
    }
    destroy_inner();
  }

  /** The I/O context and stop token of the awaiting task (before `await_ready()`). */
  void bind_io_environment(io::io_context* io, ex::inplace_stop_token token) noexcept {
    ctx_.io = io;
    ctx_.token = token;
    bound_ = true;
  }

  [[nodiscard]] bool await_ready() {
    if (total_ == 0) {
      return true;
    }
    if (bindable && !bound_) {
      return false;  // the I/O context comes from the promise in await_suspend
    }
    return run_ready();
  }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    if constexpr (bindable) {
      if (!bound_) {
        using env_type = ex::env_of_t<Promise>;
        static_assert(io::detail::env_with_io_scheduler<env_type>,
                      "senet: co_await write_now(...) needs an I/O scheduler in the awaiting coroutine's "
                      "environment: await it in a senet::task started on an io_context");
        if constexpr (io::detail::env_with_io_scheduler<env_type>) {
          const auto& env = ex::get_env(h.promise());
          bind_io_environment(&io::get_io_scheduler(env).context(), net::detail::awaitable_stop_token(env));
        }
        if (run_ready()) {
          return false;
        }
      }
    }
    // A write_some is pending in inner_: the rest runs in the cached coroutine.
    detail::current_write_now_cache = &owner_->cache_;
    detail::write_now_loop loop = run_loop();
    detail::current_write_now_cache = nullptr;
    loop_ = loop.handle_;
    loop_.promise().ctx_ = &ctx_;
    loop_.promise().continuation_ = h;
    loop_.promise().state_ = &loop_state_;
    loop_state_.store(detail::loop_started, std::memory_order_relaxed);
    loop_.resume();
    // The loop usually waits; when the pending write_some completed meanwhile (on the context's
    // thread, this coroutine running on another) it may have ended already: go on here.
    return loop_state_.exchange(detail::loop_suspended, std::memory_order_acq_rel) != detail::loop_done;
  }

  [[nodiscard]] result_type await_resume() noexcept { return {ec_, written_}; }

 private:
  // Awaits the pending write_some in inner_ from the loop coroutine.
  struct await_inner {
    operation* self_;
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    template <class Promise>
    auto await_suspend(std::coroutine_handle<Promise> h) {
      return self_->inner().await_suspend(h);
    }
    void await_resume() const noexcept {}
  };

  detail::write_now_loop run_loop() {
    do {
      co_await await_inner{this};
    } while (!take_inner_result() && !run_ready());
  }

  // Writes while write_some completes at once; true when the whole write is over (done or
  // failed), false when a write_some is pending in inner_.
  bool run_ready() {
    while (written_ < total_) {
      window_type window = prepare_window();
      inner_type* aw = ::new (static_cast<void*>(&storage_)) inner_type(owner_->stream_->write_some(window));
      has_inner_ = true;
      if constexpr (bindable) {
        aw->bind_io_environment(ctx_.io, ctx_.token);
      }
      if (!aw->await_ready()) {
        return false;
      }
      if (take_inner_result()) {
        return true;
      }
    }
    return true;
  }

  // Takes the result of the write_some in inner_ and destroys it; true when the write is over.
  bool take_inner_result() noexcept {
    auto [ec, n] = inner().await_resume();
    destroy_inner();
    if (ec) {
      ec_ = ec;
      return true;
    }
    if (n == 0) {
      ec_ = std::make_error_code(std::errc::io_error);
      return true;
    }
    written_ += n;
    if constexpr (single) {
      rest_ += n;
    } else {
      rest_.consume(n);
    }
    return written_ >= total_;
  }

  [[nodiscard]] window_type prepare_window() noexcept {
    if constexpr (single) {
      return rest_;
    } else {
      return rest_.prepare();
    }
  }

  inner_type& inner() noexcept { return *std::launder(reinterpret_cast<inner_type*>(&storage_)); }
  void destroy_inner() noexcept {
    if (has_inner_) {
      inner().~inner_type();
      has_inner_ = false;
    }
  }

  write_now* owner_;
  Buffers buffers_;
  rest_type rest_;
  std::size_t total_;
  std::size_t written_ = 0;
  std::error_code ec_{net::detail::no_error};
  senet::detail::task_context ctx_{};
  bool bound_ = false;
  bool has_inner_ = false;
  std::coroutine_handle<detail::write_now_loop::promise_type> loop_{};
  std::atomic<int> loop_state_{detail::loop_started};
  alignas(inner_type) unsigned char storage_[sizeof(inner_type)];
};

}  // namespace senet::stream

#endif  // SENET_STREAM_WRITE_NOW_HPP
