// SPDX-License-Identifier: BSL-1.0
/* Standing (multishot) operations and buffer pools: the backend-independent half of
   docs/design/io_core.md, "Buffer pools and standing operations".

   A socket that receives into a pool gets a `pooled_socket` (allocated on its first pooled
   receive, recycled through the context's free list, so a steady server allocates nothing). It
   holds the socket's standing multishot receive (a `multishot_operation` that the backend
   completes once per arriving chunk), the queue of received pieces that nobody has asked for
   yet (records of the pool's piece table, linked through `piece::next`), and the pooled receives
   that wait for data, in start order.

   A piece is what one completion received: a whole buffer, or, when the kernel consumes buffers
   incrementally (IOU_PBUF_RING_INC), the bytes at the buffer's current offset, the kernel going on
   filling the rest (IORING_CQE_F_BUF_MORE) for this or another socket. A buffer is free again (back
   in the kernel's ring, or on the core's free stack) when the kernel is done with it and every
   piece of it has come back: `pooled_buffer`s name their buffer, and the pool counts the pieces
   out per buffer.

   Invariants:
   - Data is taken from the queue in arrival order, and a receive that waits is served before a
     later one: a receive completes at once only when nobody waits and the queue has data (or the
     stream ended), and, like epoll, through the ready queue when an earlier completion of the
     socket has not been delivered yet (`ticket`).
   - The standing receive is armed while the socket has no end (end of stream, error) and is not
     held back: held back when the queue exceeds the pool's watermark (`paused`: the record is
     cancelled; re-armed when the queue has fallen to half of it) and when the pool ran dry
     (`starved`: re-armed when a buffer comes back, never on a timer). Arming is lazy: the first
     pooled receive arms it, and it stays armed across receives.
   - The record is released only after its last completion (`armed` false): a socket released
     while it is armed marks the state `detached`, completes what waits with `aborted`, gives its
     queued buffers back, and the state is recycled when the last completion arrives.
   - A pool is freed when its owner closed it, no buffer is out and no socket state names it.
*/
#include "senet/io/standing.hpp"
#include "senet/io/context_impl.hpp"
#include "senet/io/provided_buffers.hpp"

#include <senet/io/detail/pooled_receive.hpp>

#include "senet/backend/op_list.hpp"

#include <algorithm>
#include <cerrno>
#include <new>
#include <stdexcept>
#include <system_error>

namespace senet::io::detail {

provided_buffers::provided_buffers(context_impl& impl, std::size_t buffer_size, std::uint32_t count,
                                   std::size_t watermark)
    : impl_(&impl),
      watermark_(watermark),
      size_(buffer_size),
      count_(count),
      // Zeroed, so that every page is touched now (see buffer_pool: "Memory").
      storage_(new unsigned char[buffer_size * count]()),
      free_(new std::uint32_t[count]),
      held_(new std::uint32_t[count]()),
      offset_(new std::uint32_t[count]()),
      kernel_has_(new bool[count]),
      pieces_(new piece[count]),
      piece_capacity_(count) {
  // Pushed in reverse, so that take() hands out buffer 0 first.
  for (std::uint32_t i = count; i > 0; --i) {
    free_[free_count_++] = i - 1;
    kernel_has_[i - 1] = true;
    free_piece(i - 1);
  }
}

std::uint32_t provided_buffers::grow_pieces() noexcept {
  if (piece_capacity_ > 0x7fffffffU) {
    return no_buffer;
  }
  std::uint32_t capacity = piece_capacity_ * 2;
  auto* grown = new (std::nothrow) piece[capacity];
  if (grown == nullptr) {
    return no_buffer;
  }
  std::copy(pieces_.get(), pieces_.get() + piece_capacity_, grown);
  pieces_.reset(grown);
  // The new records in reverse, so that the first of them is taken first.
  for (std::uint32_t p = capacity - 1; p > piece_capacity_; --p) {
    free_piece(p);
  }
  std::uint32_t first = piece_capacity_;
  piece_capacity_ = capacity;
  return first;
}

provided_buffers::~provided_buffers() = default;

bool release_pool_if_unused(provided_buffers* pool) noexcept {
  if (!pool->closed_ || pool->taken_ != 0 || pool->users_ != 0) {
    return false;
  }
  if (context_impl* home = pool->home_) {
    if (home->starts_handed_off()) {
      // A pooled receive started on another thread before the pool was destroyed may still be on
      // its way to the loop, naming the pool: it must find it (and fail with no_buffer_space).
      if (!pool->retired_) {
        pool->retired_ = true;
        ++home->retired_pools_;
      }
      return false;
    }
    home->forget_pool(*pool);
  }
  delete pool;
  return true;
}

void context_impl::forget_pool(provided_buffers& pool) noexcept {
  for (provided_buffers** q = &pools_; *q != nullptr; q = &(*q)->next_pool_) {
    if (*q == &pool) {
      *q = pool.next_pool_;
      break;
    }
  }
  if (pool.retired_) {
    --retired_pools_;
  }
  pool.home_ = nullptr;
}

void context_impl::free_retired_pools() noexcept {
  if (starts_handed_off()) {
    return;
  }
  provided_buffers* pool = pools_;
  while (retired_pools_ != 0 && pool != nullptr) {
    provided_buffers* next = pool->next_pool_;
    if (pool->retired_) {
      release_pool_if_unused(pool);
    }
    pool = next;
  }
}

struct pooled_socket {
  // First member: the record's address is the state's. Its `descriptor_` (the socket's, set when
  // the state is made; never re-armed once `detached`) and `buffers_` (the pool, null once the
  // state is freed) are the state's own: an idle connection's state is kept small.
  multishot_operation record;
  context_impl* impl = nullptr;
  parked_operations waiters;
  std::uint32_t head = provided_buffers::no_buffer;
  std::uint32_t tail = provided_buffers::no_buffer;
  std::size_t queued_bytes = 0;
  // 1: open; 0: end of stream; < 0: the error that ended it (after the queued data).
  std::int64_t end = 1;
  bool armed = false;
  bool starved = false;
  bool paused = false;
  bool detached = false;
  pooled_socket* live_prev = nullptr;
  pooled_socket* live_next = nullptr;
  pooled_socket* starved_next = nullptr;

  [[nodiscard]] provided_buffers* pool() const noexcept { return record.buffers_; }
};

namespace {

pooled_socket& socket_of(multishot_operation& op) noexcept {
  return *reinterpret_cast<pooled_socket*>(&op);
}

bool give_back(provided_buffers& pool, std::uint32_t id) noexcept;

void enqueue(pooled_socket& ps, std::uint32_t p) noexcept {
  provided_buffers& pool = *ps.pool();
  pool.piece_at(p).next = provided_buffers::no_buffer;
  if (ps.tail == provided_buffers::no_buffer) {
    ps.head = p;
  } else {
    pool.piece_at(ps.tail).next = p;
  }
  ps.tail = p;
  ps.queued_bytes += pool.piece_at(p).length;
}

// Takes the first piece off the queue; the caller frees its record.
provided_buffers::piece dequeue(pooled_socket& ps) noexcept {
  provided_buffers& pool = *ps.pool();
  std::uint32_t p = ps.head;
  provided_buffers::piece taken = pool.piece_at(p);
  pool.free_piece(p);
  ps.head = taken.next;
  if (ps.head == provided_buffers::no_buffer) {
    ps.tail = provided_buffers::no_buffer;
  }
  ps.queued_bytes -= taken.length;
  return taken;
}

void drop_queue(pooled_socket& ps) noexcept {
  while (ps.head != provided_buffers::no_buffer) {
    give_back(*ps.pool(), dequeue(ps).buffer);
  }
}

// Fills a pooled receive with `length` bytes of buffer `id` from `offset`.
void give(pooled_receive_operation& op, const provided_buffers& pool, std::uint32_t id, std::uint32_t offset,
          std::uint32_t length) noexcept {
  op.buffer_ = id;
  op.data_ = pool.data(id) + offset;
  op.result_ = length;
}

// Fills a pooled receive from the queue (a piece) or the end (0 or an error).
void fill(pooled_socket& ps, pooled_receive_operation& op) noexcept {
  if (ps.head != provided_buffers::no_buffer) {
    provided_buffers::piece p = dequeue(ps);
    give(op, *ps.pool(), p.buffer, p.offset, p.length);
  } else {
    op.data_ = nullptr;
    op.result_ = ps.end;
  }
}

[[nodiscard]] bool has_result(const pooled_socket& ps) noexcept {
  return ps.head != provided_buffers::no_buffer || ps.end <= 0;
}

void arm(pooled_socket& ps) noexcept;

// Completes the waiting receives that the queue or the end can serve, in order.
void serve(pooled_socket& ps) noexcept {
  context_impl& impl = *ps.impl;
  while (!ps.waiters.empty() && has_result(ps)) {
    auto& op = static_cast<pooled_receive_operation&>(ps.waiters.take_first());
    fill(ps, op);
    ps.waiters.complete(impl, op);
  }
}

// After data left the queue: a paused standing receive resumes at half the watermark.
void maybe_resume(pooled_socket& ps) noexcept {
  if (ps.paused && !ps.armed && ps.queued_bytes <= ps.pool()->watermark_ / 2) {
    ps.paused = false;
    arm(ps);
  }
}

void unlink_starved(pooled_socket& ps) noexcept {
  if (!ps.starved) {
    return;
  }
  ps.starved = false;
  for (pooled_socket** p = &ps.pool()->starved_; *p != nullptr; p = &(*p)->starved_next) {
    if (*p == &ps) {
      *p = ps.starved_next;
      break;
    }
  }
  ps.starved_next = nullptr;
}

void free_socket(pooled_socket& ps) noexcept {
  context_impl& impl = *ps.impl;
  unlink_starved(ps);
  drop_queue(ps);
  if (ps.live_prev == nullptr) {
    impl.pooled_live_ = ps.live_next;
  } else {
    ps.live_prev->live_next = ps.live_next;
  }
  if (ps.live_next != nullptr) {
    ps.live_next->live_prev = ps.live_prev;
  }
  provided_buffers* pool = ps.pool();
  --pool->users_;
  ps.record.buffers_ = nullptr;
  ps.live_prev = nullptr;
  ps.live_next = impl.pooled_free_;
  impl.pooled_free_ = &ps;
  release_pool_if_unused(pool);
}

// Gives a buffer whose last piece came back, or that took no piece, to the kernel's ring (or the
// free stack) once the kernel is done with it. True when it did.
bool reuse_if_free(provided_buffers& pool, std::uint32_t id) noexcept;

// The common completion of the standing receive: bytes with nothing queued before them and a
// receive that waits for them. They go to that receive, as serve() would hand them on, without a
// piece record on the way. False, having changed nothing, for any other completion.
bool take_for_waiter(pooled_socket& ps, std::int64_t result, std::uint8_t flags, std::uint32_t id) noexcept {
  if ((flags & completion_buffer) == 0 || result <= 0 || ps.detached ||
      ps.head != provided_buffers::no_buffer || ps.end <= 0 || ps.waiters.empty()) {
    return false;
  }
  provided_buffers& pool = *ps.pool();
  auto length = static_cast<std::uint32_t>(result);
  std::uint32_t offset = pool.consumed(id, length, (flags & completion_buffer_more) == 0);
  pool.hold(id);
  auto& op = static_cast<pooled_receive_operation&>(ps.waiters.take_first());
  give(op, pool, id, offset, length);
  ps.waiters.complete(*ps.impl, op);
  return true;
}

// What one completion of the standing receive carries: with incremental consumption a piece of a
// buffer that may stay in the kernel's use (completion_buffer_more), otherwise a whole buffer.
// Out of line: take_data's common case (take_for_waiter) makes no frame for it.
[[gnu::noinline]] void take_data_queued(pooled_socket& ps, std::int64_t result, std::uint8_t flags,
                                        std::uint32_t id) noexcept {
  provided_buffers& pool = *ps.pool();
  if ((flags & completion_buffer) == 0) {
    return;
  }
  if (pool.incremental_ && result <= 0) {
    // The kernel consumed nothing of the buffer (end of stream): it stays at the ring's head.
    return;
  }
  auto length = static_cast<std::uint32_t>(result > 0 ? result : 0);
  std::uint32_t offset = pool.consumed(id, length, (flags & completion_buffer_more) == 0);
  if (ps.detached || result <= 0) {
    reuse_if_free(pool, id);
    return;
  }
  std::uint32_t p = pool.new_piece();
  if (p == provided_buffers::no_buffer) {
    // No memory for the piece's record: the bytes are lost, so the stream ends here.
    reuse_if_free(pool, id);
    ps.end = -ENOMEM;
    if (ps.armed) {
      ps.impl->get_backend().cancel(ps.record);
    }
    serve(ps);
    return;
  }
  pool.hold(id);
  pool.piece_at(p) = {id, offset, length, provided_buffers::no_buffer};
  enqueue(ps, p);
  serve(ps);
  if (ps.armed && !ps.paused && ps.queued_bytes > pool.watermark_) {
    // Hold the socket back: what keeps arriving waits in the kernel's socket buffer.
    ps.paused = true;
    ps.impl->get_backend().cancel(ps.record);
  }
}

void take_data(pooled_socket& ps, std::int64_t result, std::uint8_t flags, std::uint32_t id) noexcept {
  if (!take_for_waiter(ps, result, flags, id)) {
    take_data_queued(ps, result, flags, id);
  }
}

void on_shot(multishot_operation& op, std::int64_t result, std::uint8_t flags, std::uint32_t id) noexcept {
  take_data(socket_of(op), result, flags, id);
}

// The standing receive's last completion (from the ready queue, or at once from arm()).
void on_last(pooled_socket& ps) noexcept {
  multishot_operation& r = ps.record;
  ps.armed = false;
  std::int64_t result = r.result_;
  take_data(ps, result, r.completion_flags_, r.buffer_);
  if (ps.detached) {
    free_socket(ps);
    return;
  }
  provided_buffers& pool = *ps.pool();
  bool rearm = false;
  if ((r.completion_flags_ & completion_buffer) != 0 && result > 0) {
    // The kernel ended it with data (a full completion queue, for one): go on.
    rearm = true;
  } else if (result == 0) {
    ps.end = 0;
  } else if (result == -ENOBUFS) {
    if (pool.closed_) {
      ps.end = -ENOBUFS;
    } else if (pool.out_ < pool.count()) {
      rearm = true;  // buffers came back before this completion was delivered
    } else {
      ps.starved = true;
      ps.starved_next = pool.starved_;
      pool.starved_ = &ps;
    }
  } else if (result == -ECANCELED || result == io_operation::aborted) {
    // Paused, the socket's cancel(), or shutdown: armed again by the next receive or resume.
    rearm = !ps.paused && !ps.waiters.empty();
  } else if (result < 0) {
    ps.end = result;
  }
  serve(ps);
  if (ps.paused) {
    maybe_resume(ps);
  } else if (rearm && ps.end > 0) {
    arm(ps);
  }
}

void on_last_delivered(io_operation* op) noexcept {
  on_last(socket_of(*static_cast<multishot_operation*>(op)));
}

void arm(pooled_socket& ps) noexcept {
  if (ps.armed || ps.detached || ps.starved || ps.end <= 0 || ps.pool()->closed_ ||
      ps.impl->shutting_down()) {
    return;
  }
  multishot_operation& r = ps.record;
  r.on_shot_ = &on_shot;
  r.complete_ = &on_last_delivered;
  r.result_ = 0;
  r.flags_ = 0;
  r.link_timeout_ns_ = 0;
  r.completion_flags_ = 0;
  ps.armed = true;
  if (ps.impl->start(r)) {
    // Refused at once (a descriptor of another context, a backend without multishot).
    on_last(ps);
  }
}

bool reuse_if_free(provided_buffers& pool, std::uint32_t id) noexcept {
  if (!pool.reusable(id)) {
    return false;
  }
  pool.refilled(id);
  if (pool.ring_ != nullptr && pool.impl_ != nullptr) {
    pool.impl_->get_backend().recycle_buffer(pool, id);
  } else {
    pool.untake(id);
  }
  return true;
}

// A piece of buffer `id` came back. True when the buffer became free again.
bool give_back(provided_buffers& pool, std::uint32_t id) noexcept {
  return pool.unhold(id) && reuse_if_free(pool, id);
}

pooled_socket* new_socket(context_impl& impl, provided_buffers& pool, descriptor& d) noexcept {
  pooled_socket* ps = impl.pooled_free_;
  if (ps != nullptr) {
    impl.pooled_free_ = ps->live_next;
  } else {
    ps = new (std::nothrow) pooled_socket;
    if (ps == nullptr) {
      return nullptr;
    }
  }
  ps->impl = &impl;
  // The standing state's kind, also while its record is not armed.
  ps->record.code_ = op_code::receive_multishot;
  ps->record.buffers_ = &pool;
  ++pool.users_;
  ps->record.descriptor_ = &d;
  ps->head = ps->tail = provided_buffers::no_buffer;
  ps->queued_bytes = 0;
  ps->end = 1;
  ps->waiters.ticket = 0;
  ps->armed = ps->starved = ps->paused = ps->detached = false;
  ps->starved_next = nullptr;
  ps->live_prev = nullptr;
  ps->live_next = impl.pooled_live_;
  if (impl.pooled_live_ != nullptr) {
    impl.pooled_live_->live_prev = ps;
  }
  impl.pooled_live_ = ps;
  return ps;
}

}  // namespace

bool context_impl::start_special(io_operation& op) noexcept {
  if (op.code_ == op_code::accept_queued) {
    return counted(queued_accept_start(op), op);
  }
  if (is_multishot(op.code_)) {
    if (backend_->start(op)) {
      return true;
    }
    // The backend counted it (pending()); it is also standing.
    ++standing_;
    return false;
  }
  op.result_ = -EOPNOTSUPP;
  return true;
}

namespace {

// A pooled receive on the socket's state `ps`: served from its queue (or its end) when nobody waits
// before it, else parked (and counted as pending) until data comes.
[[gnu::always_inline]] inline bool serve_or_park(context_impl& impl, pooled_socket& ps,
                                                 pooled_receive_operation& op) noexcept {
  if (ps.waiters.empty() && has_result(ps)) {
    fill(ps, op);
    maybe_resume(ps);
    return impl.counted(ps.waiters.complete_at_start(impl, op), op);
  }
  ps.waiters.park(op);
  arm(ps);
  impl.pending(op);
  return false;
}

}  // namespace

bool context_impl::pooled_start(io_operation& o) noexcept {
  auto& op = static_cast<pooled_receive_operation&>(o);
  // The common start: a socket that received into this pool before, the pool still open.
  multishot_operation* record = standing_record(*this, *op.descriptor_);
  if (record == nullptr || record->code_ != op_code::receive_multishot ||
      socket_of(*record).pool() != op.pool_ || op.pool_->impl_ != this) [[unlikely]] {
    return pooled_start_first(op);
  }
  return serve_or_park(*this, socket_of(*record), op);
}

bool context_impl::pooled_start_first(io_operation& o) noexcept {
  auto& op = static_cast<pooled_receive_operation&>(o);
  provided_buffers& pool = *op.pool_;
  descriptor& d = *op.descriptor_;
  pooled_socket* ps = nullptr;
  if (multishot_operation* record = standing_record(*this, d)) {
    if (record->code_ != op_code::receive_multishot) {
      // An acceptor's standing accept: no receives there.
      op.result_ = -EINVAL;
      return true;
    }
    ps = &socket_of(*record);
    if (ps->pool() != &pool) {
      // One pool per socket: its queue links through that pool's buffers.
      op.result_ = -EINVAL;
      return true;
    }
    // The pool may have been closed since (buffer_pool's destructor): what the socket queued is
    // still its receives', and then its end says no_buffer_space (close_buffer_pool).
  } else {
    if (pool.impl_ != this) {
      op.result_ = pool.closed_ ? -ENOBUFS : -EINVAL;
      return true;
    }
    ps = new_socket(*this, pool, d);
    if (ps == nullptr) {
      op.result_ = -ENOMEM;
      return true;
    }
    arm(*ps);
    auto* state = static_cast<descriptor_state*>(d.context_state);
    if (!ps->armed && (state == nullptr || state->owner != backend_.get() || state->standing != nullptr)) {
      // Refused at once: not this context's descriptor, or no multishot receive here.
      op.result_ = ps->end < 0 ? ps->end : -EOPNOTSUPP;
      ps->detached = true;
      free_socket(*ps);
      return true;
    }
    state->standing = &ps->record;
    state->direct &= static_cast<std::uint8_t>(~direct_receive);  // the standing receive takes the data
  }
  return serve_or_park(*this, *ps, op);
}

void context_impl::cancel_parked(io_operation& op) noexcept {
  parked_operations::cancel(*this, op);
}

void context_impl::standing_release(descriptor_state& state, bool release) noexcept {
  auto* record = static_cast<multishot_operation*>(state.standing);
  if (record->code_ == op_code::accept_multishot) {
    queued_accept_release(*record, release);
    return;
  }
  auto* ps = &socket_of(*record);
  ps->waiters.complete_all(*this, release ? io_operation::aborted : -ECANCELED);
  if (!release) {
    return;
  }
  state.standing = nullptr;
  ps->detached = true;
  drop_queue(*ps);
  if (!ps->armed) {
    free_socket(*ps);
  }
  // Otherwise the backend's release ends the record, and its last completion frees the state.
}

void context_impl::standing_cancel_all() noexcept {
  queued_accept_cancel_all();
  for (pooled_socket* ps = pooled_live_; ps != nullptr; ps = ps->live_next) {
    ps->waiters.complete_all(*this, -ECANCELED);
  }
}

void context_impl::standing_destroy_all() noexcept {
  // Shutdown has reaped every record: nothing names these states any more but the descriptors'.
  // A pool still open is forgotten (its owner's close then finds no context); a closed one that
  // buffers still hold is freed by the last one's return, without its context.
  provided_buffers* pool = pools_;
  pools_ = nullptr;
  retired_pools_ = 0;
  while (pool != nullptr) {
    provided_buffers* next = pool->next_pool_;
    pool->home_ = nullptr;
    if (!pool->closed_) {
      backend_->detach_buffers(*pool);
      pool->impl_ = nullptr;
    } else {
      release_pool_if_unused(pool);
    }
    pool = next;
  }
  while (pooled_socket* ps = pooled_live_) {
    if (!ps->detached) {
      // Registered (a state that failed to start was freed at once) and not released.
      static_cast<descriptor_state*>(ps->record.descriptor_->context_state.load())->standing = nullptr;
    }
    ps->detached = true;
    free_socket(*ps);
  }
  queued_accept_destroy_all();
  while (pooled_socket* ps = pooled_free_) {
    pooled_free_ = ps->live_next;
    delete ps;
  }
}

// ---- buffer pools ----------------------------------------------------------------------------

provided_buffers* open_buffer_pool(io_context& ctx, std::size_t buffer_size, std::size_t count,
                                   std::size_t watermark) {
  if (buffer_size == 0 || count == 0 || count > 32768 || buffer_size > 0xffffffffU) {
    throw std::invalid_argument(
        "senet::net::buffer_pool: buffer_size must be 1 .. 4 GiB - 1 and buffer_count 1 .. 32768");
  }
  context_impl& impl = context_impl::of(ctx);
  auto* pool = new provided_buffers(impl, buffer_size, static_cast<std::uint32_t>(count),
                                    watermark == 0 ? buffer_size : watermark);
  struct args {
    provided_buffers* pool;
    int result;
  } a{pool, 0};
  impl.on_loop_thread(
      [](void* p, context_impl& impl) noexcept {
        auto& a = *static_cast<args*>(p);
        a.result = impl.get_backend().attach_buffers(*a.pool);
        if (a.result == 0 && a.pool->ring_ != nullptr) {
          a.pool->empty_free_stack();
        }
        if (a.result == 0) {
          a.pool->next_pool_ = impl.pools_;
          a.pool->home_ = &impl;
          impl.pools_ = a.pool;
        }
      },
      &a);
  if (a.result < 0) {
    delete pool;
    throw std::system_error(-a.result, std::system_category(),
                            "senet::net::buffer_pool: registering the pool");
  }
  return pool;
}

void close_buffer_pool(provided_buffers* pool) noexcept {
  if (pool->impl_ == nullptr) {
    // The context is gone already.
    pool->closed_ = true;
    release_pool_if_unused(pool);
    return;
  }
  pool->impl_->on_loop_thread(
      [](void* p, context_impl& impl) noexcept {
        auto* pool = static_cast<provided_buffers*>(p);
        // It stays in the context's list (home_) until it is freed.
        pool->closed_ = true;
        impl.get_backend().detach_buffers(*pool);
        pool->impl_ = nullptr;
        // Its sockets get no buffer any more: what they queued is still theirs, then their
        // receives fail, and their standing receives end.
        for (pooled_socket* ps = impl.pooled_live_; ps != nullptr; ps = ps->live_next) {
          if (ps->pool() != pool) {
            continue;
          }
          unlink_starved(*ps);
          if (ps->end > 0) {
            ps->end = -ENOBUFS;
          }
          serve(*ps);
          if (ps->armed) {
            impl.get_backend().cancel(ps->record);
          }
        }
        release_pool_if_unused(pool);
      },
      pool);
}

namespace {

// What return_buffer does beyond giving the buffer back, when there is more to do: out of line,
// so that the common return makes no frame for it.
[[gnu::noinline]] void after_return(provided_buffers& pool, bool freed) noexcept {
  if (pool.closed_) {
    release_pool_if_unused(&pool);
    return;
  }
  if (!freed) {
    // Other pieces of the buffer are still out, or the kernel still fills it: nothing new to
    // receive into.
    return;
  }
  // A buffer is back: every standing receive that ran dry may go on (not on a timer).
  while (pooled_socket* ps = pool.starved_) {
    pool.starved_ = ps->starved_next;
    ps->starved_next = nullptr;
    ps->starved = false;
    arm(*ps);
  }
}

}  // namespace

void return_buffer(provided_buffers& pool, std::uint32_t id) noexcept {
  bool freed = give_back(pool, id);
  if (pool.closed_ || (freed && pool.starved_ != nullptr)) [[unlikely]] {
    after_return(pool, freed);
  }
}

buffer_pool_state pool_state(const provided_buffers& pool) noexcept {
  return {pool.buffer_size(), pool.count(), pool.taken_, pool.ring_ != nullptr, pool.incremental_};
}

}  // namespace senet::io::detail
