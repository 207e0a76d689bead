// SPDX-License-Identifier: BSL-1.0
// An echo server and client in C11 on senet's C API (<senet/c/async_socket.h>).
//
//   c_echo server [--port N] [--address A] [--exit-after N]
//   c_echo client --port N [--address A] [--connections C] [--messages M] [--size S] [--seconds T]
//
// The server listens on A (default 127.0.0.1) port N (default 0: the kernel picks a free port),
// prints "listening on port N" on stdout and sends every byte it receives back to its sender.
// SIGINT or SIGTERM stop it (or, with --exit-after, having served N connections): it stops
// accepting, closes the open connections and exits with status 0.
//
// The client opens C connections (default 1) to A:N and on each sends M messages (default 100) of
// S bytes (default 64), one at a time, checking that each comes back whole; it gives up after T
// seconds (default 60). It prints a summary and exits with status 0 only if every byte came back.
//
// Bad arguments: status 2. Any other failure: status 1. On Linux the backend (io_uring, else epoll)
// can be chosen with the environment variable SENET_BACKEND=uring|epoll; on Windows the API runs on
// the Win32 thread pool.
//
// How it is built on the API:
// - Every socket is created by the program (socket, accept), and handed to async_socket_create,
//   which owns it from then on; async_socket_open_async registers it.
// - Linux: the listening socket is an async_socket too: async_socket_notify_io_async(IN) says when
//   a connection waits, and the callback accepts until EAGAIN, then asks again. A client's
//   non-blocking connect finishes with notify_io_async(OUT) and SO_ERROR.
// - Windows (the same file, built with mingw-w64 or MSVC): async_socket_notify_io_async is not
//   offered there (async-socket-win32-requirements), so the main thread waits for FD_ACCEPT on an
//   event (WSAEventSelect) beside its wake-up and accepts itself; a client connects before it
//   hands the socket over. Ctrl+C or Ctrl+Break stop the server as SIGINT does on Linux.
// - The callbacks run on the API's completion thread (or inline, in the thread of the call that
//   completes at once: a send that went out at once calls its callback before it returns). They
//   never block and never destroy a socket: a connection that ends is handed to the main thread,
//   which waits for signals and work (Linux: poll() on a signalfd and an eventfd; Windows:
//   WaitForMultipleObjects) and destroys it.
// - Running out of descriptors (EMFILE, ENFILE) or memory in accept is not a reason to stop: the
//   server says so once, leaves the waiting connections in the listen backlog for 100 ms (the main
//   thread's wait timeout), then asks for readiness (Windows: accepts) again.
#ifdef _WIN32
#define __USE_MINGW_ANSI_STDIO 1  // mingw-w64: C99 printf formats (%llu)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
// Winsock's headers first: <windows.h> would otherwise bring the old <winsock.h>.
#include <winsock2.h>
#include <ws2tcpip.h>

#include <windows.h>
#else
#define _GNU_SOURCE  // accept4, SOCK_NONBLOCK, SOCK_CLOEXEC
#endif

#include <senet/c/async_socket.h>
#include <senet/c/execution_engine.h>

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#endif

enum { buffer_size = 16384, accept_backoff_ms = 100 };

// ---------------------------------------------------------------------------------------------
// What differs between Linux and Windows, besides the listener and the client's connect: locks,
// socket errors, the clock. SOCKET_HANDLE (<senet/c/socket_handle.h>) is an int descriptor on
// Linux and a Winsock SOCKET on Windows.

#ifdef _WIN32
typedef SRWLOCK lock_t;
typedef CONDITION_VARIABLE cond_t;
static int lock_init(lock_t* l) {
  InitializeSRWLock(l);
  return 0;
}
static void lock_destroy(lock_t* l) {
  (void)l;
}
static void lock_acquire(lock_t* l) {
  AcquireSRWLockExclusive(l);
}
static void lock_release(lock_t* l) {
  ReleaseSRWLockExclusive(l);
}
static int cond_init(cond_t* c) {
  InitializeConditionVariable(c);
  return 0;
}
static void cond_destroy(cond_t* c) {
  (void)c;
}
static void cond_wait(cond_t* c, lock_t* l) {
  SleepConditionVariableSRW(c, l, INFINITE, 0);
}
// (No cond_broadcast: on Windows the main thread accepts, and no accept callback signals it.)

static int socket_error(void) {
  return WSAGetLastError();
}
static void close_socket(SOCKET_HANDLE s) {
  closesocket(s);
}

// The system's text for a Winsock or Win32 error code.
static const char* error_text(int error, char* buffer, size_t size) {
  DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, (DWORD)error, 0,
                           buffer, (DWORD)size, NULL);
  while (n > 0 && (buffer[n - 1] == '\r' || buffer[n - 1] == '\n' || buffer[n - 1] == '.')) {
    buffer[--n] = '\0';
  }
  if (n == 0) {
    snprintf(buffer, size, "error %d", error);
  }
  return buffer;
}

static int64_t now_ms(void) {
  return (int64_t)GetTickCount64();
}
#else
typedef pthread_mutex_t lock_t;
typedef pthread_cond_t cond_t;
static int lock_init(lock_t* l) {
  return pthread_mutex_init(l, NULL);
}
static void lock_destroy(lock_t* l) {
  pthread_mutex_destroy(l);
}
static void lock_acquire(lock_t* l) {
  pthread_mutex_lock(l);
}
static void lock_release(lock_t* l) {
  pthread_mutex_unlock(l);
}
static int cond_init(cond_t* c) {
  return pthread_cond_init(c, NULL);
}
static void cond_destroy(cond_t* c) {
  pthread_cond_destroy(c);
}
static void cond_wait(cond_t* c, lock_t* l) {
  pthread_cond_wait(c, l);
}
static void cond_broadcast(cond_t* c) {
  pthread_cond_broadcast(c);
}

static int socket_error(void) {
  return errno;
}
static void close_socket(SOCKET_HANDLE s) {
  close(s);
}

static const char* error_text(int error, char* buffer, size_t size) {
  return strerror_r(error, buffer, size);  // the GNU variant: returns the text
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
#endif

// Says on stderr that `what` failed with the last socket error.
static void print_socket_error(const char* who, const char* what) {
  char text[256];
  fprintf(stderr, "%s: %s: %s\n", who, what, error_text(socket_error(), text, sizeof text));
}

// ---------------------------------------------------------------------------------------------
// What both modes share: the main thread's wake-up, written by the callbacks, and the stop
// request (Linux: an eventfd and a signalfd for SIGINT and SIGTERM; Windows: an event, and an
// event set by the console's Ctrl+C / Ctrl+Break handler), and a bounded wait on both. On Windows
// the server's wait also watches the listener's FD_ACCEPT event.

enum wait_result { woken, signalled, timed_out, wait_failed, accept_ready };

#ifdef _WIN32
struct waker {
  HANDLE event;         // auto-reset; set by callbacks: "there is work for the main thread"
  HANDLE accept_event;  // the listener's FD_ACCEPT (server only; NULL otherwise)
};

static HANDLE console_stop;  // manual-reset; set by on_console_control

static BOOL WINAPI on_console_control(DWORD type) {
  if (type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT || type == CTRL_CLOSE_EVENT) {
    SetEvent(console_stop);
    return TRUE;
  }
  return FALSE;
}

static void wake(struct waker* w) {
  SetEvent(w->event);
}

static int waker_open(struct waker* w) {
  w->accept_event = NULL;
  w->event = CreateEventW(NULL, FALSE, FALSE, NULL);
  if (w->event == NULL) {
    fprintf(stderr, "CreateEvent failed: %lu\n", (unsigned long)GetLastError());
    return -1;
  }
  if (console_stop == NULL) {
    console_stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (console_stop == NULL || !SetConsoleCtrlHandler(on_console_control, TRUE)) {
      fprintf(stderr, "cannot handle Ctrl+C: %lu\n", (unsigned long)GetLastError());
      CloseHandle(w->event);
      return -1;
    }
  }
  return 0;
}

static void waker_close(struct waker* w) {
  CloseHandle(w->event);
  if (w->accept_event != NULL) {
    WSACloseEvent(w->accept_event);
  }
}

// Waits at most `timeout_ms` (-1: no limit) for a stop request, a wake-up or (server) a connection.
static enum wait_result waker_wait(struct waker* w, int timeout_ms) {
  HANDLE handles[3] = {console_stop, w->event, w->accept_event};
  DWORD count = w->accept_event != NULL ? 3 : 2;
  DWORD r = WaitForMultipleObjects(count, handles, FALSE, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
  switch (r) {
    case WAIT_OBJECT_0:
      return signalled;
    case WAIT_OBJECT_0 + 1:
      return woken;
    case WAIT_OBJECT_0 + 2:
      return accept_ready;
    case WAIT_TIMEOUT:
      return timed_out;
    default:
      fprintf(stderr, "WaitForMultipleObjects failed: %lu\n", (unsigned long)GetLastError());
      return wait_failed;
  }
}
#else
struct waker {
  int event_fd;   // written by callbacks: "there is work for the main thread"
  int signal_fd;  // SIGINT, SIGTERM
};

static void wake(struct waker* w) {
  uint64_t one = 1;
  // An eventfd write only fails when the counter would overflow, and then the main thread has a
  // wake-up pending anyway.
  ssize_t ignored = write(w->event_fd, &one, sizeof one);
  (void)ignored;
}

// Blocks SIGINT and SIGTERM in this thread (and so in the threads it starts; the API's completion
// thread blocks every signal by itself) and opens the descriptors of `w`. 0 on success.
static int waker_open(struct waker* w) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int rc = pthread_sigmask(SIG_BLOCK, &signals, NULL);
  if (rc != 0) {
    fprintf(stderr, "pthread_sigmask: %s\n", strerror(rc));
    return -1;
  }
  w->signal_fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (w->signal_fd < 0) {
    fprintf(stderr, "signalfd: %s\n", strerror(errno));
    return -1;
  }
  w->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (w->event_fd < 0) {
    fprintf(stderr, "eventfd: %s\n", strerror(errno));
    close(w->signal_fd);
    return -1;
  }
  return 0;
}

static void waker_close(struct waker* w) {
  close(w->event_fd);
  close(w->signal_fd);
}

// Waits at most `timeout_ms` (-1: no limit) for a signal or a wake-up, and consumes it.
static enum wait_result waker_wait(struct waker* w, int timeout_ms) {
  struct pollfd fds[2] = {{w->signal_fd, POLLIN, 0}, {w->event_fd, POLLIN, 0}};
  int n = poll(fds, 2, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) {
      return woken;
    }
    fprintf(stderr, "poll: %s\n", strerror(errno));
    return wait_failed;
  }
  if (n == 0) {
    return timed_out;
  }
  if (fds[0].revents != 0) {
    struct signalfd_siginfo info;
    if (read(w->signal_fd, &info, sizeof info) == (ssize_t)sizeof info) {
      return signalled;
    }
  }
  if (fds[1].revents != 0) {
    uint64_t count;
    ssize_t ignored = read(w->event_fd, &count, sizeof count);
    (void)ignored;
  }
  return woken;
}
#endif

// Parses a decimal number in [min, max]; false if `text` is not one.
static bool parse_number(const char* text, unsigned long long min, unsigned long long max,
                         unsigned long long* out) {
  if (text == NULL || *text < '0' || *text > '9') {
    return false;
  }
  errno = 0;
  char* end = NULL;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno != 0 || end == NULL || *end != '\0' || v < min || v > max) {
    return false;
  }
  *out = v;
  return true;
}

// Fills `addr` with `address`:`port`; false if `address` is not an IPv4 address.
static bool make_address(const char* address, unsigned port, struct sockaddr_in* addr) {
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_port = htons((uint16_t)port);
  return inet_pton(AF_INET, address, &addr->sin_addr) == 1;
}

// ---------------------------------------------------------------------------------------------
// The server.

struct server;

struct connection {
  struct server* server;
  ASYNC_SOCKET_HANDLE socket;
  struct connection* next;  // in server.connections; linked and unlinked under server.lock
  bool finished;            // under server.lock: no operation of the socket is pending any more
  ASYNC_SOCKET_BUFFER receive_buffer;
  ASYNC_SOCKET_BUFFER send_buffer;
  unsigned char data[buffer_size];
};

struct server {
  EXECUTION_ENGINE_HANDLE engine;
  struct waker waker;
  ASYNC_SOCKET_HANDLE listener;  // Linux: the listening socket, for readiness; Windows: NULL
  SOCKET_HANDLE listen_fd;       // Linux: owned by `listener`, used for accept4; Windows: owned here
  unsigned long long exit_after;

  lock_t lock;
  struct connection* connections;  // every connection not yet destroyed
  bool stopping;                   // no new connection, no new readiness request
  int accept_callbacks;            // accept callbacks running (they use `listener`)
  cond_t accept_idle;              // accept_callbacks dropped to 0
  bool backing_off;                // accept ran out of resources: the main thread asks again later
  bool backing_off_announced;      // said so on stderr; cleared by the next accepted connection
  bool fatal;                      // the listener failed: stop
  unsigned long long served;       // connections finished
  unsigned long long accepted;
};

// A connection has no operation pending any more: hand it to the main thread for destruction.
static void connection_finish(struct connection* c) {
  struct server* srv = c->server;
  lock_acquire(&srv->lock);
  c->finished = true;
  srv->served++;
  lock_release(&srv->lock);
  wake(&srv->waker);
}

static void on_echo_received(void* context, ASYNC_SOCKET_RECEIVE_RESULT result, uint32_t bytes_received);
static void on_echo_sent(void* context, ASYNC_SOCKET_SEND_RESULT result);

static void connection_receive(struct connection* c) {
  c->receive_buffer.buffer = c->data;
  c->receive_buffer.length = (uint32_t)sizeof c->data;
  // This fails when the socket is no longer open: the main thread is closing it.
  if (async_socket_receive_async(c->socket, &c->receive_buffer, 1, on_echo_received, c) != 0) {
    connection_finish(c);
  }
  // From here on `c` may be finished and destroyed by the main thread: do not touch it.
}

static void on_connection_open(void* context, ASYNC_SOCKET_OPEN_RESULT result) {
  struct connection* c = context;
  if (result != ASYNC_SOCKET_OPEN_OK) {
    fprintf(stderr, "echo server: opening a connection failed\n");
    connection_finish(c);
    return;
  }
  // A connection that opens after the main thread began to stop is not served: the main thread
  // sets `stopping` before it closes the connections, so a close that came before this open could
  // have found the socket not yet open, and done nothing.
  lock_acquire(&c->server->lock);
  bool stopping = c->server->stopping;
  lock_release(&c->server->lock);
  if (stopping) {
    connection_finish(c);
    return;
  }
  connection_receive(c);
}

static void on_echo_received(void* context, ASYNC_SOCKET_RECEIVE_RESULT result, uint32_t bytes_received) {
  struct connection* c = context;
  if (result == ASYNC_SOCKET_RECEIVE_OK && bytes_received > 0) {
    // The buffer descriptor lives in the connection, not on this stack: the send may finish later.
    c->send_buffer.buffer = c->data;
    c->send_buffer.length = bytes_received;
    ASYNC_SOCKET_SEND_SYNC_RESULT sent =
        async_socket_send_async(c->socket, &c->send_buffer, 1, on_echo_sent, c);
    if (sent == ASYNC_SOCKET_SEND_SYNC_OK) {
      return;  // on_echo_sent runs (or has already run) and goes on
    }
    if (sent != ASYNC_SOCKET_SEND_SYNC_ABANDONED) {
      fprintf(stderr, "echo server: send failed\n");
    }
  } else if (result == ASYNC_SOCKET_RECEIVE_ERROR) {
    fprintf(stderr, "echo server: receive failed\n");
  }
  // ABANDONED: the peer closed the connection or reset it, or the main thread closed it.
  connection_finish(c);
}

static void on_echo_sent(void* context, ASYNC_SOCKET_SEND_RESULT result) {
  struct connection* c = context;
  if (result == ASYNC_SOCKET_SEND_OK) {
    connection_receive(c);
    return;
  }
  if (result == ASYNC_SOCKET_SEND_ERROR) {
    fprintf(stderr, "echo server: send failed\n");
  }
  connection_finish(c);
}

// Wraps an accepted descriptor in a connection and starts it.
static void server_add_connection(struct server* srv, SOCKET_HANDLE fd) {
  int one = 1;
  // Latency only: failure is harmless. (`const void*`: Winsock takes a `const char*`.)
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, (const void*)&one, sizeof one);
  struct connection* c = calloc(1, sizeof *c);
  if (c == NULL) {
    fprintf(stderr, "echo server: out of memory, connection refused\n");
    close_socket(fd);
    return;
  }
  c->server = srv;
  c->socket = async_socket_create(srv->engine, fd);
  if (c->socket == NULL) {
    fprintf(stderr, "echo server: async_socket_create failed, connection refused\n");
    close_socket(fd);
    free(c);
    return;
  }
  lock_acquire(&srv->lock);
  c->next = srv->connections;
  srv->connections = c;
  srv->accepted++;
  bool announce = srv->backing_off_announced;
  srv->backing_off_announced = false;
  lock_release(&srv->lock);
  if (announce) {
    fprintf(stderr, "echo server: accepting again\n");
  }
  if (async_socket_open_async(c->socket, on_connection_open, c) != 0) {
    fprintf(stderr, "echo server: async_socket_open_async failed\n");
    connection_finish(c);
  }
}

enum accept_error_kind { accept_drained, accept_skip, accept_backoff, accept_fatal };

// What an accept's error means: no connection waits (drained), this one is gone (skip), out of
// descriptors or memory (back off), or the listener is broken (fatal).
static enum accept_error_kind classify_accept_error(int error) {
  switch (error) {
#ifdef _WIN32
    case WSAEWOULDBLOCK:
      return accept_drained;
    case WSAEINTR:
    case WSAECONNRESET:  // the peer reset the connection while it waited in the backlog
    case WSAECONNABORTED:
    case WSAENETDOWN:
      return accept_skip;
    case WSAEMFILE:   // this process is out of sockets
    case WSAENOBUFS:  // out of buffer space
    case ERROR_NOT_ENOUGH_MEMORY:
      return accept_backoff;
#else
    case EAGAIN:
      return accept_drained;
    case EINTR:
    case ECONNABORTED:  // the peer reset the connection while it waited in the backlog
    case EPROTO:
    case EPERM:  // a firewall rule refused it
    // Linux passes pending network errors of the new socket to accept (accept(2), "Error handling").
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
    case ETIMEDOUT:
      return accept_skip;
    case EMFILE:   // this process is out of descriptors
    case ENFILE:   // the system is out of descriptors
    case ENOBUFS:  // out of socket buffers
    case ENOMEM:
      return accept_backoff;
#endif
    default:
      return accept_fatal;
  }
}

// A connection from the listen backlog, ready for async_socket_create; INVALID_SOCKET with the
// socket error set when none.
static SOCKET_HANDLE accept_one(SOCKET_HANDLE listener) {
#ifdef _WIN32
  SOCKET s = accept(listener, NULL, NULL);
  if (s != INVALID_SOCKET) {
    // An accepted socket inherits the listener's WSAEventSelect (and with it non-blocking mode):
    // the API's overlapped operations want neither.
    u_long blocking = 0;
    if (WSAEventSelect(s, NULL, 0) != 0 || ioctlsocket(s, FIONBIO, &blocking) != 0) {
      int error = WSAGetLastError();
      closesocket(s);
      WSASetLastError(error == WSAEWOULDBLOCK ? WSAENOBUFS : error);
      return INVALID_SOCKET;
    }
  }
  return s;
#else
  return accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
#endif
}

// Accepts every waiting connection. True: ask for readiness again; false: do not (the server backs
// off or stops).
static bool server_accept_all(struct server* srv) {
  for (;;) {
    SOCKET_HANDLE fd = accept_one(srv->listen_fd);
    if (fd != INVALID_SOCKET) {
      server_add_connection(srv, fd);
      continue;
    }
    int error = socket_error();
    char text[256];
    switch (classify_accept_error(error)) {
      case accept_drained:
        return true;
      case accept_skip:
        continue;
      case accept_backoff: {
        // Not a reason to stop: the connections wait in the backlog, and the main thread asks for
        // readiness again in a moment. Said once per burst (until a connection is accepted again).
        lock_acquire(&srv->lock);
        bool announce = !srv->backing_off_announced;
        srv->backing_off_announced = true;
        srv->backing_off = true;
        lock_release(&srv->lock);
        if (announce) {
          fprintf(stderr, "echo server: accept failed: %s; retrying in %d ms\n",
                  error_text(error, text, sizeof text), accept_backoff_ms);
        }
        wake(&srv->waker);
        return false;
      }
      case accept_fatal:
        fprintf(stderr, "echo server: accept failed: %s\n", error_text(error, text, sizeof text));
        lock_acquire(&srv->lock);
        srv->fatal = true;
        lock_release(&srv->lock);
        wake(&srv->waker);
        return false;
    }
  }
}

#ifndef _WIN32
static void on_listener_ready(void* context, ASYNC_SOCKET_NOTIFY_IO_RESULT result) {
  struct server* srv = context;
  lock_acquire(&srv->lock);
  if (srv->stopping) {
    // The main thread is closing the listener (this is its ABANDONED completion, or a last IN).
    lock_release(&srv->lock);
    return;
  }
  srv->accept_callbacks++;
  lock_release(&srv->lock);

  bool again = false;
  bool failed = false;
  if (result == ASYNC_SOCKET_NOTIFY_IO_RESULT_IN) {
    again = server_accept_all(srv);
  } else {
    fprintf(stderr, "echo server: waiting for connections failed (%s)\n",
            result == ASYNC_SOCKET_NOTIFY_IO_RESULT_ABANDONED ? "abandoned" : "error");
    failed = true;
  }
  if (again && async_socket_notify_io_async(srv->listener, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, on_listener_ready,
                                            srv) != 0) {
    fprintf(stderr, "echo server: async_socket_notify_io_async failed\n");
    failed = true;
  }

  lock_acquire(&srv->lock);
  if (failed) {
    srv->fatal = true;
  }
  if (--srv->accept_callbacks == 0) {
    cond_broadcast(&srv->accept_idle);
  }
  lock_release(&srv->lock);
  if (failed) {
    wake(&srv->waker);
  }
}

static void on_listener_open(void* context, ASYNC_SOCKET_OPEN_RESULT result) {
  struct server* srv = context;
  bool failed = result != ASYNC_SOCKET_OPEN_OK;
  if (!failed && async_socket_notify_io_async(srv->listener, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN,
                                              on_listener_ready, srv) != 0) {
    failed = true;
  }
  if (failed) {
    fprintf(stderr, "echo server: opening the listening socket failed\n");
    lock_acquire(&srv->lock);
    srv->fatal = true;
    lock_release(&srv->lock);
    wake(&srv->waker);
  }
}

#endif

// Unlinks the finished connections, destroys them and frees them. Main thread only.
static void server_reap(struct server* srv) {
  struct connection* done = NULL;
  lock_acquire(&srv->lock);
  for (struct connection** link = &srv->connections; *link != NULL;) {
    struct connection* c = *link;
    if (c->finished) {
      *link = c->next;
      c->next = done;
      done = c;
    } else {
      link = &c->next;
    }
  }
  lock_release(&srv->lock);
  while (done != NULL) {
    struct connection* c = done;
    done = c->next;
    async_socket_destroy(c->socket);
    free(c);
  }
}

// The listening socket, bound to address:port (Linux: non-blocking); INVALID_SOCKET on failure
// (said on stderr).
static SOCKET_HANDLE listen_on(const char* address, unsigned port) {
  struct sockaddr_in addr;
  if (!make_address(address, port, &addr)) {
    fprintf(stderr, "echo server: not an IPv4 address: %s\n", address);
    return INVALID_SOCKET;
  }
#ifdef _WIN32
  SOCKET_HANDLE fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
#else
  SOCKET_HANDLE fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#endif
  if (fd == INVALID_SOCKET) {
    print_socket_error("echo server", "socket");
    return INVALID_SOCKET;
  }
  int one = 1;
#ifdef _WIN32
  // Windows' SO_REUSEADDR would let another program take the port; SO_EXCLUSIVEADDRUSE refuses that.
  int option = SO_EXCLUSIVEADDRUSE;
#else
  int option = SO_REUSEADDR;  // a restarted server binds while old connections are in TIME_WAIT
#endif
  if (setsockopt(fd, SOL_SOCKET, option, (const void*)&one, sizeof one) != 0 ||
      bind(fd, (const struct sockaddr*)&addr, sizeof addr) != 0 || listen(fd, SOMAXCONN) != 0) {
    char what[128];
    snprintf(what, sizeof what, "listening on %s port %u", address, port);
    print_socket_error("echo server", what);
    close_socket(fd);
    return INVALID_SOCKET;
  }
  return fd;
}

// Starts waiting for connections. Linux: the listener becomes an async_socket, opened, and
// on_listener_open asks for readiness; Windows: FD_ACCEPT sets the waker's accept event. 0 on
// success; on failure (said on stderr) the listener is closed.
static int server_listen(struct server* srv) {
#ifdef _WIN32
  srv->waker.accept_event = WSACreateEvent();
  if (srv->waker.accept_event == WSA_INVALID_EVENT) {
    srv->waker.accept_event = NULL;
    print_socket_error("echo server", "WSACreateEvent");
    close_socket(srv->listen_fd);
    return -1;
  }
  if (WSAEventSelect(srv->listen_fd, srv->waker.accept_event, FD_ACCEPT) != 0) {
    print_socket_error("echo server", "WSAEventSelect");
    close_socket(srv->listen_fd);
    return -1;
  }
  return 0;
#else
  // Created and opened in two steps: on_listener_open (which may run before open_async returns)
  // asks for readiness through `srv->listener`, so the handle must be stored first.
  srv->listener = async_socket_create(srv->engine, srv->listen_fd);
  if (srv->listener == NULL) {
    fprintf(stderr, "echo server: async_socket_create failed\n");
    close_socket(srv->listen_fd);
    return -1;
  }
  if (async_socket_open_async(srv->listener, on_listener_open, srv) != 0) {
    fprintf(stderr, "echo server: async_socket_open_async failed\n");
    return -1;  // run_server destroys the listener
  }
  return 0;
#endif
}

// After a back-off: accept again (Windows), or ask for readiness again (Linux). No accept callback
// is running or pending then. False when that failed (said on stderr).
static bool server_resume_accepting(struct server* srv) {
#ifdef _WIN32
  server_accept_all(srv);  // accept's failure re-enables FD_ACCEPT too, once connections wait
  return true;
#else
  if (async_socket_notify_io_async(srv->listener, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, on_listener_ready, srv) !=
      0) {
    fprintf(stderr, "echo server: async_socket_notify_io_async failed\n");
    return false;
  }
  return true;
#endif
}

static int run_server(const char* address, unsigned port, unsigned long long exit_after) {
  struct server srv;
  memset(&srv, 0, sizeof srv);
  srv.exit_after = exit_after;
  if (waker_open(&srv.waker) != 0) {
    return 1;
  }
  // Neither fails on Linux with default attributes; checked all the same.
  if (lock_init(&srv.lock) != 0 || cond_init(&srv.accept_idle) != 0) {
    fprintf(stderr, "echo server: cannot create a lock\n");
    waker_close(&srv.waker);
    return 1;
  }
  int status = 1;
  srv.listen_fd = listen_on(address, port);
  if (srv.listen_fd == INVALID_SOCKET) {
    goto out_waker;
  }
  struct sockaddr_in bound;
  socklen_t length = sizeof bound;
  if (getsockname(srv.listen_fd, (struct sockaddr*)&bound, &length) != 0) {
    print_socket_error("echo server", "getsockname");
    close_socket(srv.listen_fd);
    goto out_waker;
  }
  srv.engine = execution_engine_create(NULL);
  if (srv.engine == NULL) {
    fprintf(stderr, "echo server: execution_engine_create failed\n");
    close_socket(srv.listen_fd);
    goto out_waker;
  }
  if (server_listen(&srv) != 0) {
    goto out_listener;
  }
  printf("listening on port %u\n", (unsigned)ntohs(bound.sin_port));
  fflush(stdout);

  bool failed = false;
  int64_t retry_at = 0;  // when backing off: when to ask for readiness again
  for (;;) {
    server_reap(&srv);
    lock_acquire(&srv.lock);
    bool fatal = srv.fatal;
    bool backing_off = srv.backing_off;
    bool enough = srv.exit_after != 0 && srv.served >= srv.exit_after;
    lock_release(&srv.lock);
    if (fatal) {
      failed = true;
      break;
    }
    if (enough) {
      break;
    }
    int timeout = -1;
    if (backing_off) {
      if (retry_at == 0) {
        retry_at = now_ms() + accept_backoff_ms;
      }
      int64_t left = retry_at - now_ms();
      if (left <= 0) {
        retry_at = 0;
        lock_acquire(&srv.lock);
        srv.backing_off = false;
        lock_release(&srv.lock);
        // No accept callback is running or pending now: the main thread may ask.
        if (!server_resume_accepting(&srv)) {
          failed = true;
          break;
        }
        continue;
      }
      timeout = (int)left;
    }
    enum wait_result w = waker_wait(&srv.waker, timeout);
    if (w == signalled) {
      break;
    }
    if (w == wait_failed) {
      failed = true;
      break;
    }
#ifdef _WIN32
    if (w == accept_ready) {
      // Resets the event; FD_ACCEPT is signalled again only after the next accept call.
      WSANETWORKEVENTS events;
      if (WSAEnumNetworkEvents(srv.listen_fd, srv.waker.accept_event, &events) != 0) {
        print_socket_error("echo server", "WSAEnumNetworkEvents");
        failed = true;
        break;
      }
      if (!backing_off) {
        server_accept_all(&srv);
      }
    }
#endif
  }

  // Stop: no new connection (stopping, with no accept callback left running), then close the
  // listener and every connection; their pending operations complete as ABANDONED and finish them.
  lock_acquire(&srv.lock);
  srv.stopping = true;
  while (srv.accept_callbacks > 0) {
    cond_wait(&srv.accept_idle, &srv.lock);
  }
  lock_release(&srv.lock);
#ifdef _WIN32
  close_socket(srv.listen_fd);  // no FD_ACCEPT any more: the shutdown's waits watch the wake-up only
  WSACloseEvent(srv.waker.accept_event);
  srv.waker.accept_event = NULL;
#else
  async_socket_close(srv.listener);
#endif
  for (struct connection* c = srv.connections; c != NULL; c = c->next) {
    // Only this thread unlinks connections, and no accept callback adds any now.
    async_socket_close(c->socket);
  }
  for (;;) {
    server_reap(&srv);
    lock_acquire(&srv.lock);
    bool empty = srv.connections == NULL;
    lock_release(&srv.lock);
    if (empty) {
      break;
    }
    if (waker_wait(&srv.waker, 1000) == wait_failed) {
      break;  // the wait itself failed: destroy what is left below (destroy closes and waits)
    }
  }
  server_reap(&srv);
  for (struct connection* c = srv.connections; c != NULL;) {
    struct connection* next = c->next;
    async_socket_destroy(c->socket);
    free(c);
    c = next;
  }
  fprintf(stderr, "echo server: %llu connection(s) served\n", srv.served);
  status = failed ? 1 : 0;
out_listener:
  async_socket_destroy(srv.listener);  // Linux: closes the listening descriptor; Windows: NULL
  execution_engine_dec_ref(srv.engine);
out_waker:
  cond_destroy(&srv.accept_idle);
  lock_destroy(&srv.lock);
  waker_close(&srv.waker);
  return status;
}

// ---------------------------------------------------------------------------------------------
// The client. Each connection runs one message at a time: a receive of `size` bytes (in as many
// receives as it takes) and a send of `size` bytes, started together; once both completed, the
// echo is checked and the next message starts. `pending` counts the callbacks still to come.

struct client;

struct client_connection {
  struct client* client;
  ASYNC_SOCKET_HANDLE socket;
  SOCKET_HANDLE fd;  // owned by `socket`; Linux: read for SO_ERROR after connecting
  unsigned index;
  unsigned long long message;  // the message in flight, from 0
  uint32_t received;
  atomic_int pending;
  atomic_bool failed;
  ASYNC_SOCKET_BUFFER send_buffer;
  ASYNC_SOCKET_BUFFER receive_buffer;
  unsigned char* out;
  unsigned char* in;
};

struct client {
  struct waker waker;
  uint32_t size;
  unsigned long long messages;
  atomic_bool stopping;  // the main thread is closing everything: abandoned operations are expected
  lock_t lock;
  unsigned finished;  // connections with no callback to come
  unsigned failures;
};

static void client_connection_finish(struct client_connection* c) {
  struct client* cl = c->client;
  lock_acquire(&cl->lock);
  cl->finished++;
  lock_release(&cl->lock);
  wake(&cl->waker);
}

static void client_connection_fail(struct client_connection* c, const char* what) {
  struct client* cl = c->client;
  if (!atomic_load(&cl->stopping)) {
    fprintf(stderr, "echo client: connection %u, message %llu: %s\n", c->index, c->message, what);
  }
  if (!atomic_exchange(&c->failed, true)) {
    lock_acquire(&cl->lock);
    cl->failures++;
    lock_release(&cl->lock);
    wake(&cl->waker);  // the main thread closes everything: a failed client does not wait for the rest
  }
}

static void client_step(struct client_connection* c);

// One expected callback came (or will never come, when its call failed).
static void client_operation_done(struct client_connection* c) {
  if (atomic_fetch_sub(&c->pending, 1) == 1) {
    client_step(c);
  }
}

static void on_client_received(void* context, ASYNC_SOCKET_RECEIVE_RESULT result, uint32_t bytes_received);
static void on_client_sent(void* context, ASYNC_SOCKET_SEND_RESULT result);

static void client_receive(struct client_connection* c) {
  c->receive_buffer.buffer = c->in + c->received;
  c->receive_buffer.length = c->client->size - c->received;
  if (async_socket_receive_async(c->socket, &c->receive_buffer, 1, on_client_received, c) != 0) {
    client_connection_fail(c, "async_socket_receive_async failed");
    client_operation_done(c);
  }
}

// Called with no callback pending: checks the message that ended, then starts the next or finishes.
static void client_step(struct client_connection* c) {
  struct client* cl = c->client;
  if (atomic_load(&c->failed) || atomic_load(&cl->stopping)) {
    client_connection_finish(c);
    return;
  }
  if (c->received == cl->size) {  // a message came back whole (received is 0 after connecting)
    if (memcmp(c->in, c->out, cl->size) != 0) {
      client_connection_fail(c, "the echo differs from what was sent");
      client_connection_finish(c);
      return;
    }
    if (++c->message == cl->messages) {
      client_connection_finish(c);
      return;
    }
  }
  // Each message carries its connection and number, so that a mixed-up echo is seen.
  for (uint32_t i = 0; i < cl->size; ++i) {
    c->out[i] = (unsigned char)(c->index * 131u + (unsigned)c->message * 7u + i);
  }
  c->received = 0;
  atomic_store(&c->pending, 2);
  client_receive(c);
  c->send_buffer.buffer = c->out;
  c->send_buffer.length = cl->size;
  ASYNC_SOCKET_SEND_SYNC_RESULT sent =
      async_socket_send_async(c->socket, &c->send_buffer, 1, on_client_sent, c);
  if (sent != ASYNC_SOCKET_SEND_SYNC_OK) {
    client_connection_fail(
        c, sent == ASYNC_SOCKET_SEND_SYNC_ABANDONED ? "the connection was closed" : "send failed");
    client_operation_done(c);
  }
}

static void on_client_received(void* context, ASYNC_SOCKET_RECEIVE_RESULT result, uint32_t bytes_received) {
  struct client_connection* c = context;
  if (result == ASYNC_SOCKET_RECEIVE_OK && bytes_received > 0 &&
      bytes_received <= c->client->size - c->received) {
    c->received += bytes_received;
    if (c->received < c->client->size) {
      atomic_fetch_add(&c->pending, 1);  // the next receive, before this one counts as done
      client_receive(c);
    }
  } else if (result == ASYNC_SOCKET_RECEIVE_OK) {
    client_connection_fail(c, "receive reported a wrong byte count");
  } else {
    client_connection_fail(
        c, result == ASYNC_SOCKET_RECEIVE_ABANDONED ? "the server closed the connection" : "receive failed");
  }
  client_operation_done(c);
}

static void on_client_sent(void* context, ASYNC_SOCKET_SEND_RESULT result) {
  struct client_connection* c = context;
  if (result != ASYNC_SOCKET_SEND_OK) {
    client_connection_fail(
        c, result == ASYNC_SOCKET_SEND_ABANDONED ? "the connection was closed" : "send failed");
  }
  client_operation_done(c);
}

#ifndef _WIN32
static void on_client_connected(void* context, ASYNC_SOCKET_NOTIFY_IO_RESULT result) {
  struct client_connection* c = context;
  // OUT: connected, or failed with the error in SO_ERROR; ERROR: failed (SO_ERROR says why).
  int error = 0;
  socklen_t length = sizeof error;
  if (result != ASYNC_SOCKET_NOTIFY_IO_RESULT_ABANDONED &&
      getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
    error = errno;
  }
  if (error != 0) {
    char text[128];
    char message[160];
    snprintf(message, sizeof message, "connect: %s", error_text(error, text, sizeof text));
    client_connection_fail(c, message);
  } else if (result != ASYNC_SOCKET_NOTIFY_IO_RESULT_OUT) {
    client_connection_fail(c, "waiting for the connection failed");
  }
  client_operation_done(c);  // pending was 1: client_step starts the first message
}

#endif

static void on_client_open(void* context, ASYNC_SOCKET_OPEN_RESULT result) {
  struct client_connection* c = context;
  if (result != ASYNC_SOCKET_OPEN_OK) {
    client_connection_fail(c, "opening the socket failed");
  }
#ifndef _WIN32
  else if (async_socket_notify_io_async(c->socket, ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT, on_client_connected, c) ==
           0) {
    return;  // the open's count passes to the readiness request
  } else {
    client_connection_fail(c, "async_socket_notify_io_async failed");
  }
#endif
  // Windows: connected before the socket was handed over; pending was 1: client_step starts.
  client_operation_done(c);
}

// Starts connection `c`: a connect (Linux: non-blocking, finished in on_client_connected;
// Windows: blocking), then the socket is wrapped and opened; the rest happens in callbacks. False
// if it failed at once (then nothing is pending for it).
static bool client_connect(EXECUTION_ENGINE_HANDLE engine, struct client_connection* c,
                           const struct sockaddr_in* addr) {
#ifdef _WIN32
  SOCKET_HANDLE fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
#else
  SOCKET_HANDLE fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#endif
  if (fd == INVALID_SOCKET) {
    print_socket_error("echo client", "socket");
    return false;
  }
  int one = 1;
  // Latency only: failure is harmless. (`const void*`: Winsock takes a `const char*`.)
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, (const void*)&one, sizeof one);
#ifdef _WIN32
  bool connecting = connect(fd, (const struct sockaddr*)addr, sizeof *addr) == 0;
#else
  bool connecting = connect(fd, (const struct sockaddr*)addr, sizeof *addr) == 0 || errno == EINPROGRESS;
#endif
  if (!connecting) {
    print_socket_error("echo client", "connect");
    close_socket(fd);
    return false;
  }
  c->fd = fd;
  atomic_store(&c->pending, 1);
  c->socket = async_socket_create(engine, fd);
  if (c->socket == NULL) {
    fprintf(stderr, "echo client: async_socket_create failed\n");
    close_socket(fd);
    return false;
  }
  if (async_socket_open_async(c->socket, on_client_open, c) != 0) {
    fprintf(stderr, "echo client: async_socket_open_async failed\n");
    return false;  // the socket is destroyed with the others
  }
  return true;
}

static int run_client(const char* address, unsigned port, unsigned connections, unsigned long long messages,
                      uint32_t size, unsigned seconds) {
  struct sockaddr_in addr;
  if (!make_address(address, port, &addr)) {
    fprintf(stderr, "echo client: not an IPv4 address: %s\n", address);
    return 2;
  }
  struct client cl;
  memset(&cl, 0, sizeof cl);
  cl.size = size;
  cl.messages = messages;
  atomic_init(&cl.stopping, false);
  if (waker_open(&cl.waker) != 0) {
    return 1;
  }
  if (lock_init(&cl.lock) != 0) {
    fprintf(stderr, "echo client: cannot create a lock\n");
    waker_close(&cl.waker);
    return 1;
  }
  int status = 1;
  struct client_connection* conns = calloc(connections, sizeof *conns);
  EXECUTION_ENGINE_HANDLE engine = conns == NULL ? NULL : execution_engine_create(NULL);
  if (engine == NULL) {
    fprintf(stderr, "echo client: %s\n", conns == NULL ? "out of memory" : "execution_engine_create failed");
    goto out;
  }
  int64_t start = now_ms();
  int64_t deadline = start + (int64_t)seconds * 1000;
  unsigned started = 0;
  for (; started < connections; ++started) {
    struct client_connection* c = &conns[started];
    c->client = &cl;
    c->index = started;
    atomic_init(&c->failed, false);
    atomic_init(&c->pending, 0);
    c->out = malloc(size);
    c->in = malloc(size);
    if (c->out == NULL || c->in == NULL) {
      fprintf(stderr, "echo client: out of memory\n");
      break;
    }
    if (!client_connect(engine, c, &addr)) {
      break;
    }
  }

  bool complete = started == connections;
  bool timed_out = false;
  bool interrupted = false;
  for (;;) {
    lock_acquire(&cl.lock);
    bool done = cl.finished == started;
    bool failures = cl.failures > 0;
    lock_release(&cl.lock);
    if (done || failures || !complete) {
      break;
    }
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      timed_out = true;
      fprintf(stderr, "echo client: no answer within %u s\n", seconds);
      break;
    }
    enum wait_result w = waker_wait(&cl.waker, (int)left);
    if (w == signalled || w == wait_failed) {
      interrupted = true;
      break;
    }
  }

  // Close every socket (their pending operations complete as ABANDONED, which ends them), wait
  // until no callback is to come, then destroy them.
  atomic_store(&cl.stopping, true);
  for (unsigned i = 0; i < started; ++i) {
    async_socket_close(conns[i].socket);
  }
  for (;;) {
    lock_acquire(&cl.lock);
    bool done = cl.finished == started;
    lock_release(&cl.lock);
    if (done || waker_wait(&cl.waker, 1000) == wait_failed) {
      break;
    }
  }
  unsigned failed = 0;
  for (unsigned i = 0; i < connections; ++i) {
    async_socket_destroy(conns[i].socket);  // NULL for the connections never started: allowed
    if (i >= started || atomic_load(&conns[i].failed) || conns[i].message != messages) {
      failed++;
    }
  }
  double elapsed = (double)(now_ms() - start) / 1000.0;
  printf("echo client: %u of %u connection(s) echoed %llu message(s) of %u bytes each in %.3f s%s\n",
         connections - failed, connections, messages, (unsigned)size, elapsed,
         timed_out     ? " (timed out)"
         : interrupted ? " (interrupted)"
                       : "");
  status = failed == 0 ? 0 : 1;
out:
  if (engine != NULL) {
    execution_engine_dec_ref(engine);
  }
  if (conns != NULL) {
    for (unsigned i = 0; i < connections; ++i) {
      free(conns[i].out);
      free(conns[i].in);
    }
    free(conns);
  }
  lock_destroy(&cl.lock);
  waker_close(&cl.waker);
  return status;
}

// ---------------------------------------------------------------------------------------------

static void usage(FILE* out) {
  fprintf(out,
          "usage: c_echo server [--port N] [--address A] [--exit-after N]\n"
          "       c_echo client --port N [--address A] [--connections C] [--messages M] [--size S]\n"
          "                     [--seconds T]\n"
          "  server: echoes on A (default 127.0.0.1) port N (default 0: any free port, printed on\n"
          "          stdout) until SIGINT or SIGTERM (Windows: Ctrl+C), or until N connections\n"
          "          were served\n"
          "  client: C connections (default 1), M messages (default 100) of S bytes (default 64)\n"
          "          each, checked; gives up after T seconds (default 60)\n"
          "  SENET_BACKEND=uring|epoll in the environment chooses the backend (Linux).\n");
}

int main(int argc, char** argv) {
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    usage(stdout);
    return 0;
  }
  if (argc < 2 || (strcmp(argv[1], "server") != 0 && strcmp(argv[1], "client") != 0)) {
    usage(stderr);
    return 2;
  }
  bool server = strcmp(argv[1], "server") == 0;
  const char* address = "127.0.0.1";
  unsigned long long port = 0;
  bool have_port = false;
  unsigned long long exit_after = 0;
  unsigned long long connections = 1;
  unsigned long long messages = 100;
  unsigned long long size = 64;
  unsigned long long seconds = 60;
  for (int i = 2; i < argc; i += 2) {
    const char* arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    bool ok = value != NULL;
    if (ok && strcmp(arg, "--address") == 0) {
      address = value;
    } else if (ok && strcmp(arg, "--port") == 0) {
      ok = parse_number(value, 0, 65535, &port);
      have_port = true;
    } else if (ok && server && strcmp(arg, "--exit-after") == 0) {
      ok = parse_number(value, 0, ULLONG_MAX, &exit_after);
    } else if (ok && !server && strcmp(arg, "--connections") == 0) {
      ok = parse_number(value, 1, 100000, &connections);
    } else if (ok && !server && strcmp(arg, "--messages") == 0) {
      ok = parse_number(value, 1, ULLONG_MAX, &messages);
    } else if (ok && !server && strcmp(arg, "--size") == 0) {
      ok = parse_number(value, 1, 1u << 30, &size);
    } else if (ok && !server && strcmp(arg, "--seconds") == 0) {
      ok = parse_number(value, 1, 86400, &seconds);
    } else {
      ok = false;
    }
    if (!ok) {
      fprintf(stderr, "bad argument: %s %s\n", arg, value != NULL ? value : "");
      usage(stderr);
      return 2;
    }
  }
  if (!server && (!have_port || port == 0)) {
    fprintf(stderr, "the client needs --port N (1 to 65535)\n");
    usage(stderr);
    return 2;
  }
#ifdef _WIN32
  WSADATA wsa;
  int rc = WSAStartup(MAKEWORD(2, 2), &wsa);
  if (rc != 0) {
    char text[256];
    fprintf(stderr, "WSAStartup: %s\n", error_text(rc, text, sizeof text));
    return 1;
  }
#endif
  int status = server ? run_server(address, (unsigned)port, exit_after)
                      : run_client(address, (unsigned)port, (unsigned)connections, messages, (uint32_t)size,
                                   (unsigned)seconds);
#ifdef _WIN32
  WSACleanup();
#endif
  return status;
}
