// SPDX-License-Identifier: BSL-1.0
/* A minimal epoll echo server in C: the baseline that senet's epoll backend is compared with
   (docs/benchmarks.md). One thread, level-triggered epoll, read then write back on the same pass.

     c_epoll_echo [--port N] [--exit-after N] [--backend epoll]

   Listens on 127.0.0.1 port N (default 0: any free port), prints "listening on port P" and serves
   until SIGINT or SIGTERM or until N connections have been served and closed, then exits with
   status 0. */
#define _GNU_SOURCE
#include "echo_options.h"

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

int main(int argc, char** argv) {
  struct echo_options options;
  unsigned long long served = 0;
  struct sigaction sa;
  struct epoll_event ev;
  struct epoll_event events[256];
  char buf[4096];
  int listener;
  int ep;
  echo_options_parse(argc, argv, "c_epoll_echo", "epoll", &options);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;  // no SA_RESTART: epoll_wait returns EINTR
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  listener = echo_listen("c_epoll_echo", options.port, SOCK_NONBLOCK);
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    perror("c_epoll_echo");
    return 1;
  }
  ev.events = EPOLLIN;
  ev.data.fd = listener;
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);

  while (!stop_requested && (options.exit_after == 0 || served < options.exit_after)) {
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
          ++served;
        }
      } else if (r == 0 || errno != EAGAIN) {
        close(fd);  // also removes it from the epoll set
        ++served;
      }
    }
  }
  close(ep);
  close(listener);
  return 0;
}
