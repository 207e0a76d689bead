/* SPDX-License-Identifier: BSL-1.0 */
/* The C API's headers compile as C11 (-std=c11 -Wall -Wextra -Wpedantic -Werror, see
   tests/CMakeLists.txt) and a C program links libsenet with nothing but senet::senet: it creates two
   async sockets on a socket pair, sends a message through one and receives it with the other. */
/* The headers need no feature macro; this program's own POSIX calls (clock_gettime) do. */
#define _POSIX_C_SOURCE 200809L

#include <senet/c/async_socket.h>
#include <senet/c/execution_engine.h>
#include <senet/c/socket_handle.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                                \
    }                                                                          \
  } while (0)

typedef struct RECEIVE_STATE_TAG {
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  int calls;
  ASYNC_SOCKET_RECEIVE_RESULT result;
  uint32_t bytes;
} RECEIVE_STATE;

static void on_open(void* context, ASYNC_SOCKET_OPEN_RESULT result) {
  *(ASYNC_SOCKET_OPEN_RESULT*)context = result;
}

static void on_send(void* context, ASYNC_SOCKET_SEND_RESULT result) {
  *(ASYNC_SOCKET_SEND_RESULT*)context = result;
}

static void on_receive(void* context, ASYNC_SOCKET_RECEIVE_RESULT result, uint32_t bytes_received) {
  RECEIVE_STATE* state = (RECEIVE_STATE*)context;
  pthread_mutex_lock(&state->mutex);
  state->calls++;
  state->result = result;
  state->bytes = bytes_received;
  pthread_cond_signal(&state->cond);
  pthread_mutex_unlock(&state->mutex);
}

/* Waits at most 10 s for the receive to complete; returns its number of calls. */
static int wait_for_receive(RECEIVE_STATE* state) {
  struct timespec deadline;
  int calls;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 10;
  pthread_mutex_lock(&state->mutex);
  while (state->calls == 0) {
    if (pthread_cond_timedwait(&state->cond, &state->mutex, &deadline) != 0) {
      break;
    }
  }
  calls = state->calls;
  pthread_mutex_unlock(&state->mutex);
  return calls;
}

int main(void) {
  int fds[2];
  EXECUTION_ENGINE_HANDLE engine;
  ASYNC_SOCKET_HANDLE a;
  ASYNC_SOCKET_HANDLE b;
  ASYNC_SOCKET_OPEN_RESULT opened = ASYNC_SOCKET_OPEN_ERROR;
  ASYNC_SOCKET_SEND_RESULT sent = ASYNC_SOCKET_SEND_ERROR;
  RECEIVE_STATE received;
  char message[] = "hello, C";
  char first[4];
  char second[16];
  ASYNC_SOCKET_BUFFER send_buffer;
  ASYNC_SOCKET_BUFFER receive_buffers[2];

  /* The names of the enumerators. */
  CHECK(strcmp(async_socket_open_result_to_string(ASYNC_SOCKET_OPEN_OK), "ASYNC_SOCKET_OPEN_OK") == 0);
  CHECK(strcmp(async_socket_send_sync_result_to_string(ASYNC_SOCKET_SEND_SYNC_NOT_OPEN),
               "ASYNC_SOCKET_SEND_SYNC_NOT_OPEN") == 0);
  CHECK(strcmp(async_socket_send_result_to_string(ASYNC_SOCKET_SEND_ABANDONED),
               "ASYNC_SOCKET_SEND_ABANDONED") == 0);
  CHECK(strcmp(async_socket_receive_result_to_string(ASYNC_SOCKET_RECEIVE_ERROR),
               "ASYNC_SOCKET_RECEIVE_ERROR") == 0);
  CHECK(strcmp(async_socket_notify_io_type_to_string(ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT),
               "ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT") == 0);
  CHECK(strcmp(async_socket_notify_io_result_to_string(ASYNC_SOCKET_NOTIFY_IO_RESULT_ERROR),
               "ASYNC_SOCKET_NOTIFY_IO_RESULT_ERROR") == 0);
  CHECK(strcmp(async_socket_receive_result_to_string((ASYNC_SOCKET_RECEIVE_RESULT)42), "UNKNOWN") == 0);
  CHECK(INVALID_SOCKET == -1);

  engine = execution_engine_create(NULL);
  CHECK(engine != NULL);
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  a = async_socket_create(engine, fds[0]);
  CHECK(a != NULL);
  b = async_socket_create(NULL, fds[1]);
  CHECK(b != NULL);
  CHECK(async_socket_open_async(a, on_open, &opened) == 0);
  CHECK(opened == ASYNC_SOCKET_OPEN_OK);
  CHECK(async_socket_open_async(b, on_open, &opened) == 0);

  pthread_mutex_init(&received.mutex, NULL);
  pthread_cond_init(&received.cond, NULL);
  received.calls = 0;
  receive_buffers[0].buffer = first;
  receive_buffers[0].length = sizeof(first);
  receive_buffers[1].buffer = second;
  receive_buffers[1].length = sizeof(second);
  CHECK(async_socket_receive_async(b, receive_buffers, 2, on_receive, &received) == 0);

  send_buffer.buffer = message;
  send_buffer.length = (uint32_t)strlen(message);
  CHECK(async_socket_send_async(a, &send_buffer, 1, on_send, &sent) == ASYNC_SOCKET_SEND_SYNC_OK);
  CHECK(sent == ASYNC_SOCKET_SEND_OK); /* a small send completes before the call returns */

  CHECK(wait_for_receive(&received) == 1);
  CHECK(received.result == ASYNC_SOCKET_RECEIVE_OK);
  CHECK(received.bytes == strlen(message));
  CHECK(memcmp(first, "hell", 4) == 0);
  CHECK(memcmp(second, "o, C", 4) == 0);

  async_socket_close(a);
  async_socket_destroy(a);
  async_socket_destroy(b);
  execution_engine_dec_ref(engine);
  pthread_cond_destroy(&received.cond);
  pthread_mutex_destroy(&received.mutex);
  puts("C11 program: headers compiled, libsenet linked, message echoed");
  return 0;
}
