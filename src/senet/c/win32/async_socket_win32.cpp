// SPDX-License-Identifier: BSL-1.0
// async_socket.h on Windows (async-socket-win32-requirements.txt): overlapped WSASend / WSARecv
// through the socket transport, completed on the execution engine's Win32 thread pool by a
// thread pool I/O object (CreateThreadpoolIo, StartThreadpoolIo / CancelThreadpoolIo).
//
// Threads and locks: `lock` guards the state, the count of API calls executing (`api_calls`: an
// open until its callback has returned, a send or receive until it returns) and of I/O operations
// whose callback has not returned (`pending`). No lock is held while a callback runs. A callback
// runs inside a "frame" (a thread-local list) naming its socket, so that close and destroy called
// from it know not to wait for it: they close the socket and leave the rest (CloseThreadpoolIo, the
// free) to whichever callback or call of the socket ends last.
#include <senet/c/async_socket.h>
#include <senet/c/execution_engine_win32.h>

#include <windows.h>
#include <winsock2.h>

#include <cstddef>
#include <cstdint>
#include <new>

#include "senet/c/callback_frames.hpp"
#include "senet/c/win32/async_socket_win32_internal.hpp"
#include "senet/c/win32/socket_transport.h"

namespace senet::c_api::win32 {
namespace {

enum class socket_state : std::uint8_t { created, opening, open, closing, closed };
enum class io_kind : std::uint8_t { send, receive };

/** One send or receive (SRS_ASYNC_SOCKET_WIN32_01_028, 01_050, 01_077, 01_078): the OVERLAPPED, the
    callback, and `count` SOCKET_BUFFERs allocated right after the object. */
struct io_context {
  OVERLAPPED overlapped;
  ASYNC_SOCKET* owner;
  io_kind kind;
  std::uint32_t count;
  std::uint64_t total;  // the sum of the buffers' lengths
  ON_ASYNC_SOCKET_SEND_COMPLETE on_send;
  ON_ASYNC_SOCKET_RECEIVE_COMPLETE on_receive;
  void* callback_context;

  [[nodiscard]] SOCKET_BUFFER* buffers() noexcept { return reinterpret_cast<SOCKET_BUFFER*>(this + 1); }
};
static_assert(sizeof(io_context) % alignof(SOCKET_BUFFER) == 0);

// A frame of kind true: an I/O completion callback; of kind false: the open callback, inside the
// open call.
using frame = callback_frame<ASYNC_SOCKET>;
using frame_guard = frame;

}  // namespace
}  // namespace senet::c_api::win32

struct ASYNC_SOCKET {
  EXECUTION_ENGINE_HANDLE engine = nullptr;
  PTP_POOL pool = nullptr;
  SOCKET_TRANSPORT_HANDLE transport = nullptr;
  TP_CALLBACK_ENVIRON environment{};
  PTP_IO io = nullptr;

  SRWLOCK lock = SRWLOCK_INIT;
  CONDITION_VARIABLE cv = CONDITION_VARIABLE_INIT;
  senet::c_api::win32::socket_state state = senet::c_api::win32::socket_state::created;  // lock
  std::uint32_t api_calls = 0;                                                           // lock
  std::uint32_t pending = 0;                                                             // lock
  bool finish_deferred = false;    // lock: a close from a callback left its end to the last one
  bool destroy_requested = false;  // lock: a destroy from a callback left the free to the last one
};

namespace senet::c_api::win32 {
namespace {

using state_t = socket_state;

class lock_guard {
 public:
  explicit lock_guard(ASYNC_SOCKET* s) noexcept : s_(s) { ::AcquireSRWLockExclusive(&s_->lock); }
  lock_guard(const lock_guard&) = delete;
  lock_guard& operator=(const lock_guard&) = delete;
  ~lock_guard() { ::ReleaseSRWLockExclusive(&s_->lock); }

 private:
  ASYNC_SOCKET* s_;
};

template <class Pred>
void wait(ASYNC_SOCKET* s, Pred pred) noexcept {
  while (!pred()) {
    ::SleepConditionVariableSRW(&s->cv, &s->lock, INFINITE, 0);
  }
}

/** Whether the calling thread runs a callback of `s` (and so must not wait for its callbacks). */
const frame* callback_frame_of(const ASYNC_SOCKET* s) noexcept {
  return frame::innermost_of(s);
}

/** How many API calls of `s` the calling thread is inside (the open whose callback it runs). */
std::uint32_t own_api_calls(const ASYNC_SOCKET* s) noexcept {
  return frame::count_of(s, false);
}

void free_socket(ASYNC_SOCKET* s) noexcept {
  socket_transport_destroy(s->transport);  // closes a socket that was never opened
  EXECUTION_ENGINE_HANDLE engine = s->engine;
  delete s;                          // SRS_ASYNC_SOCKET_WIN32_01_005
  execution_engine_dec_ref(engine);  // SRS_ASYNC_SOCKET_WIN32_42_005
}

/** The end of a close, once the socket is closed and no I/O is pending (with `lock` held). */
void finish_close(ASYNC_SOCKET* s) noexcept {
  ::CloseThreadpoolIo(s->io);  // SRS_ASYNC_SOCKET_WIN32_01_059
  s->io = nullptr;
  ::DestroyThreadpoolEnvironment(&s->environment);  // SRS_ASYNC_SOCKET_WIN32_01_042
  s->state = state_t::closed;
  ::WakeAllConditionVariable(&s->cv);
}

/** With `lock` held, after `api_calls` or `pending` went down: ends a deferred close, and tells
    whether a deferred destroy may free the socket now (claiming it). */
bool settle(ASYNC_SOCKET* s) noexcept {
  ::WakeAllConditionVariable(&s->cv);
  if (s->api_calls != 0 || s->pending != 0) {
    return false;
  }
  if (s->finish_deferred) {
    s->finish_deferred = false;
    finish_close(s);
  }
  if (s->destroy_requested && s->state == state_t::closed) {
    s->destroy_requested = false;
    return true;
  }
  return false;
}

bool enter_api(ASYNC_SOCKET* s) noexcept {
  lock_guard g(s);
  if (s->state != state_t::open) {
    return false;
  }
  ++s->api_calls;
  return true;
}

void leave_api(ASYNC_SOCKET* s) noexcept {
  bool free_now = false;
  {
    lock_guard g(s);
    --s->api_calls;
    free_now = settle(s);
  }
  if (free_now) {
    free_socket(s);
  }
}

void close_socket(ASYNC_SOCKET* s) noexcept {
  const frame* own = callback_frame_of(s);
  {
    lock_guard g(s);
    if (s->state == state_t::closing && own == nullptr) {
      wait(s, [&] { return s->state == state_t::closed; });  // another thread's close ends first
      return;
    }
    if (s->state != state_t::open) {
      return;  // SRS_ASYNC_SOCKET_WIN32_01_022
    }
    s->state = state_t::closing;  // SRS_ASYNC_SOCKET_WIN32_01_019
    // SRS_ASYNC_SOCKET_WIN32_01_020: the sends and receives executing on other threads end first.
    const std::uint32_t own_calls = own_api_calls(s);
    wait(s, [&] { return s->api_calls == own_calls; });
  }
  // SRS_ASYNC_SOCKET_WIN32_01_021: closing the socket completes its pending I/O with an error.
  socket_transport_disconnect(s->transport);
  if (own != nullptr && own->kind()) {
    // Called from an I/O callback of this socket: waiting for the callbacks would wait for this
    // one. The last callback (or call) of the socket to end finishes the close.
    bool free_now = false;
    {
      lock_guard g(s);
      s->finish_deferred = true;
      free_now = settle(s);  // never true here: this callback is still pending
    }
    (void)free_now;
    return;
  }
  ::WaitForThreadpoolIoCallbacks(s->io, FALSE);  // SRS_ASYNC_SOCKET_WIN32_01_040
  bool free_now = false;
  {
    lock_guard g(s);
    wait(s, [&] { return s->pending == 0; });  // the callbacks have returned: their counts too
    finish_close(s);
    // A callback that ran meanwhile may have destroyed the socket, leaving the free to the close.
    free_now = settle(s);
  }
  if (free_now) {
    free_socket(s);
  }
}

/** The size of an I/O context with `count` buffers, or 0 if it exceeds UINT32_MAX
    (SRS_ASYNC_SOCKET_WIN32_01_103). */
std::uint32_t context_size(std::uint32_t count) noexcept {
  const std::uint64_t size = sizeof(io_context) + std::uint64_t{count} * sizeof(SOCKET_BUFFER);
  return size > UINT32_MAX ? 0 : static_cast<std::uint32_t>(size);
}

/** Checks a payload (SRS_ASYNC_SOCKET_WIN32_01_025, 085, 103, 089, 090, 101 for sends; 01_074,
    086, 091, 092, 096 for receives); returns its total length, or -1. The context's size is checked
    first, so that a count no payload array could hold is refused without reading the array. */
std::int64_t payload_total(const ASYNC_SOCKET_BUFFER* payload, std::uint32_t count) noexcept {
  if (payload == nullptr || count == 0 || context_size(count) == 0) {
    return -1;
  }
  std::uint64_t total = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (payload[i].buffer == nullptr || payload[i].length == 0) {
      return -1;
    }
    total += payload[i].length;
  }
  return total > UINT32_MAX ? -1 : static_cast<std::int64_t>(total);
}

/** A context for `count` buffers of `payload`, with its event; null if memory or the event cannot be
    obtained (SRS_ASYNC_SOCKET_WIN32_01_028, 050, 056, 057; 01_077 .. 080). */
io_context* make_context(ASYNC_SOCKET* s, io_kind kind, const ASYNC_SOCKET_BUFFER* payload,
                         std::uint32_t count, std::uint64_t total) noexcept {
  void* memory = ::operator new(context_size(count), std::nothrow);
  if (memory == nullptr) {
    return nullptr;
  }
  auto* ctx = new (memory) io_context{};
  ctx->owner = s;
  ctx->kind = kind;
  ctx->count = count;
  ctx->total = total;
  SOCKET_BUFFER* buffers = ctx->buffers();
  for (std::uint32_t i = 0; i < count; ++i) {
    new (&buffers[i]) SOCKET_BUFFER{payload[i].length, static_cast<CHAR*>(payload[i].buffer)};
  }
  ctx->overlapped.hEvent = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (ctx->overlapped.hEvent == nullptr) {
    ::operator delete(memory);
    return nullptr;
  }
  return ctx;
}

void free_context(io_context* ctx) noexcept {
  ::CloseHandle(ctx->overlapped.hEvent);  // SRS_ASYNC_SOCKET_WIN32_01_068
  ctx->~io_context();
  ::operator delete(ctx);  // SRS_ASYNC_SOCKET_WIN32_01_072
}

/** Counts an I/O about to start (before it can complete). */
void add_pending(ASYNC_SOCKET* s) noexcept {
  lock_guard g(s);
  ++s->pending;
}

/** An I/O that did not start, or whose callback has returned. May free the socket. */
void remove_pending(ASYNC_SOCKET* s) noexcept {
  bool free_now = false;
  {
    lock_guard g(s);
    --s->pending;
    free_now = settle(s);
  }
  if (free_now) {
    free_socket(s);
  }
}

}  // namespace

ASYNC_SOCKET_SEND_RESULT send_result_of(ULONG io_result, ULONG_PTR bytes, std::uint64_t total) noexcept {
  if (io_result != NO_ERROR) {
    return ASYNC_SOCKET_SEND_ERROR;  // SRS_ASYNC_SOCKET_WIN32_01_067
  }
  if (bytes != total) {
    return ASYNC_SOCKET_SEND_ERROR;  // SRS_ASYNC_SOCKET_WIN32_01_102
  }
  return ASYNC_SOCKET_SEND_OK;  // SRS_ASYNC_SOCKET_WIN32_01_066
}

receive_outcome receive_result_of(ULONG io_result, ULONG_PTR bytes, std::uint64_t total) noexcept {
  if (io_result == ERROR_NETNAME_DELETED || io_result == ERROR_CONNECTION_ABORTED) {
    return {ASYNC_SOCKET_RECEIVE_ABANDONED, 0};  // SRS_ASYNC_SOCKET_WIN32_42_001
  }
  if (io_result != NO_ERROR) {
    return {ASYNC_SOCKET_RECEIVE_ERROR, 0};  // SRS_ASYNC_SOCKET_WIN32_01_070
  }
  if (bytes > total) {
    return {ASYNC_SOCKET_RECEIVE_ERROR, static_cast<std::uint32_t>(bytes)};  // SRS_ASYNC_SOCKET_WIN32_01_095
  }
  if (bytes == 0) {
    return {ASYNC_SOCKET_RECEIVE_ABANDONED, 0};  // SRS_ASYNC_SOCKET_WIN32_42_003
  }
  return {ASYNC_SOCKET_RECEIVE_OK, static_cast<std::uint32_t>(bytes)};  // SRS_ASYNC_SOCKET_WIN32_01_069
}

VOID CALLBACK on_io_complete(PTP_CALLBACK_INSTANCE instance, PVOID context, PVOID overlapped, ULONG io_result,
                             ULONG_PTR number_of_bytes_transferred, PTP_IO io) {
  (void)instance;
  (void)context;
  (void)io;
  if (overlapped == nullptr) {
    return;  // SRS_ASYNC_SOCKET_WIN32_01_063
  }
  // SRS_ASYNC_SOCKET_WIN32_01_064: the OVERLAPPED is the context's first member.
  auto* ctx = CONTAINING_RECORD(static_cast<OVERLAPPED*>(overlapped), io_context, overlapped);
  ASYNC_SOCKET* s = ctx->owner;
  {
    frame_guard f(s, true);
    if (ctx->kind == io_kind::send) {  // SRS_ASYNC_SOCKET_WIN32_01_065
      ctx->on_send(ctx->callback_context, send_result_of(io_result, number_of_bytes_transferred, ctx->total));
    } else {  // SRS_ASYNC_SOCKET_WIN32_01_071
      receive_outcome r = receive_result_of(io_result, number_of_bytes_transferred, ctx->total);
      ctx->on_receive(ctx->callback_context, r.result, r.bytes);
    }
  }
  free_context(ctx);  // SRS_ASYNC_SOCKET_WIN32_01_068, 01_072
  remove_pending(s);
}

}  // namespace senet::c_api::win32

namespace w = senet::c_api::win32;

extern "C" {

ASYNC_SOCKET_HANDLE async_socket_create(EXECUTION_ENGINE_HANDLE execution_engine,
                                        SOCKET_HANDLE socket_handle) {
  if (execution_engine == nullptr) {
    return nullptr;  // SRS_ASYNC_SOCKET_WIN32_01_002
  }
  // SRS_ASYNC_SOCKET_WIN32_01_035
  PTP_POOL pool = execution_engine_win32_get_threadpool(execution_engine);
  auto* s = new (std::nothrow) ASYNC_SOCKET;  // SRS_ASYNC_SOCKET_WIN32_01_001
  if (pool == nullptr || s == nullptr) {
    delete s;
    return nullptr;  // SRS_ASYNC_SOCKET_WIN32_01_003
  }
  // The socket passed at create (DESIGN.md, "C API") becomes the seed's SOCKET_TRANSPORT_HANDLE.
  s->transport = socket_transport_create_from_socket(socket_handle);
  if (s->transport == nullptr) {
    delete s;
    return nullptr;  // SRS_ASYNC_SOCKET_WIN32_01_003: INVALID_SOCKET, not a socket, no memory
  }
  s->pool = pool;
  s->engine = execution_engine;
  execution_engine_inc_ref(execution_engine);  // SRS_ASYNC_SOCKET_WIN32_42_004
  return s;                                    // SRS_ASYNC_SOCKET_WIN32_01_001
}

ASYNC_SOCKET_HANDLE async_socket_create_with_transport(EXECUTION_ENGINE_HANDLE execution_engine,
                                                       ON_ASYNC_SOCKET_SEND on_send, void* on_send_context,
                                                       ON_ASYNC_SOCKET_RECV on_recv, void* on_recv_context) {
  (void)execution_engine;
  (void)on_send;
  (void)on_send_context;
  (void)on_recv;
  (void)on_recv_context;
  return nullptr;  // SRS_ASYNC_SOCKET_WIN32_04_001
}

void async_socket_destroy(ASYNC_SOCKET_HANDLE async_socket) {
  if (async_socket == nullptr) {
    return;  // SRS_ASYNC_SOCKET_WIN32_01_004
  }
  ASYNC_SOCKET* s = async_socket;
  if (w::callback_frame_of(s) != nullptr) {
    // From a callback of this socket: close without waiting for it, and free the socket when its
    // last callback (this one included) has returned.
    w::close_socket(s);
    bool free_now = false;
    {
      w::lock_guard g(s);
      if (s->state == w::state_t::created) {
        s->state = w::state_t::closed;
      }
      s->destroy_requested = true;
      free_now = w::settle(s);
    }
    if (free_now) {
      w::free_socket(s);
    }
    return;
  }
  {
    w::lock_guard g(s);
    // SRS_ASYNC_SOCKET_WIN32_01_093: an open or a close in progress ends first.
    w::wait(s, [&] { return s->state != w::state_t::opening && s->state != w::state_t::closing; });
  }
  w::close_socket(s);  // SRS_ASYNC_SOCKET_WIN32_01_006 (does nothing unless OPEN)
  {
    w::lock_guard g(s);
    w::wait(s, [&] { return s->api_calls == 0 && s->pending == 0; });
  }
  w::free_socket(s);  // SRS_ASYNC_SOCKET_WIN32_42_005, 01_005
}

int async_socket_open_async(ASYNC_SOCKET_HANDLE async_socket, ON_ASYNC_SOCKET_OPEN_COMPLETE on_open_complete,
                            void* on_open_complete_context) {
  // SRS_ASYNC_SOCKET_WIN32_01_009: on_open_complete_context may be NULL.
  if (async_socket == nullptr) {
    return __LINE__;  // SRS_ASYNC_SOCKET_WIN32_01_007
  }
  ASYNC_SOCKET* s = async_socket;
  if (s->transport == nullptr) {
    return __LINE__;  // SRS_ASYNC_SOCKET_WIN32_01_034 (create never makes such a socket)
  }
  if (on_open_complete == nullptr) {
    return __LINE__;  // SRS_ASYNC_SOCKET_WIN32_01_008
  }
  {
    w::lock_guard g(s);
    if (s->state != w::state_t::created) {
      return __LINE__;  // SRS_ASYNC_SOCKET_WIN32_01_015 (OPEN, OPENING; a closed socket stays closed)
    }
    s->state = w::state_t::opening;  // SRS_ASYNC_SOCKET_WIN32_01_023
  }
  ::InitializeThreadpoolEnvironment(&s->environment);     // SRS_ASYNC_SOCKET_WIN32_01_016
  ::SetThreadpoolCallbackPool(&s->environment, s->pool);  // SRS_ASYNC_SOCKET_WIN32_01_036
  s->io = ::CreateThreadpoolIo(reinterpret_cast<HANDLE>(socket_transport_get_underlying_socket(s->transport)),
                               w::on_io_complete, s, &s->environment);  // SRS_ASYNC_SOCKET_WIN32_01_058
  if (s->io == nullptr) {
    ::DestroyThreadpoolEnvironment(&s->environment);
    w::lock_guard g(s);
    s->state = w::state_t::created;
    ::WakeAllConditionVariable(&s->cv);
    return __LINE__;  // SRS_ASYNC_SOCKET_WIN32_01_039
  }
  {
    // The open counts as an executing API call until its callback has returned, so that a close
    // (or a destroy waiting for the open) on another thread waits for it.
    w::lock_guard g(s);
    s->state = w::state_t::open;  // SRS_ASYNC_SOCKET_WIN32_01_094
    ++s->api_calls;
    ::WakeAllConditionVariable(&s->cv);
  }
  {
    w::frame_guard f(s, false);
    on_open_complete(on_open_complete_context, ASYNC_SOCKET_OPEN_OK);  // SRS_ASYNC_SOCKET_WIN32_01_017
  }
  w::leave_api(s);  // frees the socket if the callback destroyed it
  return 0;         // SRS_ASYNC_SOCKET_WIN32_01_014
}

void async_socket_close(ASYNC_SOCKET_HANDLE async_socket) {
  if (async_socket == nullptr) {
    return;  // SRS_ASYNC_SOCKET_WIN32_01_018
  }
  w::close_socket(async_socket);
}

ASYNC_SOCKET_SEND_SYNC_RESULT async_socket_send_async(ASYNC_SOCKET_HANDLE async_socket,
                                                      const ASYNC_SOCKET_BUFFER* payload,
                                                      uint32_t buffer_count,
                                                      ON_ASYNC_SOCKET_SEND_COMPLETE on_send_complete,
                                                      void* on_send_complete_context) {
  // SRS_ASYNC_SOCKET_WIN32_01_024, 025, 085, 103, 089, 090, 101, 026 (01_027: the context may be NULL)
  const std::int64_t total = w::payload_total(payload, buffer_count);
  if (async_socket == nullptr || total < 0 || on_send_complete == nullptr) {
    return ASYNC_SOCKET_SEND_SYNC_ERROR;
  }
  ASYNC_SOCKET* s = async_socket;
  if (!w::enter_api(s)) {
    return ASYNC_SOCKET_SEND_SYNC_NOT_OPEN;  // SRS_ASYNC_SOCKET_WIN32_01_097
  }
  ASYNC_SOCKET_SEND_SYNC_RESULT result = ASYNC_SOCKET_SEND_SYNC_OK;
  w::io_context* ctx =
      w::make_context(s, w::io_kind::send, payload, buffer_count, static_cast<std::uint64_t>(total));
  if (ctx == nullptr) {
    result = ASYNC_SOCKET_SEND_SYNC_ERROR;  // SRS_ASYNC_SOCKET_WIN32_01_029
  } else {
    ctx->on_send = on_send_complete;
    ctx->callback_context = on_send_complete_context;
    w::add_pending(s);
    ::StartThreadpoolIo(s->io);  // SRS_ASYNC_SOCKET_WIN32_01_060
    // SRS_ASYNC_SOCKET_WIN32_01_061
    SOCKET_SEND_RESULT sent =
        socket_transport_send(s->transport, ctx->buffers(), buffer_count, nullptr, 0, &ctx->overlapped);
    if (sent != SOCKET_SEND_OK) {
      const int error = sent == SOCKET_SEND_ERROR ? ::WSAGetLastError() : 0;  // SRS_ASYNC_SOCKET_WIN32_01_062
      if (error != WSA_IO_PENDING) {                                          // SRS_ASYNC_SOCKET_WIN32_01_053
        ::CancelThreadpoolIo(s->io);  // SRS_ASYNC_SOCKET_WIN32_01_100, 01_106
        w::free_context(ctx);
        w::remove_pending(s);  // never frees: this call still counts
        // SRS_ASYNC_SOCKET_WIN32_42_002, 01_106
        result = error == WSAECONNRESET ? ASYNC_SOCKET_SEND_SYNC_NOT_OPEN : ASYNC_SOCKET_SEND_SYNC_ERROR;
      }
    }
  }
  w::leave_api(s);
  return result;  // SRS_ASYNC_SOCKET_WIN32_01_045
}

int async_socket_receive_async(ASYNC_SOCKET_HANDLE async_socket, ASYNC_SOCKET_BUFFER* payload,
                               uint32_t buffer_count, ON_ASYNC_SOCKET_RECEIVE_COMPLETE on_receive_complete,
                               void* on_receive_complete_context) {
  // SRS_ASYNC_SOCKET_WIN32_01_073, 074, 086, 091, 092, 096, 075 (01_076: the context may be NULL)
  const std::int64_t total = w::payload_total(payload, buffer_count);
  if (async_socket == nullptr || total < 0 || on_receive_complete == nullptr) {
    return __LINE__;
  }
  ASYNC_SOCKET* s = async_socket;
  if (!w::enter_api(s)) {
    return __LINE__;  // SRS_ASYNC_SOCKET_WIN32_01_098
  }
  int result = 0;
  w::io_context* ctx =
      w::make_context(s, w::io_kind::receive, payload, buffer_count, static_cast<std::uint64_t>(total));
  if (ctx == nullptr) {
    result = __LINE__;  // SRS_ASYNC_SOCKET_WIN32_01_084
  } else {
    ctx->on_receive = on_receive_complete;
    ctx->callback_context = on_receive_complete_context;
    w::add_pending(s);
    ::StartThreadpoolIo(s->io);  // SRS_ASYNC_SOCKET_WIN32_01_081
    // SRS_ASYNC_SOCKET_WIN32_01_082
    SOCKET_RECEIVE_RESULT received =
        socket_transport_receive(s->transport, ctx->buffers(), buffer_count, nullptr, 0, &ctx->overlapped);
    if (received != SOCKET_RECEIVE_OK) {
      // SRS_ASYNC_SOCKET_WIN32_01_054; 01_105 (another result: no error code to read)
      const int error = received == SOCKET_RECEIVE_ERROR ? ::WSAGetLastError() : 0;
      if (error != WSA_IO_PENDING) {  // SRS_ASYNC_SOCKET_WIN32_01_055
        ::CancelThreadpoolIo(s->io);  // SRS_ASYNC_SOCKET_WIN32_01_099, 01_105
        w::free_context(ctx);
        w::remove_pending(s);
        result = __LINE__;  // SRS_ASYNC_SOCKET_WIN32_01_084
      }
    }
  }
  w::leave_api(s);
  return result;  // SRS_ASYNC_SOCKET_WIN32_01_083
}

int async_socket_notify_io_async(ASYNC_SOCKET_HANDLE async_socket, ASYNC_SOCKET_NOTIFY_IO_TYPE io_type,
                                 ON_ASYNC_SOCKET_NOTIFY_IO_COMPLETE on_notify_io_complete,
                                 void* on_notify_io_complete_context) {
  (void)async_socket;
  (void)io_type;
  (void)on_notify_io_complete;
  (void)on_notify_io_complete_context;
  return __LINE__;  // SRS_ASYNC_SOCKET_WIN32_04_002
}

}  // extern "C"
