// SPDX-License-Identifier: BSL-1.0
// async_socket.h on Linux, on senet's core: the descriptor is a senet socket, sends are tried at
// once with the socket's synchronous non-blocking send, and what has to wait runs on the
// completion port's io_context as senet senders (async_send, async_receive, async_wait).
//
// Threads and locks:
// - Every senet operation of a socket is started on the port's loop thread: a call on another
//   thread (or one made from a callback, which must not complete inside the call) posts the
//   operation's record (an io_operation "hop") to the loop, whose handler starts it. Closing the
//   descriptor is done on the loop thread too, so a start can never race with the close.
// - `m` guards the state, the count of API calls executing, the count of operations whose callback
//   has not returned yet, and the deferred close and destroy; `send_m` guards the send queue and
//   is held during the first attempt of a send, so that the bytes of two sends never interleave.
//   No lock is held while a callback runs.
// - A callback runs inside a "frame" (a thread-local list) that records which socket it belongs
//   to, so that close and destroy called from it know what not to wait for.
#include <senet/c/async_socket.h>

#include <senet/buffer.hpp>
#include <senet/detail/iovec_view.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/poll_events.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/basic_stream_socket.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>

#include "senet/c/c_enum.hpp"
#include "senet/c/callback_frames.hpp"
#include "senet/c/completion_port.hpp"

namespace senet::c_api {
namespace {

// ---- the socket type: a senet stream socket over any socket the program hands us ---------------

/** The address of any family (unused by the C API, which never asks for one). */
class any_endpoint {
 public:
  [[nodiscard]] void* data() noexcept { return &storage_; }
  [[nodiscard]] const void* data() const noexcept { return &storage_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return sizeof(storage_); }
  void resize(std::size_t n, std::error_code& ec) noexcept {
    if (n > capacity()) {
      ec = std::make_error_code(std::errc::invalid_argument);
      return;
    }
    size_ = n;
  }

 private:
  ::sockaddr_storage storage_{};
  std::size_t size_ = sizeof(::sockaddr_storage);
};

/** The protocol of a descriptor we did not open: what getsockopt reports for it. */
class any_protocol {
 public:
  using endpoint = any_endpoint;
  any_protocol() noexcept = default;
  any_protocol(int family, int type, int protocol) noexcept
      : family_(family), type_(type), protocol_(protocol) {}
  [[nodiscard]] int family() const noexcept { return family_; }
  [[nodiscard]] int type() const noexcept { return type_; }
  [[nodiscard]] int protocol() const noexcept { return protocol_; }

 private:
  int family_ = AF_UNSPEC;
  int type_ = SOCK_STREAM;
  int protocol_ = 0;
};

using socket_type = net::basic_stream_socket<any_protocol>;
using scheduler_type = io::io_context::scheduler_type;

/** Constructs an operation state in place from `f()` (which returns it by value). */
template <class F>
struct emplace_from {
  F f;
  // NOLINTNEXTLINE(google-explicit-constructor): the conversion is the point
  operator std::invoke_result_t<F&>() { return f(); }
};
template <class F>
emplace_from(F) -> emplace_from<F>;

}  // namespace

struct socket_impl;

namespace {

// ---- frames: which sockets' callbacks (or API calls) the calling thread is inside ---------------

// A frame of kind true: an API call of the socket (a send completing at once) is executing its
// callback; of kind false: a callback the loop runs.
using frame_guard = callback_frame<socket_impl>;

/** How many of the calling thread's API calls of `s` are running one of its callbacks. */
unsigned own_api_calls(const socket_impl* s) noexcept {
  return frame_guard::count_of(s, true);
}

/** Whether the calling thread is inside a callback of `s`. */
bool inside_callback_of(const socket_impl* s) noexcept {
  return frame_guard::innermost_of(s) != nullptr;
}

// ---- results ---------------------------------------------------------------------------------------

bool is_aborted(const std::error_code& ec) noexcept {
  return ec == senet::error::operation_aborted ||
         ec == std::errc::operation_canceled;  // the port's context shutting down (never expected)
}

ASYNC_SOCKET_SEND_RESULT send_result_of(const std::error_code& ec) noexcept {
  // SRS_ASYNC_SOCKET_LINUX_11_098 / 099; a closed socket is the seed's "abandoned" action.
  if (is_aborted(ec) || ec == std::errc::connection_reset) {
    return ASYNC_SOCKET_SEND_ABANDONED;
  }
  return ASYNC_SOCKET_SEND_ERROR;
}

ASYNC_SOCKET_RECEIVE_RESULT receive_result_of(const std::error_code& ec) noexcept {
  // SRS_ASYNC_SOCKET_LINUX_11_090 / 095; a closed socket is the seed's "abandoned" action.
  if (is_aborted(ec) || ec == std::errc::connection_reset) {
    return ASYNC_SOCKET_RECEIVE_ABANDONED;
  }
  return ASYNC_SOCKET_RECEIVE_ERROR;
}

// ---- operations ------------------------------------------------------------------------------------

/** What every operation shares: the hop record (posted to the loop to start or restart it). */
struct op_base : io::detail::io_operation {
  socket_impl* owner = nullptr;
};

struct send_op;
struct receive_op;
struct notify_op;

struct send_receiver {
  using receiver_concept = ex::receiver_t;
  send_op* op;
  void set_value(std::size_t n) && noexcept;
  void set_error(std::error_code ec) && noexcept;
  void set_stopped() && noexcept;
  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }
};

struct receive_receiver {
  using receiver_concept = ex::receiver_t;
  receive_op* op;
  void set_value(std::size_t n) && noexcept;
  void set_error(std::error_code ec) && noexcept;
  void set_stopped() && noexcept;
  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }
};

struct notify_receiver {
  using receiver_concept = ex::receiver_t;
  notify_op* op;
  void set_value(io::poll_events events) && noexcept;
  void set_error(std::error_code ec) && noexcept;
  void set_stopped() && noexcept;
  [[nodiscard]] ex::env<> get_env() const noexcept { return {}; }
};

using send_state =
    decltype(ex::connect(net::async_send(std::declval<const scheduler_type&>(), std::declval<socket_type&>(),
                                         std::declval<std::span<const const_buffer>>()),
                         std::declval<send_receiver>()));
using receive_state = decltype(ex::connect(
    net::async_receive(std::declval<const scheduler_type&>(), std::declval<socket_type&>(),
                       std::declval<std::span<const mutable_buffer>>()),
    std::declval<receive_receiver>()));
using notify_state =
    decltype(ex::connect(net::async_wait(std::declval<const scheduler_type&>(), std::declval<socket_type&>(),
                                         net::socket_base::wait_read),
                         std::declval<notify_receiver>()));

/** A send that could not finish at once (SRS_ASYNC_SOCKET_LINUX_11_056): the rest of the payload,
    queued behind the sends before it. */
struct send_op : op_base {
  ON_ASYNC_SOCKET_SEND_COMPLETE callback = nullptr;
  void* context = nullptr;
  send_op* next = nullptr;
  std::unique_ptr<const_buffer[]> buffers;  // what is left to send, from `first` on
  std::size_t count = 0;
  std::size_t first = 0;
  std::optional<send_state> state;

  [[nodiscard]] std::span<const const_buffer> rest() const noexcept {
    return {buffers.get() + first, std::min(count - first, senet::detail::iov_max)};
  }
  /** Drops `n` sent bytes; true when nothing is left. */
  bool consume(std::size_t n) noexcept {
    while (first < count && n >= buffers[first].size()) {
      n -= buffers[first].size();
      ++first;
    }
    if (first < count) {
      buffers[first] += n;
    }
    return first == count;
  }
};

/** A receive (SRS_ASYNC_SOCKET_LINUX_11_073, 074): the buffers and the callback. */
struct receive_op : op_base {
  ON_ASYNC_SOCKET_RECEIVE_COMPLETE callback = nullptr;
  void* context = nullptr;
  mutable_buffer* buffers = nullptr;  // `few`, or `many` for more than few.size() buffers
  std::size_t count = 0;
  std::array<mutable_buffer, 4> few{};
  std::unique_ptr<mutable_buffer[]> many;
  std::size_t many_size = 0;
  std::optional<receive_state> state;

  /** Makes room for `n` buffers; false if memory is short. */
  bool reserve(std::size_t n) noexcept {
    if (n <= few.size()) {
      buffers = few.data();
    } else {
      if (many_size < n) {
        many.reset(new (std::nothrow) mutable_buffer[n]);
        many_size = many ? n : 0;
        if (!many) {
          return false;
        }
      }
      buffers = many.get();
    }
    count = n;
    return true;
  }
};

/** A readiness notification. */
struct notify_op : op_base {
  ON_ASYNC_SOCKET_NOTIFY_IO_COMPLETE callback = nullptr;
  void* context = nullptr;
  ASYNC_SOCKET_NOTIFY_IO_TYPE type = ASYNC_SOCKET_NOTIFY_IO_TYPE_IN;
  std::optional<notify_state> state;
};

enum class socket_state : std::uint8_t { created, opening, open, closing, closed };

}  // namespace

/** The async socket. `ASYNC_SOCKET` (the C handle's struct) derives from it. */
struct socket_impl {
  completion_port* port = nullptr;
  EXECUTION_ENGINE_HANDLE engine = nullptr;
  socket_type sock;

  std::mutex m;
  std::condition_variable cv;
  socket_state state = socket_state::created;  // m
  unsigned api_calls = 0;                      // m: send/receive/notify calls executing
  unsigned pending = 0;                        // m: operations whose callback has not returned
  unsigned closers = 0;                        // m: closes waiting on other threads
  bool close_when_idle = false;                // m: a close waits for api_calls to reach 0
  bool destroy_requested = false;              // m: destroy deferred until closed and idle

  std::mutex send_m;
  send_op* send_head = nullptr;  // send_m: the send in progress (or being completed)
  send_op* send_tail = nullptr;  // send_m

  // m: the last completed receive's record, kept for the next receive, so that a socket that
  // receives one message after another allocates nothing per receive.
  receive_op* spare_receive = nullptr;

  bool closed_on_loop = false;  // loop thread only: the descriptor was closed
  struct close_record : io::detail::io_operation {
    socket_impl* owner = nullptr;
  } close_hop;

  socket_impl() = default;
  socket_impl(const socket_impl&) = delete;
  socket_impl& operator=(const socket_impl&) = delete;
  ~socket_impl() { delete spare_receive; }

  [[nodiscard]] io::io_context& ctx() noexcept { return port->context(); }

  /** Runs `op`'s hop handler on the loop thread, in a later turn. */
  void post(io::detail::io_operation& op) noexcept {
    if (port->on_loop_thread()) {
      io::detail::post(ctx(), op);
    } else {
      io::detail::post_remote(ctx(), op);
    }
  }

  bool enter_api() noexcept {
    std::lock_guard lock(m);
    if (state != socket_state::open) {
      return false;
    }
    ++api_calls;
    return true;
  }

  /** Ends an API call; the last one of a socket being closed lets the close go on, and a destroy
      requested by a callback of this call frees the socket. The caller touches nothing of the
      socket afterwards. */
  void leave_api() noexcept {
    bool post_close = false;
    bool finalize = false;
    {
      std::lock_guard lock(m);
      --api_calls;
      if (state == socket_state::closing) {
        if (close_when_idle && api_calls == 0) {
          close_when_idle = false;
          post_close = true;
        }
        cv.notify_all();
      }
      finalize = claim_finalize();
    }
    if (post_close) {
      post(close_hop);
    } else if (finalize) {
      free_socket(this);
    }
  }

  /** Counts an accepted operation, while its API call still holds the socket open. */
  void add_pending() noexcept {
    std::lock_guard lock(m);
    ++pending;
  }

  /** An operation's callback has returned. May free the socket (a deferred destroy): the caller
      touches nothing of it afterwards. */
  void op_done() noexcept {
    bool finalize = false;
    {
      std::lock_guard lock(m);
      --pending;
      finalize = claim_finalize();
      cv.notify_all();
    }
    if (finalize) {
      free_socket(this);
    }
  }

  /** A receive's callback has returned: its record is kept for the next receive (or freed), then
      as op_done. */
  void receive_done(receive_op& op) noexcept {
    receive_op* unused = &op;
    bool finalize = false;
    {
      std::lock_guard lock(m);
      if (spare_receive == nullptr) {
        spare_receive = std::exchange(unused, nullptr);
      }
      --pending;
      finalize = claim_finalize();
      cv.notify_all();
    }
    delete unused;
    if (finalize) {
      free_socket(this);
    }
  }

  /** A record for a new receive: the spare one, or null. */
  receive_op* take_spare_receive() noexcept {
    std::lock_guard lock(m);
    return std::exchange(spare_receive, nullptr);
  }

  /** With `m` held: whether a deferred destroy may free the socket now (and claims it). */
  bool claim_finalize() noexcept {
    if (destroy_requested && state == socket_state::closed && pending == 0 && api_calls == 0 &&
        closers == 0 && !inside_callback_of(this)) {
      destroy_requested = false;
      return true;
    }
    return false;
  }

  void maybe_finalize() noexcept {
    bool finalize = false;
    {
      std::lock_guard lock(m);
      finalize = claim_finalize();
    }
    if (finalize) {
      free_socket(this);
    }
  }

  /** On the loop thread: closes the descriptor (SRS_ASYNC_SOCKET_LINUX_11_039). Operations
      pending in the io_context complete with operation_aborted (ABANDONED) in later turns;
      operations whose hop has not run yet find `closed_on_loop` and complete ABANDONED. */
  void close_on_loop() noexcept {
    closed_on_loop = true;
    std::error_code ignored;
    sock.close(ignored);
    bool finalize = false;
    {
      // A closer waiting on another thread may free the socket as soon as the lock is released:
      // nothing of it is touched afterwards, unless this claims a deferred destroy.
      std::lock_guard lock(m);
      state = socket_state::closed;  // SRS_ASYNC_SOCKET_LINUX_11_041
      finalize = claim_finalize();
      cv.notify_all();
    }
    if (finalize) {
      free_socket(this);
    }
  }

  static void free_socket(socket_impl* s) noexcept;

  // Send queue (see send_op): the head is the send in progress.
  void start_head_send(send_op& op) noexcept;
  void complete_head_send(send_op& op, ASYNC_SOCKET_SEND_RESULT result) noexcept;
};

}  // namespace senet::c_api

struct ASYNC_SOCKET : senet::c_api::socket_impl {};

namespace senet::c_api {
namespace {

ASYNC_SOCKET* as_handle(socket_impl* s) noexcept {
  return static_cast<ASYNC_SOCKET*>(s);
}

// ---- sends -----------------------------------------------------------------------------------------

void send_hop(io::detail::io_operation* record) noexcept {
  auto& op = static_cast<send_op&>(*record);
  op.owner->start_head_send(op);
}

void send_receiver::set_value(std::size_t n) && noexcept {
  send_op& o = *op;
  if (o.consume(n)) {
    o.owner->complete_head_send(o, ASYNC_SOCKET_SEND_OK);
  } else {
    // A short send: send the rest in a later turn (SRS_ASYNC_SOCKET_LINUX_11_101), from the hop,
    // where this operation state is no longer running and can be replaced.
    o.owner->post(o);
  }
}

void send_receiver::set_error(std::error_code ec) && noexcept {
  op->owner->complete_head_send(*op, send_result_of(ec));
}

void send_receiver::set_stopped() && noexcept {
  op->owner->complete_head_send(*op, ASYNC_SOCKET_SEND_ABANDONED);
}

}  // namespace

void socket_impl::start_head_send(send_op& op) noexcept {
  if (closed_on_loop) {
    complete_head_send(op, ASYNC_SOCKET_SEND_ABANDONED);
    return;
  }
  op.state.reset();
  op.state.emplace(emplace_from{
      [&] { return ex::connect(net::async_send(port->scheduler(), sock, op.rest()), send_receiver{&op}); }});
  ex::start(*op.state);
}

void socket_impl::complete_head_send(send_op& op, ASYNC_SOCKET_SEND_RESULT result) noexcept {
  // The callback runs while this send is still the head, so that a send started from it (or on
  // another thread meanwhile) queues behind it, and callbacks come in the order of the sends.
  {
    frame_guard f(this, false);
    op.callback(op.context, result);
  }
  send_op* next = nullptr;
  {
    std::lock_guard lock(send_m);
    send_head = op.next;
    if (send_head == nullptr) {
      send_tail = nullptr;
    }
    next = send_head;
  }
  delete &op;
  if (next != nullptr) {
    // In a later turn: a chain of sends that complete at once must not recurse.
    post(*next);
  }
  op_done();
}

namespace {

// ---- receives --------------------------------------------------------------------------------------

void finish_receive(receive_op& op, ASYNC_SOCKET_RECEIVE_RESULT result, std::uint32_t bytes) noexcept {
  socket_impl* s = op.owner;
  {
    frame_guard f(s, false);
    op.callback(op.context, result, bytes);
  }
  // SRS_ASYNC_SOCKET_LINUX_11_093: the context is done with; its memory is freed, or kept for the
  // socket's next receive.
  op.state.reset();
  s->receive_done(op);
}

void receive_hop(io::detail::io_operation* record) noexcept {
  auto& op = static_cast<receive_op&>(*record);
  socket_impl& s = *op.owner;
  if (s.closed_on_loop) {
    finish_receive(op, ASYNC_SOCKET_RECEIVE_ABANDONED, 0);
    return;
  }
  op.state.emplace(emplace_from{[&] {
    return ex::connect(net::async_receive(s.port->scheduler(), s.sock,
                                          std::span<const mutable_buffer>(op.buffers, op.count)),
                       receive_receiver{&op});
  }});
  ex::start(*op.state);
}

void receive_receiver::set_value(std::size_t n) && noexcept {
  if (n == 0) {
    finish_receive(*op, ASYNC_SOCKET_RECEIVE_ABANDONED, 0);  // SRS_ASYNC_SOCKET_LINUX_11_091
  } else {
    finish_receive(*op, ASYNC_SOCKET_RECEIVE_OK, static_cast<std::uint32_t>(n));  // 11_092
  }
}

void receive_receiver::set_error(std::error_code ec) && noexcept {
  finish_receive(*op, receive_result_of(ec), 0);
}

void receive_receiver::set_stopped() && noexcept {
  finish_receive(*op, ASYNC_SOCKET_RECEIVE_ABANDONED, 0);
}

// ---- readiness notifications -------------------------------------------------------------------

void finish_notify(notify_op& op, ASYNC_SOCKET_NOTIFY_IO_RESULT result) noexcept {
  socket_impl* s = op.owner;
  {
    frame_guard f(s, false);
    op.callback(op.context, result);
  }
  delete &op;
  s->op_done();
}

void notify_hop(io::detail::io_operation* record) noexcept {
  auto& op = static_cast<notify_op&>(*record);
  socket_impl& s = *op.owner;
  if (s.closed_on_loop) {
    finish_notify(op, ASYNC_SOCKET_NOTIFY_IO_RESULT_ABANDONED);
    return;
  }
  auto w =
      op.type == ASYNC_SOCKET_NOTIFY_IO_TYPE_IN ? net::socket_base::wait_read : net::socket_base::wait_write;
  op.state.emplace(emplace_from{
      [&] { return ex::connect(net::async_wait(s.port->scheduler(), s.sock, w), notify_receiver{&op}); }});
  ex::start(*op.state);
}

void notify_receiver::set_value(io::poll_events events) && noexcept {
  auto has = [events](io::poll_events e) { return (events & e) != io::poll_events::none; };
  ASYNC_SOCKET_NOTIFY_IO_RESULT result = ASYNC_SOCKET_NOTIFY_IO_RESULT_ABANDONED;
  if (has(io::poll_events::error)) {
    result = ASYNC_SOCKET_NOTIFY_IO_RESULT_ERROR;
  } else if (op->type == ASYNC_SOCKET_NOTIFY_IO_TYPE_IN && has(io::poll_events::readable)) {
    result = ASYNC_SOCKET_NOTIFY_IO_RESULT_IN;
  } else if (op->type == ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT && has(io::poll_events::writable)) {
    result = ASYNC_SOCKET_NOTIFY_IO_RESULT_OUT;
  }
  finish_notify(*op, result);
}

void notify_receiver::set_error(std::error_code ec) && noexcept {
  finish_notify(
      *op, is_aborted(ec) ? ASYNC_SOCKET_NOTIFY_IO_RESULT_ABANDONED : ASYNC_SOCKET_NOTIFY_IO_RESULT_ERROR);
}

void notify_receiver::set_stopped() && noexcept {
  finish_notify(*op, ASYNC_SOCKET_NOTIFY_IO_RESULT_ABANDONED);
}

// ---- close -------------------------------------------------------------------------------------------

void close_hop(io::detail::io_operation* record) noexcept {
  static_cast<socket_impl::close_record*>(record)->owner->close_on_loop();
}

/** SRS_ASYNC_SOCKET_LINUX_11_036 .. 042. */
void close_socket(socket_impl* s) noexcept {
  std::unique_lock lock(s->m);
  if (s->state != socket_state::open) {
    return;  // SRS_ASYNC_SOCKET_LINUX_11_042: never opened, opening, closing or closed
  }
  s->state = socket_state::closing;  // SRS_ASYNC_SOCKET_LINUX_11_036
  s->cv.notify_all();
  unsigned own = own_api_calls(s);
  if (s->port->on_loop_thread()) {
    // A callback on the loop thread must not wait for anything (the loop delivers what the
    // others wait for): the close goes on when the API calls executing elsewhere have returned,
    // and pending operations complete with ABANDONED after this callback returns.
    if (s->api_calls == own) {
      lock.unlock();
      s->close_on_loop();
    } else {
      s->close_when_idle = true;
    }
    return;
  }
  // A destroy waiting for this close (SRS_ASYNC_SOCKET_LINUX_11_020) waits until it has left.
  ++s->closers;
  // SRS_ASYNC_SOCKET_LINUX_11_037: wait for the send / receive calls executing on other threads.
  s->cv.wait(lock, [&] { return s->api_calls == own; });
  lock.unlock();
  io::detail::post_remote(s->ctx(), s->close_hop);
  lock.lock();
  // Every pending operation has completed (ABANDONED) and its callback has returned.
  s->cv.wait(lock, [&] { return s->state == socket_state::closed && s->pending == 0; });
  --s->closers;
  bool finalize = s->claim_finalize();
  s->cv.notify_all();
  lock.unlock();
  if (finalize) {
    socket_impl::free_socket(s);
  }
}

bool valid_payload(const ASYNC_SOCKET_BUFFER* payload, std::uint32_t buffer_count) noexcept {
  if (payload == nullptr || buffer_count == 0) {
    return false;  // SRS_ASYNC_SOCKET_LINUX_11_044, 045, 065, 066
  }
  std::uint64_t total = 0;
  for (std::uint32_t i = 0; i < buffer_count; ++i) {
    if (payload[i].buffer == nullptr || payload[i].length == 0) {
      return false;  // SRS_ASYNC_SOCKET_LINUX_11_046, 047, 067, 068
    }
    total += payload[i].length;
    if (total > UINT32_MAX) {
      return false;  // SRS_ASYNC_SOCKET_LINUX_11_048, 069
    }
  }
  return true;
}

}  // namespace

void socket_impl::free_socket(socket_impl* s) noexcept {
  completion_port* port = s->port;
  EXECUTION_ENGINE_HANDLE engine = s->engine;
  delete as_handle(s);  // SRS_ASYNC_SOCKET_LINUX_11_023 (closes the descriptor if never opened)
  execution_engine_dec_ref(engine);
  port->release();  // SRS_ASYNC_SOCKET_LINUX_11_022
}

namespace {

// ---- the send path on the calling thread ------------------------------------------------------------

/** The outcome of trying a payload at once. */
struct attempt {
  std::uint32_t buffer = 0;  // the first buffer not completely sent
  std::uint32_t offset = 0;  // the bytes of it already sent
  bool sent_any = false;
  std::error_code ec;  // would_block: the rest must wait; other: failed
};

/** SRS_ASYNC_SOCKET_LINUX_11_052, 053: sends with MSG_NOSIGNAL (senet's synchronous send) until
    everything is sent, the socket would block, or an error. */
attempt try_send(socket_type& sock, const ASYNC_SOCKET_BUFFER* payload, std::uint32_t count) noexcept {
  attempt a;
  constexpr std::uint32_t batch = 64;
  std::array<const_buffer, batch> chunk;
  while (a.buffer < count) {
    std::uint32_t n = std::min(batch, count - a.buffer);
    std::size_t bytes = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      const ASYNC_SOCKET_BUFFER& b = payload[a.buffer + i];
      chunk[i] = const_buffer(b.buffer, b.length);
      bytes += b.length;
    }
    chunk[0] += a.offset;
    bytes -= a.offset;
    std::size_t sent = sock.send(std::span<const const_buffer>(chunk.data(), n), net::message_flags{}, a.ec);
    if (a.ec) {
      return a;
    }
    a.sent_any = a.sent_any || sent > 0;
    // Advance past what was sent.
    std::size_t left = sent + a.offset;
    a.offset = 0;
    while (a.buffer < count && left >= payload[a.buffer].length) {
      left -= payload[a.buffer].length;
      ++a.buffer;
    }
    a.offset = static_cast<std::uint32_t>(left);
    if (sent < bytes) {
      // A short send: the socket's buffer is full; the next attempt would block.
      a.ec = std::make_error_code(std::errc::operation_would_block);
      return a;
    }
  }
  return a;
}

bool is_would_block(const std::error_code& ec) noexcept {
  return ec == std::errc::operation_would_block || ec == std::errc::resource_unavailable_try_again;
}

send_op* make_send_op(socket_impl* s, const ASYNC_SOCKET_BUFFER* payload, std::uint32_t count,
                      std::uint32_t first, std::uint32_t offset, ON_ASYNC_SOCKET_SEND_COMPLETE callback,
                      void* context) noexcept {
  auto* op = new (std::nothrow) send_op;
  if (op == nullptr) {
    return nullptr;
  }
  op->buffers.reset(new (std::nothrow) const_buffer[count - first]);
  if (!op->buffers) {
    delete op;
    return nullptr;
  }
  for (std::uint32_t i = first; i < count; ++i) {
    op->buffers[i - first] = const_buffer(payload[i].buffer, payload[i].length);
  }
  op->buffers[0] += offset;
  op->count = count - first;
  op->owner = s;
  op->complete_ = send_hop;
  op->callback = callback;
  op->context = context;
  return op;
}

}  // namespace

}  // namespace senet::c_api

using senet::c_api::c_enum_value;
using senet::c_api::socket_impl;
using senet::c_api::socket_state;

extern "C" {

// ---- create / destroy ----------------------------------------------------------------------------

ASYNC_SOCKET_HANDLE async_socket_create(EXECUTION_ENGINE_HANDLE execution_engine,
                                        SOCKET_HANDLE socket_handle) {
  // SRS_ASYNC_SOCKET_LINUX_11_002: execution_engine may be NULL.
  if (socket_handle == INVALID_SOCKET || socket_handle < 0) {
    return nullptr;  // SRS_ASYNC_SOCKET_LINUX_11_003
  }
  // The descriptor must be an open socket; its family, type and protocol describe it to senet.
  int family = 0;
  int type = 0;
  int protocol = 0;
  ::socklen_t len = sizeof(int);
  if (::getsockopt(socket_handle, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
    return nullptr;  // SRS_ASYNC_SOCKET_LINUX_11_006: EBADF, ENOTSOCK
  }
  len = sizeof(int);
  if (::getsockopt(socket_handle, SOL_SOCKET, SO_DOMAIN, &family, &len) != 0) {
    return nullptr;
  }
  len = sizeof(int);
  if (::getsockopt(socket_handle, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) != 0) {
    return nullptr;
  }
  auto* s = new (std::nothrow) ASYNC_SOCKET;  // SRS_ASYNC_SOCKET_LINUX_11_001
  if (s == nullptr) {
    return nullptr;
  }
  s->close_hop.complete_ = senet::c_api::close_hop;
  s->close_hop.owner = s;
  s->port = senet::c_api::completion_port::acquire();  // SRS_ASYNC_SOCKET_LINUX_11_005
  if (s->port == nullptr) {
    delete s;
    return nullptr;
  }
  // Last, so that a failure leaves the caller's descriptor as it was.
  int flags = ::fcntl(socket_handle, F_GETFL);
  if (flags < 0 || ((flags & O_NONBLOCK) == 0 && ::fcntl(socket_handle, F_SETFL, flags | O_NONBLOCK) != 0)) {
    senet::c_api::completion_port* port = s->port;
    delete s;
    port->release();
    return nullptr;
  }
  std::error_code ec;
  s->sock.assign(senet::c_api::any_protocol(family, type, protocol), socket_handle, ec);
  // assign fails only for a negative descriptor or an open socket object; neither is possible.
  s->engine = execution_engine;
  execution_engine_inc_ref(execution_engine);
  return s;
}

ASYNC_SOCKET_HANDLE async_socket_create_with_transport(EXECUTION_ENGINE_HANDLE execution_engine,
                                                       ON_ASYNC_SOCKET_SEND on_send, void* on_send_context,
                                                       ON_ASYNC_SOCKET_RECV on_recv, void* on_recv_context) {
  (void)execution_engine;
  (void)on_send;
  (void)on_send_context;
  (void)on_recv;
  (void)on_recv_context;
  return nullptr;
}

void async_socket_destroy(ASYNC_SOCKET_HANDLE async_socket) {
  if (async_socket == nullptr) {
    return;  // SRS_ASYNC_SOCKET_LINUX_11_019
  }
  socket_impl* s = async_socket;
  if (s->port->on_loop_thread() || senet::c_api::inside_callback_of(s)) {
    // From a callback: close (SRS_ASYNC_SOCKET_LINUX_11_021) without waiting, and free the socket
    // once it is closed, its operations have completed, and the calling callback has returned.
    senet::c_api::close_socket(s);
    {
      std::lock_guard lock(s->m);
      if (s->state == socket_state::created) {
        s->state = socket_state::closed;  // never opened: nothing pending; the delete closes it
      }
      s->destroy_requested = true;
    }
    s->maybe_finalize();
    return;
  }
  {
    std::unique_lock lock(s->m);
    // SRS_ASYNC_SOCKET_LINUX_11_020: an open or a close in progress finishes first.
    s->cv.wait(lock, [&] { return s->state != socket_state::opening; });
  }
  senet::c_api::close_socket(s);  // SRS_ASYNC_SOCKET_LINUX_11_021 (does nothing unless OPEN)
  {
    std::unique_lock lock(s->m);
    s->cv.wait(lock, [&] {
      return (s->state == socket_state::created || s->state == socket_state::closed) && s->pending == 0 &&
             s->closers == 0 && s->api_calls == 0;
    });
  }
  socket_impl::free_socket(s);
}

// ---- open / close -------------------------------------------------------------------------------

int async_socket_open_async(ASYNC_SOCKET_HANDLE async_socket, ON_ASYNC_SOCKET_OPEN_COMPLETE on_open_complete,
                            void* on_open_complete_context) {
  if (async_socket == nullptr || on_open_complete == nullptr) {
    return __LINE__;  // SRS_ASYNC_SOCKET_LINUX_11_024, 025 (11_026: the context may be NULL)
  }
  socket_impl* s = async_socket;
  {
    std::lock_guard lock(s->m);
    if (s->state != socket_state::created) {
      return __LINE__;  // SRS_ASYNC_SOCKET_LINUX_11_029 (open, opening), 11_030 (closed)
    }
    s->state = socket_state::opening;  // SRS_ASYNC_SOCKET_LINUX_11_027
  }
  // SRS_ASYNC_SOCKET_LINUX_11_031: senet registers the descriptor with the port's io_context
  // (epoll_ctl EPOLL_CTL_ADD, or io_uring's own) on the first operation that has to wait.
  {
    // The open counts as an executing API call until its callback has returned, so that a close
    // (or a destroy that was waiting for the open) on another thread waits for it.
    std::lock_guard lock(s->m);
    s->state = socket_state::open;  // SRS_ASYNC_SOCKET_LINUX_11_032
    ++s->api_calls;
    s->cv.notify_all();
  }
  {
    senet::c_api::frame_guard f(s, true);
    on_open_complete(on_open_complete_context, ASYNC_SOCKET_OPEN_OK);  // SRS_ASYNC_SOCKET_LINUX_11_033
  }
  s->leave_api();  // frees the socket if the callback destroyed it
  return 0;        // SRS_ASYNC_SOCKET_LINUX_11_028
}

void async_socket_close(ASYNC_SOCKET_HANDLE async_socket) {
  if (async_socket == nullptr) {
    return;  // SRS_ASYNC_SOCKET_LINUX_11_035
  }
  senet::c_api::close_socket(async_socket);
}

// ---- send / receive / notify ----------------------------------------------------------------------

ASYNC_SOCKET_SEND_SYNC_RESULT async_socket_send_async(ASYNC_SOCKET_HANDLE async_socket,
                                                      const ASYNC_SOCKET_BUFFER* payload,
                                                      uint32_t buffer_count,
                                                      ON_ASYNC_SOCKET_SEND_COMPLETE on_send_complete,
                                                      void* on_send_complete_context) {
  using namespace senet::c_api;
  if (async_socket == nullptr || !valid_payload(payload, buffer_count) || on_send_complete == nullptr) {
    return ASYNC_SOCKET_SEND_SYNC_ERROR;  // SRS_ASYNC_SOCKET_LINUX_11_043 .. 049 (050: context may be NULL)
  }
  socket_impl* s = async_socket;
  if (!s->enter_api()) {
    return ASYNC_SOCKET_SEND_SYNC_ABANDONED;  // SRS_ASYNC_SOCKET_LINUX_11_051
  }
  ASYNC_SOCKET_SEND_SYNC_RESULT result = ASYNC_SOCKET_SEND_SYNC_OK;
  bool call_now = false;
  ASYNC_SOCKET_SEND_RESULT now_result = ASYNC_SOCKET_SEND_OK;
  {
    std::unique_lock lock(s->send_m);
    attempt a;
    if (s->send_head == nullptr) {
      a = try_send(s->sock, payload, buffer_count);  // SRS_ASYNC_SOCKET_LINUX_11_052, 053
    } else {
      // Earlier sends are still pending: this one goes behind them, untried, to keep the order.
      a.ec = std::make_error_code(std::errc::operation_would_block);
    }
    if (!a.ec) {
      call_now = true;  // SRS_ASYNC_SOCKET_LINUX_11_061
    } else if (is_would_block(a.ec)) {
      // SRS_ASYNC_SOCKET_LINUX_11_055 .. 057: the rest waits for the socket to be writable.
      send_op* op = make_send_op(s, payload, buffer_count, a.buffer, a.offset, on_send_complete,
                                 on_send_complete_context);
      if (op == nullptr) {
        if (a.sent_any) {
          call_now = true;  // part of it went out: the send has begun, and can only fail now
          now_result = ASYNC_SOCKET_SEND_ERROR;
        } else {
          result = ASYNC_SOCKET_SEND_SYNC_ERROR;  // SRS_ASYNC_SOCKET_LINUX_11_063
        }
      } else {
        s->add_pending();
        bool first = s->send_head == nullptr;
        if (first) {
          s->send_head = op;
        } else {
          s->send_tail->next = op;
        }
        s->send_tail = op;
        if (first) {
          s->post(*op);
        }
      }
    } else if (a.sent_any) {
      // Part of the payload went out before the error: the send has begun; it completes now.
      call_now = true;
      now_result = send_result_of(a.ec);
    } else if (a.ec == std::errc::connection_reset || a.ec == std::errc::not_connected ||
               a.ec == std::errc::broken_pipe) {
      result = ASYNC_SOCKET_SEND_SYNC_ABANDONED;  // SRS_ASYNC_SOCKET_LINUX_11_059
    } else {
      result = ASYNC_SOCKET_SEND_SYNC_ERROR;  // SRS_ASYNC_SOCKET_LINUX_11_060
    }
  }
  if (call_now) {
    frame_guard f(s, true);
    on_send_complete(on_send_complete_context, now_result);
  }
  s->leave_api();  // frees the socket if the callback destroyed it
  return result;   // SRS_ASYNC_SOCKET_LINUX_11_062
}

int async_socket_receive_async(ASYNC_SOCKET_HANDLE async_socket, ASYNC_SOCKET_BUFFER* payload,
                               uint32_t buffer_count, ON_ASYNC_SOCKET_RECEIVE_COMPLETE on_receive_complete,
                               void* on_receive_complete_context) {
  using namespace senet::c_api;
  if (async_socket == nullptr || !valid_payload(payload, buffer_count) || on_receive_complete == nullptr) {
    return __LINE__;  // SRS_ASYNC_SOCKET_LINUX_11_064 .. 070 (071: the context may be NULL)
  }
  socket_impl* s = async_socket;
  if (!s->enter_api()) {
    return __LINE__;  // SRS_ASYNC_SOCKET_LINUX_11_072
  }
  // SRS_ASYNC_SOCKET_LINUX_11_073, 074. One receive fills at most IOV_MAX buffers (the payload's
  // total length is below 4 GiB, so more are never needed to receive what arrives at once).
  std::size_t count = std::min<std::size_t>(buffer_count, senet::detail::iov_max);
  receive_op* op = s->take_spare_receive();
  if (op == nullptr) {
    op = new (std::nothrow) receive_op;
  }
  if (op == nullptr || !op->reserve(count)) {
    delete op;
    s->leave_api();
    return __LINE__;  // SRS_ASYNC_SOCKET_LINUX_11_078
  }
  for (std::size_t i = 0; i < count; ++i) {
    op->buffers[i] = senet::mutable_buffer(payload[i].buffer, payload[i].length);
  }
  op->owner = s;
  op->complete_ = receive_hop;
  op->callback = on_receive_complete;
  op->context = on_receive_complete_context;
  s->add_pending();
  s->post(*op);  // SRS_ASYNC_SOCKET_LINUX_11_102: the receive waits on the port's io_context
  s->leave_api();
  return 0;  // SRS_ASYNC_SOCKET_LINUX_11_077
}

int async_socket_notify_io_async(ASYNC_SOCKET_HANDLE async_socket, ASYNC_SOCKET_NOTIFY_IO_TYPE io_type,
                                 ON_ASYNC_SOCKET_NOTIFY_IO_COMPLETE on_notify_io_complete,
                                 void* on_notify_io_complete_context) {
  using namespace senet::c_api;
  const int type = c_enum_value(io_type);
  if (async_socket == nullptr || on_notify_io_complete == nullptr ||
      (type != ASYNC_SOCKET_NOTIFY_IO_TYPE_IN && type != ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT)) {
    return __LINE__;
  }
  socket_impl* s = async_socket;
  if (!s->enter_api()) {
    return __LINE__;
  }
  auto* op = new (std::nothrow) notify_op;
  if (op == nullptr) {
    s->leave_api();
    return __LINE__;
  }
  op->owner = s;
  op->complete_ = notify_hop;
  op->callback = on_notify_io_complete;
  op->context = on_notify_io_complete_context;
  op->type = type == ASYNC_SOCKET_NOTIFY_IO_TYPE_IN ? ASYNC_SOCKET_NOTIFY_IO_TYPE_IN
                                                    : ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT;
  s->add_pending();
  s->post(*op);
  s->leave_api();
  return 0;
}

}  // extern "C"
