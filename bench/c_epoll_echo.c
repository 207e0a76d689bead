// SPDX-License-Identifier: BSL-1.0
/* A minimal epoll echo server in C: the baseline that senet's epoll backend is compared with
   (docs/benchmarks.md). One thread, level-triggered epoll, read then write back on the same pass.

     c_epoll_echo [--port N]

   Listens on 127.0.0.1 port N (default 0: any free port), prints "listening on port P" and serves
   until SIGINT or SIGTERM, then exits with status 0. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static int listen_on(unsigned short port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  struct sockaddr_in addr;
  socklen_t len = sizeof addr;
  if (fd < 0) {
    return -1;
  }
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(fd, 1024) != 0 ||
      getsockname(fd, (struct sockaddr*)&addr, &len) != 0) {
    close(fd);
    return -1;
  }
  printf("listening on port %u\n", (unsigned)ntohs(addr.sin_port));
  fflush(stdout);
  return fd;
}

int main(int argc, char** argv) {
  unsigned short port = 0;
  struct sigaction sa;
  struct epoll_event ev;
  struct epoll_event events[256];
  char buf[4096];
  int listener;
  int ep;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      port = (unsigned short)atoi(argv[++i]);
    } else {
      fprintf(stderr, "usage: c_epoll_echo [--port N]\n");
      return 2;
    }
  }
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;  // no SA_RESTART: epoll_wait returns EINTR
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  listener = listen_on(port);
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (listener < 0 || ep < 0) {
    perror("c_epoll_echo");
    return 1;
  }
  ev.events = EPOLLIN;
  ev.data.fd = listener;
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);

  while (!stop_requested) {
    int n = epoll_wait(ep, events, 256, -1);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        int c;
        while ((c = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          ev.events = EPOLLIN;
          ev.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
        }
        continue;
      }
      ssize_t r = read(fd, buf, sizeof buf);
      if (r > 0) {
        // 64-byte messages always fit the socket buffer: the write does not block.
        if (write(fd, buf, (size_t)r) < 0 && errno != EAGAIN) {
          close(fd);
        }
      } else if (r == 0 || errno != EAGAIN) {
        close(fd);  // also removes it from the epoll set
      }
    }
  }
  close(ep);
  close(listener);
  return 0;
}
