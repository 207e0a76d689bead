/* SPDX-License-Identifier: BSL-1.0 */
/* A pure C11 program on senet's C API, built against an installed senet by
   tests/package/check.cmake: with CMake's senet::senet from a project whose only language is C
   (tests/package/c/CMakeLists.txt), and with `cc ... $(pkg-config --cflags --libs senet)`.
   It sends 5 bytes over a loopback TCP connection between two async_sockets and exits with 0 when
   they arrive (1 on any failure, 2 seconds at most). */
#define _POSIX_C_SOURCE 200809L

#include <senet/c/async_socket.h>
#include <senet/c/execution_engine.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct done {
  pthread_mutex_t lock;
  pthread_cond_t cv;
  int calls;
  ASYNC_SOCKET_RECEIVE_RESULT result;
  uint32_t bytes;
};

static void on_open(void* context, ASYNC_SOCKET_OPEN_RESULT result) {
  *(int*)context = result == ASYNC_SOCKET_OPEN_OK;
}

static void on_sent(void* context, ASYNC_SOCKET_SEND_RESULT result) {
  *(int*)context = result == ASYNC_SOCKET_SEND_OK ? 1 : -1;
}

static void on_received(void* context, ASYNC_SOCKET_RECEIVE_RESULT result, uint32_t bytes) {
  struct done* d = context;
  pthread_mutex_lock(&d->lock);
  d->calls++;
  d->result = result;
  d->bytes = bytes;
  pthread_cond_signal(&d->cv);
  pthread_mutex_unlock(&d->lock);
}

/* A connected pair of loopback TCP descriptors. 0 on success. */
static int connect_pair(int fds[2]) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (l < 0 || bind(l, (struct sockaddr*)&a, sizeof a) != 0 || listen(l, 1) != 0 ||
      getsockname(l, (struct sockaddr*)&a, &len) != 0) {
    return -1;
  }
  fds[0] = socket(AF_INET, SOCK_STREAM, 0);
  if (fds[0] < 0 || connect(fds[0], (struct sockaddr*)&a, sizeof a) != 0) {
    return -1;
  }
  fds[1] = accept(l, NULL, NULL);
  close(l);
  return fds[1] < 0 ? -1 : 0;
}

int main(void) {
  int fds[2];
  if (connect_pair(fds) != 0) {
    perror("loopback connection");
    return 1;
  }
  EXECUTION_ENGINE_HANDLE engine = execution_engine_create(NULL);
  ASYNC_SOCKET_HANDLE a = async_socket_create(engine, fds[0]);
  ASYNC_SOCKET_HANDLE b = async_socket_create(engine, fds[1]);
  int a_open = 0;
  int b_open = 0;
  if (engine == NULL || a == NULL || b == NULL || async_socket_open_async(a, on_open, &a_open) != 0 ||
      async_socket_open_async(b, on_open, &b_open) != 0 || !a_open || !b_open) {
    fprintf(stderr, "creating or opening the sockets failed\n");
    return 1;
  }
  struct done d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, ASYNC_SOCKET_RECEIVE_ERROR, 0};
  char in[16] = {0};
  ASYNC_SOCKET_BUFFER rb = {in, sizeof in};
  if (async_socket_receive_async(b, &rb, 1, on_received, &d) != 0) {
    fprintf(stderr, "async_socket_receive_async failed\n");
    return 1;
  }
  char out[] = "hello";
  ASYNC_SOCKET_BUFFER sb = {out, 5};
  int sent = 0;
  ASYNC_SOCKET_SEND_SYNC_RESULT r = async_socket_send_async(a, &sb, 1, on_sent, &sent);
  if (r != ASYNC_SOCKET_SEND_SYNC_OK) {
    fprintf(stderr, "async_socket_send_async: %s\n", async_socket_send_sync_result_to_string(r));
    return 1;
  }
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 2;
  pthread_mutex_lock(&d.lock);
  while (d.calls == 0 && pthread_cond_timedwait(&d.cv, &d.lock, &deadline) == 0) {
  }
  int calls = d.calls;
  pthread_mutex_unlock(&d.lock);
  async_socket_destroy(a);
  async_socket_destroy(b);
  execution_engine_dec_ref(engine);
  if (calls != 1 || d.result != ASYNC_SOCKET_RECEIVE_OK || d.bytes != 5 || memcmp(in, "hello", 5) != 0) {
    fprintf(stderr, "the receive did not get the 5 bytes within 2 s (%s, %u bytes)\n",
            async_socket_receive_result_to_string(d.result), (unsigned)d.bytes);
    return 1;
  }
  printf("senet C API: received \"%s\"\n", in);
  return 0;
}
