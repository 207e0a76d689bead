// SPDX-License-Identifier: BSL-1.0
// The epoll backend: try the system call first, wait for edge-triggered readiness only on EAGAIN.
// docs/design/io_core.md, "The epoll backend".
#include "senet/backend/backend.hpp"
#include "senet/backend/op_list.hpp"
#include "senet/backend/poll_mask.hpp"
#include "senet/io/provided_buffers.hpp"

#include <array>
#include <cerrno>
#include <cstdint>
#include <ctime>
#include <new>
#include <system_error>

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace senet::io::detail {
namespace {

// backend_flags_ bits.
constexpr std::uint8_t on_write_list = 1;
constexpr std::uint8_t connect_in_progress = 2;
constexpr std::uint8_t on_poll_list = 4;
constexpr std::uint8_t is_standing = 8;  // the state's multishot record

/** The per-descriptor state: the descriptor's two wait lists. */
struct epoll_state : descriptor_state {
  int fd = -1;
  op_list read;
  op_list write;
  // Readiness waits (op_code::poll), in no order: each completes on the first edge that reports
  // one of its events, independently of the others and of the two lists above.
  op_list polls;
  // The standing multishot receive or accept (multishot_operation), performed on every edge.
  io_operation* multishot = nullptr;
  // A SOCK_STREAM socket (a short read then means its receive queue was emptied).
  bool stream = false;
  // Nothing to receive until the next readiness edge: the last receive found the queue empty
  // (EAGAIN, or a short read of a stream socket). A receive started then waits without trying
  // the system call, which in a request/response exchange would fail nearly every time.
  bool read_drained = false;
  // End of stream, a reset or an error was signalled: sticky, receives always try.
  bool read_closed = false;
  // descriptor_state_head::tickets: the ready-queue number (completion_sink::ready_entered_) of
  // the last operation of each list completed through the ready queue: until it is delivered, a
  // new operation of that direction that succeeds at once completes through the ready queue too,
  // behind it, not inline (and none is made directly).
  std::uint64_t& read_ticket() noexcept { return tickets[direct_index(direct_receive)]; }
  std::uint64_t& write_ticket() noexcept { return tickets[direct_index(direct_send)]; }
  // The backend's list of live states (for orphaning at destruction), or its free list.
  epoll_state* live_prev = nullptr;
  epoll_state* live_next = nullptr;
};

// After a receive that completed: a stream socket whose read came back short has nothing more
// queued (as tokio assumes too); an urgent-data mark can also cut a read short, and is then
// reported as the next edge only when more data arrives.
void note_receive(epoll_state* s, const io_operation& op) noexcept {
  if (s == nullptr || !s->stream || op.code_ != op_code::receive || op.result_ <= 0 ||
      (op.flags_ & (MSG_PEEK | MSG_WAITALL)) != 0) {
    return;
  }
  if (op.msg_.msg_iovlen == 0) {
    return;
  }
  std::size_t requested = op.msg_.msg_iov[0].iov_len;
  for (std::size_t i = 1; i < op.msg_.msg_iovlen; ++i) {
    requested += op.msg_.msg_iov[i].iov_len;
  }
  if (static_cast<std::size_t>(op.result_) < requested) {
    s->read_drained = true;
  }
}

/** What the return value `r` of one attempt of `op`'s system call means: 1 finished (`op.result_`
    set), 0 would block (never for a connect, whose EAGAIN is an error), -1 interrupted (try
    again). */
inline int settle(io_operation& op, ::ssize_t r) noexcept {
  if (r >= 0) {
    op.result_ = r;
    return 1;
  }
  int e = errno;
  if (e == EINTR) {
    return -1;
  }
  if ((e == EAGAIN || e == EWOULDBLOCK) && op.code_ != op_code::connect) {
    return 0;
  }
  op.result_ = -e;
  return 1;
}

/** `try_perform` of a receive, inline where the loop retries its read list. */
inline bool try_receive(io_operation& op, int fd) noexcept {
  for (;;) {
    if (int s = settle(op, ::recvmsg(fd, &op.msg_, op.flags_ | MSG_DONTWAIT)); s >= 0) {
      return s != 0;
    }
  }
}

bool is_write_op(op_code code) noexcept {
  return code == op_code::send || code == op_code::connect;
}

/** Performs `op` once on `fd`. Returns true when it finished (op.result_ set), false when it
    would block. */
bool try_perform(io_operation& op, int fd) noexcept {
  for (;;) {
    ::ssize_t r = -1;
    switch (op.code_) {
      // MSG_DONTWAIT: never block the loop, also on a blocking descriptor a socket was given with
      // assign() (and the same call as a direct one, io::detail::perform_directly).
      case op_code::receive:
        r = ::recvmsg(fd, &op.msg_, op.flags_ | MSG_DONTWAIT);
        break;
      case op_code::send:
        // MSG_NOSIGNAL: a peer reset gives EPIPE, never SIGPIPE, without touching the process's
        // signal disposition.
        r = ::sendmsg(fd, &op.msg_, op.flags_ | MSG_NOSIGNAL | MSG_DONTWAIT);
        break;
      case op_code::accept:
        r = ::accept4(fd, static_cast<::sockaddr*>(op.msg_.msg_name),
                      op.msg_.msg_name != nullptr ? &op.msg_.msg_namelen : nullptr,
                      SOCK_NONBLOCK | SOCK_CLOEXEC);
        break;
      case op_code::connect:
        if ((op.backend_flags_ & connect_in_progress) != 0) {
          // The socket became writable: connect(2) again gives the attempt's result (0, or its
          // error, as SO_ERROR would) and, unlike reading SO_ERROR, marks the socket connected,
          // so that a later connect fails with EISCONN as on io_uring (tests/fault/).
          r = ::connect(fd, static_cast<const ::sockaddr*>(op.msg_.msg_name), op.msg_.msg_namelen);
          if (r < 0 && (errno == EALREADY || errno == EINPROGRESS || errno == EINTR)) {
            return false;  // not decided yet: wait for the next edge
          }
          op.result_ = r < 0 && errno != EISCONN ? -errno : 0;
          return true;
        }
        r = ::connect(fd, static_cast<const ::sockaddr*>(op.msg_.msg_name), op.msg_.msg_namelen);
        if (r < 0 && errno == ECONNABORTED) {
          // A TCP socket whose earlier non-blocking connect failed (its error already taken with
          // SO_ERROR) is still marked connecting: Linux fails the next connect with ECONNABORTED
          // without trying, and resets the socket. Try once more, which makes a real attempt, as
          // io_uring's connect does (liburing issue 828), so both backends report the same.
          r = ::connect(fd, static_cast<const ::sockaddr*>(op.msg_.msg_name), op.msg_.msg_namelen);
        }
        if (r < 0 && (errno == EINPROGRESS || errno == EINTR)) {
          // The connection proceeds asynchronously; its result arrives as writability.
          op.backend_flags_ |= connect_in_progress;
          return false;
        }
        break;
      default:
        op.result_ = -EINVAL;
        return true;
    }
    if (int settled = settle(op, r); settled >= 0) {
      return settled != 0;
    }
  }
}

std::system_error last_system_error(const char* what) {
  return std::system_error(errno, std::system_category(), what);
}

class epoll_backend final : public backend {
 public:
  explicit epoll_backend(completion_sink& sink) : backend(sink) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) {
      throw last_system_error("senet: epoll_create1");
    }
    eventfd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (eventfd_ < 0) {
      auto e = last_system_error("senet: eventfd");
      ::close(epfd_);
      throw e;
    }
    // Level-triggered: the wake stays visible until the loop reads it.
    ::epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &eventfd_;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, eventfd_, &ev) < 0) {
      auto e = last_system_error("senet: epoll_ctl(eventfd)");
      ::close(eventfd_);
      ::close(epfd_);
      throw e;
    }
  }

  epoll_backend(const epoll_backend&) = delete;
  epoll_backend& operator=(const epoll_backend&) = delete;

  ~epoll_backend() override {
    // Sockets may outlive the context: their states stay allocated, orphaned, until
    // release_descriptor frees them.
    for (epoll_state* s = live_; s != nullptr; s = s->live_next) {
      s->owner = nullptr;
      s->context = nullptr;
      s->direct = 0;
    }
    while (free_ != nullptr) {
      epoll_state* s = free_;
      free_ = s->live_next;
      delete s;
    }
    if (timerfd_ >= 0) {
      ::close(timerfd_);
    }
    ::close(eventfd_);
    ::close(epfd_);
  }

  [[nodiscard]] backend_kind kind() const noexcept override { return backend_kind::epoll; }

  bool start(io_operation& op) noexcept override {
    descriptor& d = *op.descriptor_;
    if (op.code_ == op_code::receive) [[likely]] {
      // The hot case first: a receive on a registered descriptor whose read list is empty and that
      // is known to find nothing (the caller's own attempt would have blocked, or the last receive
      // drained the queue and the socket does not ask for a try): it waits for the next edge. The
      // same as the general path below, without its steps.
      auto* s = static_cast<epoll_state*>(d.context_state);
      if (s != nullptr && s->owner == this && s->read.empty() &&
          ((op.start_hints_ & start_would_block) != 0 ||
           (s->read_drained && !s->read_closed && (d.eager & eager_receive) == 0))) {
        op.start_hints_ = 0;
        op.backend_flags_ = 0;
        s->read_drained = true;
        s->direct &= static_cast<std::uint8_t>(~direct_receive);
        s->read.push_back(op);
        op.backend_link_ = s;
        sink().pending(op);
        return false;
      }
    }
    // A tail call: the hot path above keeps no register for after it.
    return start_general_counted(op);
  }

  void cancel(io_operation& op) noexcept override {
    auto* s = static_cast<epoll_state*>(op.backend_link_);
    if (s == nullptr) {
      return;
    }
    if ((op.backend_flags_ & is_standing) != 0) {
      end_multishot(*s, -ECANCELED);
      return;
    }
    op_list& list = list_of(*s, op);
    list.erase(op);
    op.backend_link_ = nullptr;
    sink().complete(op, -ECANCELED);
    take_ticket(*s, list);
  }

 private:
  // start() of everything but the hot wait, and the record's count as pending when the backend
  // keeps it: out of line, so that the hot path saves no registers.
  [[gnu::noinline]] bool start_general_counted(io_operation& op) noexcept {
    return sink().counted(start_general(op), op);
  }

  bool start_general(io_operation& op) noexcept {
    if (op.code_ >= op_code::poll) [[unlikely]] {
      return op.code_ == op_code::poll ? start_poll(op) : start_multishot(op);
    }
    descriptor& d = *op.descriptor_;
    epoll_state* s = current_state(d);
    if (s != nullptr && s->owner != this) {
      // Registered with another context (or another backend): see io_core.md.
      op.result_ = -EBUSY;
      return true;
    }
    bool write = is_write_op(op.code_);
    op.backend_flags_ = write ? on_write_list : 0;
    // The caller made the system call itself a moment ago and it would have blocked.
    bool tried = (op.start_hints_ & start_would_block) != 0 && s != nullptr;
    op.start_hints_ = 0;
    // Keep the order of operations in one direction: queue behind those already waiting.
    if (s == nullptr || (write ? s->write : s->read).empty()) {
      if (!write && s != nullptr &&
          (tried || (s->read_drained && !s->read_closed && op.code_ == op_code::receive &&
                     (d.eager & eager_receive) == 0))) {
        // Known to find nothing: wait for the next edge (see epoll_state::read_drained), unless the
        // socket asked for the try (data may have arrived since, its edge not yet seen).
        s->read_drained = true;
        s->direct &= static_cast<std::uint8_t>(~direct_receive);
        s->read.push_back(op);
        op.backend_link_ = s;
        return false;
      }
      if (!tried && try_perform(op, d.fd)) {
        note_receive(s, op);
        if (s != nullptr) [[likely]] {
          std::uint64_t& ticket = write ? s->write_ticket() : s->read_ticket();
          if (ticket > sink().ready_left_) [[unlikely]] {
            // An earlier operation of this direction completed and waits in the ready queue:
            // completing this one inline would overtake it.
            sink().complete(op, op.result_);
            ticket = sink().ready_entered_;
            return false;
          }
          allow_direct(*s, op.code_);
        }
        return true;
      }
      if (s == nullptr) {
        s = register_descriptor(d);
        if (s == nullptr) {
          op.result_ = -errno;
          return true;
        }
      }
      if (!write) {
        // The call found nothing; what arrives from now on is reported as an edge (also data that
        // arrived before a registration: EPOLL_CTL_ADD reports present readiness).
        s->read_drained = true;
      }
    }
    s->direct &= static_cast<std::uint8_t>(~(write ? direct_send : direct_receive));
    (write ? s->write : s->read).push_back(op);
    op.backend_link_ = s;
    return false;
  }

 public:
  void run_once(std::chrono::nanoseconds timeout, std::size_t /*awaited*/) override {
    std::array<::epoll_event, 128> events;
    int n = wait(events.data(), static_cast<int>(events.size()), timeout);
    for (int i = 0; i < n; ++i) {
      void* p = events[i].data.ptr;
      if (p == &eventfd_ || p == &timerfd_) {
        std::uint64_t value;
        [[maybe_unused]] auto r = ::read(p == &eventfd_ ? eventfd_ : timerfd_, &value, sizeof value);
        continue;
      }
      auto* s = static_cast<epoll_state*>(p);
      std::uint32_t ev = events[i].events;
      if (!s->polls.empty()) {
        complete_polls(*s, ev);
      }
      if ((ev & (EPOLLIN | EPOLLPRI | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
        s->read_drained = false;
        if ((ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
          s->read_closed = true;
        }
        if (s->multishot != nullptr) {
          run_shots(*s);
        }
        retry(*s, s->read);
      }
      if ((ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) {
        retry(*s, s->write);
      }
    }
  }

  void wake() noexcept override {
    std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(eventfd_, &one, sizeof one);
  }

  [[nodiscard]] int wait_descriptor() const noexcept override { return epfd_; }

  void arm_deadline(clock::time_point deadline) noexcept override {
    if (timerfd_ < 0) {
      timerfd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
      if (timerfd_ < 0) {
        return;
      }
      ::epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = &timerfd_;
      if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, timerfd_, &ev) < 0) {
        ::close(timerfd_);
        timerfd_ = -1;
        return;
      }
    }
    // steady_clock is CLOCK_MONOTONIC on Linux.
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
    if (ns <= 0) {
      ns = 1;
    }
    ::itimerspec spec{};
    spec.it_value.tv_sec = static_cast<std::time_t>(ns / 1'000'000'000);
    spec.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    ::timerfd_settime(timerfd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  }

  void release(descriptor& d) noexcept override {
    auto* s = static_cast<epoll_state*>(d.context_state);
    abort_all(s->read, io_operation::aborted);
    abort_all(s->write, io_operation::aborted);
    abort_all(s->polls, io_operation::aborted);
    if (s->multishot != nullptr) {
      end_multishot(*s, io_operation::aborted);
    }
    ::epoll_event ev{};
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s->fd, &ev);
    free_state(s);
    d.context_state = nullptr;
  }

  void cancel_descriptor(descriptor& d) noexcept override {
    auto* s = static_cast<epoll_state*>(d.context_state);
    if (!s->read.empty()) {
      abort_all(s->read, -ECANCELED);
      take_ticket(*s, s->read);
    }
    if (!s->write.empty()) {
      abort_all(s->write, -ECANCELED);
      take_ticket(*s, s->write);
    }
    // Readiness waits too, as io_uring cancels its polls and the test backend its poll list; they
    // take no ticket (they are not ordered with the directions' operations).
    abort_all(s->polls, -ECANCELED);
  }

  void cancel_all() noexcept override {
    shut_down_ = true;
    for (epoll_state* s = live_; s != nullptr; s = s->live_next) {
      s->direct = 0;  // shutdown: from now on every operation goes to the core, which cancels it
      abort_all(s->read, -ECANCELED);
      abort_all(s->write, -ECANCELED);
      abort_all(s->polls, -ECANCELED);
      if (s->multishot != nullptr) {
        end_multishot(*s, -ECANCELED);
      }
    }
  }

 private:
  // The state of `d`, or null when it has none; a state orphaned by a context destroyed before the
  // socket is forgotten, so that the descriptor registers afresh.
  static epoll_state* current_state(descriptor& d) noexcept {
    auto* s = static_cast<epoll_state*>(d.context_state);
    if (s != nullptr && s->owner == nullptr) {
      s->destroy(s);
      d.context_state = nullptr;
      return nullptr;
    }
    return s;
  }

  // After an operation of `code` completed (inline, or the last of its wait list) with nothing of
  // its direction pending: a send or receive of that direction may be made directly
  // (descriptor_state_head::direct; its ticket says from when), a receive only while no standing
  // receive takes the descriptor's data.
  void allow_direct(epoll_state& s, op_code code) const noexcept {
    if (shut_down_) {
      return;
    }
    if (code == op_code::send) {
      s.direct |= direct_send;
    } else if (code == op_code::receive && s.multishot == nullptr && s.standing == nullptr) {
      s.direct |= direct_receive;
    }
  }

  // A standing receive or accept (one per descriptor): performed now, and on every edge until it
  // ends. Its completions are handed to the core at once (on_shot_); its last one goes through
  // the ready queue.
  bool start_multishot(io_operation& op) noexcept {
    descriptor& d = *op.descriptor_;
    epoll_state* s = current_state(d);
    if (s != nullptr && (s->owner != this || s->multishot != nullptr)) {
      op.result_ = -EBUSY;
      return true;
    }
    if (s == nullptr) {
      s = register_descriptor(d);
      if (s == nullptr) {
        op.result_ = -errno;
        return true;
      }
    }
    op.completion_flags_ = 0;
    op.backend_link_ = s;
    op.backend_flags_ = is_standing;
    s->direct &= static_cast<std::uint8_t>(~direct_receive);
    s->multishot = &op;
    // Data (or connections) may be there already, reported by no edge to come.
    run_shots(*s);
    return false;
  }

  // Out of line: its callers are the hot loops of the standing operation.
  [[gnu::noinline]] void end_multishot(epoll_state& s, std::int64_t result) noexcept {
    io_operation& op = *s.multishot;
    s.multishot = nullptr;
    op.backend_link_ = nullptr;
    op.backend_flags_ = 0;
    op.completion_flags_ = 0;
    sink().complete(op, result);
  }

  // Performs the standing operation until the kernel has nothing more (or it ended: the core may
  // cancel it from a shot, when its socket's queue is full).
  void run_shots(epoll_state& s) noexcept {
    io_operation* const op = s.multishot;
    auto& m = static_cast<multishot_operation&>(*op);
    while (s.multishot == op) {
      if (op->code_ == op_code::accept_multishot) {
        int fd = ::accept4(s.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
          m.on_shot_(m, fd, completion_more, 0);
          continue;
        }
        int e = errno;
        if (e == EAGAIN || e == EWOULDBLOCK) {
          return;
        }
        if (e != EINTR && e != ECONNABORTED && e != EPROTO) {
          end_multishot(s, -e);
        }
        continue;
      }
      provided_buffers& pool = *m.buffers_;
      std::uint32_t id = pool.take();
      if (id == provided_buffers::no_buffer) {
        end_multishot(s, -ENOBUFS);
        return;
      }
      ::ssize_t r = ::recv(s.fd, pool.data(id), pool.buffer_size(), MSG_DONTWAIT);
      if (r > 0) {
        m.on_shot_(m, r, completion_more | completion_buffer, id);
        if (s.stream && static_cast<std::size_t>(r) < pool.buffer_size() && !s.read_closed) {
          // A short read of a stream socket emptied its queue: wait for the next edge. Not once
          // the end of stream or a reset was signalled: that came with this edge (or an earlier
          // one), no edge follows it, and only the next recv reports it (0, or the error).
          s.read_drained = true;
          return;
        }
        continue;
      }
      pool.untake(id);
      if (r == 0) {
        end_multishot(s, 0);
        return;
      }
      int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK) {
        s.read_drained = true;
        return;
      }
      if (e != EINTR) {
        end_multishot(s, -e);
      }
    }
  }

  static op_list& list_of(epoll_state& s, const io_operation& op) noexcept {
    if ((op.backend_flags_ & on_poll_list) != 0) {
      return s.polls;
    }
    return (op.backend_flags_ & on_write_list) != 0 ? s.write : s.read;
  }

  // A readiness wait (op_code::poll) never completes inline: what the descriptor's present state
  // already satisfies completes through the ready queue. The check comes before a registration,
  // which then reports readiness that arrived after the check (EPOLL_CTL_ADD reports present
  // readiness); once registered, any later change is an edge.
  bool start_poll(io_operation& op) noexcept {
    descriptor& d = *op.descriptor_;
    epoll_state* s = current_state(d);
    op.backend_link_ = nullptr;
    op.backend_flags_ = 0;
    std::int64_t r = s != nullptr && s->owner != this ? -EBUSY : poll_now(d.fd, requested_events(op));
    if (r == 0 && s == nullptr) {
      s = register_descriptor(d);
      if (s == nullptr) {
        r = -errno;
      }
    }
    if (r != 0) {
      sink().complete(op, r);
      return false;
    }
    s->polls.push_back(op);
    op.backend_link_ = s;
    op.backend_flags_ = on_poll_list;
    return false;
  }

  // Completes the readiness waits that the events `ev` of one edge satisfy.
  void complete_polls(epoll_state& s, std::uint32_t ev) noexcept {
    for (io_operation* op = s.polls.front(); op != nullptr;) {
      io_operation* next = op->next_;
      if (std::int64_t r = poll_result(ev, requested_events(*op)); r != 0) {
        s.polls.erase(*op);
        op->backend_link_ = nullptr;
        sink().complete(*op, r);
      }
      op = next;
    }
  }

  int wait(::epoll_event* events, int max, std::chrono::nanoseconds timeout) noexcept {
    int n;
    if (have_pwait2_) {
      ::timespec ts{};
      ::timespec* tsp = nullptr;
      if (timeout.count() >= 0) {
        ts.tv_sec = static_cast<std::time_t>(timeout.count() / 1'000'000'000);
        ts.tv_nsec = static_cast<long>(timeout.count() % 1'000'000'000);
        tsp = &ts;
      }
      n = ::epoll_pwait2(epfd_, events, max, tsp, nullptr);
      if (n >= 0 || errno != ENOSYS) {
        return n < 0 ? 0 : n;
      }
      have_pwait2_ = false;
    }
    int ms = -1;
    if (timeout.count() >= 0) {
      // Round up, so that the loop never wakes before a deadline and spins.
      auto m = (timeout.count() + 999'999) / 1'000'000;
      ms = m > 0x7fffffff ? 0x7fffffff : static_cast<int>(m);
    }
    n = ::epoll_wait(epfd_, events, max, ms);
    return n < 0 ? 0 : n;
  }

  // Retries the records of one list in order after a readiness edge, until one would block.
  void retry(epoll_state& s, op_list& list) noexcept {
    while (io_operation* op = list.front()) {
      if (!(op->code_ == op_code::receive ? try_receive(*op, s.fd) : try_perform(*op, s.fd))) {
        if (&list == &s.read) {
          s.read_drained = true;
        }
        return;
      } else if (&list == &s.read) {
        note_receive(&s, *op);
      }
      list.erase(*op);
      op->backend_link_ = nullptr;
      // A direction's records are single-shot (the multishot one is s.multishot).
      sink().complete_single(*op, op->result_);
      take_ticket(s, list);
      if (list.empty()) {
        // The direction is idle: direct calls may go on once this completion is delivered (the
        // ticket just taken says when).
        allow_direct(s, op->code_);
      }
    }
  }

  void abort_all(op_list& list, std::int64_t result) noexcept {
    while (io_operation* op = list.front()) {
      list.erase(*op);
      op->backend_link_ = nullptr;
      sink().complete(*op, result);
    }
  }

  // A record of `list` has just been completed through the ready queue (by retry() or a cancel):
  // when `list` is a direction's (not the readiness waits), that completion becomes the
  // direction's ticket, so that an operation of the direction started before it is delivered does
  // not complete at once, ahead of it.
  void take_ticket(epoll_state& s, const op_list& list) noexcept {
    if (&list == &s.read) {
      s.read_ticket() = sink().ready_entered_;
    } else if (&list == &s.write) {
      s.write_ticket() = sink().ready_entered_;
    }
  }

  epoll_state* register_descriptor(descriptor& d) noexcept {
    epoll_state* s = free_;
    if (s != nullptr) {
      free_ = s->live_next;
    } else {
      s = new (std::nothrow) epoll_state;
      if (s == nullptr) {
        errno = ENOMEM;
        return nullptr;
      }
      s->destroy = [](descriptor_state* state) noexcept { delete static_cast<epoll_state*>(state); };
    }
    s->owner = this;
    s->context = sink().context_;
    s->delivered = &sink().ready_left_;
    s->direct = 0;
    // Every send with nothing ahead of it is tried at once (start_general); a receive is not
    // when the last one drained the socket (read_drained).
    s->tries = direct_send;
    s->fd = d.fd;
    ::epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET;
    ev.data.ptr = s;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, d.fd, &ev) < 0) {
      int e = errno;
      s->owner = nullptr;
      s->live_next = free_;
      free_ = s;
      errno = e;
      return nullptr;
    }
    int type = 0;
    ::socklen_t type_size = sizeof type;
    s->stream = ::getsockopt(d.fd, SOL_SOCKET, SO_TYPE, &type, &type_size) == 0 && type == SOCK_STREAM;
    s->read_drained = false;
    s->read_closed = false;
    s->multishot = nullptr;
    s->standing = nullptr;
    s->live_prev = nullptr;
    s->live_next = live_;
    if (live_ != nullptr) {
      live_->live_prev = s;
    }
    live_ = s;
    d.context_state = s;
    return s;
  }

  void free_state(epoll_state* s) noexcept {
    if (s->live_prev == nullptr) {
      live_ = s->live_next;
    } else {
      s->live_prev->live_next = s->live_next;
    }
    if (s->live_next != nullptr) {
      s->live_next->live_prev = s->live_prev;
    }
    s->owner = nullptr;
    s->context = nullptr;
    s->direct = 0;
    s->fd = -1;
    s->live_prev = nullptr;
    s->live_next = free_;
    free_ = s;
  }

  int epfd_ = -1;
  int eventfd_ = -1;
  int timerfd_ = -1;
  bool have_pwait2_ = true;
  // cancel_all() ran: no direct system calls any more (descriptor_state_head::direct).
  bool shut_down_ = false;
  epoll_state* live_ = nullptr;
  epoll_state* free_ = nullptr;
};

}  // namespace

std::unique_ptr<backend> make_epoll_backend(completion_sink& sink) {
  return std::make_unique<epoll_backend>(sink);
}

}  // namespace senet::io::detail
