// SPDX-License-Identifier: BSL-1.0
/* A minimal liburing echo server in C with multishot receive and a provided-buffer ring: the floor
   that senet's buffer-pool server (bench/senet_pool_echo_server.cpp) is compared with
   (docs/performance.md). One thread, one ring.

     c_uring_multishot_echo [--port N] [--exit-after N] [--backend uring]

   - One multishot accept on the listening socket.
   - Per connection one multishot receive (IORING_RECV_MULTISHOT) that takes its buffers from a
     ring of 1,024 buffers of 4 KiB shared by all connections (IORING_REGISTER_PBUF_RING, through
     liburing 2.3's io_uring_register_buf_ring): an idle connection holds no buffer.
   - A received buffer is sent back as it is and returned to the buffer ring once its send
     completed. A connection has one send in flight at a time (two sends of one TCP socket in
     flight may reach the stream out of order); buffers that arrive meanwhile wait in a FIFO
     threaded through the buffers' indices, so that nothing is allocated per operation.
   - A receive that ends (no IORING_CQE_F_MORE: the buffer ring ran dry, or the socket's error)
     is re-armed, when buffers are back for -ENOBUFS.
   - One io_uring_submit_and_wait per loop turn, completions reaped in a batch.

   Listens on 127.0.0.1 port N (default 0: any free port), prints "listening on port P" and serves
   until SIGINT or SIGTERM (a signalfd polled by the ring) or until N connections have been served
   and closed, then exits with status 0. */
#define _GNU_SOURCE
#include "echo_options.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { op_accept = 0, op_recv = 1, op_send = 2, op_signal = 3 };
enum { buffer_count = 1024, buffer_size = 4096, group_id = 0 };
static const uint16_t no_buffer = 0xffff;

struct connection {
  int fd;
  int receiving; /* a multishot receive is armed */
  int sending;   /* a send is in flight: of buffer head, from offset sent */
  int closing;   /* the connection ended: free it once nothing is in flight */
  uint16_t head; /* FIFO of received buffers to send back */
  uint16_t tail;
  unsigned sent;                   /* bytes of the head buffer already sent */
  struct connection* next_starved; /* waiting for buffers to re-arm its receive */
  int starved;
};

static struct io_uring ring;
static struct io_uring_buf_ring* buffers;
static char* buffer_memory;
static uint16_t next_in_fifo[buffer_count];
static unsigned length_of[buffer_count];
static struct connection* starved_list;
static unsigned long long served;

static struct io_uring_sqe* next_sqe(void) {
  struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  if (sqe == NULL) {
    io_uring_submit(&ring);
    sqe = io_uring_get_sqe(&ring);
  }
  return sqe;
}

static void set_data(struct io_uring_sqe* sqe, struct connection* c, unsigned op) {
  io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | op);
}

static void give_back(uint16_t bid) {
  io_uring_buf_ring_add(buffers, buffer_memory + (size_t)bid * buffer_size, buffer_size, bid,
                        io_uring_buf_ring_mask(buffer_count), 0);
  io_uring_buf_ring_advance(buffers, 1);
}

static void arm_receive(struct connection* c) {
  struct io_uring_sqe* sqe = next_sqe();
  io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = group_id;
  set_data(sqe, c, op_recv);
  c->receiving = 1;
}

static void send_head(struct connection* c) {
  struct io_uring_sqe* sqe = next_sqe();
  io_uring_prep_send(sqe, c->fd, buffer_memory + (size_t)c->head * buffer_size + c->sent,
                     length_of[c->head] - c->sent, MSG_NOSIGNAL);
  set_data(sqe, c, op_send);
  c->sending = 1;
}

static void maybe_free(struct connection* c) {
  if (c->closing && !c->receiving && !c->sending && !c->starved) {
    while (c->head != no_buffer) {
      uint16_t bid = c->head;
      c->head = next_in_fifo[bid];
      give_back(bid);
    }
    close(c->fd);
    free(c);
    ++served;
  }
}

static void end_connection(struct connection* c) {
  if (!c->closing) {
    c->closing = 1;
    /* Ends a receive still armed (it completes with -ECANCELED, then the connection is freed). */
    shutdown(c->fd, SHUT_RDWR);
  }
  maybe_free(c);
}

static void on_received(struct connection* c, const struct io_uring_cqe* cqe) {
  if (!(cqe->flags & IORING_CQE_F_MORE)) {
    c->receiving = 0;
  }
  if (cqe->res > 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
    uint16_t bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
    length_of[bid] = (unsigned)cqe->res;
    next_in_fifo[bid] = no_buffer;
    if (c->closing) {
      give_back(bid);
      maybe_free(c);
      return;
    }
    if (c->head == no_buffer) {
      c->head = c->tail = bid;
      c->sent = 0;
      send_head(c);
    } else {
      next_in_fifo[c->tail] = bid;
      c->tail = bid;
    }
    if (!c->receiving) {
      arm_receive(c);
    }
  } else if (cqe->res == -ENOBUFS && !c->closing) {
    if (!c->starved) {
      c->starved = 1;
      c->next_starved = starved_list;
      starved_list = c;
    }
  } else if (!c->receiving) {
    end_connection(c); /* the peer closed (0), or an error; frees c once nothing is in flight */
  }
}

static void on_sent(struct connection* c, int res) {
  c->sending = 0;
  if (res < 0 || c->closing) {
    end_connection(c);
    return;
  }
  c->sent += (unsigned)res;
  if (c->sent < length_of[c->head]) {
    send_head(c);
    return;
  }
  uint16_t done = c->head;
  c->head = next_in_fifo[done];
  c->sent = 0;
  give_back(done);
  if (c->head != no_buffer) {
    send_head(c);
  }
  /* A buffer is back: connections whose receive ran dry can take it. */
  while (starved_list != NULL) {
    struct connection* s = starved_list;
    starved_list = s->next_starved;
    s->starved = 0;
    if (s->closing) {
      maybe_free(s);
    } else if (!s->receiving) {
      arm_receive(s);
    }
  }
}

int main(int argc, char** argv) {
  static const char name[] = "c_uring_multishot_echo";
  struct echo_options options;
  int stop_requested = 0;
  int ret;
  echo_options_parse(argc, argv, name, "uring", &options);
  int sfd = echo_signalfd(name);
  int listener = echo_listen(name, options.port, 0);
  if ((ret = io_uring_queue_init(256, &ring, 0)) < 0) {
    fprintf(stderr, "%s: io_uring_queue_init: %s\n", name, strerror(-ret));
    return 1;
  }
  /* The buffer ring's entries must be page-aligned memory shared with the kernel. */
  size_t ring_bytes = buffer_count * sizeof(struct io_uring_buf);
  buffers = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  buffer_memory = malloc((size_t)buffer_count * buffer_size);
  if (buffers == MAP_FAILED || buffer_memory == NULL) {
    perror(name);
    return 1;
  }
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (unsigned long)(uintptr_t)buffers;
  reg.ring_entries = buffer_count;
  reg.bgid = group_id;
  io_uring_buf_ring_init(buffers);
  if ((ret = io_uring_register_buf_ring(&ring, &reg, 0)) != 0) {
    fprintf(stderr, "%s: io_uring_register_buf_ring: %s\n", name, strerror(-ret));
    return 1;
  }
  for (uint16_t bid = 0; bid < buffer_count; ++bid) {
    io_uring_buf_ring_add(buffers, buffer_memory + (size_t)bid * buffer_size, buffer_size, bid,
                          io_uring_buf_ring_mask(buffer_count), bid);
  }
  io_uring_buf_ring_advance(buffers, buffer_count);

  struct io_uring_sqe* sqe = next_sqe();
  io_uring_prep_multishot_accept(sqe, listener, NULL, NULL, SOCK_CLOEXEC);
  set_data(sqe, NULL, op_accept);
  sqe = next_sqe();
  io_uring_prep_poll_add(sqe, sfd, POLLIN);
  set_data(sqe, NULL, op_signal);

  while (!stop_requested && (options.exit_after == 0 || served < options.exit_after)) {
    struct io_uring_cqe* cqe;
    unsigned head;
    unsigned seen = 0;
    ret = io_uring_submit_and_wait(&ring, 1);
    if (ret < 0 && ret != -EINTR) {
      fprintf(stderr, "%s: io_uring_submit_and_wait: %s\n", name, strerror(-ret));
      return 1;
    }
    io_uring_for_each_cqe(&ring, head, cqe) {
      uint64_t data = cqe->user_data;
      struct connection* c = (struct connection*)(uintptr_t)(data & ~(uint64_t)3);
      ++seen;
      switch (data & 3) {
        case op_signal:
          stop_requested = 1;
          break;
        case op_accept:
          if (cqe->res >= 0) {
            c = calloc(1, sizeof *c);
            if (c == NULL) {
              close(cqe->res);
            } else {
              c->fd = cqe->res;
              c->head = c->tail = no_buffer;
              arm_receive(c);
            }
          }
          if (!(cqe->flags & IORING_CQE_F_MORE)) {
            sqe = next_sqe();
            io_uring_prep_multishot_accept(sqe, listener, NULL, NULL, SOCK_CLOEXEC);
            set_data(sqe, NULL, op_accept);
          }
          break;
        case op_recv:
          on_received(c, cqe);
          break;
        default:
          on_sent(c, cqe->res);
          break;
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
  io_uring_queue_exit(&ring);
  free(buffer_memory);
  munmap(buffers, ring_bytes);
  close(sfd);
  close(listener);
  return 0;
}
