/* SPDX-License-Identifier: BSL-1.0 */
/* An echo server in C11 on the C API, for Windows: the same calls a Linux program makes
   (execution_engine_create, async_socket_create / open / receive / send / destroy), with Winsock
   for the listening socket. It listens on 127.0.0.1, port 0, writes the port to the file named by
   its argument, serves one connection (each receive's bytes are sent back, then the next receive
   starts) until the peer closes it, and exits with status 0; 1 on any failure, 2 on bad arguments.
   c_echo_win32_test.sh runs it under Wine against a Linux client. */
#include <senet/c/async_socket.h>
#include <senet/c/execution_engine.h>
#include <senet/c/socket_handle.h>

#include <stdio.h>
#include <windows.h>
#include <ws2tcpip.h>

typedef struct echo_tag {
  ASYNC_SOCKET_HANDLE socket;
  char buffer[4096];
  HANDLE done;      /* set when the connection has ended */
  volatile LONG ok; /* 1: ended by the peer's close; 0: an error */
} echo;

static void finish(echo* e, LONG ok) {
  InterlockedExchange(&e->ok, ok);
  SetEvent(e->done);
}

static void on_received(void* context, ASYNC_SOCKET_RECEIVE_RESULT result, uint32_t bytes);

static void start_receive(echo* e) {
  ASYNC_SOCKET_BUFFER b = {e->buffer, sizeof e->buffer};
  if (async_socket_receive_async(e->socket, &b, 1, on_received, e) != 0) {
    fprintf(stderr, "c_echo_win32: async_socket_receive_async failed\n");
    finish(e, 0);
  }
}

static void on_sent(void* context, ASYNC_SOCKET_SEND_RESULT result) {
  echo* e = context;
  if (result != ASYNC_SOCKET_SEND_OK) {
    fprintf(stderr, "c_echo_win32: send completed with %s\n", async_socket_send_result_to_string(result));
    finish(e, 0);
    return;
  }
  start_receive(e);
}

static void on_received(void* context, ASYNC_SOCKET_RECEIVE_RESULT result, uint32_t bytes) {
  echo* e = context;
  if (result == ASYNC_SOCKET_RECEIVE_ABANDONED) {
    finish(e, 1); /* the peer closed the connection */
    return;
  }
  if (result != ASYNC_SOCKET_RECEIVE_OK) {
    fprintf(stderr, "c_echo_win32: receive completed with %s\n",
            async_socket_receive_result_to_string(result));
    finish(e, 0);
    return;
  }
  ASYNC_SOCKET_BUFFER b = {e->buffer, bytes};
  ASYNC_SOCKET_SEND_SYNC_RESULT r = async_socket_send_async(e->socket, &b, 1, on_sent, e);
  if (r != ASYNC_SOCKET_SEND_SYNC_OK) {
    fprintf(stderr, "c_echo_win32: async_socket_send_async returned %s\n",
            async_socket_send_sync_result_to_string(r));
    finish(e, 0);
  }
}

static void on_open(void* context, ASYNC_SOCKET_OPEN_RESULT result) {
  *(ASYNC_SOCKET_OPEN_RESULT*)context = result;
}

/* Listens on 127.0.0.1, port 0, and writes the port to `port_file`; INVALID_SOCKET on failure. */
static SOCKET listen_on_loopback(const char* port_file) {
  SOCKET l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (l == INVALID_SOCKET) {
    return INVALID_SOCKET;
  }
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int len = sizeof a;
  FILE* f = NULL;
  if (bind(l, (struct sockaddr*)&a, sizeof a) != 0 || listen(l, 1) != 0 ||
      getsockname(l, (struct sockaddr*)&a, &len) != 0 || (f = fopen(port_file, "w")) == NULL) {
    closesocket(l);
    return INVALID_SOCKET;
  }
  int written = fprintf(f, "%u\n", (unsigned)ntohs(a.sin_port));
  if (fclose(f) != 0 || written < 0) {
    closesocket(l);
    return INVALID_SOCKET;
  }
  return l;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: c_echo_win32 PORT_FILE\n");
    return 2;
  }
  WSADATA wsa;
  if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
    fprintf(stderr, "c_echo_win32: WSAStartup failed\n");
    return 1;
  }
  int status = 1;
  EXECUTION_ENGINE_HANDLE engine = execution_engine_create(NULL);
  SOCKET l = listen_on_loopback(argv[1]);
  static echo e;
  e.done = CreateEventW(NULL, TRUE, FALSE, NULL);
  if (engine == NULL || l == INVALID_SOCKET || e.done == NULL) {
    fprintf(stderr, "c_echo_win32: set-up failed (engine, listener or event)\n");
  } else {
    SOCKET s = accept(l, NULL, NULL);
    e.socket = s == INVALID_SOCKET ? NULL : async_socket_create(engine, s);
    ASYNC_SOCKET_OPEN_RESULT opened = ASYNC_SOCKET_OPEN_ERROR;
    if (e.socket == NULL) {
      fprintf(stderr, "c_echo_win32: accept or async_socket_create failed\n");
      if (s != INVALID_SOCKET) {
        closesocket(s);
      }
    } else if (async_socket_open_async(e.socket, on_open, &opened) != 0 || opened != ASYNC_SOCKET_OPEN_OK) {
      fprintf(stderr, "c_echo_win32: async_socket_open_async failed\n");
    } else {
      start_receive(&e);
      if (WaitForSingleObject(e.done, 30000) != WAIT_OBJECT_0) {
        fprintf(stderr, "c_echo_win32: the connection did not end within 30 s\n");
      } else if (InterlockedCompareExchange(&e.ok, 0, 0) == 1) {
        status = 0;
      }
    }
    async_socket_destroy(e.socket); /* closes it; NULL is allowed */
  }
  if (e.done != NULL) {
    CloseHandle(e.done);
  }
  if (l != INVALID_SOCKET) {
    closesocket(l);
  }
  execution_engine_dec_ref(engine);
  WSACleanup();
  return status;
}
