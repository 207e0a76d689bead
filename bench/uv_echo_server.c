// SPDX-License-Identifier: BSL-1.0
/* The libuv echo server that senet is compared with (bench/run, docs/performance.md), in libuv's
   idiom: uv_read_start with an allocation callback that hands out the connection's own 16 KiB
   buffer, uv_try_write of what came, and, only when the kernel did not take all of it, reading
   stopped and uv_write of the rest. One loop, one thread.

     uv_echo_server [--port N] [--exit-after N] [--backend epoll]

   Listens on 127.0.0.1 port N (default 0: any free port), prints "listening on port P", and exits
   with status 0 on SIGINT or SIGTERM, or once N connections have been served and closed. */
#define _GNU_SOURCE
#include "echo_options.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

struct connection {
  uv_tcp_t handle; /* first: the handle's address is the connection's */
  uv_write_t write;
  char data[16 * 1024];
};

static uv_loop_t* loop;
static uv_tcp_t listener;
static uv_signal_t signal_int;
static uv_signal_t signal_term;
static unsigned long long exit_after;
static unsigned long long served;

static void close_all(uv_handle_t* handle, void* arg) {
  (void)arg;
  if (!uv_is_closing(handle)) {
    uv_close(handle, handle->type == UV_TCP && handle != (uv_handle_t*)&listener ? (uv_close_cb)free : NULL);
  }
}

static void stop(void) {
  uv_walk(loop, close_all, NULL);
}

static void on_closed(uv_handle_t* handle) {
  free(handle);
  if (++served == exit_after) {
    stop();
  }
}

static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void)suggested;
  struct connection* c = (struct connection*)handle;
  *buf = uv_buf_init(c->data, sizeof c->data);
}

static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);

static void on_written(uv_write_t* req, int status) {
  struct connection* c = req->data;
  if (uv_is_closing((uv_handle_t*)&c->handle)) {
    return; /* the server is stopping: the write was cancelled */
  }
  if (status < 0 || uv_read_start((uv_stream_t*)&c->handle, on_alloc, on_read) != 0) {
    uv_close((uv_handle_t*)&c->handle, on_closed);
  }
}

static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  struct connection* c = (struct connection*)stream;
  if (nread < 0) {
    uv_close((uv_handle_t*)stream, on_closed); /* UV_EOF, or the connection's error */
    return;
  }
  uv_buf_t out = uv_buf_init(buf->base, (unsigned)nread);
  int sent = nread > 0 ? uv_try_write(stream, &out, 1) : 0;
  if (sent == nread) {
    return;
  }
  if (sent < 0 && sent != UV_EAGAIN) {
    uv_close((uv_handle_t*)stream, on_closed);
    return;
  }
  /* The kernel took less than all: write the rest, and read again only once it went. */
  if (sent > 0) {
    out = uv_buf_init(buf->base + sent, (unsigned)(nread - sent));
  }
  uv_read_stop(stream);
  c->write.data = c;
  if (uv_write(&c->write, stream, &out, 1, on_written) != 0) {
    uv_close((uv_handle_t*)stream, on_closed);
  }
}

static void on_connection(uv_stream_t* server, int status) {
  if (status < 0) {
    return; /* a connection reset in the backlog, out of descriptors: only that one is lost */
  }
  struct connection* c = malloc(sizeof *c);
  if (c == NULL) {
    return;
  }
  uv_tcp_init(loop, &c->handle);
  if (uv_accept(server, (uv_stream_t*)&c->handle) != 0) {
    uv_close((uv_handle_t*)&c->handle, (uv_close_cb)free);
    return;
  }
  uv_tcp_nodelay(&c->handle, 1);
  if (uv_read_start((uv_stream_t*)&c->handle, on_alloc, on_read) != 0) {
    uv_close((uv_handle_t*)&c->handle, on_closed);
  }
}

static void on_signal(uv_signal_t* handle, int signum) {
  (void)handle;
  (void)signum;
  stop();
}

int main(int argc, char** argv) {
  static const char name[] = "uv_echo_server";
  struct echo_options options;
  int r;
  echo_options_parse(argc, argv, name, "epoll", &options);
  exit_after = options.exit_after;
  loop = uv_default_loop();
  uv_tcp_init(loop, &listener);
  if ((r = uv_tcp_open(&listener, echo_listen(name, options.port, SOCK_NONBLOCK))) != 0 ||
      (r = uv_listen((uv_stream_t*)&listener, 4096, on_connection)) != 0) {
    fprintf(stderr, "%s: %s\n", name, uv_strerror(r));
    return 1;
  }
  uv_signal_init(loop, &signal_int);
  uv_signal_init(loop, &signal_term);
  uv_signal_start(&signal_int, on_signal, SIGINT);
  uv_signal_start(&signal_term, on_signal, SIGTERM);
  uv_run(loop, UV_RUN_DEFAULT);
  r = uv_loop_close(loop);
  fprintf(stderr, "%s: %llu connection(s) served\n", name, served);
  return r == 0 ? 0 : 1;
}
