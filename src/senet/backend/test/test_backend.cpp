// SPDX-License-Identifier: BSL-1.0
// The test backend: sockets simulated in memory, keyed by their real descriptors, and a virtual
// clock. include/senet/io/test_network.hpp, its public face, says what is simulated and how.
#include "senet/backend/test/test_backend.hpp"
#include "senet/backend/op_list.hpp"
#include "senet/backend/poll_mask.hpp"

#include <senet/io/test_network.hpp>

#include "senet/backend/test/byte_queue.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <stdexcept>
#include <system_error>
#include <vector>

#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace senet::io::detail {

using test_sim::byte_queue;
using test_sim::datagram_header;
using test_sim::datagram_queue;
using test_sim::iov_size;
using test_sim::sock_address;

namespace {

// backend_flags_ bits.
constexpr std::uint8_t on_write_list = 1;
constexpr std::uint8_t connect_in_flight = 2;
constexpr std::uint8_t on_poll_list = 4;

// The largest UDP payloads over IPv4 and IPv6.
constexpr std::size_t max_udp4_payload = 65507;
constexpr std::size_t max_udp6_payload = 65527;

// The address of this object marks the query of test_network::of (see test_backend::start).
constinit char network_query_key = 0;

bool is_write_op(op_code code) noexcept {
  return code == op_code::send || code == op_code::connect;
}

using fault_kind = test_network::operation;
constexpr std::size_t fault_kinds = static_cast<std::size_t>(fault_kind::wait) + 1;

/** The kind of fault (test_network::fail_next) that an operation takes. */
fault_kind fault_kind_of(op_code code) noexcept {
  switch (code) {
    case op_code::send:
      return fault_kind::send;
    case op_code::accept:
      return fault_kind::accept;
    case op_code::connect:
      return fault_kind::connect;
    case op_code::poll:
      return fault_kind::wait;
    default:
      return fault_kind::receive;
  }
}

std::int64_t neg_errno() noexcept {
  return -static_cast<std::int64_t>(errno);
}

// ---- addresses ------------------------------------------------------------------------------

bool local_address(int fd, sock_address& a) noexcept {
  a.size = sizeof a.storage;
  return ::getsockname(fd, a.get(), &a.size) == 0;
}

bool peer_address(int fd, sock_address& a) noexcept {
  a.size = sizeof a.storage;
  return ::getpeername(fd, a.get(), &a.size) == 0;
}

const ::sockaddr_in& in4(const sock_address& a) noexcept {
  return *static_cast<const ::sockaddr_in*>(static_cast<const void*>(&a.storage));
}
::sockaddr_in& in4(sock_address& a) noexcept {
  return *static_cast<::sockaddr_in*>(static_cast<void*>(&a.storage));
}
const ::sockaddr_in6& in6(const sock_address& a) noexcept {
  return *static_cast<const ::sockaddr_in6*>(static_cast<const void*>(&a.storage));
}
::sockaddr_in6& in6(sock_address& a) noexcept {
  return *static_cast<::sockaddr_in6*>(static_cast<void*>(&a.storage));
}
const ::sockaddr_un& un(const sock_address& a) noexcept {
  return *static_cast<const ::sockaddr_un*>(static_cast<const void*>(&a.storage));
}

/** Whether `a` is a complete address of its family. */
bool well_formed(const sock_address& a) noexcept {
  switch (a.family()) {
    case AF_INET:
      return a.size >= sizeof(::sockaddr_in);
    case AF_INET6:
      return a.size >= sizeof(::sockaddr_in6);
    case AF_UNIX:
      return a.size > offsetof(::sockaddr_un, sun_path);
    default:
      return false;
  }
}

std::uint16_t port_of(const sock_address& a) noexcept {
  switch (a.family()) {
    case AF_INET:
      return ntohs(in4(a).sin_port);
    case AF_INET6:
      return ntohs(in6(a).sin6_port);
    default:
      return 0;
  }
}

bool is_wildcard(const sock_address& a) noexcept {
  switch (a.family()) {
    case AF_INET:
      return in4(a).sin_addr.s_addr == htonl(INADDR_ANY);
    case AF_INET6:
      return IN6_IS_ADDR_UNSPECIFIED(&in6(a).sin6_addr);
    default:
      return false;
  }
}

/** A connect or send to the wildcard address goes to the loopback address, as on Linux. */
void normalize(sock_address& a) noexcept {
  if (!is_wildcard(a)) {
    return;
  }
  if (a.family() == AF_INET) {
    in4(a).sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else if (a.family() == AF_INET6) {
    in6(a).sin6_addr = in6addr_loopback;
  }
}

/** The path bytes of a Unix address: up to the first NUL for a pathname, all of them for an
    abstract name; empty for an unnamed socket. */
std::pair<const char*, std::size_t> unix_name(const sock_address& a) noexcept {
  const char* p = un(a).sun_path;
  std::size_t n = a.size > offsetof(::sockaddr_un, sun_path) ? a.size - offsetof(::sockaddr_un, sun_path) : 0;
  if (n > 0 && p[0] != '\0') {
    n = ::strnlen(p, n);
  }
  return {p, n};
}

bool same_host(const sock_address& a, const sock_address& b) noexcept {
  if (a.family() == AF_INET) {
    return in4(a).sin_addr.s_addr == in4(b).sin_addr.s_addr;
  }
  return std::memcmp(&in6(a).sin6_addr, &in6(b).sin6_addr, sizeof(::in6_addr)) == 0;
}

/** Whether `a` and `b` are the same endpoint. */
bool same_endpoint(const sock_address& a, const sock_address& b) noexcept {
  if (a.family() != b.family() || !well_formed(a) || !well_formed(b)) {
    return false;
  }
  if (a.family() == AF_UNIX) {
    auto [pa, na] = unix_name(a);
    auto [pb, nb] = unix_name(b);
    return na == nb && na > 0 && std::memcmp(pa, pb, na) == 0;
  }
  return port_of(a) == port_of(b) && same_host(a, b);
}

/** Whether a socket bound to `bound` receives what is sent to `target`: same endpoint, or the
    same port on the wildcard address. */
bool receives_at(const sock_address& bound, const sock_address& target) noexcept {
  if (same_endpoint(bound, target)) {
    return true;
  }
  return bound.family() == target.family() && well_formed(bound) && well_formed(target) &&
         bound.family() != AF_UNIX && port_of(bound) != 0 && port_of(bound) == port_of(target) &&
         is_wildcard(bound);
}

/** Whether a socket's local address `a` is final (it cannot change any more). */
bool is_bound(const sock_address& a) noexcept {
  if (a.family() == AF_UNIX) {
    return unix_name(a).second > 0;
  }
  return (a.family() == AF_INET || a.family() == AF_INET6) && port_of(a) != 0;
}

/** Writes `a` to the address output of `m` (recvmsg and accept conventions). */
void store_name(::msghdr& m, const sock_address& a) noexcept {
  if (m.msg_name == nullptr) {
    return;
  }
  std::size_t n = std::min<std::size_t>(m.msg_namelen, a.size);
  std::memcpy(m.msg_name, &a.storage, n);
  m.msg_namelen = a.size;
}

int socket_int_option(int fd, int level, int name, int fallback) noexcept {
  int value = 0;
  ::socklen_t len = sizeof value;
  if (::getsockopt(fd, level, name, &value, &len) < 0) {
    return fallback;
  }
  return value;
}

}  // namespace

// ---- the simulated objects ------------------------------------------------------------------------

struct sim_connection;

/** What the test backend knows of one socket descriptor; its `descriptor_state` once a
    descriptor registered it. */
struct sim_socket : descriptor_state {
  /** The ready-queue numbers of the last receive and send completed through the ready queue (see
      epoll_state::read_ticket): until delivered, a new one that succeeds at once queues behind. */
  std::uint64_t read_ticket = 0;
  std::uint64_t write_ticket = 0;
  int fd = -1;
  ::dev_t dev = 0;
  ::ino_t ino = 0;
  int family = AF_UNSPEC;
  int type = 0;
  /** A descriptor's context_state points here (set by an operation, reset by release). */
  bool registered = false;
  /** Not a socket (a pipe, an eventfd...), known to readiness waits only: the kernel's poll(2)
      answers for it. */
  bool foreign = false;
  /** SO_ACCEPTCONN was seen. */
  bool listening = false;
  /** SO_LINGER {on, 0} was set when the socket was released: closing resets. */
  bool linger_reset = false;
  /** Waiting for the backend's flush. */
  bool dirty = false;
  /** Its operations ignore cancellation (test_network::ignore_cancellation). */
  bool ignores_cancel = false;
  /** Its descriptor was closed while registered (behind senet's back): only release frees it. */
  bool zombie = false;
  /** Some fault_left is not 0 (the one check on the operations' path). */
  bool faulty = false;
  /** Faults armed by test_network::fail_next, by fault_kind: the errno, and how many operations
      it still fails. */
  int fault_errno[fault_kinds]{};
  unsigned fault_left[fault_kinds]{};
  /** The local address, once final. */
  bool bound_known = false;
  sock_address bound{};
  op_list reads;
  op_list writes;
  /** Readiness waits (op_code::poll), each completed by the first state that has its events. */
  op_list polls;
  /** Stream: the connection and this socket's side of it (0 connecting, 1 accepted). */
  sim_connection* conn = nullptr;
  int side = 0;
  /** Listener: connections not accepted yet, in order. */
  sim_connection* backlog_head = nullptr;
  sim_connection* backlog_tail = nullptr;
  /** Datagram: received datagrams. */
  datagram_queue inbox;
  sim_socket* dirty_next = nullptr;
  sim_socket* live_prev = nullptr;
  sim_socket* live_next = nullptr;
};

/** The bytes flowing toward one end of a connection. Counters are cumulative, so that
    latency-delayed visibility is a single number. */
struct stream_half {
  byte_queue data;  // written, not read yet
  std::uint64_t written = 0;
  std::uint64_t visible = 0;  // bytes readable by now (written, unless latency delays them)
  std::uint64_t read = 0;
  bool fin = false;  // the writer shut down or closed: end of stream once everything is read

  [[nodiscard]] std::uint64_t unread() const noexcept { return written - read; }
  [[nodiscard]] std::uint64_t readable() const noexcept { return visible - read; }
};

/** A simulated stream connection between end 0 (the connecting socket) and end 1 (the accepted
    one). */
struct sim_connection {
  sim_socket* end[2]{};
  stream_half to[2];       // to[i]: bytes for end i
  sock_address addr[2]{};  // addr[i]: the local endpoint of end i, as its peer sees it
  bool closed[2]{};        // end i closed its descriptor
  bool rd_shut[2]{};
  bool wr_shut[2]{};
  bool reset_pending[2]{};             // end i reports ECONNRESET on its next operation
  bool broken = false;                 // reset: no data moves any more
  bool queued = false;                 // in its listener's backlog
  io_operation* connect_op = nullptr;  // a latency-delayed connect in flight
  sim_connection* backlog_next = nullptr;
  sim_connection* live_prev = nullptr;
  sim_connection* live_next = nullptr;
};

/** Something latency delays, due at `at` on the virtual clock. */
struct sim_event {
  enum class kind : std::uint8_t { connect, data, datagram };
  clock::time_point at;
  std::uint64_t seq = 0;
  kind what = kind::connect;
  int side = 0;
  std::uint64_t value = 0;
  void* target = nullptr;
};

// ---- the backend -----------------------------------------------------------------------------

class test_backend;

namespace {

// The live test backends, for the socket classes' fallbacks (test_network::shutdown_simulated,
// test_network::simulated_peer), which know a descriptor but not its context.
std::mutex registry_mutex;
test_backend* registry_head = nullptr;

}  // namespace

class test_backend final : public backend {
 public:
  explicit test_backend(completion_sink& sink) : backend(sink), now_(clock::now()), network_(*this) {
    // The loop's poll list is allocated up front, so that turns of the loop never allocate.
    polls_.reserve(16);
    polled_.reserve(16);
    eventfd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (eventfd_ < 0) {
      throw std::system_error(errno, std::system_category(), "senet: eventfd");
    }
    std::lock_guard lock(registry_mutex);
    registry_next_ = registry_head;
    registry_head = this;
  }

  test_backend(const test_backend&) = delete;
  test_backend& operator=(const test_backend&) = delete;

  ~test_backend() override {
    {
      std::lock_guard lock(registry_mutex);
      for (test_backend** p = &registry_head; *p != nullptr; p = &(*p)->registry_next_) {
        if (*p == this) {
          *p = registry_next_;
          break;
        }
      }
    }
    // Sockets may outlive the context: registered states stay allocated, orphaned, until
    // release_descriptor frees them.
    while (sim_connection* c = connections_) {
      for (sim_socket* s : c->end) {
        if (s != nullptr) {
          s->conn = nullptr;
        }
      }
      unlink_connection(*c);
      delete c;
    }
    while (sim_socket* s = sockets_) {
      unlink_socket(*s);
      s->backlog_head = s->backlog_tail = nullptr;
      s->inbox.clear();
      if (s->registered) {
        s->owner = nullptr;
      } else {
        delete s;
      }
    }
    ::close(eventfd_);
  }

  [[nodiscard]] backend_kind kind() const noexcept override { return backend_kind::test; }

  bool start(io_operation& op) noexcept override { return sink().counted(start_record(op), op); }

  // start(), but for the record's count as pending.
  bool start_record(io_operation& op) noexcept {
    if (op.code_ == op_code::none && op.backend_link_ == &network_query_key) {
      op.backend_link_ = &network_;
      op.result_ = 0;
      return true;
    }
    if (op.code_ == op_code::poll) [[unlikely]] {
      return start_poll(op);
    }
    if (is_multishot(op.code_)) [[unlikely]] {
      // Standing multishot operations (buffer pools, queued accepts) are not simulated.
      op.result_ = -EOPNOTSUPP;
      return true;
    }
    if (op.descriptor_ == nullptr || op.descriptor_->fd < 0) {
      op.result_ = -EBADF;
      return true;
    }
    std::int64_t error = 0;
    sim_socket* s = attach(*op.descriptor_, error);
    if (s == nullptr) {
      op.result_ = error;
      return true;
    }
    op.backend_flags_ = is_write_op(op.code_) ? on_write_list : 0;
    op.backend_link_ = nullptr;
    refresh(*s);
    op_list& list = (op.backend_flags_ & on_write_list) != 0 ? s->writes : s->reads;
    bool done = false;
    // Keep the order of operations in one direction: queue behind those already waiting.
    if (list.empty()) {
      std::int64_t r = 0;
      if (try_perform(*s, op, r)) {
        op.result_ = r;
        done = true;
        std::uint64_t& ticket = (op.backend_flags_ & on_write_list) != 0 ? s->write_ticket : s->read_ticket;
        if (ticket > sink().ready_left_) {
          // An earlier operation of this direction waits in the ready queue: do not overtake it.
          finish(op, r);
          ticket = sink().ready_entered_;
          flush();
          return false;
        }
      }
    }
    if (!done) {
      list.push_back(op);
      op.backend_link_ = s;
    }
    flush();
    return done;
  }

  void cancel(io_operation& op) noexcept override {
    auto* s = static_cast<sim_socket*>(op.backend_link_);
    if (s == nullptr || s->ignores_cancel) {
      return;
    }
    unlink_op(*s, op);
    finish(op, -ECANCELED);
    flush();
  }

  void run_once(std::chrono::nanoseconds timeout, std::size_t /*awaited*/) override {
    std::uint64_t before = completions_;
    if (timeout.count() >= 0) {
      drain_wake();
    }
    sweep();
    run_due_events();
    flush();
    bool kernel = collect_kernel_waits();
    if (kernel && completions_ == before) {
      poll_kernel(0);
    }
    if (completions_ != before || timeout.count() == 0) {
      return;
    }
    // Nothing can progress without time passing: let it pass, at once.
    if (!events_.empty() && (timeout.count() < 0 || events_.front().at - now_ <= timeout)) {
      now_ = std::max(now_, events_.front().at);
      run_due_events();
      flush();
      return;
    }
    if (timeout.count() > 0) {
      now_ += timeout;
      return;
    }
    // No deadline at all: only another thread (wake) or the kernel can bring work. The wake is
    // consumed only after poll reports it, so that one sent before this call is never lost.
    poll_kernel(-1);
    drain_wake();
  }

  void wake() noexcept override {
    std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(eventfd_, &one, sizeof one);
  }

  [[nodiscard]] int wait_descriptor() const noexcept override { return eventfd_; }

  void arm_deadline(clock::time_point deadline) noexcept override {
    armed_ = deadline;
    if (armed_ <= now_) {
      wake();
    }
  }

  void release(descriptor& d) noexcept override {
    auto* s = static_cast<sim_socket*>(d.context_state);
    d.context_state = nullptr;
    if (s->zombie) {
      unlink_socket(*s);
      delete s;
      return;
    }
    abort_all(*s, io_operation::aborted);
    note_linger(*s);
    // The descriptor is closed right after this, or handed to the caller of release(): which one
    // is seen later, by the descriptor's identity (sweep, alive).
    s->registered = false;
    flush();
  }

  void visit_pending(void (*visit)(const io_operation&, void*) noexcept, void* arg) const noexcept override {
    for (const sim_socket* s = sockets_; s != nullptr; s = s->live_next) {
      for (const op_list* list : {&s->reads, &s->writes}) {
        for (const io_operation* op = list->front(); op != nullptr; op = op->next_) {
          visit(*op, arg);
        }
      }
    }
  }

  void cancel_descriptor(descriptor& d) noexcept override {
    auto* s = static_cast<sim_socket*>(d.context_state);
    if (s->ignores_cancel) {
      return;
    }
    abort_all(*s, -ECANCELED);
    flush();
  }

  void cancel_all() noexcept override {
    for (sim_socket* s = sockets_; s != nullptr; s = s->live_next) {
      if (!s->ignores_cancel) {
        abort_all(*s, -ECANCELED);
      }
    }
    flush();
  }

  [[nodiscard]] clock::time_point now() const noexcept override { return now_; }

  // ---- controls (test_network) ----

  void advance(clock::duration d) noexcept {
    if (d.count() > 0) {
      clock::time_point target = now_ + d;
      while (!events_.empty() && events_.front().at <= target) {
        now_ = std::max(now_, events_.front().at);
        run_due_events();
      }
      now_ = target;
      flush();
    }
    // A foreign loop waiting on wait_descriptor() must look at its timers and completions again.
    wake();
  }

  void set_max_transfer(std::size_t n) noexcept { max_transfer_ = n; }
  [[nodiscard]] std::size_t max_transfer() const noexcept { return max_transfer_; }
  void set_send_buffer_limit(std::size_t n) noexcept {
    send_limit_ = n;
    // A larger limit may let pending sends proceed.
    for (sim_socket* s = sockets_; s != nullptr; s = s->live_next) {
      if (!s->writes.empty()) {
        mark_dirty(*s);
      }
    }
    flush();
  }
  [[nodiscard]] std::size_t send_buffer_limit() const noexcept { return send_limit_; }
  void set_latency(clock::duration d) noexcept { latency_ = std::max(d, clock::duration::zero()); }
  [[nodiscard]] clock::duration latency() const noexcept { return latency_; }
  void refuse_all(bool on) noexcept { refuse_all_ = on; }

  void refuse(const sock_address& a, bool on) {
    auto same = [&](const sock_address& r) {
      return r.size == a.size && std::memcmp(&r.storage, &a.storage, a.size) == 0;
    };
    refused_.erase(std::remove_if(refused_.begin(), refused_.end(), same), refused_.end());
    if (on) {
      refused_.push_back(a);
    }
  }

  bool ignore_cancellation(int fd) noexcept {
    sim_socket* s = find_fd(fd);
    if (s == nullptr) {
      return false;
    }
    s->ignores_cancel = true;
    return true;
  }

  bool reset_connection(int fd) noexcept {
    sim_socket* s = find_fd(fd);
    if (s == nullptr || s->conn == nullptr) {
      return false;
    }
    reset(*s->conn);
    flush();
    return true;
  }

  std::error_code shutdown(int fd, int how) noexcept {
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) {
      return std::make_error_code(std::errc::invalid_argument);
    }
    sim_socket* s = find_fd(fd);
    if (s == nullptr || s->conn == nullptr || s->conn->connect_op != nullptr) {
      return std::make_error_code(std::errc::not_connected);
    }
    sim_connection& c = *s->conn;
    int i = s->side;
    if (how != SHUT_WR) {
      c.rd_shut[i] = true;
      mark_dirty(*s);
    }
    if (how != SHUT_RD) {
      c.wr_shut[i] = true;
      c.to[1 - i].fin = true;
      mark_dirty(*s);
      if (c.end[1 - i] != nullptr) {
        mark_dirty(*c.end[1 - i]);
      }
    }
    flush();
    return {};
  }

  /** SO_LINGER was set on `fd`: reads it now if `fd` is an end of a simulated connection. Only
      looks (it forgets no closed socket: find_fd would), so that it touches nothing but the flag. */
  bool linger_set(int fd) noexcept {
    if (fd < 0 || static_cast<std::size_t>(fd) >= by_fd_.size()) {
      return false;
    }
    sim_socket* s = by_fd_[static_cast<std::size_t>(fd)];
    if (s == nullptr || s->conn == nullptr || !same_file(*s)) {
      return false;
    }
    note_linger(*s);
    return true;
  }

  bool peer_of(int fd, sock_address& out) noexcept {
    sim_socket* s = find_fd(fd);
    if (s == nullptr || s->conn == nullptr || s->conn->connect_op != nullptr) {
      return false;
    }
    out = s->conn->addr[1 - s->side];
    return true;
  }

  std::size_t buffered(int fd) noexcept {
    sim_socket* s = find_fd(fd);
    if (s == nullptr) {
      return 0;
    }
    if (s->conn != nullptr) {
      return static_cast<std::size_t>(s->conn->to[s->side].unread());
    }
    return s->inbox.payload_bytes();
  }

  /** test_network::fail_next, its arguments checked: 0, or the errno for which `fd` cannot have
      faults (not open, not a socket). */
  int fail_next(int fd, fault_kind kind, int error, unsigned times) noexcept {
    sim_socket* s = find_fd(fd);
    if (s == nullptr) {
      std::int64_t e = 0;
      s = create(fd, e);
      if (s == nullptr) {
        return static_cast<int>(-e);
      }
    }
    auto k = static_cast<std::size_t>(kind);
    s->fault_errno[k] = error;
    s->fault_left[k] = times;
    s->faulty = true;
    // The operations already waiting take the fault at once, as the kernel's error would wake
    // them: a connect delayed by latency here, the others through their socket's retry.
    if (io_operation* op = s->writes.front();
        kind == fault_kind::connect && op != nullptr && (op->backend_flags_ & connect_in_flight) != 0) {
      unlink_op(*s, *op);
      finish(*op, -take_fault(*s, kind));
    }
    mark_dirty(*s);
    flush();
    return 0;
  }

  unsigned faults_left(int fd, fault_kind kind) noexcept {
    sim_socket* s = find_fd(fd);
    return s == nullptr ? 0 : s->fault_left[static_cast<std::size_t>(kind)];
  }

  void clear_faults(int fd) noexcept {
    if (sim_socket* s = find_fd(fd)) {
      std::fill(std::begin(s->fault_left), std::end(s->fault_left), 0U);
      s->faulty = false;
    }
  }

  [[nodiscard]] test_network& network() noexcept { return network_; }

  /** Calls `fn(backend)` for each live test backend until it returns true; returns whether one
      did. */
  template <class Fn>
  static bool for_each_backend(Fn fn) {
    std::lock_guard lock(registry_mutex);
    for (test_backend* b = registry_head; b != nullptr; b = b->registry_next_) {
      if (fn(*b)) {
        return true;
      }
    }
    return false;
  }

 private:
  // ---- bookkeeping ----

  void finish(io_operation& op, std::int64_t result) noexcept {
    ++completions_;
    op.backend_link_ = nullptr;
    sink().complete(op, result);
  }

  /** The errno of the fault armed for `kind` on `s`, counted as taken; 0 if none is armed. */
  static int take_fault(sim_socket& s, fault_kind kind) noexcept {
    auto k = static_cast<std::size_t>(kind);
    if (!s.faulty || s.fault_left[k] == 0) {
      return 0;
    }
    --s.fault_left[k];
    s.faulty =
        std::any_of(std::begin(s.fault_left), std::end(s.fault_left), [](unsigned n) { return n != 0; });
    return s.fault_errno[k];
  }

  void mark_dirty(sim_socket& s) noexcept {
    if (!s.dirty) {
      s.dirty = true;
      s.dirty_next = dirty_;
      dirty_ = &s;
    }
  }

  /** Retries the waiting operations of every socket whose state changed, until none can move. */
  void flush() noexcept {
    while (sim_socket* s = dirty_) {
      dirty_ = s->dirty_next;
      s->dirty = false;
      s->dirty_next = nullptr;
      // Readiness waits first: the change that made a waiting receive proceed is an event they
      // see too, as the kernel's wake-up reaches both.
      pump_polls(*s);
      pump(*s, s->reads);
      pump(*s, s->writes);
    }
  }

  // ---- readiness (op_code::poll) ----

  /** A readiness wait never completes inline: what `s`'s present state satisfies completes
      through the ready queue. Any descriptor may be waited for; one that is not a socket is
      answered by the kernel (poll(2) in run_once). */
  bool start_poll(io_operation& op) noexcept {
    op.backend_flags_ = on_poll_list;
    op.backend_link_ = nullptr;
    std::int64_t r = 0;
    sim_socket* s = nullptr;
    if (op.descriptor_ == nullptr || op.descriptor_->fd < 0) {
      r = -EBADF;
    } else if ((s = attach(*op.descriptor_, r, true)) != nullptr) {
      refresh(*s);
      int fault = take_fault(*s, fault_kind::wait);
      r = fault != 0 ? -fault : poll_state(*s, requested_events(op));
    }
    if (r != 0) {
      finish(op, r);
    } else {
      s->polls.push_back(op);
      op.backend_link_ = s;
    }
    flush();
    return false;
  }

  void pump_polls(sim_socket& s) noexcept {
    for (io_operation* op = s.polls.front(); op != nullptr;) {
      io_operation* next = op->next_;
      int fault = take_fault(s, fault_kind::wait);
      if (std::int64_t r = fault != 0 ? -fault : poll_state(s, requested_events(*op)); r != 0) {
        s.polls.erase(*op);
        finish(*op, r);
      }
      op = next;
    }
  }

  /** Whether the kernel, not the simulation, knows `s`'s readiness. */
  bool kernel_readiness(sim_socket& s) noexcept {
    return s.foreign || (s.type != SOCK_STREAM && s.type != SOCK_DGRAM) || outside_simulation(s);
  }

  /** The events of `wanted` that `s` has now (poll_result's encoding: 0 for none): the simulated
      connection's state mapped as Linux's poll(2) reports it for TCP, or the kernel's answer. */
  std::int64_t poll_state(sim_socket& s, poll_events wanted) noexcept {
    if (kernel_readiness(s)) {
      return poll_now(s.fd, wanted);
    }
    if (s.type == SOCK_DGRAM) {
      // Errors (an ICMP refusal) come from the kernel; simulated datagrams wait in the inbox.
      std::int64_t r = poll_now(s.fd, wanted);
      if (r >= 0 && has(wanted, poll_events::readable) && readable(s)) {
        r |= static_cast<std::uint8_t>(poll_events::readable);
      }
      return r;
    }
    unsigned m = 0;
    if (readable(s)) {
      m |= POLLIN;
    }
    if (writable(s)) {
      m |= POLLOUT;
    }
    if (const sim_connection* c = s.conn; c != nullptr && c->connect_op == nullptr) {
      int i = s.side;
      if (c->to[i].fin || c->rd_shut[i]) {
        m |= POLLRDHUP;
      }
      if (c->reset_pending[i]) {
        m |= POLLERR;
      }
      if (c->broken || (c->to[i].fin && c->wr_shut[i])) {
        m |= POLLHUP;
      }
    }
    return poll_result(m, wanted);
  }

  void pump(sim_socket& s, op_list& list) noexcept {
    while (io_operation* op = list.front()) {
      if ((op->backend_flags_ & connect_in_flight) != 0) {
        return;  // completes through its event
      }
      std::int64_t r = 0;
      if (!try_perform(s, *op, r)) {
        return;
      }
      list.erase(*op);
      finish(*op, r);
      (&list == &s.writes ? s.write_ticket : s.read_ticket) = sink().ready_entered_;
    }
  }

  void unlink_op(sim_socket& s, io_operation& op) noexcept {
    if ((op.backend_flags_ & on_poll_list) != 0) {
      s.polls.erase(op);
      return;
    }
    ((op.backend_flags_ & on_write_list) != 0 ? s.writes : s.reads).erase(op);
    if ((op.backend_flags_ & connect_in_flight) != 0) {
      op.backend_flags_ &= static_cast<std::uint8_t>(~connect_in_flight);
      drop_connect(s);
    }
  }

  void abort_all(sim_socket& s, std::int64_t result) noexcept {
    for (op_list* list : {&s.reads, &s.writes, &s.polls}) {
      while (io_operation* op = list->front()) {
        unlink_op(s, *op);
        finish(*op, result);
      }
    }
  }

  void link_socket(sim_socket& s) noexcept {
    s.live_prev = nullptr;
    s.live_next = sockets_;
    if (sockets_ != nullptr) {
      sockets_->live_prev = &s;
    }
    sockets_ = &s;
  }

  void unlink_socket(sim_socket& s) noexcept {
    if (s.live_prev == nullptr) {
      sockets_ = s.live_next;
    } else {
      s.live_prev->live_next = s.live_next;
    }
    if (s.live_next != nullptr) {
      s.live_next->live_prev = s.live_prev;
    }
    s.live_prev = s.live_next = nullptr;
  }

  void link_connection(sim_connection& c) noexcept {
    c.live_prev = nullptr;
    c.live_next = connections_;
    if (connections_ != nullptr) {
      connections_->live_prev = &c;
    }
    connections_ = &c;
  }

  void unlink_connection(sim_connection& c) noexcept {
    if (c.live_prev == nullptr) {
      connections_ = c.live_next;
    } else {
      c.live_prev->live_next = c.live_next;
    }
    if (c.live_next != nullptr) {
      c.live_next->live_prev = c.live_prev;
    }
    c.live_prev = c.live_next = nullptr;
  }

  // ---- sockets by descriptor ----

  /** The socket of `d`, registering it on its first operation. */
  sim_socket* attach(descriptor& d, std::int64_t& error, bool any_file = false) noexcept {
    if (d.context_state != nullptr) {
      auto* state = static_cast<descriptor_state*>(d.context_state);
      if (state->owner != this) {
        // Registered with another context: see docs/design/io_core.md.
        error = -EBUSY;
        return nullptr;
      }
      return static_cast<sim_socket*>(state);
    }
    sim_socket* s = find_fd(d.fd);
    if (s != nullptr && s->registered) {
      if (same_file(*s)) {
        // Another descriptor object holds this state: one socket object per descriptor.
        error = -EBUSY;
        return nullptr;
      }
      // Its descriptor was closed behind senet's back, and the number given out again.
      closed(*s);
      s = nullptr;
    }
    if (s == nullptr) {
      s = create(d.fd, error, any_file);
      if (s == nullptr) {
        return nullptr;
      }
    }
    s->registered = true;
    d.context_state = s;
    return s;
  }

  /** The known, still open socket of `fd`, or null. */
  sim_socket* find_fd(int fd) noexcept {
    if (fd < 0 || static_cast<std::size_t>(fd) >= by_fd_.size()) {
      return nullptr;
    }
    sim_socket* s = by_fd_[static_cast<std::size_t>(fd)];
    if (s == nullptr || !alive(*s)) {
      return nullptr;
    }
    return s;
  }

  /** Whether `s`'s descriptor is still open; forgets it (its peer sees the close) if not. A
      registered descriptor is open until released; another one is checked by its identity, so
      that a closed descriptor whose number was reused is noticed too. */
  bool alive(sim_socket& s) noexcept {
    if (s.registered) {
      return true;
    }
    if (same_file(s)) {
      if (s.conn != nullptr) {
        // No release() will tell how an unregistered socket (never used here, or moved: a move
        // gives up the registration) was closed: read its SO_LINGER while it is still open.
        note_linger(s);
      }
      return true;
    }
    closed(s);
    return false;
  }

  /** Whether closing `s` now resets its connection (SO_LINGER on with a zero timeout). */
  static void note_linger(sim_socket& s) noexcept {
    ::linger l{};
    ::socklen_t len = sizeof l;
    if (::getsockopt(s.fd, SOL_SOCKET, SO_LINGER, &l, &len) == 0) {
      s.linger_reset = l.l_onoff != 0 && l.l_linger == 0;
    }
  }

  /** Whether `s.fd` still refers to the socket `s` was created for. */
  static bool same_file(const sim_socket& s) noexcept {
    struct ::stat st {};
    return ::fstat(s.fd, &st) == 0 && st.st_ino == s.ino && st.st_dev == s.dev;
  }

  /** Starts knowing `fd` (unregistered). */
  sim_socket* create(int fd, std::int64_t& error, bool any_file = false) noexcept {
    struct ::stat st {};
    if (::fstat(fd, &st) < 0) {
      error = neg_errno();
      return nullptr;
    }
    if (!S_ISSOCK(st.st_mode) && !any_file) {
      error = -ENOTSOCK;
      return nullptr;
    }
    auto index = static_cast<std::size_t>(fd);
    if (index < by_fd_.size() && by_fd_[index] != nullptr) {
      // A descriptor number the kernel gave out again: the previous socket is closed.
      closed(*by_fd_[index]);
    }
    auto* s = new (std::nothrow) sim_socket;
    if (s == nullptr) {
      error = -ENOMEM;
      return nullptr;
    }
    try {
      if (index >= by_fd_.size()) {
        by_fd_.resize(std::max(index + 1, by_fd_.size() * 2), nullptr);
      }
    } catch (...) {
      delete s;
      error = -ENOMEM;
      return nullptr;
    }
    s->owner = this;
    s->destroy = [](descriptor_state* state) noexcept { delete static_cast<sim_socket*>(state); };
    s->fd = fd;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->foreign = !S_ISSOCK(st.st_mode);
    s->type = s->foreign ? 0 : socket_int_option(fd, SOL_SOCKET, SO_TYPE, 0);
    s->family = socket_int_option(fd, SOL_SOCKET, SO_DOMAIN, AF_UNSPEC);
    by_fd_[index] = s;
    link_socket(*s);
    return s;
  }

  /** `s`'s descriptor is closed (or, registered, about to be given up): its connection and
      backlog learn it, and the backend forgets it. */
  void closed(sim_socket& s) noexcept {
    auto index = static_cast<std::size_t>(s.fd);
    if (index < by_fd_.size() && by_fd_[index] == &s) {
      by_fd_[index] = nullptr;
    }
    if (s.conn != nullptr) {
      detach(s);
    }
    while (sim_connection* c = s.backlog_head) {
      // Connections never accepted are reset, as the kernel does when a listener closes.
      s.backlog_head = c->backlog_next;
      c->backlog_next = nullptr;
      c->queued = false;
      c->closed[1] = true;
      break_connection(*c);
      release_connection(*c);
    }
    s.backlog_tail = nullptr;
    s.inbox.clear();
    purge_events(&s);
    if (s.dirty) {
      for (sim_socket** p = &dirty_; *p != nullptr; p = &(*p)->dirty_next) {
        if (*p == &s) {
          *p = s.dirty_next;
          break;
        }
      }
      s.dirty = false;
    }
    if (s.registered) {
      // Only reached for a registered descriptor closed behind senet's back (close(2) on its
      // native handle): its state stays, empty, for release_descriptor to free.
      abort_all(s, -EBADF);
      s.fd = -1;
      s.zombie = true;
      return;
    }
    unlink_socket(s);
    delete &s;
  }

  /** Detaches `s` from its connection: its peer sees the end of the stream, or a reset if `s`
      had unread data or lingered with a zero timeout. */
  void detach(sim_socket& s) noexcept {
    sim_connection& c = *s.conn;
    int i = s.side;
    int j = 1 - i;
    s.conn = nullptr;
    c.end[i] = nullptr;
    c.closed[i] = true;
    if (c.connect_op != nullptr) {
      // Only its own socket has a connect in flight; release() already dropped it.
      c.connect_op = nullptr;
    }
    if (!c.broken) {
      if (c.to[i].unread() > 0 || s.linger_reset) {
        break_connection(c);
      } else {
        c.to[j].fin = true;
      }
    }
    if (c.end[j] != nullptr) {
      mark_dirty(*c.end[j]);
    }
    release_connection(c);
  }

  /** Resets `c`: each open end reports ECONNRESET once; nothing moves any more. */
  void break_connection(sim_connection& c) noexcept {
    c.broken = true;
    for (int i = 0; i < 2; ++i) {
      c.reset_pending[i] = !c.closed[i];
      c.to[i].data.clear();
      c.to[i].read = c.to[i].visible = c.to[i].written;
      c.to[i].fin = true;
      if (c.end[i] != nullptr) {
        mark_dirty(*c.end[i]);
      }
    }
  }

  void reset(sim_connection& c) noexcept { break_connection(c); }

  /** Frees `c` once nothing refers to it. */
  void release_connection(sim_connection& c) noexcept {
    if (c.end[0] != nullptr || c.end[1] != nullptr || c.queued || c.connect_op != nullptr) {
      return;
    }
    purge_events(&c);
    unlink_connection(c);
    delete &c;
  }

  /** A delayed connect of `s` was cancelled or aborted: it goes back to unconnected. */
  void drop_connect(sim_socket& s) noexcept {
    sim_connection* c = s.conn;
    if (c == nullptr) {
      return;
    }
    s.conn = nullptr;
    c->end[0] = nullptr;
    c->connect_op = nullptr;
    release_connection(*c);
  }

  /** Notices closed descriptors of sockets no descriptor object registered (accepted sockets not
      used yet, released ones). */
  void sweep() noexcept {
    for (sim_socket* s = sockets_; s != nullptr;) {
      sim_socket* next = s->live_next;
      if (!s->registered) {
        alive(*s);
      }
      s = next;
    }
  }

  /** Before an operation on `s`: notice whether its peer was closed. */
  void refresh(sim_socket& s) noexcept {
    if (s.conn != nullptr) {
      if (sim_socket* peer = s.conn->end[1 - s.side]; peer != nullptr) {
        alive(*peer);
      }
    }
  }

  // ---- finding sockets by address ----

  /** `s`'s local address (cached once final). */
  bool local_of(sim_socket& s, sock_address& a) noexcept {
    if (s.bound_known) {
      a = s.bound;
      return true;
    }
    if (!local_address(s.fd, a)) {
      return false;
    }
    if (is_bound(a)) {
      s.bound = a;
      s.bound_known = true;
    }
    return true;
  }

  bool is_listening(sim_socket& s) noexcept {
    if (!s.listening && s.type == SOCK_STREAM) {
      s.listening = socket_int_option(s.fd, SOL_SOCKET, SO_ACCEPTCONN, 0) != 0;
    }
    return s.listening;
  }

  /** The socket of `type` that receives at `target` (a listener for streams): a known one, else
      one found among the process's descriptors (a socket bound or listening before any
      operation on it). Exact matches win over wildcard ones. */
  sim_socket* find_bound(int type, const sock_address& target) noexcept {
    sim_socket* wildcard = nullptr;
    for (sim_socket* s : by_fd_) {
      if (s == nullptr || s->type != type || s->family != target.family() || s->conn != nullptr) {
        continue;
      }
      if (type == SOCK_STREAM && !is_listening(*s)) {
        continue;
      }
      sock_address a;
      if (!local_of(*s, a) || !receives_at(a, target) || !alive(*s)) {
        continue;
      }
      if (same_endpoint(a, target)) {
        return s;
      }
      if (wildcard == nullptr) {
        wildcard = s;
      }
    }
    if (wildcard != nullptr) {
      return wildcard;
    }
    return scan(type, target);
  }

  sim_socket* scan(int type, const sock_address& target) noexcept {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) {
      return nullptr;
    }
    int own = ::dirfd(dir);
    int best = -1;
    bool best_exact = false;
    while (::dirent* e = ::readdir(dir)) {
      char* end = nullptr;
      long n = std::strtol(e->d_name, &end, 10);
      if (end == e->d_name || *end != '\0' || n < 0 || n == own || n > 0x7fffffff) {
        continue;
      }
      int fd = static_cast<int>(n);
      auto index = static_cast<std::size_t>(fd);
      if (index < by_fd_.size() && by_fd_[index] != nullptr && alive(*by_fd_[index])) {
        continue;  // known and open: already considered
      }
      if (socket_int_option(fd, SOL_SOCKET, SO_TYPE, 0) != type ||
          socket_int_option(fd, SOL_SOCKET, SO_DOMAIN, AF_UNSPEC) != target.family()) {
        continue;
      }
      if (type == SOCK_STREAM && socket_int_option(fd, SOL_SOCKET, SO_ACCEPTCONN, 0) == 0) {
        continue;
      }
      sock_address a;
      if (!local_address(fd, a) || !receives_at(a, target)) {
        continue;
      }
      bool exact = same_endpoint(a, target);
      if (best < 0 || (exact && !best_exact) || (exact == best_exact && fd < best)) {
        best = fd;
        best_exact = exact;
      }
    }
    ::closedir(dir);
    if (best < 0) {
      return nullptr;
    }
    std::int64_t error = 0;
    return create(best, error);
  }

  bool refused(const sock_address& target) const noexcept {
    if (refuse_all_) {
      return true;
    }
    return std::any_of(refused_.begin(), refused_.end(),
                       [&](const sock_address& r) { return receives_at(r, target); });
  }

  /** Binds an unbound Internet socket to port 0 of `host` (or of the wildcard address when that
      fails), as connect and sendto bind implicitly, so that its local endpoint is real. */
  std::int64_t bind_implicitly(sim_socket& s, const sock_address* host) noexcept {
    sock_address a;
    if (!local_address(s.fd, a)) {
      return neg_errno();
    }
    if ((a.family() != AF_INET && a.family() != AF_INET6) || port_of(a) != 0) {
      return 0;
    }
    if (host != nullptr) {
      sock_address b = *host;
      if (b.family() == AF_INET) {
        in4(b).sin_port = 0;
      } else {
        in6(b).sin6_port = 0;
        in6(b).sin6_flowinfo = 0;
      }
      if (::bind(s.fd, b.get(), b.size) == 0) {
        return 0;
      }
    }
    sock_address w;
    if (a.family() == AF_INET) {
      in4(w).sin_family = AF_INET;
      w.size = sizeof(::sockaddr_in);
    } else {
      in6(w).sin6_family = AF_INET6;
      w.size = sizeof(::sockaddr_in6);
    }
    return ::bind(s.fd, w.get(), w.size) == 0 ? 0 : neg_errno();
  }

  /** The destination of a connect or sendto in `m`, checked against `s`'s family. */
  static std::int64_t destination(const sim_socket& s, const ::msghdr& m, sock_address& out) noexcept {
    if (m.msg_name == nullptr || m.msg_namelen < sizeof(::sa_family_t) ||
        m.msg_namelen > sizeof out.storage) {
      return -EINVAL;
    }
    std::memcpy(&out.storage, m.msg_name, m.msg_namelen);
    out.size = m.msg_namelen;
    if (out.family() != s.family) {
      return -EAFNOSUPPORT;
    }
    if (!well_formed(out)) {
      return -EINVAL;
    }
    normalize(out);
    return 0;
  }

  // ---- operations ----

  /** Performs `op` on `s` if it can complete now (`r` then holds its result). */
  bool try_perform(sim_socket& s, io_operation& op, std::int64_t& r) noexcept {
    if (s.faulty) [[unlikely]] {
      // An injected fault fails the operation before it does anything, as a failed system call.
      if (int fault = take_fault(s, fault_kind_of(op.code_)); fault != 0) {
        r = -fault;
        return true;
      }
    }
    if (outside_simulation(s)) {
      // A stream socket in no simulated connection: the kernel's state is the truth (connected by
      // a socketpair, a synchronous connect or a real accept; reset or closed; never connected).
      // Only a connect of a socket the kernel does not see connected is simulated.
      sock_address peer;
      if (op.code_ != op_code::connect || peer_address(s.fd, peer)) {
        return try_kernel(s, op, r);
      }
    }
    if (s.type == SOCK_STREAM) {
      switch (op.code_) {
        case op_code::accept:
          return try_accept(s, op, r);
        case op_code::connect:
          return try_connect(s, op, r);
        case op_code::receive:
          return try_receive(s, op, r);
        case op_code::send:
          return try_send(s, op, r);
        default:
          break;
      }
    } else if (s.type == SOCK_DGRAM) {
      switch (op.code_) {
        case op_code::accept:
          r = -EOPNOTSUPP;
          return true;
        case op_code::connect:
          // Connecting a datagram socket only records its peer: the kernel does it.
          r = ::connect(s.fd, static_cast<const ::sockaddr*>(op.msg_.msg_name), op.msg_.msg_namelen) == 0
                  ? 0
                  : neg_errno();
          return true;
        case op_code::receive:
          return try_receive_datagram(s, op, r);
        case op_code::send:
          return try_send_datagram(s, op, r);
        default:
          break;
      }
    } else {
      r = -EOPNOTSUPP;
      return true;
    }
    r = -EINVAL;
    return true;
  }

  /** A stream socket that is neither listening nor an end of a simulated connection. */
  bool outside_simulation(sim_socket& s) noexcept {
    return s.type == SOCK_STREAM && s.conn == nullptr && !is_listening(s);
  }

  /** Performs `op` with the real system call, without blocking (epoll's way). */
  static bool try_kernel(sim_socket& s, io_operation& op, std::int64_t& r) noexcept {
    for (;;) {
      ::ssize_t n = -1;
      switch (op.code_) {
        case op_code::receive:
          n = ::recvmsg(s.fd, &op.msg_, op.flags_ | MSG_DONTWAIT);
          break;
        case op_code::send:
          n = ::sendmsg(s.fd, &op.msg_, op.flags_ | MSG_NOSIGNAL | MSG_DONTWAIT);
          break;
        case op_code::accept:
          n = ::accept4(s.fd, static_cast<::sockaddr*>(op.msg_.msg_name),
                        op.msg_.msg_name != nullptr ? &op.msg_.msg_namelen : nullptr,
                        SOCK_NONBLOCK | SOCK_CLOEXEC);
          break;
        case op_code::connect:
          n = ::connect(s.fd, static_cast<const ::sockaddr*>(op.msg_.msg_name), op.msg_.msg_namelen);
          break;
        default:
          r = -EINVAL;
          return true;
      }
      if (n >= 0) {
        r = n;
        return true;
      }
      if (errno == EINTR) {
        continue;
      }
      if ((errno == EAGAIN || errno == EWOULDBLOCK) && op.code_ != op_code::connect) {
        return false;
      }
      r = neg_errno();
      return true;
    }
  }

  /** Whether the kernel reports `fd` ready for `events` now (an error or hang-up counts). */
  static bool kernel_ready(int fd, short events) noexcept {
    ::pollfd p{fd, events, 0};
    int n;
    do {
      n = ::poll(&p, 1, 0);
    } while (n < 0 && errno == EINTR);
    return n != 0;
  }

  bool readable(sim_socket& s) noexcept {
    if (s.type == SOCK_DGRAM) {
      return (!s.inbox.empty() && s.inbox.front().visible_at <= now_ns()) || kernel_ready(s.fd, POLLIN);
    }
    if (s.type != SOCK_STREAM) {
      return true;
    }
    sim_connection* c = s.conn;
    if (c == nullptr) {
      // A listener is readable with a connection to accept; an unconnected socket polls as hung up.
      return !is_listening(s) || s.backlog_head != nullptr || kernel_ready(s.fd, POLLIN);
    }
    if (c->connect_op != nullptr) {
      return false;
    }
    int i = s.side;
    const stream_half& h = c->to[i];
    return c->reset_pending[i] || c->broken || c->rd_shut[i] || h.readable() > 0 ||
           (h.fin && h.unread() == 0);
  }

  bool writable(sim_socket& s) noexcept {
    if (s.type != SOCK_STREAM) {
      return true;
    }
    sim_connection* c = s.conn;
    if (c == nullptr) {
      return !is_listening(s);
    }
    if (c->connect_op != nullptr) {
      return false;
    }
    int i = s.side;
    int j = 1 - i;
    return c->reset_pending[i] || c->broken || c->wr_shut[i] || c->closed[j] || send_space(*c, j) > 0;
  }

  [[nodiscard]] std::uint64_t send_space(const sim_connection& c, int to) const noexcept {
    std::uint64_t unread = c.to[to].unread();
    return send_limit_ > unread ? send_limit_ - unread : 0;
  }

  bool try_accept(sim_socket& s, io_operation& op, std::int64_t& r) noexcept {
    if (!is_listening(s)) {
      r = -EINVAL;
      return true;
    }
    sim_connection* c = s.backlog_head;
    if (c == nullptr) {
      // A connection made through the kernel (a real connect to this listener) is accepted for real.
      return try_kernel(s, op, r);
    }
    int fd = ::socket(s.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      r = neg_errno();
      return true;
    }
    std::int64_t error = 0;
    sim_socket* accepted = create(fd, error);
    if (accepted == nullptr) {
      ::close(fd);
      r = error;
      return true;
    }
    s.backlog_head = c->backlog_next;
    if (s.backlog_head == nullptr) {
      s.backlog_tail = nullptr;
    }
    c->backlog_next = nullptr;
    c->queued = false;
    c->end[1] = accepted;
    accepted->conn = c;
    accepted->side = 1;
    store_name(op.msg_, c->addr[0]);
    r = fd;
    return true;
  }

  bool try_connect(sim_socket& s, io_operation& op, std::int64_t& r) noexcept {
    if (s.conn != nullptr) {
      r = s.conn->connect_op != nullptr ? -EALREADY : -EISCONN;
      return true;
    }
    if (is_listening(s)) {
      // As Linux: a listening TCP socket is connected already; a Unix one is in the wrong state.
      r = s.family == AF_UNIX ? -EINVAL : -EISCONN;
      return true;
    }
    sock_address target;
    if (std::int64_t e = destination(s, op.msg_, target); e < 0) {
      r = e;
      return true;
    }
    bool delayed = latency_.count() > 0;
    sim_socket* listener = nullptr;
    if (!delayed) {
      listener = refused(target) ? nullptr : find_bound(SOCK_STREAM, target);
      if (listener == nullptr) {
        r = refusal(target);
        return true;
      }
    }
    if (std::int64_t e = bind_implicitly(s, &target); e < 0) {
      r = e;
      return true;
    }
    auto* c = new (std::nothrow) sim_connection;
    if (c == nullptr) {
      r = -ENOMEM;
      return true;
    }
    link_connection(*c);
    if (!local_address(s.fd, c->addr[0])) {
      c->addr[0] = sock_address{};
    }
    c->addr[1] = target;
    c->end[0] = &s;
    s.conn = c;
    s.side = 0;
    if (!delayed) {
      enqueue(*listener, *c);
      r = 0;
      return true;
    }
    c->connect_op = &op;
    op.backend_flags_ |= connect_in_flight;
    schedule(sim_event::kind::connect, c, 0, 0);
    return false;
  }

  /** The error of a stream connect to `target`, where nobody listens: ECONNREFUSED, or, as Linux
      says for a Unix path that names no file, the error of looking the path up (ENOENT...). */
  static std::int64_t refusal(const sock_address& target) noexcept {
    if (target.family() == AF_UNIX) {
      auto [p, n] = unix_name(target);
      std::array<char, sizeof(::sockaddr_un::sun_path) + 1> path{};
      if (n > 0 && p[0] != '\0' && n < path.size()) {
        std::memcpy(path.data(), p, n);
        struct ::stat st {};
        if (::stat(path.data(), &st) != 0) {
          return neg_errno();
        }
      }
    }
    return -ECONNREFUSED;
  }

  void enqueue(sim_socket& listener, sim_connection& c) noexcept {
    c.queued = true;
    c.backlog_next = nullptr;
    if (listener.backlog_tail == nullptr) {
      listener.backlog_head = &c;
    } else {
      listener.backlog_tail->backlog_next = &c;
    }
    listener.backlog_tail = &c;
    mark_dirty(listener);
  }

  bool try_receive(sim_socket& s, io_operation& op, std::int64_t& r) noexcept {
    sim_connection* c = s.conn;
    if (c == nullptr) {
      r = -ENOTCONN;
      return true;
    }
    if (c->connect_op != nullptr) {
      return false;
    }
    int i = s.side;
    if (c->reset_pending[i]) {
      c->reset_pending[i] = false;
      r = -ECONNRESET;
      return true;
    }
    if ((op.flags_ & MSG_OOB) != 0) {
      r = -EOPNOTSUPP;
      return true;
    }
    op.msg_.msg_flags = 0;
    if (op.msg_.msg_name != nullptr) {
      op.msg_.msg_namelen = 0;
    }
    std::size_t want = iov_size(op.msg_);
    if (want == 0) {
      r = 0;
      return true;
    }
    stream_half& h = c->to[i];
    if (std::uint64_t avail = h.readable(); avail > 0) {
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>({want, avail, max_transfer_}));
      if ((op.flags_ & MSG_TRUNC) == 0) {
        test_sim::scatter(op.msg_, h.data.front(), n);
      }
      if ((op.flags_ & MSG_PEEK) == 0) {
        h.data.consume(n);
        h.read += n;
        if (c->end[1 - i] != nullptr) {
          mark_dirty(*c->end[1 - i]);  // its sends may have room now
        }
      }
      r = static_cast<std::int64_t>(n);
      return true;
    }
    if (c->broken || c->rd_shut[i] || (h.fin && h.unread() == 0)) {
      r = 0;
      return true;
    }
    return false;
  }

  bool try_send(sim_socket& s, io_operation& op, std::int64_t& r) noexcept {
    sim_connection* c = s.conn;
    if (c == nullptr) {
      r = -EPIPE;  // Linux: send on an unconnected stream socket
      return true;
    }
    if (c->connect_op != nullptr) {
      return false;
    }
    int i = s.side;
    int j = 1 - i;
    if (c->reset_pending[i]) {
      c->reset_pending[i] = false;
      r = -ECONNRESET;
      return true;
    }
    if ((op.flags_ & MSG_OOB) != 0) {
      r = -EOPNOTSUPP;
      return true;
    }
    if (c->broken || c->wr_shut[i] || c->closed[j]) {
      r = -EPIPE;
      return true;
    }
    std::size_t want = iov_size(op.msg_);
    if (want == 0) {
      r = 0;
      return true;
    }
    stream_half& h = c->to[j];
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>({want, send_space(*c, j), max_transfer_}));
    if (n == 0) {
      return false;
    }
    try {
      h.data.reserve(n);
      test_sim::gather(op.msg_, n, h.data);
    } catch (...) {
      r = -ENOBUFS;
      return true;
    }
    h.written += n;
    if (latency_.count() > 0) {
      schedule(sim_event::kind::data, c, j, h.written);
    } else {
      h.visible = h.written;
      if (c->end[j] != nullptr) {
        mark_dirty(*c->end[j]);
      }
    }
    r = static_cast<std::int64_t>(n);
    return true;
  }

  bool try_send_datagram(sim_socket& s, io_operation& op, std::int64_t& r) noexcept {
    if ((op.flags_ & MSG_OOB) != 0) {
      r = -EOPNOTSUPP;
      return true;
    }
    sock_address to;
    if (op.msg_.msg_name != nullptr && op.msg_.msg_namelen > 0) {
      if (std::int64_t e = destination(s, op.msg_, to); e < 0) {
        r = e;
        return true;
      }
    } else if (peer_address(s.fd, to)) {
      normalize(to);
    } else {
      r = -EDESTADDRREQ;
      return true;
    }
    std::size_t size = iov_size(op.msg_);
    if ((s.family == AF_INET && size > max_udp4_payload) ||
        (s.family == AF_INET6 && size > max_udp6_payload)) {
      r = -EMSGSIZE;
      return true;
    }
    if (std::int64_t e = bind_implicitly(s, nullptr); e < 0) {
      r = e;
      return true;
    }
    datagram_header h;
    h.size = size;
    h.visible_at = now_ns() + latency_.count();
    if (!local_address(s.fd, h.from)) {
      h.from = sock_address{};
    }
    if (is_wildcard(h.from)) {
      // The kernel picks the source address by route: the address sent to, for a local one.
      if (h.from.family() == AF_INET) {
        in4(h.from).sin_addr = in4(to).sin_addr;
      } else {
        in6(h.from).sin6_addr = in6(to).sin6_addr;
      }
    }
    r = static_cast<std::int64_t>(size);
    sim_socket* receiver = find_bound(SOCK_DGRAM, to);
    if (receiver == nullptr) {
      // Nobody in this process: the kernel sends it (to another process, or drops it).
      return try_kernel(s, op, r);
    }
    if (sock_address peer; peer_address(receiver->fd, peer) && !same_endpoint(peer, h.from)) {
      return true;  // a connected socket only receives from its peer
    }
    try {
      receiver->inbox.push(h, op.msg_);
    } catch (...) {
      r = -ENOBUFS;
      return true;
    }
    if (latency_.count() > 0) {
      schedule(sim_event::kind::datagram, receiver, 0, 0);
    } else {
      mark_dirty(*receiver);
    }
    return true;
  }

  bool try_receive_datagram(sim_socket& s, io_operation& op, std::int64_t& r) noexcept {
    if ((op.flags_ & MSG_OOB) != 0) {
      r = -EOPNOTSUPP;
      return true;
    }
    if (s.inbox.empty() || s.inbox.front().visible_at > now_ns()) {
      // Datagrams sent through the kernel (by a socket outside the simulation) are received too.
      return try_kernel(s, op, r);
    }
    datagram_header h = s.inbox.front();
    std::size_t n = std::min(iov_size(op.msg_), h.size);
    test_sim::scatter(op.msg_, s.inbox.front_payload(), n);
    op.msg_.msg_flags = n < h.size ? MSG_TRUNC : 0;
    store_name(op.msg_, h.from);
    if ((op.flags_ & MSG_PEEK) == 0) {
      s.inbox.pop();
    }
    r = static_cast<std::int64_t>((op.flags_ & MSG_TRUNC) != 0 ? h.size : n);
    return true;
  }

  // ---- virtual time ----

  [[nodiscard]] std::int64_t now_ns() const noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(now_.time_since_epoch()).count();
  }

  static bool later(const sim_event& a, const sim_event& b) noexcept {
    return a.at != b.at ? a.at > b.at : a.seq > b.seq;
  }

  void schedule(sim_event::kind what, void* target, int side, std::uint64_t value) noexcept {
    sim_event e;
    e.at = now_ + latency_;
    e.seq = event_seq_++;
    e.what = what;
    e.target = target;
    e.side = side;
    e.value = value;
    try {
      events_.push_back(e);
    } catch (...) {
      // Out of memory: deliver at once rather than never.
      handle(e);
      return;
    }
    std::push_heap(events_.begin(), events_.end(), later);
  }

  void purge_events(const void* target) noexcept {
    auto n = events_.size();
    events_.erase(std::remove_if(events_.begin(), events_.end(),
                                 [&](const sim_event& e) { return e.target == target; }),
                  events_.end());
    if (events_.size() != n) {
      std::make_heap(events_.begin(), events_.end(), later);
    }
  }

  void run_due_events() noexcept {
    while (!events_.empty() && events_.front().at <= now_) {
      std::pop_heap(events_.begin(), events_.end(), later);
      sim_event e = events_.back();
      events_.pop_back();
      handle(e);
    }
  }

  void handle(const sim_event& e) noexcept {
    switch (e.what) {
      case sim_event::kind::connect: {
        auto& c = *static_cast<sim_connection*>(e.target);
        io_operation* op = c.connect_op;
        sim_socket* s = c.end[0];
        if (op == nullptr || s == nullptr) {
          return;
        }
        c.connect_op = nullptr;
        op->backend_flags_ &= static_cast<std::uint8_t>(~connect_in_flight);
        s->writes.erase(*op);
        sim_socket* listener = refused(c.addr[1]) ? nullptr : find_bound(SOCK_STREAM, c.addr[1]);
        if (listener != nullptr) {
          enqueue(*listener, c);
          finish(*op, 0);
        } else {
          s->conn = nullptr;
          c.end[0] = nullptr;
          finish(*op, refusal(c.addr[1]));
          release_connection(c);
        }
        mark_dirty(*s);
        return;
      }
      case sim_event::kind::data: {
        auto& c = *static_cast<sim_connection*>(e.target);
        stream_half& h = c.to[e.side];
        if (!c.broken) {
          h.visible = std::max(h.visible, std::min(e.value, h.written));
        }
        if (c.end[e.side] != nullptr) {
          mark_dirty(*c.end[e.side]);
        }
        return;
      }
      case sim_event::kind::datagram:
        mark_dirty(*static_cast<sim_socket*>(e.target));
        return;
    }
  }

  /** Lists the sockets whose waiting operations the kernel may complete (kernel-connected streams,
      datagram receives, accepts of real connections) in `polls_`, after the wake descriptor.
      Returns whether there is any. */
  bool collect_kernel_waits() noexcept {
    try {
      polls_.clear();
      polled_.clear();
      polls_.push_back(::pollfd{eventfd_, POLLIN, 0});
      polled_.push_back(nullptr);
      for (sim_socket* s = sockets_; s != nullptr; s = s->live_next) {
        short events = 0;
        if (s->reads.empty() && s->writes.empty() && s->polls.empty()) {
          continue;
        }
        if (s->type == SOCK_STREAM && s->conn == nullptr && !s->listening) {
          events = static_cast<short>((s->reads.empty() ? 0 : POLLIN) | (s->writes.empty() ? 0 : POLLOUT));
        } else if (!s->reads.empty() && (s->type == SOCK_DGRAM || (s->conn == nullptr && s->listening))) {
          events = POLLIN;
        }
        if (!s->polls.empty() && (s->foreign || s->type == SOCK_DGRAM || s->conn == nullptr)) {
          // Readiness the kernel knows (see poll_state); a listener's real connections too.
          for (io_operation* op = s->polls.front(); op != nullptr; op = op->next_) {
            events = static_cast<short>(events | native_poll_mask(requested_events(*op)));
          }
          events = static_cast<short>(events | POLLERR);
        }
        if (events != 0) {
          polls_.push_back(::pollfd{s->fd, events, 0});
          polled_.push_back(s);
        }
      }
    } catch (...) {
      // Out of memory: those sockets are retried when the simulation changes.
      polls_.resize(std::min<std::size_t>(polls_.size(), 1));
      polled_.resize(polls_.size());
    }
    return polls_.size() > 1;
  }

  /** Waits up to `timeout_ms` for the wake or for the sockets `collect_kernel_waits` listed, and
      retries the operations of those that are ready. */
  void poll_kernel(int timeout_ms) noexcept {
    if (polls_.empty()) {
      polls_.push_back(::pollfd{eventfd_, POLLIN, 0});
      polled_.push_back(nullptr);
    }
    int n;
    do {
      n = ::poll(polls_.data(), static_cast<::nfds_t>(polls_.size()), timeout_ms);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
      return;
    }
    for (std::size_t i = 1; i < polls_.size(); ++i) {
      if (polls_[i].revents != 0) {
        mark_dirty(*polled_[i]);
      }
    }
    flush();
  }

  void drain_wake() noexcept {
    std::uint64_t value;
    [[maybe_unused]] auto r = ::read(eventfd_, &value, sizeof value);
  }

  int eventfd_ = -1;
  clock::time_point now_;
  clock::time_point armed_ = clock::time_point::max();
  std::size_t max_transfer_ = test_network::no_limit;
  std::size_t send_limit_ = test_network::no_limit;
  clock::duration latency_{0};
  bool refuse_all_ = false;
  std::vector<sock_address> refused_;
  std::vector<sim_socket*> by_fd_;
  sim_socket* sockets_ = nullptr;
  sim_socket* dirty_ = nullptr;
  sim_connection* connections_ = nullptr;
  std::vector<sim_event> events_;
  std::vector<::pollfd> polls_;
  std::vector<sim_socket*> polled_;
  std::uint64_t event_seq_ = 0;
  std::uint64_t completions_ = 0;
  test_network network_;
  test_backend* registry_next_ = nullptr;
};

std::unique_ptr<backend> make_test_backend(completion_sink& sink) {
  return std::make_unique<test_backend>(sink);
}

void note_linger_set(int fd) noexcept {
  test_backend::for_each_backend([&](test_backend& b) { return b.linger_set(fd); });
}

}  // namespace senet::io::detail

// ---- test_network ------------------------------------------------------------------------------

namespace senet::io {

test_network& test_network::of(io_context& ctx) {
  if (ctx.backend() != backend_kind::test) {
    throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                            "senet::io::test_network::of: the io_context does not run on the test backend");
  }
  // The core hands this record to its backend, which answers with its controls.
  detail::io_operation query;
  query.code_ = detail::op_code::none;
  query.backend_link_ = &detail::network_query_key;
  if (!detail::start_operation(ctx, query) || query.backend_link_ == &detail::network_query_key) {
    throw std::system_error(std::make_error_code(std::errc::operation_canceled),
                            "senet::io::test_network::of: the io_context is shutting down");
  }
  return *static_cast<test_network*>(query.backend_link_);
}

test_network::clock::time_point test_network::now() const noexcept {
  return backend_->now();
}

void test_network::advance(clock::duration d) noexcept {
  backend_->advance(d);
}

void test_network::set_max_transfer(std::size_t n) {
  if (n == 0) {
    throw std::invalid_argument("senet::io::test_network::set_max_transfer: 0");
  }
  backend_->set_max_transfer(n);
}
std::size_t test_network::max_transfer() const noexcept {
  return backend_->max_transfer();
}

void test_network::set_send_buffer_limit(std::size_t n) {
  if (n == 0) {
    throw std::invalid_argument("senet::io::test_network::set_send_buffer_limit: 0");
  }
  backend_->set_send_buffer_limit(n);
}
std::size_t test_network::send_buffer_limit() const noexcept {
  return backend_->send_buffer_limit();
}

void test_network::set_latency(clock::duration d) noexcept {
  backend_->set_latency(d);
}
test_network::clock::duration test_network::latency() const noexcept {
  return backend_->latency();
}

void test_network::refuse_all_connections(bool on) noexcept {
  backend_->refuse_all(on);
}

void test_network::refuse_connections(const ::sockaddr* addr, ::socklen_t size, bool refuse) {
  detail::test_sim::sock_address a;
  if (addr == nullptr || size > sizeof a.storage) {
    throw std::invalid_argument("senet::io::test_network::refuse_connections: bad endpoint");
  }
  std::memcpy(&a.storage, addr, size);
  a.size = size;
  if (!detail::well_formed(a)) {
    throw std::invalid_argument("senet::io::test_network::refuse_connections: bad endpoint");
  }
  backend_->refuse(a, refuse);
}

void test_network::ignore_cancellation(int fd) {
  if (!backend_->ignore_cancellation(fd)) {
    throw std::system_error(std::make_error_code(std::errc::bad_file_descriptor),
                            "senet::io::test_network::ignore_cancellation");
  }
}

void test_network::reset_connection(int fd) {
  if (!backend_->reset_connection(fd)) {
    throw std::system_error(std::make_error_code(std::errc::not_connected),
                            "senet::io::test_network::reset_connection");
  }
}

void test_network::shutdown(int fd, int how) {
  if (std::error_code ec = backend_->shutdown(fd, how)) {
    throw std::system_error(ec, "senet::io::test_network::shutdown");
  }
}

std::size_t test_network::peer_address(int fd, ::sockaddr* out, std::size_t capacity) const {
  detail::test_sim::sock_address a;
  if (!backend_->peer_of(fd, a)) {
    throw std::system_error(std::make_error_code(std::errc::not_connected),
                            "senet::io::test_network::remote_endpoint");
  }
  std::memcpy(out, &a.storage, std::min<std::size_t>(capacity, a.size));
  return a.size;
}

std::size_t test_network::buffered(int fd) const noexcept {
  return backend_->buffered(fd);
}

void test_network::fail_next(int fd, operation op, std::error_code ec, unsigned times) {
  if ((ec.category() != std::system_category() && ec.category() != std::generic_category()) ||
      ec.value() <= 0) {
    throw std::invalid_argument("senet::io::test_network::fail_next: the error is not an errno value");
  }
  int e = ec.value();
  // What the backends wait on (EAGAIN, except from a connect: a Unix connect to a full backlog
  // reports it; EINPROGRESS), retry (EINTR) or report as set_stopped() (ECANCELED).
  if ((e == EAGAIN /* == EWOULDBLOCK */ && op != operation::connect) || e == EINPROGRESS || e == EINTR ||
      e == ECANCELED) {
    throw std::invalid_argument(
        "senet::io::test_network::fail_next: not an error this operation reports (EAGAIN, EWOULDBLOCK "
        "but from a connect, EINPROGRESS, EINTR, ECANCELED)");
  }
  if (times == 0) {
    throw std::invalid_argument("senet::io::test_network::fail_next: times is 0");
  }
  if (static_cast<unsigned>(op) > static_cast<unsigned>(operation::wait)) {
    throw std::invalid_argument("senet::io::test_network::fail_next: unknown operation");
  }
  if (int bad = backend_->fail_next(fd, op, e, times); bad != 0) {
    throw std::system_error(std::error_code(bad, std::generic_category()),
                            "senet::io::test_network::fail_next");
  }
}

unsigned test_network::faults_left(int fd, operation op) const noexcept {
  if (static_cast<unsigned>(op) > static_cast<unsigned>(operation::wait)) {
    return 0;
  }
  return backend_->faults_left(fd, op);
}

void test_network::clear_faults(int fd) noexcept {
  backend_->clear_faults(fd);
}

bool test_network::shutdown_simulated(int fd, int how) noexcept {
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) {
    return false;
  }
  return detail::test_backend::for_each_backend(
      [&](detail::test_backend& b) { return !b.shutdown(fd, how); });
}

std::size_t test_network::simulated_peer(int fd, ::sockaddr* out, std::size_t capacity) noexcept {
  detail::test_sim::sock_address a;
  if (!detail::test_backend::for_each_backend([&](detail::test_backend& b) { return b.peer_of(fd, a); })) {
    return 0;
  }
  std::memcpy(out, &a.storage, std::min<std::size_t>(capacity, a.size));
  return a.size;
}

}  // namespace senet::io
