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
// Bad arguments: status 2. Any other failure: status 1. The backend (io_uring, else epoll) can be
// chosen with the environment variable SENET_BACKEND=uring|epoll.
//
// How it is built on the API:
// - Every socket is created by the program (socket, accept4), made non-blocking, and handed to
//   async_socket_create, which owns it from then on; async_socket_open_async registers it.
// - The listening socket is an async_socket too: async_socket_notify_io_async(IN) says when a
//   connection waits, and the callback accepts until EAGAIN, then asks again. A client's
//   non-blocking connect finishes with notify_io_async(OUT) and SO_ERROR.
// - The callbacks run on the API's completion thread (or inline, in the thread of the call that
//   completes at once: a send that went out at once calls its callback before it returns). They
//   never block and never destroy a socket: a connection that ends is handed to the main thread,
//   which waits for signals and work with poll() on a signalfd and an eventfd and destroys it.
// - Running out of descriptors (EMFILE, ENFILE) or memory in accept is not a reason to stop: the
//   server says so once, leaves the waiting connections in the listen backlog for 100 ms (the main
//   thread's poll timeout), then asks for readiness again.
#define _GNU_SOURCE  // accept4, SOCK_NONBLOCK, SOCK_CLOEXEC

#include <senet/c/async_socket.h>
#include <senet/c/execution_engine.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { buffer_size = 16384, accept_backoff_ms = 100 };

// ---------------------------------------------------------------------------------------------
// What both modes share: the main thread's wake-up (an eventfd written by the callbacks) and the
// signals it waits for (a signalfd), and a bounded poll on both.

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

enum wait_result { woken, signalled, timed_out, wait_failed };

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

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
  ASYNC_SOCKET_HANDLE listener;
  int listen_fd;  // owned by `listener`; used for accept4
  unsigned long long exit_after;

  pthread_mutex_t lock;
  struct connection* connections;  // every connection not yet destroyed
  bool stopping;                   // no new connection, no new readiness request
  int accept_callbacks;            // accept callbacks running (they use `listener`)
  pthread_cond_t accept_idle;      // accept_callbacks dropped to 0
  bool backing_off;                // accept ran out of resources: the main thread asks again later
  bool backing_off_announced;      // said so on stderr; cleared by the next accepted connection
  bool fatal;                      // the listener failed: stop
  unsigned long long served;       // connections finished
  unsigned long long accepted;
};

// A connection has no operation pending any more: hand it to the main thread for destruction.
static void connection_finish(struct connection* c) {
  struct server* srv = c->server;
  pthread_mutex_lock(&srv->lock);
  c->finished = true;
  srv->served++;
  pthread_mutex_unlock(&srv->lock);
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
  pthread_mutex_lock(&c->server->lock);
  bool stopping = c->server->stopping;
  pthread_mutex_unlock(&c->server->lock);
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

static const char* error_text(int error, char* buffer, size_t size) {
  return strerror_r(error, buffer, size);  // the GNU variant: returns the text
}

// Wraps an accepted descriptor in a connection and starts it.
static void server_add_connection(struct server* srv, int fd) {
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // latency only: failure is harmless
  struct connection* c = calloc(1, sizeof *c);
  if (c == NULL) {
    fprintf(stderr, "echo server: out of memory, connection refused\n");
    close(fd);
    return;
  }
  c->server = srv;
  c->socket = async_socket_create(srv->engine, fd);
  if (c->socket == NULL) {
    fprintf(stderr, "echo server: async_socket_create failed, connection refused\n");
    close(fd);
    free(c);
    return;
  }
  pthread_mutex_lock(&srv->lock);
  c->next = srv->connections;
  srv->connections = c;
  srv->accepted++;
  bool announce = srv->backing_off_announced;
  srv->backing_off_announced = false;
  pthread_mutex_unlock(&srv->lock);
  if (announce) {
    fprintf(stderr, "echo server: accepting again\n");
  }
  if (async_socket_open_async(c->socket, on_connection_open, c) != 0) {
    fprintf(stderr, "echo server: async_socket_open_async failed\n");
    connection_finish(c);
  }
}

// Accepts every waiting connection. True: ask for readiness again; false: do not (the server backs
// off or stops).
static bool server_accept_all(struct server* srv) {
  for (;;) {
    int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      server_add_connection(srv, fd);
      continue;
    }
    int error = errno;
    char text[128];
    switch (error) {
      case EAGAIN:
        return true;
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
        continue;
      case EMFILE:   // this process is out of descriptors
      case ENFILE:   // the system is out of descriptors
      case ENOBUFS:  // out of socket buffers
      case ENOMEM: {
        // Not a reason to stop: the connections wait in the backlog, and the main thread asks for
        // readiness again in a moment. Said once per burst (until a connection is accepted again).
        pthread_mutex_lock(&srv->lock);
        bool announce = !srv->backing_off_announced;
        srv->backing_off_announced = true;
        srv->backing_off = true;
        pthread_mutex_unlock(&srv->lock);
        if (announce) {
          fprintf(stderr, "echo server: accept failed: %s; retrying in %d ms\n",
                  error_text(error, text, sizeof text), accept_backoff_ms);
        }
        wake(&srv->waker);
        return false;
      }
      default:
        fprintf(stderr, "echo server: accept failed: %s\n", error_text(error, text, sizeof text));
        pthread_mutex_lock(&srv->lock);
        srv->fatal = true;
        pthread_mutex_unlock(&srv->lock);
        wake(&srv->waker);
        return false;
    }
  }
}

static void on_listener_ready(void* context, ASYNC_SOCKET_NOTIFY_IO_RESULT result) {
  struct server* srv = context;
  pthread_mutex_lock(&srv->lock);
  if (srv->stopping) {
    // The main thread is closing the listener (this is its ABANDONED completion, or a last IN).
    pthread_mutex_unlock(&srv->lock);
    return;
  }
  srv->accept_callbacks++;
  pthread_mutex_unlock(&srv->lock);

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

  pthread_mutex_lock(&srv->lock);
  if (failed) {
    srv->fatal = true;
  }
  if (--srv->accept_callbacks == 0) {
    pthread_cond_broadcast(&srv->accept_idle);
  }
  pthread_mutex_unlock(&srv->lock);
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
    pthread_mutex_lock(&srv->lock);
    srv->fatal = true;
    pthread_mutex_unlock(&srv->lock);
    wake(&srv->waker);
  }
}

// Unlinks the finished connections, destroys them and frees them. Main thread only.
static void server_reap(struct server* srv) {
  struct connection* done = NULL;
  pthread_mutex_lock(&srv->lock);
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
  pthread_mutex_unlock(&srv->lock);
  while (done != NULL) {
    struct connection* c = done;
    done = c->next;
    async_socket_destroy(c->socket);
    free(c);
  }
}

// The listening socket: bound to address:port, non-blocking. -1 on failure (said on stderr).
static int listen_on(const char* address, unsigned port) {
  struct sockaddr_in addr;
  if (!make_address(address, port, &addr)) {
    fprintf(stderr, "echo server: not an IPv4 address: %s\n", address);
    return -1;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fprintf(stderr, "echo server: socket: %s\n", strerror(errno));
    return -1;
  }
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, (const struct sockaddr*)&addr, sizeof addr) != 0 || listen(fd, SOMAXCONN) != 0) {
    fprintf(stderr, "echo server: listening on %s port %u: %s\n", address, port, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

static int run_server(const char* address, unsigned port, unsigned long long exit_after) {
  struct server srv;
  memset(&srv, 0, sizeof srv);
  srv.exit_after = exit_after;
  if (waker_open(&srv.waker) != 0) {
    return 1;
  }
  // Neither fails on Linux with default attributes; checked all the same.
  if (pthread_mutex_init(&srv.lock, NULL) != 0 || pthread_cond_init(&srv.accept_idle, NULL) != 0) {
    fprintf(stderr, "echo server: cannot create a lock\n");
    waker_close(&srv.waker);
    return 1;
  }
  int status = 1;
  srv.listen_fd = listen_on(address, port);
  if (srv.listen_fd < 0) {
    goto out_waker;
  }
  struct sockaddr_in bound;
  socklen_t length = sizeof bound;
  if (getsockname(srv.listen_fd, (struct sockaddr*)&bound, &length) != 0) {
    fprintf(stderr, "echo server: getsockname: %s\n", strerror(errno));
    close(srv.listen_fd);
    goto out_waker;
  }
  srv.engine = execution_engine_create(NULL);
  if (srv.engine == NULL) {
    fprintf(stderr, "echo server: execution_engine_create failed\n");
    close(srv.listen_fd);
    goto out_waker;
  }
  // Created and opened in two steps: on_listener_open (which may run before open_async returns)
  // asks for readiness through `srv.listener`, so the handle must be stored first.
  srv.listener = async_socket_create(srv.engine, srv.listen_fd);
  if (srv.listener == NULL) {
    fprintf(stderr, "echo server: async_socket_create failed\n");
    close(srv.listen_fd);
    goto out_engine;
  }
  if (async_socket_open_async(srv.listener, on_listener_open, &srv) != 0) {
    fprintf(stderr, "echo server: async_socket_open_async failed\n");
    goto out_listener;
  }
  printf("listening on port %u\n", (unsigned)ntohs(bound.sin_port));
  fflush(stdout);

  bool failed = false;
  int64_t retry_at = 0;  // when backing off: when to ask for readiness again
  for (;;) {
    server_reap(&srv);
    pthread_mutex_lock(&srv.lock);
    bool fatal = srv.fatal;
    bool backing_off = srv.backing_off;
    bool enough = srv.exit_after != 0 && srv.served >= srv.exit_after;
    pthread_mutex_unlock(&srv.lock);
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
        pthread_mutex_lock(&srv.lock);
        srv.backing_off = false;
        pthread_mutex_unlock(&srv.lock);
        // No accept callback is running or pending now: the main thread may ask.
        if (async_socket_notify_io_async(srv.listener, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, on_listener_ready,
                                         &srv) != 0) {
          fprintf(stderr, "echo server: async_socket_notify_io_async failed\n");
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
  }

  // Stop: no new connection (stopping, with no accept callback left running), then close the
  // listener and every connection; their pending operations complete as ABANDONED and finish them.
  pthread_mutex_lock(&srv.lock);
  srv.stopping = true;
  while (srv.accept_callbacks > 0) {
    pthread_cond_wait(&srv.accept_idle, &srv.lock);
  }
  pthread_mutex_unlock(&srv.lock);
  async_socket_close(srv.listener);
  for (struct connection* c = srv.connections; c != NULL; c = c->next) {
    // Only this thread unlinks connections, and no accept callback adds any now.
    async_socket_close(c->socket);
  }
  for (;;) {
    server_reap(&srv);
    pthread_mutex_lock(&srv.lock);
    bool empty = srv.connections == NULL;
    pthread_mutex_unlock(&srv.lock);
    if (empty) {
      break;
    }
    if (waker_wait(&srv.waker, 1000) == wait_failed) {
      break;  // poll itself failed: destroy what is left below (destroy closes and waits)
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
  async_socket_destroy(srv.listener);  // closes the listening descriptor
out_engine:
  execution_engine_dec_ref(srv.engine);
out_waker:
  pthread_cond_destroy(&srv.accept_idle);
  pthread_mutex_destroy(&srv.lock);
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
  int fd;  // owned by `socket`; read for SO_ERROR after connecting
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
  pthread_mutex_t lock;
  unsigned finished;  // connections with no callback to come
  unsigned failures;
};

static void client_connection_finish(struct client_connection* c) {
  struct client* cl = c->client;
  pthread_mutex_lock(&cl->lock);
  cl->finished++;
  pthread_mutex_unlock(&cl->lock);
  wake(&cl->waker);
}

static void client_connection_fail(struct client_connection* c, const char* what) {
  struct client* cl = c->client;
  if (!atomic_load(&cl->stopping)) {
    fprintf(stderr, "echo client: connection %u, message %llu: %s\n", c->index, c->message, what);
  }
  if (!atomic_exchange(&c->failed, true)) {
    pthread_mutex_lock(&cl->lock);
    cl->failures++;
    pthread_mutex_unlock(&cl->lock);
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

static void on_client_open(void* context, ASYNC_SOCKET_OPEN_RESULT result) {
  struct client_connection* c = context;
  if (result != ASYNC_SOCKET_OPEN_OK) {
    client_connection_fail(c, "opening the socket failed");
  } else if (async_socket_notify_io_async(c->socket, ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT, on_client_connected,
                                          c) == 0) {
    return;  // the open's count passes to the readiness request
  } else {
    client_connection_fail(c, "async_socket_notify_io_async failed");
  }
  client_operation_done(c);
}

// Starts connection `c`: a non-blocking connect, then the socket is wrapped and opened; the rest
// happens in callbacks. False if it failed at once (then nothing is pending for it).
static bool client_connect(EXECUTION_ENGINE_HANDLE engine, struct client_connection* c,
                           const struct sockaddr_in* addr) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fprintf(stderr, "echo client: socket: %s\n", strerror(errno));
    return false;
  }
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // latency only: failure is harmless
  if (connect(fd, (const struct sockaddr*)addr, sizeof *addr) != 0 && errno != EINPROGRESS) {
    fprintf(stderr, "echo client: connect: %s\n", strerror(errno));
    close(fd);
    return false;
  }
  c->fd = fd;
  atomic_store(&c->pending, 1);
  c->socket = async_socket_create(engine, fd);
  if (c->socket == NULL) {
    fprintf(stderr, "echo client: async_socket_create failed\n");
    close(fd);
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
  if (pthread_mutex_init(&cl.lock, NULL) != 0) {
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
    pthread_mutex_lock(&cl.lock);
    bool done = cl.finished == started;
    bool failures = cl.failures > 0;
    pthread_mutex_unlock(&cl.lock);
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
    pthread_mutex_lock(&cl.lock);
    bool done = cl.finished == started;
    pthread_mutex_unlock(&cl.lock);
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
  pthread_mutex_destroy(&cl.lock);
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
          "          stdout) until SIGINT or SIGTERM, or until N connections were served\n"
          "  client: C connections (default 1), M messages (default 100) of S bytes (default 64)\n"
          "          each, checked; gives up after T seconds (default 60)\n"
          "  SENET_BACKEND=uring|epoll in the environment chooses the backend.\n");
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
  if (server) {
    return run_server(address, (unsigned)port, exit_after);
  }
  if (!have_port || port == 0) {
    fprintf(stderr, "the client needs --port N (1 to 65535)\n");
    usage(stderr);
    return 2;
  }
  return run_client(address, (unsigned)port, (unsigned)connections, messages, (uint32_t)size,
                    (unsigned)seconds);
}
