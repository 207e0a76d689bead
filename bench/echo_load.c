// SPDX-License-Identifier: BSL-1.0
/* Load generator for the echo benchmarks (docs/benchmarks.md): N TCP connections to 127.0.0.1,
   each a ping-pong of fixed-size messages (send one, wait until all of it came back, repeat).

     echo_load --port P [--connections N] [--round-trips R] [--size S] [--seconds T]

   Defaults: 64 connections, 10000 round trips per connection, 64-byte messages, at most 60
   seconds. Stops by itself after R round trips on every connection (or T seconds), closes the
   connections and prints one line:
     connections=N size=S round_trips=X seconds=Y round_trips_per_second=Z
   Exit status 0 if every connection did its R round trips, 1 otherwise. Loopback only. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
  int fd;
  long done;   // round trips completed
  size_t got;  // bytes of the current echo received
  char buf[65536];
};

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(unsigned short port) {
  struct sockaddr_in addr;
  int one = 1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static int send_message(struct conn* c, const char* msg, size_t size) {
  size_t sent = 0;
  while (sent < size) {
    ssize_t n = send(c->fd, msg + sent, size - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return -1;
    }
    sent += (size_t)n;
  }
  c->got = 0;
  return 0;
}

int main(int argc, char** argv) {
  unsigned short port = 0;
  int connections = 64;
  long round_trips = 10000;
  size_t size = 64;
  double seconds = 60;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--port") == 0) {
      port = (unsigned short)atoi(argv[i + 1]);
    } else if (strcmp(argv[i], "--connections") == 0) {
      connections = atoi(argv[i + 1]);
    } else if (strcmp(argv[i], "--round-trips") == 0) {
      round_trips = atol(argv[i + 1]);
    } else if (strcmp(argv[i], "--size") == 0) {
      size = (size_t)atol(argv[i + 1]);
    } else if (strcmp(argv[i], "--seconds") == 0) {
      seconds = atof(argv[i + 1]);
    } else {
      break;
    }
  }
  if (port == 0 || connections <= 0 || connections > 10000 || round_trips <= 0 || size == 0 || size > 65536) {
    fprintf(stderr,
            "usage: echo_load --port P [--connections N<=10000] [--round-trips R] [--size S<=65536] "
            "[--seconds T]\n");
    return 2;
  }

  char* msg = malloc(size);
  struct conn* conns = calloc((size_t)connections, sizeof *conns);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (msg == NULL || conns == NULL || ep < 0) {
    perror("echo_load");
    return 1;
  }
  for (size_t i = 0; i < size; ++i) {
    msg[i] = (char)('a' + i % 26);
  }
  for (int i = 0; i < connections; ++i) {
    struct epoll_event ev;
    conns[i].fd = connect_to(port);
    if (conns[i].fd < 0) {
      perror("echo_load: connect");
      return 1;
    }
    ev.events = EPOLLIN;
    ev.data.ptr = &conns[i];
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }

  double start = now_seconds();
  double deadline = start + seconds;
  int active = connections;
  long total = 0;
  for (int i = 0; i < connections; ++i) {
    if (send_message(&conns[i], msg, size) != 0) {
      perror("echo_load: send");
      return 1;
    }
  }
  struct epoll_event events[256];
  while (active > 0 && now_seconds() < deadline) {
    int n = epoll_wait(ep, events, 256, 100);
    for (int i = 0; i < n; ++i) {
      struct conn* c = events[i].data.ptr;
      ssize_t r = recv(c->fd, c->buf + c->got, sizeof c->buf - c->got, 0);
      if (r <= 0) {
        if (r < 0 && errno == EINTR) {
          continue;
        }
        fprintf(stderr, "echo_load: connection closed by the server\n");
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        --active;
        continue;
      }
      c->got += (size_t)r;
      if (c->got < size) {
        continue;
      }
      ++c->done;
      ++total;
      if (c->done == round_trips) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        --active;
      } else if (send_message(c, msg, size) != 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        --active;
      }
    }
  }
  double elapsed = now_seconds() - start;
  int complete = 1;
  for (int i = 0; i < connections; ++i) {
    complete = complete && conns[i].done == round_trips;
    close(conns[i].fd);
  }
  printf("connections=%d size=%zu round_trips=%ld seconds=%.3f round_trips_per_second=%.0f\n", connections,
         size, total, elapsed, (double)total / elapsed);
  close(ep);
  free(conns);
  free(msg);
  return complete ? 0 : 1;
}
