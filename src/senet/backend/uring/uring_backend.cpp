// SPDX-License-Identifier: BSL-1.0
/* The io_uring backend. docs/design/io_core.md is the contract it implements; this block says how.

   Requirements, probed at run time by a ladder (init(); make_uring_backend returns null otherwise,
   the io_context falls back to epoll, and io::backend_info says which step refused and why):
   1. setup: io_uring_setup succeeds (seccomp, kernel.io_uring_disabled and memlock limits can
      refuse it: EPERM, ENOSYS, ENOMEM). It is tried with the best task-running flags first and
      with fewer after EINVAL: SINGLE_ISSUER + DEFER_TASKRUN (only for context_options::
      single_thread, Linux 6.1), then COOP_TASKRUN (5.19), then none; each with TASKRUN_FLAG, CQSIZE +
      CLAMP (the completion queue: 1,024 entries or the option's size) and SUBMIT_ALL (dropped on
      kernels before 5.18).
   2. opcode probe: io_uring_get_probe_ring reports RECVMSG, SENDMSG, ACCEPT, CONNECT, RECV, SEND,
      POLL_ADD, ASYNC_CANCEL, TIMEOUT and TIMEOUT_REMOVE (RECV and SEND serve a single buffer
      without endpoint); LINK_TIMEOUT is used when reported.
   3. features: IORING_FEAT_NODROP (completions are never lost when the completion queue
      overflows), IORING_FEAT_FAST_POLL (a socket operation that cannot proceed waits on the
      socket's wait queue, not in a worker thread) and IORING_FEAT_EXT_ARG (a wait with a timeout
      needs no timeout SQE). In practice: Linux 5.11 or later.
   A single_thread ring then registers its descriptor (io_uring_register_ring_fd), which only the
   registering thread can use, as only the issuing thread can enter a SINGLE_ISSUER ring at all
   (the io_context refuses to be run by another thread).

   Task work. With DEFER_TASKRUN the kernel finishes a request (copies a receive's data, posts the
   CQE) only when the issuing thread enters with IORING_ENTER_GETEVENTS; with COOP_TASKRUN when the
   submitting thread next enters the kernel. TASKRUN_FLAG makes it say so (IORING_SQ_TASKRUN), and
   a run_once that does not wait then enters with GETEVENTS (io_uring_submit_and_get_events); a
   waiting run_once always does. The ring descriptor is still readable while such work waits, so a
   foreign loop watching wait_descriptor() wakes up.

   Submission. start() writes the operation's SQE into the ring and returns; nothing reaches the
   kernel until the next run_once, which submits everything queued during the loop turn with the
   one io_uring_enter that also waits (io_uring_submit_and_wait / _timeout). The common start (a
   receive or send of one buffer, nothing of its direction pending, none of the options below)
   takes a short path, start_plain; every other one start_general.

   Order. Operations of one direction of a descriptor (receive and accept; send and connect) are
   handed to the ring one at a time, in start order: the descriptor's state holds the active one
   and a queue of those started after it, and the next goes to the ring when the active one has
   completed (see `direction`). Waits (POLL_ADD) are not ordered. A queued operation was never seen
   by the kernel: cancel() and release() complete it at once. A queued operation with a time limit
   has no linked timeout yet; expire_queued() times it out (an absolute IORING_OP_TIMEOUT wakes the
   loop for the earliest limit).

   Trying first. When its socket asks for it (descriptor::eager: basic_socket::eager_send,
   eager_receive) and no operation of its direction is pending, start() tries a send's or a
   receive's system call and completes it inline unless it would block; otherwise it goes to the
   ring. Not by default: a system call per operation costs this server more CPU than the ring's one
   io_uring_enter per loop turn saves in user space (docs/benchmarks.md has the figures).

   Records. user_data is the record's address (records are 8-aligned); its low bits say which
   request of the record completes: the operation itself, or the POLL_ADD of the retry path below.
   Values below 8 are the backend's own requests: the eventfd poll, arm_deadline's timeout, the
   queued operations' deadline, and requests whose completions are ignored (cancel requests,
   linked timeouts, neutralised SQEs).
   Everything the kernel reads or writes (iovec, msghdr, endpoint, accept's address length) lives
   in the record, which the io core keeps alive until its completion has been reaped.

   Lists (intrusive, through next_/prev_; a record is in at most one):
   - the queue of its direction in its descriptor's state: it waits for the active one;
   - the in-flight set of its descriptor's state: a readiness wait or a multishot record whose SQE
     is in the ring, or that the kernel has. A receive, send, accept or connect in the ring or the
     kernel is in no list: it is its direction's active record, and an active record not flagged
     f_backlog or f_cancelling is in the ring or the kernel (held_by_kernel), so the common start
     and completion link and unlink nothing;
   - cancelling_ / cancel_unsent_: a stop request, release() or shutdown cancels it, and its
     IORING_OP_ASYNC_CANCEL is in the ring / waits for a free SQE;
   - backlog_: started while the submission queue was full (or others waited there). run_once
     moves the backlog into the ring, submitting as often as needed, so an operation never fails
     for lack of ring space: a 256-entry ring carries any number of operations.

   Invariant: no unsubmitted SQE names a record that has completed, or a descriptor that was
   released. release() turns the unsubmitted SQEs of its descriptor into NOPs (their records
   complete at once), so the socket may close its fd right after release() without the kernel ever
   seeing that number in a stale SQE; and when a record completes while its cancel request is still
   unsubmitted (possible only after a failed submit), that request becomes a NOP too.

   Completion. run_once reaps every CQE in batches (io_uring_for_each_cqe + io_uring_cq_advance),
   asks the kernel to flush its overflow list when the completion queue overflowed (NODROP), and
   turns CQEs into core completions. A socket operation that comes back with -EAGAIN (only when the
   kernel could not arm its internal poll) is retried after an explicit POLL_ADD, but for a connect,
   whose -EAGAIN is a result (a Unix listener's full backlog); a connect that comes back
   -EINPROGRESS completes with SO_ERROR once the socket is writable.

   Cancellation. cancel() moves the record to the cancelling lists and queues an ASYNC_CANCEL for
   its user_data, submitted with the loop's next turn; the CQE that arrives decides: bytes, a
   connection or events mean it completed first, anything else (-ECANCELED, a failure or the end
   of a stream that came before the request reached the kernel) means stopped
   (cancelled_result). release(d) cancels the records of d the same way, and each reports
   io_operation::aborted whatever its CQE says (released_result: an fd accepted after all is
   closed), because close() returns before the requests reach the kernel, and the peer can still
   complete them until then. cancel_all() (shutdown) cancels everything, and the core reaps until
   nothing is outstanding before the ring is freed.

   Linked timeouts (links_timeouts() is true when the probe found IORING_OP_LINK_TIMEOUT). A
   positive io_operation::link_timeout_ns_ (a limit relative to start) becomes, in start(), an
   absolute CLOCK_MONOTONIC deadline kept in that field, and the record is flagged f_linked: its
   SQE carries IOSQE_IO_LINK and is followed by an IORING_OP_LINK_TIMEOUT (IORING_TIMEOUT_ABS), so
   queue() needs two free SQEs or sends the record to the backlog. A retry after -EAGAIN links
   its POLL_ADD, and then the operation again, to the same deadline: the limit is not extended.
   When the timeout fires the kernel completes the linked request with -ECANCELED (and the timeout
   with -ETIME, ignored like its other CQEs); a record that nobody cancelled then completes with
   -ETIMEDOUT. A stop request or shutdown still gives -ECANCELED, a release `aborted`. The
   __kernel_timespec is kept per SQE slot: the kernel reads it during the submit, before the slot
   can be reused. net::timeout uses this for a single socket operation
   (include/senet/net/detail/timed_io_sender.hpp).

   Multishot records (multishot_operation: receive_multishot, accept_multishot; flagged
   f_multishot). Not ordered with their descriptor's directions. A CQE with IORING_CQE_F_MORE is a
   shot, handed to the record's on_shot_ at once (also while its cancellation is on its way); the
   CQE without it is the last completion, detached and finished like any record's, with the
   completion flags and buffer id in the record. cancel_descriptor() leaves them armed. A receive
   selects its buffer from its pool's provided-buffer ring (attach_buffers: memory of our own,
   IORING_REGISTER_PBUF_RING, one group per pool, with IOU_PBUF_RING_INC where the kernel takes it;
   recycle_buffer adds a buffer back with two stores); the kernel ends it with -ENOBUFS when the
   ring is empty. With incremental consumption IORING_CQE_F_BUF_MORE (completion_buffer_more) says
   the kernel keeps the rest of the buffer: the core tracks the offset (io/standing.cpp).

   Zero-copy sends (descriptor::zero_copy_threshold; where the probe found IORING_OP_SEND_ZC and
   SENDMSG_ZC). A send of at least the threshold in all is prepared as SEND_ZC / SENDMSG_ZC and is
   never tried first. Its first CQE (the result, IORING_CQE_F_MORE) is held in result_ while the
   record stays in its list; the notification CQE (IORING_CQE_F_NOTIF) sets completion_notification
   and hands the held result to on_done, so the completion, and with it the caller's right to reuse
   the buffers, comes only once the kernel has let go of the pages. Cancellation, release and
   shutdown treat the record as any send until then (see on_zero_copy).

   Wake-ups. wake() writes an eventfd that the ring polls (a multishot POLL_ADD, re-armed when a CQE
   arrives without IORING_CQE_F_MORE; single-shot if the kernel rejects multishot). The core calls
   wake() only when the loop may be asleep. wait_descriptor() is the ring's fd, readable when CQEs
   are waiting; arm_deadline() submits an absolute IORING_OP_TIMEOUT so that a foreign loop that
   polls it also wakes for timers.
*/
#include "senet/backend/uring/uring_backend.hpp"
#include "senet/backend/op_list.hpp"
#include "senet/backend/poll_mask.hpp"
#include "senet/io/provided_buffers.hpp"

#include <liburing.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <limits>
#include <new>
#include <system_error>
#include <vector>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace senet::io::detail {
namespace {

// Submission queue size. The completion queue is larger, so that a burst of completions rarely
// overflows into the kernel's (slower) overflow list; overflow is handled all the same.
constexpr unsigned submission_entries = 256;
constexpr unsigned completion_entries = 1024;

// liburing maps and unmaps a ring's memory with raw system calls, out of sight of ThreadSanitizer,
// and the kernel may map a new ring where an unmapped one was: to the sanitizer, the new ring's
// thread then touches the old ring's thread's memory without synchronization. A backend
// releases this before unmapping its ring and acquires it after mapping one, the order the
// kernel gives; one atomic operation per context, in every build.
std::atomic<unsigned> rings_unmapped{0};

// Newer than the kernel headers liburing 2.3 comes with (Linux 6.1), used only where the kernel
// reports them: the minimum wait of a batch (Linux 6.12), and the io_uring_getevents_arg that
// carries it (its `pad` became `min_wait_usec`).
#ifndef IORING_FEAT_MIN_TIMEOUT
#define IORING_FEAT_MIN_TIMEOUT (1U << 15)
#endif
struct getevents_arg_min_wait {
  std::uint64_t sigmask;
  std::uint32_t sigmask_sz;
  std::uint32_t min_wait_usec;
  std::uint64_t ts;
};
static_assert(sizeof(getevents_arg_min_wait) == sizeof(::io_uring_getevents_arg));

// backend_flags_ bits.
constexpr std::uint8_t f_backlog = 1;      // in backlog_
constexpr std::uint8_t f_cancelling = 2;   // in cancelling_ or cancel_unsent_
constexpr std::uint8_t f_cancel_sent = 4;  // ... in cancelling_: its ASYNC_CANCEL is in the ring
constexpr std::uint8_t f_released = 8;     // its descriptor was released: failures are `aborted`
constexpr std::uint8_t f_repoll = 16;      // the kernel holds a POLL_ADD for it, not the operation
constexpr std::uint8_t f_linked = 32;      // its SQE carries a linked timeout
constexpr std::uint8_t f_queued = 64;      // waits in its direction's queue (see `direction`)
constexpr std::uint8_t f_multishot = 128;  // a multishot_operation: CQEs with IORING_CQE_F_MORE are shots

// ABI newer than the kernel headers (6.1) this is built with; used only where the kernel has it.
#ifndef IORING_CQE_F_BUF_MORE
constexpr unsigned IORING_CQE_F_BUF_MORE = 1U << 4;
#endif
// io_uring_buf_reg::flags (Linux 6.12; the field is `pad` in the 6.1 headers): the kernel consumes
// a provided buffer incrementally, only what a completion received, and goes on at that offset.
constexpr std::uint16_t pbuf_ring_inc = 2;  // IOU_PBUF_RING_INC

// Sets io_uring_buf_reg::flags, whatever the headers call the field.
void set_buf_reg_flags(::io_uring_buf_reg& reg, std::uint16_t flags) noexcept {
  static_assert(sizeof(::io_uring_buf_reg) == 40, "io_uring_buf_reg: flags at byte 14");
  std::memcpy(reinterpret_cast<unsigned char*>(&reg) + 14, &flags, sizeof flags);
}
// liburing 2.3's copy of the header predates these (Linux 6.2).
#ifndef IORING_SEND_ZC_REPORT_USAGE
constexpr unsigned IORING_SEND_ZC_REPORT_USAGE = 1U << 3;
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
constexpr unsigned IORING_NOTIF_USAGE_ZC_COPIED = 1U << 31;
#endif

/** A pool's provided-buffer ring (IORING_REGISTER_PBUF_RING), in memory of our own. */
struct buffer_ring {
  ::io_uring_buf_ring* ring = nullptr;
  std::size_t bytes = 0;
  unsigned entries = 0;
};

// result_ of a zero-copy send while the kernel has it: no CQE yet, or only the notification
// (neither is a CQE's result, an int).
constexpr std::int64_t zc_no_result = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t zc_notified = zc_no_result + 1;

// user_data of the backend's own requests (records are at addresses >= 8).
constexpr std::uint64_t ud_wake = 1;
constexpr std::uint64_t ud_deadline = 2;
constexpr std::uint64_t ud_ignore = 3;
constexpr std::uint64_t ud_queue_deadline = 4;
constexpr std::uint64_t ud_internal_limit = 8;
// Low bits of a record's user_data.
constexpr std::uint64_t tag_mask = 7;
constexpr std::uint64_t tag_repoll = 1;

static_assert(alignof(io_operation) >= 8, "user_data tags need 8-aligned records");

std::uint64_t user_data_of(const io_operation& op) noexcept {
  return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(&op));
}

io_operation* record_of(std::uint64_t user_data) noexcept {
  return reinterpret_cast<io_operation*>(static_cast<std::uintptr_t>(user_data & ~tag_mask));
}

/** An unordered intrusive set of records through next_/prev_ (head only). */
class op_set {
 public:
  [[nodiscard]] io_operation* front() const noexcept { return head_; }

  void insert(io_operation& op) noexcept {
    op.prev_ = nullptr;
    op.next_ = head_;
    if (head_ != nullptr) {
      head_->prev_ = &op;
    }
    head_ = &op;
  }

  void erase(io_operation& op) noexcept {
    if (op.prev_ == nullptr) {
      head_ = op.next_;
    } else {
      op.prev_->next_ = op.next_;
    }
    if (op.next_ != nullptr) {
      op.next_->prev_ = op.prev_;
    }
  }

 private:
  io_operation* head_ = nullptr;
};

/** One direction of a descriptor (receives and accepts; sends and connects). At most one of its
    operations is handed to the ring at a time (`active`: in the ring, the backlog, the kernel, or
    being cancelled); those started later wait in `queued`, in start order, and the next one is
    handed on when the active one has completed. The kernel alone would not keep the order: a short
    send or receive completes while the one after it may already be running, and operations that
    wait on one socket are woken in no promised order. */
struct direction {
  io_operation* active = nullptr;
  op_list queued;
};

/** The per-descriptor state: the descriptor's records in the ring or the kernel, and its queues.
    Its `backend_count` is how many of the descriptor's records wait in the backlog. */
struct uring_state : descriptor_state {
  // Readiness waits and multishot records in the ring or the kernel (see `in_set`); a direction's
  // active record is not linked anywhere while the kernel has it.
  op_set in_flight;
  // [0]: receive and accept; [1]: send and connect. Waits (POLL_ADD) are not ordered.
  direction directions[2];
  // The backend's list of live states (for orphaning at destruction), or its free list.
  uring_state* live_prev = nullptr;
  uring_state* live_next = nullptr;
};

bool is_write_op(op_code code) noexcept {
  return code == op_code::send || code == op_code::connect;
}

bool is_wait(op_code code) noexcept {
  return code == op_code::poll;
}

// Records that uring_state::in_flight holds while the kernel has them: readiness waits and
// multishot records. The others (receive, send, accept, connect) are their direction's active
// record then, found through it.
bool in_set(const io_operation& op) noexcept {
  return op.code_ >= op_code::poll;
}

// The record of `dir` that the ring or the kernel holds and nobody is cancelling, if any: its
// active record, unless that waits in the backlog or its cancellation has begun.
io_operation* held_by_kernel(const direction& dir) noexcept {
  io_operation* op = dir.active;
  return op != nullptr && (op->backend_flags_ & (f_backlog | f_cancelling)) == 0 ? op : nullptr;
}

// The index in uring_state::directions of the direction that orders `op`: 1 for send and
// connect, 0 for receive and accept.
unsigned direction_index(const io_operation& op) noexcept {
  constexpr unsigned write_codes =
      (1U << static_cast<unsigned>(op_code::send)) | (1U << static_cast<unsigned>(op_code::connect));
  return (write_codes >> static_cast<unsigned>(op.code_)) & 1U;
}

// The descriptor_state_head::direct bit of uring_state::directions[i].
constexpr std::uint8_t direct_bit_of(unsigned i) noexcept {
  return i != 0 ? direct_send : direct_receive;
}

// The direction that orders `op`.
direction& direction_of(uring_state& s, const io_operation& op) noexcept {
  return s.directions[direction_index(op)];
}

uring_state* state_of(const io_operation& op) noexcept {
  return static_cast<uring_state*>(op.backend_link_);
}

::__kernel_timespec to_timespec(std::int64_t ns) noexcept {
  ::__kernel_timespec ts{};
  ts.tv_sec = ns / 1'000'000'000;
  ts.tv_nsec = ns % 1'000'000'000;
  return ts;
}

// The CLOCK_MONOTONIC time (the clock of IORING_TIMEOUT_ABS) `relative` ns from now, saturating.
std::int64_t absolute_deadline(std::int64_t relative) noexcept {
  ::timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  std::int64_t base = static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
  return relative >= max - base ? max : base + relative;
}

class uring_backend final : public backend {
 public:
  explicit uring_backend(completion_sink& sink) noexcept : backend(sink) {}

  uring_backend(const uring_backend&) = delete;
  uring_backend& operator=(const uring_backend&) = delete;

  ~uring_backend() override {
    // Sockets may outlive the context: their states stay allocated, orphaned, until
    // release_descriptor frees them. The core has reaped every record before destroying the
    // backend; what the kernel may still hold (the eventfd poll, a deadline) names no memory.
    for (uring_state* s = live_; s != nullptr; s = s->live_next) {
      s->owner = nullptr;
      s->context = nullptr;
      s->direct = 0;
    }
    while (free_ != nullptr) {
      uring_state* s = free_;
      free_ = s->live_next;
      delete s;
    }
    if (ring_ready_) {
      rings_unmapped.fetch_add(1, std::memory_order_release);
      ::io_uring_queue_exit(&ring_);
    }
    if (eventfd_ >= 0) {
      ::close(eventfd_);
    }
  }

  /** The start-up ladder: sets up the ring (setup), checks the requests the backend sends (opcode
      probe) and what the kernel guarantees (features), then registers the ring descriptor and arms
      the wake-up. Fills `info` as it goes. Returns 0, or -errno with `info.uring_failed_step` set. */
  int init(const context_options& options, backend_info& info) {
    unsigned cq_entries =
        options.completion_queue_entries != 0 ? options.completion_queue_entries : completion_entries;
    // The kernel wants at least as many completion entries as submission entries.
    unsigned sq_entries = std::min(submission_entries, cq_entries);
    ::io_uring_params params{};
    int r = -EINVAL;
    for (std::uint32_t taskrun : taskrun_variants(options.single_thread)) {
      // SUBMIT_ALL (Linux 5.18) only makes a submit go on past a failing SQE: do without it too.
      for (std::uint32_t submit_all : {std::uint32_t{IORING_SETUP_SUBMIT_ALL}, std::uint32_t{0}}) {
        params = {};
        // Never IORING_SETUP_SQPOLL or IORING_SETUP_SQE128: next_sqe() relies on it.
        params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | taskrun | submit_all;
        params.cq_entries = cq_entries;
        r = ::io_uring_queue_init_params(sq_entries, &ring_, &params);
        // EINVAL: a flag this kernel does not know (or refuses in this combination).
        if (r != -EINVAL) {
          break;
        }
      }
      if (r != -EINVAL) {
        break;
      }
    }
    if (r < 0) {
      info.uring_failed_step = "setup";
      return r;
    }
    ring_ready_ = true;
    static_cast<void>(rings_unmapped.load(std::memory_order_acquire));
    info.uring_setup_flags = params.flags;
    info.uring_features = params.features;
    info.submission_queue_entries = params.sq_entries;
    info.completion_queue_entries = params.cq_entries;
    info.defer_taskrun = (params.flags & IORING_SETUP_DEFER_TASKRUN) != 0;
    info.coop_taskrun = (params.flags & IORING_SETUP_COOP_TASKRUN) != 0;

    ::io_uring_probe* probe = ::io_uring_get_probe_ring(&ring_);
    bool complete = probe != nullptr;
    for (int opcode : {IORING_OP_RECVMSG, IORING_OP_SENDMSG, IORING_OP_RECV, IORING_OP_SEND, IORING_OP_ACCEPT,
                       IORING_OP_CONNECT, IORING_OP_POLL_ADD, IORING_OP_ASYNC_CANCEL, IORING_OP_TIMEOUT,
                       IORING_OP_TIMEOUT_REMOVE}) {
      complete = complete && ::io_uring_opcode_supported(probe, opcode) != 0;
    }
    links_timeouts_ = complete && ::io_uring_opcode_supported(probe, IORING_OP_LINK_TIMEOUT) != 0;
    zero_copy_ = complete && ::io_uring_opcode_supported(probe, IORING_OP_SEND_ZC) != 0 &&
                 ::io_uring_opcode_supported(probe, IORING_OP_SENDMSG_ZC) != 0;
    if (probe != nullptr) {
      ::io_uring_free_probe(probe);
    }
    if (!complete) {
      info.uring_failed_step = "opcode probe";
      return -ENOTSUP;
    }
    constexpr unsigned features = IORING_FEAT_NODROP | IORING_FEAT_FAST_POLL | IORING_FEAT_EXT_ARG;
    if ((params.features & features) != features) {
      info.uring_failed_step = "features";
      return -ENOTSUP;
    }

    if (options.completion_batch_wait.count() > 0 && (params.features & IORING_FEAT_MIN_TIMEOUT) != 0) {
      constexpr std::int64_t max_wait = std::numeric_limits<std::uint32_t>::max();
      batch_wait_us_ =
          static_cast<std::uint32_t>(std::min<std::int64_t>(options.completion_batch_wait.count(), max_wait));
      info.completion_batch_wait = std::chrono::microseconds(batch_wait_us_);
    }
    // Only the thread that registers the ring descriptor can enter through it, so only a context
    // promised to one thread registers it. Without it each io_uring_enter looks the fd up.
    if (options.single_thread && ::io_uring_register_ring_fd(&ring_) == 1) {
      info.registered_ring_fd = true;
      registered_ring_fd_ = true;
    }
    eventfd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (eventfd_ < 0) {
      info.uring_failed_step = "setup";
      return -errno;
    }
    link_timespecs_.resize(ring_.sq.ring_entries);
    // Armed from the start, so that a foreign loop watching wait_descriptor() before the first
    // poll() still sees wake-ups.
    arm_wake();
    r = ::io_uring_submit(&ring_);
    if (r < 0) {
      info.uring_failed_step = "setup";
      return r;
    }
    return 0;
  }

  // The task-running setups to try, best first. SINGLE_ISSUER + DEFER_TASKRUN (Linux 6.1): the
  // kernel runs completion work only when the one issuing thread asks for completions
  // (IORING_ENTER_GETEVENTS), in a batch, never interrupting it; every enter must then come from
  // that thread, hence only with context_options::single_thread. COOP_TASKRUN (5.19): completion
  // work waits for the submitting thread's next entry into the kernel instead of interrupting it
  // (a sleeping thread is still woken); any thread may enter. TASKRUN_FLAG makes the kernel say in
  // the SQ flags that completion work waits (IORING_SQ_TASKRUN), so that a non-blocking turn enters
  // only then. The last variant is the plain ring of older kernels.
  static std::array<std::uint32_t, 3> taskrun_variants(bool single_thread) noexcept {
    constexpr std::uint32_t defer =
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
    constexpr std::uint32_t coop = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
    if (single_thread) {
      return {defer, coop, 0};
    }
    return {coop, 0, 0};
  }

  [[nodiscard]] backend_kind kind() const noexcept override { return backend_kind::uring; }
  [[nodiscard]] bool links_timeouts() const noexcept override { return links_timeouts_; }

  bool start(io_operation& op) noexcept override {
    if (start_plain(op)) [[likely]] {
      sink().pending(op);
      return false;
    }
    // A tail call: the short path above keeps no register for after it.
    return start_general_counted(op);
  }

  void cancel(io_operation& op) noexcept override {
    std::uint8_t flags = op.backend_flags_;
    if ((flags & f_queued) != 0) {
      // Never handed to the ring.
      dequeue(op);
      finish(op, -ECANCELED);
      return;
    }
    if ((flags & f_backlog) != 0) {
      // Never reached the kernel.
      unbacklog(op);
      finish(op, -ECANCELED);
      return;
    }
    if ((flags & f_cancelling) != 0 || op.backend_link_ == nullptr) {
      return;
    }
    start_cancel(op, 0);
  }

  void run_once(std::chrono::nanoseconds timeout, std::size_t awaited) override {
    if (queued_linked_ != 0 && expire_queued()) [[unlikely]] {
      timeout = std::chrono::nanoseconds(0);
    }
    if (!wake_armed_ || !backlog_.empty() || !cancel_unsent_.empty()) {
      prepare_submission();
    }
    if (timeout.count() == 0 || ::io_uring_cq_ready(&ring_) != 0) {
      // Without waiting. With DEFER_TASKRUN, completions whose work waits in the kernel (it says
      // so with IORING_SQ_TASKRUN) are posted only when this thread enters with GETEVENTS.
      if ((IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_TASKRUN) != 0) {
        ::io_uring_submit_and_get_events(&ring_);
      } else if (::io_uring_sq_ready(&ring_) != 0) {
        ::io_uring_submit(&ring_);
      }
    } else if (unsigned batch = batch_to_wait_for(awaited); batch != 0) {
      wait_for_batch(timeout, batch);
    } else if (timeout.count() < 0) {
      ::io_uring_submit_and_wait(&ring_, 1);
    } else {
      ::__kernel_timespec ts = to_timespec(timeout.count());
      ::io_uring_cqe* cqe = nullptr;
      ::io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    }
    last_batch_ = reap();
    if (queued_linked_ != 0) [[unlikely]] {
      expire_queued();
    }
    if (!wake_armed_) {
      // The wake poll ended in this batch: re-arm it now, so that a loop (or a foreign loop
      // watching wait_descriptor()) never sleeps without it.
      arm_wake();
      ::io_uring_submit(&ring_);
    }
  }

  // How many completions a waiting turn waits for, at most batch_wait_us_ (0: the first one, no
  // window). A batch only when the loop is busy: the last turn found more than one completion,
  // and at least four operations are awaited (run_once), of which it then waits for half. So a lone
  // connection, or a trickle of completions among many idle ones, is never held back by the
  // window; under load one io_uring_enter returns a batch (docs/benchmarks.md, "The batch window
  // under load").
  [[nodiscard]] unsigned batch_to_wait_for(std::size_t awaited) const noexcept {
    if (batch_wait_us_ == 0 || last_batch_ < 2) {
      return 0;
    }
    std::size_t half = awaited / 2;
    return half < 2 ? 0 : static_cast<unsigned>(std::min<std::size_t>(half, ring_.cq.ring_entries));
  }

  // Submits and waits like io_uring_submit_and_wait_timeout, with a minimum wait for a batch
  // (liburing 2.3 has no call for it): returns once `batch` completions are there, or once
  // batch_wait_us_ has passed with at least one there, or at `timeout` (< 0: none).
  void wait_for_batch(std::chrono::nanoseconds timeout, unsigned batch) noexcept {
    // What liburing's submit does first: publish the SQEs written since the last submit.
    ::io_uring_sq& sq = ring_.sq;
    unsigned tail = sq.sqe_tail;
    if (sq.sqe_head != tail) {
      sq.sqe_head = tail;
      io_uring_smp_store_release(sq.ktail, tail);
    }
    unsigned to_submit = tail - IO_URING_READ_ONCE(*sq.khead);
    ::__kernel_timespec ts{};
    getevents_arg_min_wait arg{};
    arg.min_wait_usec = batch_wait_us_;
    if (timeout.count() >= 0) {
      ts = to_timespec(timeout.count());
      arg.ts = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(&ts));
      // The kernel waits out the minimum even past the timeout: a timer must not wait for it.
      auto timeout_us = static_cast<std::uint64_t>(timeout.count() / 1000);
      arg.min_wait_usec = static_cast<std::uint32_t>(std::min<std::uint64_t>(batch_wait_us_, timeout_us));
    }
    unsigned flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
    if (registered_ring_fd_) {
      flags |= IORING_ENTER_REGISTERED_RING;
    }
    // -ETIME (the timeout passed) and -EINTR need nothing: the loop turns again.
    ::syscall(__NR_io_uring_enter, ring_.enter_ring_fd, to_submit, batch, flags, &arg, sizeof arg);
  }

  void wake() noexcept override {
    std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(eventfd_, &one, sizeof one);
  }

  [[nodiscard]] int wait_descriptor() const noexcept override { return ring_.ring_fd; }

  void arm_deadline(clock::time_point deadline) noexcept override {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
    // steady_clock is CLOCK_MONOTONIC on Linux, the clock of IORING_TIMEOUT_ABS.
    deadline_timespec_ = to_timespec(ns > 0 ? ns : 1);
    if (::io_uring_sq_space_left(&ring_) < 2) {
      ::io_uring_submit(&ring_);
      if (::io_uring_sq_space_left(&ring_) < 2) {
        return;
      }
    }
    ::io_uring_sqe* remove = ::io_uring_get_sqe(&ring_);
    ::io_uring_prep_timeout_remove(remove, ud_deadline, 0);
    ::io_uring_sqe_set_data64(remove, ud_ignore);
    ::io_uring_sqe* add = ::io_uring_get_sqe(&ring_);
    ::io_uring_prep_timeout(add, &deadline_timespec_, 0, IORING_TIMEOUT_ABS);
    ::io_uring_sqe_set_data64(add, ud_deadline);
    // The kernel reads the timespec during the submit, and poll() has already returned: submit now.
    ::io_uring_submit(&ring_);
  }

  void release(descriptor& d) noexcept override {
    auto* s = static_cast<uring_state*>(d.context_state);
    // The active records the kernel has, cancelled below (unless the steps before complete them).
    io_operation* held[2] = {held_by_kernel(s->directions[0]), held_by_kernel(s->directions[1])};
    for (direction& dir : s->directions) {
      // Nothing of d is handed to the ring any more; what waits in the queues never reached it.
      dir.active = nullptr;
      while (io_operation* op = dir.queued.front()) {
        dequeue(*op);
        op->backend_flags_ |= f_released;
        finish(*op, -ECANCELED);
      }
    }
    if (s->backend_count != 0) {
      for (io_operation* op = backlog_.front(); op != nullptr;) {
        io_operation* next = op->next_;
        if (op->backend_link_ == s) {
          unbacklog(*op);
          op->backend_flags_ |= f_released;
          finish(*op, -ECANCELED);
        }
        op = next;
      }
    }
    if (::io_uring_sq_ready(&ring_) != 0) {
      forget_unsubmitted_of_fd(d.fd);
    }
    for (io_operation* op : held) {
      // Completed by forget_unsubmitted_of_fd if its SQE was not submitted yet.
      if (op != nullptr && op->backend_link_ == s) {
        start_cancel(*op, f_released);
      }
    }
    while (io_operation* op = s->in_flight.front()) {
      start_cancel(*op, f_released);
    }
    free_state(s);
    d.context_state = nullptr;
  }

  void cancel_descriptor(descriptor& d) noexcept override {
    auto* s = static_cast<uring_state*>(d.context_state);
    // Queued operations first, so that the active one's -ECANCELED hands nothing on.
    for (direction& dir : s->directions) {
      while (io_operation* op = dir.queued.front()) {
        dequeue(*op);
        finish(*op, -ECANCELED);
      }
    }
    if (s->backend_count != 0) {
      for (io_operation* op = backlog_.front(); op != nullptr;) {
        io_operation* next = op->next_;
        if (op->backend_link_ == s) {
          cancel(*op);
        }
        op = next;
      }
    }
    for (direction& dir : s->directions) {
      if (io_operation* op = held_by_kernel(dir)) {
        cancel(*op);
      }
    }
    // A standing multishot record stays: the core keeps serving the socket from it.
    for (io_operation* op = s->in_flight.front(); op != nullptr;) {
      io_operation* next = op->next_;
      if ((op->backend_flags_ & f_multishot) == 0) {
        cancel(*op);
      }
      op = next;
    }
  }

  int attach_buffers(provided_buffers& pool) noexcept override {
    unsigned entries = 1;
    while (entries < pool.count()) {
      entries <<= 1;
    }
    std::size_t bytes = entries * sizeof(::io_uring_buf);
    void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (memory == MAP_FAILED) {
      return -errno;
    }
    auto* handle = new (std::nothrow) buffer_ring{static_cast<::io_uring_buf_ring*>(memory), bytes, entries};
    if (handle == nullptr) {
      ::munmap(memory, bytes);
      return -ENOMEM;
    }
    ::io_uring_buf_ring_init(handle->ring);
    ::io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uintptr_t>(memory);
    reg.ring_entries = entries;
    reg.bgid = next_group_;
    // Incremental consumption where the kernel has it (6.12), so that a small message takes only
    // its bytes of a buffer; an older kernel refuses the flag with EINVAL: a plain ring then.
    set_buf_reg_flags(reg, pbuf_ring_inc);
    int r = ::io_uring_register_buf_ring(&ring_, &reg, 0);
    bool incremental = r == 0;
    if (r == -EINVAL) {
      set_buf_reg_flags(reg, 0);
      r = ::io_uring_register_buf_ring(&ring_, &reg, 0);
    }
    if (r < 0) {
      ::munmap(memory, bytes);
      delete handle;
      return r;
    }
    pool.group_ = next_group_++;
    pool.incremental_ = incremental;
    int mask = ::io_uring_buf_ring_mask(entries);
    for (std::uint32_t id = 0; id < pool.count(); ++id) {
      ::io_uring_buf_ring_add(handle->ring, pool.data(id), static_cast<unsigned>(pool.buffer_size()),
                              static_cast<unsigned short>(id), mask, static_cast<int>(id));
    }
    ::io_uring_buf_ring_advance(handle->ring, static_cast<int>(pool.count()));
    pool.ring_ = handle;
    return 0;
  }

  void detach_buffers(provided_buffers& pool) noexcept override {
    auto* handle = static_cast<buffer_ring*>(pool.ring_);
    if (handle == nullptr) {
      return;
    }
    ::io_uring_unregister_buf_ring(&ring_, pool.group_);
    ::munmap(handle->ring, handle->bytes);
    delete handle;
    pool.ring_ = nullptr;
  }

  void recycle_buffer(provided_buffers& pool, std::uint32_t id) noexcept override {
    auto* handle = static_cast<buffer_ring*>(pool.ring_);
    ::io_uring_buf_ring_add(handle->ring, pool.data(id), static_cast<unsigned>(pool.buffer_size()),
                            static_cast<unsigned short>(id), ::io_uring_buf_ring_mask(handle->entries), 0);
    ::io_uring_buf_ring_advance(handle->ring, 1);
  }

  void visit_pending(void (*visit)(const io_operation&, void*) noexcept, void* arg) const noexcept override {
    for (const op_list* list : {&backlog_, &cancelling_, &cancel_unsent_}) {
      for (const io_operation* op = list->front(); op != nullptr; op = op->next_) {
        visit(*op, arg);
      }
    }
    for (const uring_state* s = live_; s != nullptr; s = s->live_next) {
      for (const direction& dir : s->directions) {
        if (const io_operation* op = held_by_kernel(dir)) {
          visit(*op, arg);
        }
      }
      for (const io_operation* op = s->in_flight.front(); op != nullptr; op = op->next_) {
        visit(*op, arg);
      }
    }
  }

  void cancel_all() noexcept override {
    shut_down_ = true;
    for (uring_state* s = live_; s != nullptr; s = s->live_next) {
      s->direct = 0;  // shutdown: from now on every operation goes to the core, which cancels it
      for (direction& dir : s->directions) {
        while (io_operation* op = dir.queued.front()) {
          dequeue(*op);
          finish(*op, -ECANCELED);
        }
      }
    }
    while (io_operation* op = backlog_.front()) {
      unbacklog(*op);
      finish(*op, -ECANCELED);
    }
    for (uring_state* s = live_; s != nullptr; s = s->live_next) {
      for (direction& dir : s->directions) {
        if (io_operation* op = held_by_kernel(dir)) {
          start_cancel(*op, 0);
        }
      }
      while (io_operation* op = s->in_flight.front()) {
        start_cancel(*op, 0);
      }
    }
  }

 private:
  // ---- submission ----

  // The common start, with none of the general path's branches and calls: a receive or send of
  // one buffer with no endpoint and no time limit, on a descriptor registered here, with nothing
  // of its direction pending, no eager try and no zero-copy threshold, while the backlog is empty
  // and the ring has room. Does exactly what start_general does with such a record (the ring's
  // RECV / SEND, the direction's active record); false, having changed nothing, for any other
  // record.
  bool start_plain(io_operation& op) noexcept {
    const descriptor& d = *op.descriptor_;
    auto* s = static_cast<uring_state*>(d.context_state);
    // receive and send are consecutive codes: i is 0 for a receive, 1 for a send (its direction).
    static_assert(static_cast<unsigned>(op_code::send) == static_cast<unsigned>(op_code::receive) + 1);
    unsigned i = static_cast<unsigned>(op.code_) - static_cast<unsigned>(op_code::receive);
    bool send = i == 1;
    if (s == nullptr || s->owner != this || i > 1 || op.link_timeout_ns_ != 0 || d.eager != 0 ||
        d.zero_copy_threshold != 0 || op.msg_.msg_iovlen != 1 || op.msg_.msg_name != nullptr ||
        !backlog_.empty()) {
      return false;
    }
    direction& dir = s->directions[i];
    if (dir.active != nullptr) {
      return false;
    }
    ::io_uring_sqe* sqe = next_sqe();
    if (sqe == nullptr) [[unlikely]] {
      return false;
    }
    const ::iovec& iov = op.msg_.msg_iov[0];
    if (send) {
      // MSG_NOSIGNAL: a peer reset gives EPIPE, never SIGPIPE.
      ::io_uring_prep_send(sqe, d.fd, iov.iov_base, iov.iov_len, op.flags_ | MSG_NOSIGNAL);
    } else {
      ::io_uring_prep_recv(sqe, d.fd, iov.iov_base, iov.iov_len, op.flags_);
    }
    ::io_uring_sqe_set_data64(sqe, user_data_of(op));
    op.backend_link_ = s;
    op.backend_flags_ = 0;
    op.completion_flags_ = 0;
    op.start_hints_ = 0;
    s->direct &= static_cast<std::uint8_t>(~direct_bit_of(i));
    dir.active = &op;
    return true;
  }

  // io_uring_get_sqe without its tests of IORING_SETUP_SQPOLL and IORING_SETUP_SQE128, which
  // init() never sets up.
  ::io_uring_sqe* next_sqe() noexcept {
    ::io_uring_sq& sq = ring_.sq;
    unsigned tail = sq.sqe_tail;
    if (tail + 1 - IO_URING_READ_ONCE(*sq.khead) > sq.ring_entries) {
      return nullptr;
    }
    sq.sqe_tail = tail + 1;
    return &sq.sqes[tail & sq.ring_mask];
  }

  // start_general, and the record's count as pending when the backend keeps it: out of line, so
  // that the short path saves fewer registers.
  [[gnu::noinline]] bool start_general_counted(io_operation& op) noexcept {
    return sink().counted(start_general(op), op);
  }

  // Every other start (see start_plain).
  bool start_general(io_operation& op) noexcept {
    // The core passes socket operations only (timers and schedule stay in the core).
    descriptor& d = *op.descriptor_;
    auto* s = static_cast<uring_state*>(d.context_state);
    if (s == nullptr || s->owner != this) [[unlikely]] {
      s = first_use(op, d);
      if (s == nullptr) {
        if (is_wait(op.code_)) {
          // Readiness waits never complete inline, not even with an error.
          sink().complete(op, op.result_);
          return false;
        }
        return true;
      }
    }
    op.backend_link_ = s;
    op.backend_flags_ = 0;
    op.completion_flags_ = 0;
    // The caller made the system call itself a moment ago and it would have blocked.
    bool tried = (op.start_hints_ & start_would_block) != 0;
    op.start_hints_ = 0;
    if (op.link_timeout_ns_ > 0 && links_timeouts_) [[unlikely]] {
      op.link_timeout_ns_ = absolute_deadline(op.link_timeout_ns_);
      op.backend_flags_ = f_linked;
    }
    if (op.code_ < op_code::poll) [[likely]] {
      unsigned i = direction_index(op);
      direction& dir = s->directions[i];
      if (dir.active != nullptr) {
        // Keep the order of operations in one direction: wait behind the one handed to the ring.
        enqueue(op, dir);
        return false;
      }
      // Not while the last completion of the direction waits in the ready queue (its ticket):
      // completing this one at once would overtake it.
      if (!tried && ticket(*s, i) <= sink().ready_left_ && try_first(op, d)) {
        op.backend_link_ = nullptr;
        op.backend_flags_ = 0;
        allow_direct(*s, i);
        return true;
      }
      s->direct &= static_cast<std::uint8_t>(~direct_bit_of(i));
      dir.active = &op;
    } else if (op.code_ != op_code::poll) {
      // A standing multishot record: not ordered with the descriptor's other operations.
      op.backend_flags_ |= f_multishot;
      s->direct &= static_cast<std::uint8_t>(~direct_receive);
    }
    submit(op, *s);
    return false;
  }

  // start() on a descriptor this backend has not registered: registers it, or completes `op` at
  // once (returning null) if it cannot be used here.
  uring_state* first_use(io_operation& op, descriptor& d) noexcept {
    if (auto* old = static_cast<descriptor_state*>(d.context_state);
        old != nullptr && old->owner == nullptr) {
      // Orphaned by a context destroyed before the socket: forget it and register afresh.
      old->destroy(old);
      d.context_state = nullptr;
    }
    if (d.context_state != nullptr) {
      // Registered with another context (or another backend): see io_core.md.
      op.result_ = -EBUSY;
      return nullptr;
    }
    if (d.fd < 0) {
      op.result_ = -EBADF;
      return nullptr;
    }
    uring_state* s = register_descriptor(d);
    if (s == nullptr) {
      op.result_ = -ENOMEM;
    }
    return s;
  }

  // Tries the system call of a send or receive whose socket asked for it (descriptor::eager) at
  // once. True when it completed (op.result_ set); false when it would block (or was not tried)
  // and goes to the ring. Called only when no operation of the same direction is pending, so
  // order is kept.
  bool try_first(io_operation& op, const descriptor& d) noexcept {
    ::ssize_t r = -1;
    for (;;) {
      if (op.code_ == op_code::send && (d.eager & eager_send) != 0 && !zero_copy(op)) {
        // MSG_NOSIGNAL: a peer reset gives EPIPE, never SIGPIPE. MSG_DONTWAIT: a descriptor the
        // user made blocking must not block the loop.
        r = ::sendmsg(d.fd, &op.msg_, op.flags_ | MSG_NOSIGNAL | MSG_DONTWAIT);
      } else if (op.code_ == op_code::receive && (d.eager & eager_receive) != 0) {
        r = ::recvmsg(d.fd, &op.msg_, op.flags_ | MSG_DONTWAIT);
      } else {
        return false;
      }
      if (r >= 0) {
        op.result_ = r;
        return true;
      }
      if (errno != EINTR) {
        break;
      }
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return false;
    }
    op.result_ = -errno;
    return true;
  }

  // Hands `op` to the ring, or to the backlog when the ring is full (or others wait there).
  void submit(io_operation& op, uring_state& s) noexcept {
    if (backlog_.empty() && queue(op)) [[likely]] {
      enter_kernel(op, s);
    } else {
      to_backlog(op, s);
    }
  }

  // `op`'s SQE was written: a readiness wait or multishot record joins the in-flight set (a
  // direction's active record is found through its direction).
  static void enter_kernel(io_operation& op, uring_state& s) noexcept {
    if (in_set(op)) {
      s.in_flight.insert(op);
    }
  }

  // ---- order within a direction ----

  void enqueue(io_operation& op, direction& dir) noexcept {
    op.backend_flags_ |= f_queued;
    dir.queued.push_back(op);
    if ((op.backend_flags_ & f_linked) != 0) [[unlikely]] {
      ++queued_linked_;
      queued_earliest_ = std::min(queued_earliest_, op.link_timeout_ns_);
    }
  }

  void dequeue(io_operation& op) noexcept {
    direction_of(*state_of(op), op).queued.erase(op);
    op.backend_flags_ &= static_cast<std::uint8_t>(~f_queued);
    if ((op.backend_flags_ & f_linked) != 0) [[unlikely]] {
      --queued_linked_;
    }
  }

  // `op` reached its final completion: if it was its direction's active operation, the next one
  // queued behind it goes to the ring. (After release() a direction has no active operation, so
  // records of a released descriptor, which may complete later, hand nothing on.)
  void advance(io_operation& op) noexcept {
    uring_state* s = state_of(op);
    if (s == nullptr || is_wait(op.code_)) {
      return;
    }
    unsigned i = direction_index(op);
    direction& dir = s->directions[i];
    if (dir.active == &op) {
      dir.active = nullptr;
      if (!dir.queued.empty()) [[unlikely]] {
        hand_on(*s, dir);
      } else if (!shut_down_) {
        allow_direct(*s, i);
        // The direction's ticket (descriptor_state_head::tickets): `op`'s completion enters the
        // ready queue next (every caller completes it right after), as number ready_entered_ + 1;
        // until it is delivered, nothing of the direction completes at once.
        ticket(*s, i) = sink().ready_entered_ + 1;
      }
    }
  }

  // The descriptor_state_head::tickets entry of directions[i].
  static std::uint64_t& ticket(uring_state& s, unsigned i) noexcept {
    return s.tickets[direct_index(direct_bit_of(i))];
  }

  // Nothing of directions[i] is pending: a send or receive of it may be made directly (as try_first would
  // make it), a receive only while no standing receive takes the descriptor's data.
  static void allow_direct(uring_state& s, unsigned i) noexcept {
    if (i != 0) {
      s.direct |= direct_send;
    } else if (s.standing == nullptr) {
      s.direct |= direct_receive;
    }
  }

  // Out of line: reap's common path only clears the active operation.
  [[gnu::noinline]] void hand_on(uring_state& s, direction& dir) noexcept {
    io_operation& next = *dir.queued.front();
    dequeue(next);
    dir.active = &next;
    submit(next, s);
  }

  // A queued operation with a time limit has no linked timeout yet (the kernel has not seen it):
  // completes those whose limit passed with -ETIMEDOUT, and keeps a kernel timeout armed for the
  // earliest remaining limit, so that the loop's wait (or a foreign loop's) ends in time. True if
  // any completed.
  bool expire_queued() noexcept {
    std::int64_t now = absolute_deadline(0);
    bool expired = false;
    if (now >= queued_earliest_) {
      std::int64_t earliest = std::numeric_limits<std::int64_t>::max();
      for (uring_state* s = live_; s != nullptr; s = s->live_next) {
        for (direction& dir : s->directions) {
          for (io_operation* op = dir.queued.front(); op != nullptr;) {
            io_operation* next = op->next_;
            if ((op->backend_flags_ & f_linked) != 0) {
              if (op->link_timeout_ns_ <= now) {
                dequeue(*op);
                finish(*op, -ETIMEDOUT);
                expired = true;
              } else {
                earliest = std::min(earliest, op->link_timeout_ns_);
              }
            }
            op = next;
          }
        }
      }
      queued_earliest_ = earliest;
    }
    if (queued_linked_ != 0 && queued_earliest_ < queue_deadline_armed_) {
      // Only an earlier limit needs a new timeout; one that fires early just makes this run again.
      if (::io_uring_sq_space_left(&ring_) == 0 && !submit_for_room()) {
        return expired;  // tried again next turn
      }
      ::io_uring_sqe* sqe = ::io_uring_get_sqe(&ring_);
      ::__kernel_timespec& ts = link_timespecs_[static_cast<std::size_t>(sqe - ring_.sq.sqes)];
      ts = to_timespec(queued_earliest_);
      ::io_uring_prep_timeout(sqe, &ts, 0, IORING_TIMEOUT_ABS);
      ::io_uring_sqe_set_data64(sqe, ud_queue_deadline);
      queue_deadline_armed_ = queued_earliest_;
    }
    return expired;
  }

  // Writes the SQE(s) of `op` into the ring; false if there is no room. A linked record's SQE (its
  // operation, or the POLL_ADD of a retry) is followed by its IORING_OP_LINK_TIMEOUT, with the
  // absolute deadline: a retry keeps the limit the operation started with.
  bool queue(io_operation& op) noexcept {
    bool linked = (op.backend_flags_ & f_linked) != 0;
    if (linked && ::io_uring_sq_space_left(&ring_) < 2) {
      return false;
    }
    ::io_uring_sqe* sqe = ::io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {
      return false;
    }
    prepare(op, *sqe);
    if (linked) {
      sqe->flags |= IOSQE_IO_LINK;
      ::io_uring_sqe* timeout = ::io_uring_get_sqe(&ring_);
      ::__kernel_timespec& ts = link_timespecs_[static_cast<std::size_t>(timeout - ring_.sq.sqes)];
      ts = to_timespec(op.link_timeout_ns_);
      ::io_uring_prep_link_timeout(timeout, &ts, IORING_TIMEOUT_ABS);
      ::io_uring_sqe_set_data64(timeout, ud_ignore);
    }
    return true;
  }

  void prepare(io_operation& op, ::io_uring_sqe& sqe) noexcept {
    int fd = op.descriptor_->fd;
    std::uint64_t user_data = user_data_of(op);
    if ((op.backend_flags_ & f_repoll) != 0) [[unlikely]] {
      ::io_uring_prep_poll_add(&sqe, fd, is_write_op(op.code_) ? POLLOUT : POLLIN);
      ::io_uring_sqe_set_data64(&sqe, user_data | tag_repoll);
      return;
    }
    ::msghdr& m = op.msg_;
    auto flags = static_cast<unsigned>(op.flags_);
    // One buffer and no endpoint: IORING_OP_RECV / SEND, which spare the kernel the msghdr copy.
    bool plain = m.msg_iovlen == 1 && m.msg_name == nullptr;
    // Receive and send first: they are nearly all of a busy server's operations.
    if (op.code_ == op_code::receive) {
      if (plain) {
        ::io_uring_prep_recv(&sqe, fd, m.msg_iov[0].iov_base, m.msg_iov[0].iov_len, static_cast<int>(flags));
      } else {
        ::io_uring_prep_recvmsg(&sqe, fd, &m, flags);
      }
    } else if (op.code_ == op_code::send) {
      // MSG_NOSIGNAL: a peer reset gives EPIPE, never SIGPIPE.
      if (zero_copy(op)) [[unlikely]] {
        prepare_zero_copy(op, sqe, fd, plain);
      } else if (plain) {
        ::io_uring_prep_send(&sqe, fd, m.msg_iov[0].iov_base, m.msg_iov[0].iov_len,
                             static_cast<int>(flags | MSG_NOSIGNAL));
      } else {
        ::io_uring_prep_sendmsg(&sqe, fd, &m, flags | MSG_NOSIGNAL);
      }
    } else {
      prepare_other(op, sqe, fd);
    }
    ::io_uring_sqe_set_data64(&sqe, user_data);
  }

  // A send of at least its socket's zero_copy_threshold bytes in all, where the kernel has
  // IORING_OP_SEND_ZC and IORING_OP_SENDMSG_ZC.
  [[nodiscard]] bool zero_copy(const io_operation& op) const noexcept {
    const descriptor& d = *op.descriptor_;
    if (d.zero_copy_threshold == 0 || !zero_copy_) [[likely]] {
      return false;
    }
    std::size_t total = 0;
    for (std::size_t i = 0; i < op.msg_.msg_iovlen; ++i) {
      total += op.msg_.msg_iov[i].iov_len;
    }
    return wants_zero_copy(d, total);
  }

  // The kernel sends from the caller's pages and posts two CQEs: the send's result (with
  // IORING_CQE_F_MORE when a notification follows) and, once it no longer reads the pages, the
  // notification (IORING_CQE_F_NOTIF; REPORT_USAGE makes it say whether it copied after all).
  // on_zero_copy holds the first and completes the record with the second.
  static void prepare_zero_copy(io_operation& op, ::io_uring_sqe& sqe, int fd, bool plain) noexcept {
    op.result_ = zc_no_result;
    ::msghdr& m = op.msg_;
    auto flags = static_cast<unsigned>(op.flags_) | MSG_NOSIGNAL;
    if (plain) {
      ::io_uring_prep_send_zc(&sqe, fd, m.msg_iov[0].iov_base, m.msg_iov[0].iov_len, static_cast<int>(flags),
                              IORING_SEND_ZC_REPORT_USAGE);
    } else {
      ::io_uring_prep_sendmsg_zc(&sqe, fd, &m, flags);
      sqe.ioprio |= IORING_SEND_ZC_REPORT_USAGE;
    }
  }

  static void prepare_other(io_operation& op, ::io_uring_sqe& sqe, int fd) noexcept {
    ::msghdr& m = op.msg_;
    switch (op.code_) {
      case op_code::accept:
        ::io_uring_prep_accept(&sqe, fd, static_cast<::sockaddr*>(m.msg_name),
                               m.msg_name != nullptr ? &m.msg_namelen : nullptr,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
        break;
      case op_code::connect:
        ::io_uring_prep_connect(&sqe, fd, static_cast<const ::sockaddr*>(m.msg_name), m.msg_namelen);
        break;
      case op_code::poll:
        // A single-shot poll per wait: several waits on one descriptor are independent requests.
        ::io_uring_prep_poll_add(&sqe, fd, native_poll_mask(requested_events(op)));
        break;
      case op_code::receive_multishot:
        // The kernel picks a buffer of the pool's ring when data arrives: an idle socket holds none.
        ::io_uring_prep_recv_multishot(&sqe, fd, nullptr, 0, 0);
        sqe.flags |= IOSQE_BUFFER_SELECT;
        sqe.buf_group = static_cast<multishot_operation&>(op).buffers_->group_;
        break;
      case op_code::accept_multishot:
        ::io_uring_prep_multishot_accept(&sqe, fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        break;
      default:  // not a socket operation: the core never passes one
        ::io_uring_prep_nop(&sqe);
        break;
    }
  }

  void to_backlog(io_operation& op, uring_state& s) noexcept {
    op.backend_link_ = &s;
    op.backend_flags_ |= f_backlog;
    backlog_.push_back(op);
    ++s.backend_count;
  }

  void unbacklog(io_operation& op) noexcept {
    backlog_.erase(op);
    op.backend_flags_ &= static_cast<std::uint8_t>(~f_backlog);
    --state_of(op)->backend_count;
  }

  // Moves the backlog into the ring, in order, as far as there is room.
  void flush_backlog() noexcept {
    while (io_operation* op = backlog_.front()) {
      if (!queue(*op)) {
        return;
      }
      unbacklog(*op);
      enter_kernel(*op, *state_of(*op));
    }
  }

  void arm_wake() noexcept {
    ::io_uring_sqe* sqe = ::io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {
      return;
    }
    if (multishot_wake_) {
      ::io_uring_prep_poll_multishot(sqe, eventfd_, POLLIN);
    } else {
      ::io_uring_prep_poll_add(sqe, eventfd_, POLLIN);
    }
    ::io_uring_sqe_set_data64(sqe, ud_wake);
    wake_armed_ = true;
  }

  // Puts everything the loop owes the kernel into the ring (cancel requests, the backlog, the wake
  // poll), submitting as often as it takes to make room.
  void prepare_submission() noexcept {
    for (;;) {
      if (!wake_armed_) {
        arm_wake();
      }
      send_cancels();
      flush_backlog();
      if (wake_armed_ && backlog_.empty() && cancel_unsent_.empty()) {
        return;
      }
      if (!submit_for_room()) {
        // The kernel takes nothing more for now; the rest goes in a later turn.
        return;
      }
    }
  }

  // Submits to free ring space; true if that made progress.
  bool submit_for_room() noexcept {
    int r = ::io_uring_submit(&ring_);
    if (r > 0) {
      return true;
    }
    if (r == -EBUSY || r == -EAGAIN) {
      // Completions must be reaped before the kernel accepts more.
      return reap() != 0;
    }
    return false;
  }

  // ---- cancellation ----

  // The record keeps its backend_link_: its direction hands on to the next operation only once the
  // kernel has finished with this one.
  void start_cancel(io_operation& op, std::uint8_t extra_flags) noexcept {
    if (in_set(op)) {
      state_of(op)->in_flight.erase(op);
    }
    op.backend_flags_ |= static_cast<std::uint8_t>(f_cancelling | extra_flags);
    if (::io_uring_sqe* sqe = ::io_uring_get_sqe(&ring_)) {
      prepare_cancel(op, *sqe);
      cancelling_.push_back(op);
    } else {
      cancel_unsent_.push_back(op);
    }
  }

  void prepare_cancel(io_operation& op, ::io_uring_sqe& sqe) noexcept {
    std::uint64_t target = user_data_of(op) | ((op.backend_flags_ & f_repoll) != 0 ? tag_repoll : 0);
    ::io_uring_prep_cancel64(&sqe, target, 0);
    ::io_uring_sqe_set_data64(&sqe, ud_ignore);
    op.backend_flags_ |= f_cancel_sent;
  }

  void send_cancels() noexcept {
    while (io_operation* op = cancel_unsent_.front()) {
      ::io_uring_sqe* sqe = ::io_uring_get_sqe(&ring_);
      if (sqe == nullptr) {
        return;
      }
      cancel_unsent_.erase(*op);
      prepare_cancel(*op, *sqe);
      cancelling_.push_back(*op);
    }
  }

  // Makes unsubmitted SQEs harmless: the kernel will complete them as NOPs, ignored.
  static void neutralise(::io_uring_sqe& sqe) noexcept {
    auto link = static_cast<std::uint8_t>(sqe.flags & IOSQE_IO_LINK);
    ::io_uring_prep_nop(&sqe);
    sqe.flags |= link;  // a linked timeout that follows stays linked, to a NOP
    ::io_uring_sqe_set_data64(&sqe, ud_ignore);
  }

  template <class F>
  void for_each_unsubmitted(F f) noexcept {
    unsigned head = *ring_.sq.khead;
    for (unsigned i = head; i != ring_.sq.sqe_tail; ++i) {
      f(ring_.sq.sqes[i & ring_.sq.ring_mask]);
    }
  }

  // An unsubmitted cancel request for `op`, which completed, must not reach the kernel: it could
  // hit the next operation started at the same address.
  void forget_unsubmitted_cancels(const io_operation& op) noexcept {
    std::uint64_t target = user_data_of(op);
    for_each_unsubmitted([&](::io_uring_sqe& sqe) {
      if (sqe.opcode == IORING_OP_ASYNC_CANCEL && (sqe.addr & ~tag_mask) == target) {
        neutralise(sqe);
      }
    });
  }

  // release(): the unsubmitted SQEs naming `fd` never reach the kernel; their records complete now.
  void forget_unsubmitted_of_fd(int fd) noexcept {
    for_each_unsubmitted([&](::io_uring_sqe& sqe) {
      if (sqe.fd != fd || sqe.user_data < ud_internal_limit || sqe.opcode == IORING_OP_NOP) {
        return;
      }
      io_operation& op = *record_of(sqe.user_data);
      neutralise(sqe);
      detach(op);
      op.backend_flags_ &= static_cast<std::uint8_t>(~f_repoll);
      if ((op.backend_flags_ & f_cancelling) == 0) {
        op.backend_flags_ |= f_released;
      }
      finish(op, -ECANCELED);
    });
  }

  // ---- completion ----

  // What io_uring_for_each_cqe + io_uring_cq_advance do, with the tail read once per batch (the
  // ring has 16-byte CQEs: no IORING_SETUP_CQE32).
  std::size_t reap() noexcept {
    std::size_t total = 0;
    ::io_uring_cq& cq = ring_.cq;
    for (;;) {
      unsigned head = *cq.khead;
      unsigned tail = io_uring_smp_load_acquire(cq.ktail);
      if (head != tail) {
        for (unsigned i = head; i != tail; ++i) {
          const ::io_uring_cqe& cqe = cq.cqes[i & cq.ring_mask];
          handle(cqe.user_data, cqe.res, cqe.flags);
        }
        io_uring_smp_store_release(cq.khead, tail);
        total += tail - head;
        continue;
      }
      // The completion queue is empty; completions that did not fit wait in the kernel.
      if (!::io_uring_cq_has_overflow(&ring_) || ::io_uring_get_events(&ring_) < 0) {
        return total;
      }
    }
  }

  // (With IORING_FEAT_EXT_ARG, liburing adds no LIBURING_UDATA_TIMEOUT requests of its own.)
  void handle(std::uint64_t user_data, int res, unsigned flags) noexcept {
    if (user_data >= ud_internal_limit) [[likely]] {
      // The common completion, tested at once: a record's single CQE (no tag, no flag of the
      // backend's or of the kernel's that matters) that succeeded, of an operation that is not a
      // readiness wait (on_done's first case).
      io_operation& op = *record_of(user_data);
      if (((user_data & tag_mask) | op.backend_flags_ | (flags & (IORING_CQE_F_MORE | IORING_CQE_F_NOTIF))) ==
              0 &&
          res >= 0 && !is_wait(op.code_)) [[likely]] {
        done(op, res);
        return;
      }
      // A multishot record's shot (a pooled receive's data): on_multishot's first case.
      if ((op.backend_flags_ & f_multishot) != 0 && (flags & IORING_CQE_F_MORE) != 0 &&
          (user_data & tag_mask) == 0) [[likely]] {
        shot(static_cast<multishot_operation&>(op), res, flags);
        return;
      }
    }
    handle_other(user_data, res, flags);
  }

  // Every other CQE (see handle). Out of line: the reap loop's common case saves no register for it.
  [[gnu::noinline]] void handle_other(std::uint64_t user_data, int res, unsigned flags) noexcept {
    if (user_data < ud_internal_limit) {
      if (user_data == ud_wake) {
        on_wake(res, flags);
      } else if (user_data == ud_queue_deadline && res == -ETIME) {
        queue_deadline_armed_ = std::numeric_limits<std::int64_t>::max();
      }
      return;
    }
    io_operation& op = *record_of(user_data);
    if ((user_data & tag_mask) == tag_repoll) [[unlikely]] {
      on_repoll(op, res);
    } else if ((op.backend_flags_ & f_multishot) != 0) [[unlikely]] {
      on_multishot(static_cast<multishot_operation&>(op), res, flags);
    } else if ((flags & (IORING_CQE_F_MORE | IORING_CQE_F_NOTIF)) != 0) [[unlikely]] {
      on_zero_copy(op, res, flags);
    } else {
      on_done(op, res);
    }
  }

  void on_wake(int res, unsigned flags) noexcept {
    if ((flags & IORING_CQE_F_MORE) != 0) {
      return;
    }
    wake_armed_ = false;
    if (res == -EINVAL && multishot_wake_) {
      // A kernel without multishot poll: poll once per wake-up from now on.
      multishot_wake_ = false;
      return;
    }
    // Drain the counter, or the poll re-armed next would fire at once.
    std::uint64_t value;
    [[maybe_unused]] auto r = ::read(eventfd_, &value, sizeof value);
  }

  // The completion_buffer and completion_buffer_more bits of a CQE's `cqe_flags`, and its buffer
  // id into `buffer` (with IORING_CQE_F_BUFFER).
  static std::uint8_t buffer_flags(unsigned cqe_flags, std::uint32_t& buffer) noexcept {
    std::uint8_t flags = 0;
    if ((cqe_flags & IORING_CQE_F_BUFFER) != 0) {
      flags |= completion_buffer;
      buffer = cqe_flags >> IORING_CQE_BUFFER_SHIFT;
    }
    if ((cqe_flags & IORING_CQE_F_BUF_MORE) != 0) {
      flags |= completion_buffer_more;
    }
    return flags;
  }

  // A CQE of a multishot record with IORING_CQE_F_MORE: hands what it carries to the record.
  static void shot(multishot_operation& op, int res, unsigned cqe_flags) noexcept {
    std::uint32_t buffer = 0;
    std::uint8_t flags = buffer_flags(cqe_flags, buffer);
    op.on_shot_(op, res, static_cast<std::uint8_t>(flags | completion_more), buffer);
  }

  // A CQE of a multishot record: a shot while IORING_CQE_F_MORE says more follow (also while its
  // cancellation is on its way), else its last completion, through the ready queue.
  void on_multishot(multishot_operation& op, int res, unsigned cqe_flags) noexcept {
    if ((cqe_flags & IORING_CQE_F_MORE) != 0) {
      shot(op, res, cqe_flags);
      return;
    }
    std::uint32_t buffer = 0;
    std::uint8_t flags = buffer_flags(cqe_flags, buffer);
    detach(op);
    op.completion_flags_ = flags;
    op.buffer_ = buffer;
    finish(op, res);
  }

  // A CQE of a zero-copy send (the only single-shot records whose CQEs carry IORING_CQE_F_MORE or
  // IORING_CQE_F_NOTIF). The first, with F_MORE, is the send's result: the kernel may still read
  // the buffers, so the record stays where it is (in flight, or being cancelled: a cancel request
  // that finds nothing left to cancel changes nothing) and keeps the result in result_. The
  // notification completes it with that result, as on_done would have. A first CQE without F_MORE
  // (a failure before any page was taken) has no notification and goes to on_done directly.
  // (The kernel posts the notification after the result; should it ever come first, result_ says
  // so and the result completes the record.)
  void on_zero_copy(io_operation& op, int res, unsigned cqe_flags) noexcept {
    if ((cqe_flags & IORING_CQE_F_NOTIF) == 0) {
      if (op.result_ != zc_notified) {
        op.result_ = res;
        return;
      }
      on_done(op, res);
      return;
    }
    auto usage = static_cast<unsigned>(res);
    op.completion_flags_ = static_cast<std::uint8_t>(
        completion_notification | ((usage & IORING_NOTIF_USAGE_ZC_COPIED) != 0 ? completion_copied : 0));
    if (op.result_ == zc_no_result) [[unlikely]] {
      op.result_ = zc_notified;
      return;
    }
    on_done(op, static_cast<int>(op.result_));
  }

  // Removes a record that the kernel finished with from the list that holds it.
  void detach(io_operation& op) noexcept {
    std::uint8_t flags = op.backend_flags_;
    if ((flags & f_cancelling) == 0) {
      if (in_set(op)) {
        state_of(op)->in_flight.erase(op);
      }
    } else if ((flags & f_cancel_sent) == 0) {
      cancel_unsent_.erase(op);
    } else {
      cancelling_.erase(op);
      if (::io_uring_sq_ready(&ring_) != 0) {
        forget_unsubmitted_cancels(op);
      }
    }
  }

  // An operation that is not a readiness wait, nobody cancelled it, and it succeeded (its
  // backend_flags_ are 0).
  void done(io_operation& op, int res) noexcept {
    advance(op);
    op.backend_link_ = nullptr;
    sink().complete_single(op, res);
  }

  void on_done(io_operation& op, int res) noexcept {
    if (op.backend_flags_ == 0 && res >= 0) [[likely]] {
      // The common case: an operation nobody cancelled succeeded (a multishot record's final
      // completion goes through detach).
      if (is_wait(op.code_)) [[unlikely]] {
        state_of(op)->in_flight.erase(op);
        complete_poll(op, res);
        return;
      }
      done(op, res);
      return;
    }
    detach(op);
    if (is_wait(op.code_) && res >= 0) [[unlikely]] {
      if ((op.backend_flags_ & (f_cancelling | f_released)) == 0) {
        complete_poll(op, res);
        return;
      }
      // It happened before the cancel or release took effect; its descriptor may be gone.
      std::int64_t r = poll_result(static_cast<unsigned>(res), requested_events(op));
      finish(op, r != 0 ? r : -ECANCELED);
      return;
    }
    if ((op.backend_flags_ & f_cancelling) == 0) {
      // A connect's -EAGAIN is its result (a Unix listener's backlog is full: the epoll backend
      // reports it too), not a wait that failed to arm: polling would find the unconnected socket
      // writable and report a success (tests/fault/backend_fault_test.cpp).
      if ((res == -EAGAIN && op.code_ != op_code::connect) ||
          (op.code_ == op_code::connect && (res == -EINPROGRESS || res == -EALREADY))) {
        // The kernel could not wait for readiness itself: poll, then try again.
        op.backend_flags_ |= f_repoll;
        to_backlog(op, *state_of(op));
        return;
      }
      res = timed_out_if_linked(op, res);
    }
    finish(op, res);
  }

  // A readiness wait (op_code::poll, detached from its list) whose POLL_ADD completed with `res`.
  // io_uring reports the mask of the wake-up that completed the poll, and a socket's "data
  // arrived" wake-up always carries POLLPRI (sock_def_readable): urgent data is confirmed with
  // poll(2), and a wait that asked for nothing else that happened is armed again.
  void complete_poll(io_operation& op, int res) noexcept {
    auto revents = static_cast<unsigned>(res);
    if ((revents & POLLPRI) != 0 && has(requested_events(op), poll_events::priority)) {
      ::pollfd p{op.descriptor_->fd, POLLPRI, 0};
      if (::poll(&p, 1, 0) <= 0 || (p.revents & POLLPRI) == 0) {
        revents &= ~static_cast<unsigned>(POLLPRI);
      }
    }
    std::int64_t r = poll_result(revents, requested_events(op));
    if (r == 0) {
      to_backlog(op, *state_of(op));
      return;
    }
    finish(op, r);
  }

  // A linked record that nobody cancelled comes back -ECANCELED when its linked timeout fired
  // (the timeout's own CQE, -ETIME, is ignored).
  static int timed_out_if_linked(const io_operation& op, int res) noexcept {
    return res == -ECANCELED && (op.backend_flags_ & f_linked) != 0 ? -ETIMEDOUT : res;
  }

  void on_repoll(io_operation& op, int res) noexcept {
    detach(op);
    op.backend_flags_ &= static_cast<std::uint8_t>(~f_repoll);
    if ((op.backend_flags_ & f_cancelling) != 0) {
      finish(op, -ECANCELED);
      return;
    }
    if (res < 0) {
      finish(op, timed_out_if_linked(op, res));
      return;
    }
    if (op.code_ == op_code::connect) {
      int error = 0;
      ::socklen_t len = sizeof error;
      if (::getsockopt(op.descriptor_->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0) {
        error = errno;
      }
      finish(op, -error);
      return;
    }
    to_backlog(op, *state_of(op));
  }

  void finish(io_operation& op, std::int64_t result) noexcept {
    std::uint8_t flags = op.backend_flags_;
    if ((flags & f_released) != 0) {
      result = released_result(op, result);
    } else if ((flags & f_cancelling) != 0) {
      result = cancelled_result(op, result);
      if (result != -ECANCELED && op.handoff_ == handoff_state::none) {
        // What the operation asked for came before the cancel reached the kernel: it completes
        // with it, but an operation of several steps starts no further one (stoppable_operation),
        // as on the backends that cancel at once.
        op.handoff_ = handoff_state::cancelled;
      }
    }
    advance(op);
    op.backend_link_ = nullptr;
    op.backend_flags_ = 0;
    sink().complete(op, result);
  }

  // The result of a record whose descriptor was released (closed, given away) while the kernel
  // had it. close(), release() and the destructor of a socket promise operation_aborted to every
  // operation pending when they return, but the kernel may complete one after that: until its
  // cancel request is submitted (the loop's next turn), the ring's request keeps the socket's file
  // alive, and the peer's FIN or RST, or data, can complete it first (0, ECONNRESET, bytes). So
  // whatever came reports the release: bytes received are dropped with the socket, a connection
  // accepted after all is closed. A readiness wait likewise reports the release, not an event
  // that came after it (the owner may close the descriptor as soon as forget_descriptor or close
  // returns, which hangs up a pipe's other end). A multishot record keeps a success: the core
  // takes back the pool buffer that comes with it, and serves nobody from it any more.
  static std::int64_t released_result(const io_operation& op, std::int64_t result) noexcept {
    if ((op.backend_flags_ & f_multishot) != 0) {
      return result < 0 ? io_operation::aborted : result;
    }
    if (op.code_ == op_code::accept && result >= 0) {
      ::close(static_cast<int>(result));
    }
    return io_operation::aborted;
  }

  // The result of a record whose cancellation was asked for (a stop request, cancel() of its
  // socket, also one released afterwards): -ECANCELED, unless it completed first with bytes, a
  // connection or events. A failure, or the end of a stream, that the kernel reported before the
  // cancel request reached it (submitted at the loop's next turn) reports the cancellation too, as
  // cancel() promises set_stopped() to every operation pending when it returns: the peer's FIN or
  // RST may come in between. Nothing is lost: the end of a stream is seen again by the next
  // receive, and a reset by the next operation (EPIPE, or the end of the stream). (A zero-byte
  // datagram that came at that moment without an endpoint asked for is taken for the end of a
  // stream: the record does not say which it is, and the descriptor may be closing on another
  // thread.)
  static std::int64_t cancelled_result(const io_operation& op, std::int64_t result) noexcept {
    if ((op.backend_flags_ & f_multishot) != 0) {
      return result == -EINTR ? -ECANCELED : result;
    }
    if (result < 0 || (result == 0 && op.code_ == op_code::receive && op.msg_.msg_name == nullptr)) {
      return -ECANCELED;
    }
    return result;
  }

  // ---- descriptor states ----

  uring_state* register_descriptor(descriptor& d) noexcept {
    uring_state* s = free_;
    if (s != nullptr) {
      free_ = s->live_next;
    } else {
      s = new (std::nothrow) uring_state;
      if (s == nullptr) {
        return nullptr;
      }
      s->destroy = [](descriptor_state* state) noexcept { delete static_cast<uring_state*>(state); };
    }
    s->owner = this;
    s->context = sink().context_;
    s->delivered = &sink().ready_left_;
    s->direct = 0;
    s->standing = nullptr;
    s->backend_count = 0;
    s->directions[0].active = nullptr;
    s->directions[1].active = nullptr;
    s->live_prev = nullptr;
    s->live_next = live_;
    if (live_ != nullptr) {
      live_->live_prev = s;
    }
    live_ = s;
    d.context_state = s;
    return s;
  }

  void free_state(uring_state* s) noexcept {
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
    s->live_prev = nullptr;
    s->live_next = free_;
    free_ = s;
  }

  ::io_uring ring_{};
  bool ring_ready_ = false;
  bool registered_ring_fd_ = false;
  // context_options::completion_batch_wait in microseconds, where the kernel has it; 0: off.
  std::uint32_t batch_wait_us_ = 0;
  // Completions the last run_once reaped, the backend's own requests' too (batch_to_wait_for).
  std::size_t last_batch_ = 0;
  bool multishot_wake_ = true;
  bool wake_armed_ = false;
  // cancel_all() ran: no direct system calls any more (descriptor_state_head::direct).
  bool shut_down_ = false;
  int eventfd_ = -1;
  op_list backlog_;
  op_list cancelling_;
  op_list cancel_unsent_;
  uring_state* live_ = nullptr;
  uring_state* free_ = nullptr;
  ::__kernel_timespec deadline_timespec_{};
  // Per SQE slot: the timespec of the IORING_OP_LINK_TIMEOUT in that slot.
  std::vector<::__kernel_timespec> link_timespecs_;
  bool links_timeouts_ = false;
  // The probe found IORING_OP_SEND_ZC and IORING_OP_SENDMSG_ZC: sends of at least their socket's
  // descriptor::zero_copy_threshold bytes go zero-copy.
  bool zero_copy_ = false;
  // The buffer group id of the next pool.
  std::uint16_t next_group_ = 0;
  // Queued operations with a time limit, the earliest limit among them (may be earlier than the
  // true one after removals: that only costs a scan), and the limit the kernel's timeout is armed for.
  std::uint32_t queued_linked_ = 0;
  std::int64_t queued_earliest_ = std::numeric_limits<std::int64_t>::max();
  std::int64_t queue_deadline_armed_ = std::numeric_limits<std::int64_t>::max();
};

}  // namespace

std::unique_ptr<backend> make_uring_backend(completion_sink& sink, const context_options& options,
                                            backend_info& info) {
  info = backend_info{};
  info.kind = backend_kind::uring;
  auto b = std::make_unique<uring_backend>(sink);
  if (int r = b->init(options, info); r < 0) {
    backend_info refused;
    refused.kind = backend_kind::uring;
    refused.uring_error = std::error_code(-r, std::system_category());
    refused.uring_failed_step = info.uring_failed_step;
    info = refused;
    return nullptr;
  }
  return b;
}

}  // namespace senet::io::detail
