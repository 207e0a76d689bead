// SPDX-License-Identifier: BSL-1.0
// The C API's echo server that the instruction counts of docs/benchmarks.md measure, beside
// bench/senet_echo_server.cpp (the sender face) and with its options: the sessions of
// examples/c_echo.c (async_socket_receive_async into a 16 KiB buffer, then
// async_socket_send_async of what came, which goes out at once on the calling thread), accepts
// through async_socket_notify_io_async on the listening socket, and an end by itself after a given
// number of connections instead of on a signal.
//
//   senet_c_echo_server [--port N] [--backend uring|epoll] [--exit-after N]
//
// Listens on 127.0.0.1 port N (default 0: any free port), prints "listening on port P", and exits
// with status 0 once N connections (default: unlimited) have been served and closed. --backend
// sets SENET_BACKEND for the C API's completion port before it is created.
//
// Everything runs in the callbacks, on the completion port's thread; the main thread only waits for
// the end (valgrind, the instruction counter used here, serializes threads, so the main thread must
// have nothing to do on the measured path).
#define _GNU_SOURCE  // accept4, SOCK_NONBLOCK

#include <senet/c/async_socket.h>
#include <senet/c/execution_engine.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct session {
  ASYNC_SOCKET_HANDLE socket;
  ASYNC_SOCKET_BUFFER buffer;
  unsigned char data[16384];
};

static int listen_fd = -1;
static ASYNC_SOCKET_HANDLE listener;
static unsigned long long exit_after;
static atomic_ullong served;
static atomic_bool failed;
static pthread_mutex_t end_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t end_cv = PTHREAD_COND_INITIALIZER;
static bool ended;

static void end_server(void) {
  pthread_mutex_lock(&end_lock);
  ended = true;
  pthread_cond_signal(&end_cv);
  pthread_mutex_unlock(&end_lock);
}

// A session ends in its own callback: destroying the socket there is allowed (its memory is
// freed when the callback returns), and the session's memory is not touched afterwards.
static void session_end(struct session* s) {
  async_socket_destroy(s->socket);
  free(s);
  if (atomic_fetch_add(&served, 1) + 1 == exit_after) {
    end_server();
  }
}

static void on_received(void* context, ASYNC_SOCKET_RECEIVE_RESULT result, uint32_t bytes);

static void on_sent(void* context, ASYNC_SOCKET_SEND_RESULT result) {
  struct session* s = context;
  if (result != ASYNC_SOCKET_SEND_OK) {
    session_end(s);
    return;
  }
  s->buffer.buffer = s->data;
  s->buffer.length = sizeof s->data;
  if (async_socket_receive_async(s->socket, &s->buffer, 1, on_received, s) != 0) {
    session_end(s);
  }
}

static void on_received(void* context, ASYNC_SOCKET_RECEIVE_RESULT result, uint32_t bytes) {
  struct session* s = context;
  if (result != ASYNC_SOCKET_RECEIVE_OK) {
    session_end(s);  // ABANDONED: the load generator closed the connection
    return;
  }
  s->buffer.length = bytes;
  if (async_socket_send_async(s->socket, &s->buffer, 1, on_sent, s) != ASYNC_SOCKET_SEND_SYNC_OK) {
    session_end(s);
  }
}

static void on_opened(void* context, ASYNC_SOCKET_OPEN_RESULT result) {
  (void)context;
  (void)result;  // checked through the return value of async_socket_open_async
}

static void on_listener_ready(void* context, ASYNC_SOCKET_NOTIFY_IO_RESULT result) {
  (void)context;
  if (result != ASYNC_SOCKET_NOTIFY_IO_RESULT_IN) {
    return;  // ABANDONED: closed at the end
  }
  for (;;) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) {
        if (errno == EAGAIN) {
          break;
        }
        continue;
      }
      perror("senet_c_echo_server: accept");
      atomic_store(&failed, true);
      end_server();
      return;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct session* s = malloc(sizeof *s);
    if (s == NULL || (s->socket = async_socket_create(NULL, fd)) == NULL) {
      fprintf(stderr, "senet_c_echo_server: no memory for a connection\n");
      close(fd);
      free(s);
      continue;
    }
    s->buffer.buffer = s->data;
    s->buffer.length = sizeof s->data;
    if (async_socket_open_async(s->socket, on_opened, NULL) != 0 ||
        async_socket_receive_async(s->socket, &s->buffer, 1, on_received, s) != 0) {
      async_socket_destroy(s->socket);
      free(s);
    }
  }
  if (async_socket_notify_io_async(listener, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, on_listener_ready, NULL) != 0) {
    fprintf(stderr, "senet_c_echo_server: async_socket_notify_io_async failed\n");
    atomic_store(&failed, true);
    end_server();
  }
}

static int usage(void) {
  fprintf(stderr, "usage: senet_c_echo_server [--port N] [--backend uring|epoll] [--exit-after N]\n");
  return 2;
}

int main(int argc, char** argv) {
  unsigned port = 0;
  if (argc % 2 == 0) {
    return usage();
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    const char* value = argv[i + 1];
    if (strcmp(argv[i], "--port") == 0) {
      port = (unsigned)atoi(value);
    } else if (strcmp(argv[i], "--backend") == 0 &&
               (strcmp(value, "uring") == 0 || strcmp(value, "epoll") == 0)) {
      setenv("SENET_BACKEND", value, 1);  // read when the completion port is created, below
    } else if (strcmp(argv[i], "--exit-after") == 0) {
      exit_after = strtoull(value, NULL, 10);
    } else {
      return usage();
    }
  }
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int one = 1;
  listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd < 0 || setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(listen_fd, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(listen_fd, SOMAXCONN) != 0 ||
      getsockname(listen_fd, (struct sockaddr*)&addr, &len) != 0) {
    perror("senet_c_echo_server: listen");
    return 1;
  }
  EXECUTION_ENGINE_HANDLE engine = execution_engine_create(NULL);
  if (engine == NULL) {
    fprintf(stderr, "senet_c_echo_server: execution_engine_create failed\n");
    return 1;
  }
  listener = async_socket_create(engine, listen_fd);
  if (listener == NULL || async_socket_open_async(listener, on_opened, NULL) != 0 ||
      async_socket_notify_io_async(listener, ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, on_listener_ready, NULL) != 0) {
    fprintf(stderr, "senet_c_echo_server: cannot wait for connections\n");
    return 1;
  }
  printf("listening on port %u\n", (unsigned)ntohs(addr.sin_port));
  fflush(stdout);

  pthread_mutex_lock(&end_lock);
  while (!ended) {
    pthread_cond_wait(&end_cv, &end_lock);
  }
  pthread_mutex_unlock(&end_lock);
  // With --exit-after every session has ended; the listener's pending notification completes
  // ABANDONED in the close.
  async_socket_destroy(listener);
  execution_engine_dec_ref(engine);
  fprintf(stderr, "senet_c_echo_server: %llu connection(s) served\n",
          (unsigned long long)atomic_load(&served));
  return atomic_load(&failed) ? 1 : 0;
}
