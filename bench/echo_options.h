// SPDX-License-Identifier: BSL-1.0
/* What the comparison echo servers of bench/ share (bench/run, docs/performance.md): their command
   line, the options of bench/senet_echo_server,

     NAME [--port N] [--exit-after N] [--backend B]

   (--port: 127.0.0.1 port, default 0 = any free port; --exit-after: exit with status 0 once N
   connections have been served and closed, default 0 = never; --backend: accepted for the
   servers' common command line, but only the given value NAME's own backend is valid), the line
   "listening on port P" on stdout, SIGPIPE ignored, and a descriptor limit raised for 10,000
   connections.
   Header-only, C11 and C++. */
#ifndef SENET_BENCH_ECHO_OPTIONS_H
#define SENET_BENCH_ECHO_OPTIONS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

struct echo_options {
  unsigned short port;
  unsigned long long exit_after; /* 0: serve until a signal */
};

/* Parses argv into `o`; on a bad option prints a one-line error and the usage and exits with
   status 2. `backend` is the one value --backend may have ("epoll" or "uring"). */
static inline void echo_options_parse(int argc, char** argv, const char* name, const char* backend,
                                      struct echo_options* o) {
  o->port = 0;
  o->exit_after = 0;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    char* end = NULL;
    if (strcmp(arg, "--help") == 0) {
      printf("usage: %s [--port N] [--exit-after N] [--backend %s]\n", name, backend);
      exit(0);
    }
    if (value == NULL) {
      fprintf(stderr, "%s: %s\n", name, strncmp(arg, "--", 2) == 0 ? "missing value" : "unexpected argument");
    } else if (strcmp(arg, "--port") == 0) {
      unsigned long v = strtoul(value, &end, 10);
      if (*value != '\0' && *end == '\0' && v <= 65535) {
        o->port = (unsigned short)v;
        ++i;
        continue;
      }
      fprintf(stderr, "%s: --port wants 0..65535, not %s\n", name, value);
    } else if (strcmp(arg, "--exit-after") == 0) {
      unsigned long long v = strtoull(value, &end, 10);
      if (*value != '\0' && *end == '\0') {
        o->exit_after = v;
        ++i;
        continue;
      }
      fprintf(stderr, "%s: --exit-after wants a count, not %s\n", name, value);
    } else if (strcmp(arg, "--backend") == 0) {
      if (strcmp(value, backend) == 0) {
        ++i;
        continue;
      }
      fprintf(stderr, "%s: this server runs on %s only, not %s\n", name, backend, value);
    } else {
      fprintf(stderr, "%s: unknown option %s\n", name, arg);
    }
    fprintf(stderr, "usage: %s [--port N] [--exit-after N] [--backend %s]\n", name, backend);
    exit(2);
  }
  /* A peer that closes while its echo is being written gives EPIPE, which every loop handles by
     closing the connection, instead of SIGPIPE, which would end the server (senet-loadgen closes
     its connections at the end of each measurement, possibly with an echo on its way). */
  signal(SIGPIPE, SIG_IGN);
  /* 10,000 idle connections need more descriptors than the usual soft limit of 1,024. */
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

/* A listening TCP socket on 127.0.0.1:port (`flags`: SOCK_NONBLOCK or 0), after printing
   "listening on port P"; on failure prints why and exits with status 1. */
static inline int echo_listen(const char* name, unsigned short port, int flags) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
  int one = 1;
  struct sockaddr_in addr;
  socklen_t len = sizeof addr;
  if (fd < 0) {
    perror(name);
    exit(1);
  }
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(fd, 4096) != 0 ||
      getsockname(fd, (struct sockaddr*)&addr, &len) != 0) {
    perror(name);
    close(fd);
    exit(1);
  }
  printf("listening on port %u\n", (unsigned)ntohs(addr.sin_port));
  fflush(stdout);
  return fd;
}

/* Blocks SIGINT and SIGTERM and returns a signalfd that becomes readable when one arrives (for a
   loop that waits in io_uring_enter, where a handler's EINTR is not guaranteed, as under
   valgrind); on failure prints why and exits with status 1. */
static inline int echo_signalfd(const char* name) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &signals, NULL);
  int fd = signalfd(-1, &signals, SFD_CLOEXEC);
  if (fd < 0) {
    perror(name);
    exit(1);
  }
  return fd;
}

#endif /* SENET_BENCH_ECHO_OPTIONS_H */
