// SPDX-License-Identifier: BSL-1.0
/* A minimal liburing echo server in C: the baseline that senet's io_uring backend is compared
   with (docs/benchmarks.md). One thread, one ring; per connection one recv in flight, then one send
   of what it received; one io_uring_submit_and_wait per loop turn, completions reaped in a batch.

     c_uring_echo [--port N] [--exit-after N] [--backend uring]

   Listens on 127.0.0.1 port N (default 0: any free port), prints "listening on port P" and serves
   until SIGINT or SIGTERM or until N connections have been served and closed, then exits with
   status 0. The signals arrive through a signalfd polled by
   the ring (so that the loop also stops where signals are not delivered during io_uring_enter, as
   under valgrind). */
#define _GNU_SOURCE
#include "echo_options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { op_accept = 0, op_recv = 1, op_send = 2, op_signal = 3 };

struct connection {
  int fd;
  char buf[4096];
};

// user_data: the connection's address with the operation in the low bits (null for accept).
static struct io_uring_sqe* next_sqe(struct io_uring* ring) {
  struct io_uring_sqe* sqe = io_uring_get_sqe(ring);
  if (sqe == NULL) {
    io_uring_submit(ring);
    sqe = io_uring_get_sqe(ring);
  }
  return sqe;
}

static void queue_accept(struct io_uring* ring, int listener) {
  struct io_uring_sqe* sqe = next_sqe(ring);
  io_uring_prep_accept(sqe, listener, NULL, NULL, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, op_accept);
}

static void queue_recv(struct io_uring* ring, struct connection* c) {
  struct io_uring_sqe* sqe = next_sqe(ring);
  io_uring_prep_recv(sqe, c->fd, c->buf, sizeof c->buf, 0);
  io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | op_recv);
}

static void queue_send(struct io_uring* ring, struct connection* c, unsigned n) {
  struct io_uring_sqe* sqe = next_sqe(ring);
  io_uring_prep_send(sqe, c->fd, c->buf, n, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | op_send);
}

int main(int argc, char** argv) {
  struct echo_options options;
  unsigned long long served = 0;
  struct io_uring ring;
  int stop_requested = 0;
  int sfd;
  int listener;
  echo_options_parse(argc, argv, "c_uring_echo", "uring", &options);
  sfd = echo_signalfd("c_uring_echo");
  listener = echo_listen("c_uring_echo", options.port, 0);
  if (io_uring_queue_init(256, &ring, 0) < 0) {
    perror("c_uring_echo");
    return 1;
  }
  queue_accept(&ring, listener);
  {
    struct io_uring_sqe* sqe = next_sqe(&ring);
    io_uring_prep_poll_add(sqe, sfd, POLLIN);
    io_uring_sqe_set_data64(sqe, op_signal);
  }

  while (!stop_requested && (options.exit_after == 0 || served < options.exit_after)) {
    struct io_uring_cqe* cqe;
    unsigned head;
    unsigned seen = 0;
    io_uring_submit_and_wait(&ring, 1);
    io_uring_for_each_cqe(&ring, head, cqe) {
      uint64_t data = cqe->user_data;
      struct connection* c = (struct connection*)(uintptr_t)(data & ~(uint64_t)3);
      int res = cqe->res;
      ++seen;
      switch (data & 3) {
        case op_signal:
          stop_requested = 1;
          break;
        case op_accept:
          if (res >= 0) {
            c = malloc(sizeof *c);
            c->fd = res;
            queue_recv(&ring, c);
          }
          queue_accept(&ring, listener);
          break;
        case op_recv:
          if (res > 0) {
            // 64-byte messages always fit the socket buffer: one send sends them whole.
            queue_send(&ring, c, (unsigned)res);
          } else {
            close(c->fd);
            free(c);
            ++served;
          }
          break;
        default:
          if (res >= 0) {
            queue_recv(&ring, c);
          } else {
            close(c->fd);
            free(c);
            ++served;
          }
          break;
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
  io_uring_queue_exit(&ring);
  close(sfd);
  close(listener);
  return 0;
}
