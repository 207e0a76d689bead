// SPDX-License-Identifier: BSL-1.0
/* senet-loadgen: the load generator of the echo benchmarks (bench/run, docs/performance.md).

   Plain epoll, one thread, closed loop: a connection sends its next message only once the echo of
   the previous one came back, so what it measures is the server's round trip, not a queue. Every
   echoed byte is checked against what was sent. Run `senet-loadgen --help` for the options; the
   modes are

   - ping-pong: N connections, one S-byte message in flight on each; round trips per second and
     the latency percentiles (from the send to the last byte of the echo);
   - bulk: N connections, each keeping up to --window bytes of S-byte writes in flight; GB/s of
     echoed bytes;
   - idle: N connections, each doing one round trip (so that the server has accepted it and waits
     in a receive) and then held idle; the server's resident memory per connection;
   - soak: N connections of mixed traffic for T seconds (bench/soak, docs/reliability.md): each
     connection runs one episode after another, drawn from a generator seeded by --seed: ping-pong
     of 1 to 65,536-byte messages, bursts of up to 1 MiB, idle pauses, and endings that make it
     reconnect: a half close (the server must echo everything, then close), a reset (SO_LINGER 0,
     sometimes with bytes still in flight) and an abandoned connection (closed with its echo still
     to come). With --server-pid the server's descriptors are counted before the first connection
     and after the last one is closed (they must be equal) and its resident memory is read a
     quarter into the run and at the end (it must stay flat: growth at most 1 MiB + 10 %).

   With --server-pid the server's cost is read from the kernel during the measured interval only:
   CPU time (/proc/PID/task/TID/schedstat, nanoseconds, split into user and system by the ticks of
   /proc/PID/stat), system calls (the raw_syscalls:sys_enter tracepoint through perf_event_open, one
   counter per thread of the server) and, where the CPU's counters are available, user-space
   instructions (PERF_COUNT_HW_INSTRUCTIONS; virtual machines often have none, which is reported,
   not fatal). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PATTERN_PERIOD 251u /* a prime, so that a shifted or repeated chunk does not compare equal */
#define MAX_SIZE (1u << 20)
#define MAX_CONNECTIONS 60000
#define MAX_THREADS 256

static const char usage_text[] =
    "usage: senet-loadgen --port P [options]\n"
    "\n"
    "Drives an echo server on 127.0.0.1 (closed loop, plain epoll, one thread) and reports what it\n"
    "measured on one line of key=value pairs, or as a JSON object with --json.\n"
    "\n"
    "  --port P           the server's port (required)\n"
    "  --mode M           ping-pong (default), bulk, idle or soak\n"
    "  --connections N    connections (default 64; 1 for bulk), at most 60000\n"
    "  --size S           bytes per message (ping-pong: 64) or per write (bulk: 65536), at most 1 MiB\n"
    "  --seconds T        length of the measured interval (default 1; idle: how long to hold)\n"
    "  --warmup T         seconds of load before the measured interval (default 0.2)\n"
    "  --round-trips R    ping-pong: instead of timing, R round trips per connection, then stop\n"
    "  --window B         bulk: bytes in flight per connection (default 4 x size)\n"
    "  --seed S           soak: the seed of the episodes drawn (default 1)\n"
    "  --server-pid PID   also report the server's CPU time, system calls and (where the CPU\n"
    "                     counts them) instructions per round trip, or its memory for idle;\n"
    "                     soak: check that its descriptors and memory stay flat\n"
    "  --json             print a JSON object instead of key=value pairs\n"
    "  --help             print this text\n"
    "\n"
    "Exit status: 0 on success, 1 if the server failed (a refused or closed connection, a wrong\n"
    "echo; soak: a descriptor or memory kept), 2 for a bad option.\n";

enum mode { ping_pong, bulk, idle, soak };

struct conn {
  int fd;
  unsigned long long sent;     /* bytes sent */
  unsigned long long received; /* bytes received (checked) */
  unsigned long long done;     /* round trips completed */
  unsigned long long target;   /* ping-pong: the value of sent once the message in flight is out */
  struct timespec started;     /* when the message in flight was sent */
  int want_out;                /* EPOLLOUT requested */
};

struct options {
  unsigned short port;
  enum mode mode;
  long connections;
  size_t size;
  double seconds;
  double warmup;
  long round_trips;
  size_t window;
  long server_pid;
  unsigned long seed;
  int json;
};

/* ---- small helpers ---- */

static char* pattern; /* PATTERN_PERIOD + MAX_SIZE bytes: byte k of every stream is pattern[k % period] */
static char* scratch;

static void fail(const char* what) {
  fprintf(stderr, "senet-loadgen: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long elapsed_ns(const struct timespec* from, const struct timespec* to) {
  return (long long)(to->tv_sec - from->tv_sec) * 1000000000LL + (to->tv_nsec - from->tv_nsec);
}

static int parse_long(const char* s, long min, long max, long* out) {
  char* end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
    return -1;
  }
  *out = v;
  return 0;
}

static int parse_double(const char* s, double min, double max, double* out) {
  char* end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max)) {
    return -1;
  }
  *out = v;
  return 0;
}

static void bad_option(const char* message, const char* arg) {
  fprintf(stderr, "senet-loadgen: %s%s%s\n%s", message, arg ? ": " : "", arg ? arg : "", usage_text);
  exit(2);
}

static void parse_options(int argc, char** argv, struct options* o) {
  long port = 0;
  long size = 0;
  long window = 0;
  long connections = 0;
  memset(o, 0, sizeof *o);
  o->mode = ping_pong;
  o->seconds = 1;
  o->warmup = 0.2;
  o->server_pid = 0;
  o->seed = 1;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      fputs(usage_text, stdout);
      exit(0);
    }
    if (strcmp(arg, "--json") == 0) {
      o->json = 1;
      continue;
    }
    if (strncmp(arg, "--", 2) != 0) {
      bad_option("unexpected argument", arg);
    }
    if (value == NULL) {
      bad_option("missing value for", arg);
    }
    ++i;
    if (strcmp(arg, "--port") == 0) {
      if (parse_long(value, 1, 65535, &port) != 0) {
        bad_option("--port wants 1..65535, not", value);
      }
    } else if (strcmp(arg, "--mode") == 0) {
      if (strcmp(value, "ping-pong") == 0) {
        o->mode = ping_pong;
      } else if (strcmp(value, "bulk") == 0) {
        o->mode = bulk;
      } else if (strcmp(value, "idle") == 0) {
        o->mode = idle;
      } else if (strcmp(value, "soak") == 0) {
        o->mode = soak;
      } else {
        bad_option("--mode wants ping-pong, bulk, idle or soak, not", value);
      }
    } else if (strcmp(arg, "--connections") == 0) {
      if (parse_long(value, 1, MAX_CONNECTIONS, &connections) != 0) {
        bad_option("--connections wants 1..60000, not", value);
      }
    } else if (strcmp(arg, "--size") == 0) {
      if (parse_long(value, 1, MAX_SIZE, &size) != 0) {
        bad_option("--size wants 1..1048576, not", value);
      }
    } else if (strcmp(arg, "--seconds") == 0) {
      if (parse_double(value, 0.001, 3600, &o->seconds) != 0) {
        bad_option("--seconds wants 0.001..3600, not", value);
      }
    } else if (strcmp(arg, "--warmup") == 0) {
      if (parse_double(value, 0, 3600, &o->warmup) != 0) {
        bad_option("--warmup wants 0..3600, not", value);
      }
    } else if (strcmp(arg, "--round-trips") == 0) {
      if (parse_long(value, 1, 1000000000L, &o->round_trips) != 0) {
        bad_option("--round-trips wants a positive count, not", value);
      }
    } else if (strcmp(arg, "--window") == 0) {
      if (parse_long(value, 1, 64L << 20, &window) != 0) {
        bad_option("--window wants 1..67108864 bytes, not", value);
      }
    } else if (strcmp(arg, "--seed") == 0) {
      long seed = 0;
      if (parse_long(value, 0, 2147483647L, &seed) != 0) {
        bad_option("--seed wants 0..2147483647, not", value);
      }
      o->seed = (unsigned long)seed;
    } else if (strcmp(arg, "--server-pid") == 0) {
      if (parse_long(value, 1, 1L << 30, &o->server_pid) != 0) {
        bad_option("--server-pid wants a process id, not", value);
      }
    } else {
      bad_option("unknown option", arg);
    }
  }
  if (port == 0) {
    bad_option("--port is required", NULL);
  }
  if (o->round_trips != 0 && o->mode != ping_pong) {
    bad_option("--round-trips is for --mode ping-pong", NULL);
  }
  if (window != 0 && o->mode != bulk) {
    bad_option("--window is for --mode bulk", NULL);
  }
  o->port = (unsigned short)port;
  if (size != 0 && o->mode == soak) {
    bad_option("--size is not for --mode soak (its episodes draw their sizes)", NULL);
  }
  o->connections = connections != 0 ? connections : (o->mode == bulk ? 1 : o->mode == soak ? 32 : 64);
  o->size = size != 0 ? (size_t)size : (o->mode == bulk ? 65536u : 64u);
  o->window = window != 0 ? (size_t)window : 4 * o->size;
  if (o->window < o->size) {
    bad_option("--window must be at least --size", NULL);
  }
}

/* ---- the server's cost, from the kernel ---- */

struct server_probe {
  long pid;
  int threads;
  int syscall_fds[MAX_THREADS];
  int instruction_fds[MAX_THREADS];
  int syscalls_ok;
  int instructions_ok;
  const char* instructions_why;
};

struct server_sample {
  unsigned long long cpu_ns;     /* schedstat: time on a CPU, all threads */
  unsigned long long user_ticks; /* /proc/PID/stat utime */
  unsigned long long system_ticks;
  unsigned long long syscalls;
  unsigned long long instructions;
};

static long perf_open(struct perf_event_attr* attr, pid_t tid) {
  return syscall(SYS_perf_event_open, attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static int tracepoint_id(const char* event) {
  static const char* roots[] = {"/sys/kernel/tracing/events/", "/sys/kernel/debug/tracing/events/"};
  for (size_t i = 0; i < sizeof roots / sizeof roots[0]; ++i) {
    char path[256];
    snprintf(path, sizeof path, "%s%s/id", roots[i], event);
    FILE* f = fopen(path, "r");
    if (f != NULL) {
      int id = -1;
      if (fscanf(f, "%d", &id) != 1) {
        id = -1;
      }
      fclose(f);
      if (id >= 0) {
        return id;
      }
    }
  }
  return -1;
}

/* Opens the counters on every thread the server has now (threads started later are not counted:
   the servers measured here start theirs before they listen). */
static void probe_open(struct server_probe* p, long pid) {
  char path[64];
  memset(p, 0, sizeof *p);
  p->pid = pid;
  p->syscalls_ok = 1;
  p->instructions_ok = 1;
  snprintf(path, sizeof path, "/proc/%ld/task", pid);
  DIR* dir = opendir(path);
  if (dir == NULL) {
    fprintf(stderr, "senet-loadgen: no process %ld (%s)\n", pid, strerror(errno));
    exit(1);
  }
  int sys_enter = tracepoint_id("raw_syscalls/sys_enter");
  if (sys_enter < 0) {
    p->syscalls_ok = 0;
  }
  struct dirent* entry;
  while ((entry = readdir(dir)) != NULL && p->threads < MAX_THREADS) {
    if (entry->d_name[0] == '.') {
      continue;
    }
    pid_t tid = (pid_t)atol(entry->d_name);
    int k = p->threads++;
    p->syscall_fds[k] = -1;
    p->instruction_fds[k] = -1;
    struct perf_event_attr attr;
    if (p->syscalls_ok) {
      memset(&attr, 0, sizeof attr);
      attr.size = sizeof attr;
      attr.type = PERF_TYPE_TRACEPOINT;
      attr.config = (unsigned long long)sys_enter;
      attr.disabled = 1;
      p->syscall_fds[k] = (int)perf_open(&attr, tid);
      if (p->syscall_fds[k] < 0) {
        p->syscalls_ok = 0;
      }
    }
    if (p->instructions_ok) {
      memset(&attr, 0, sizeof attr);
      attr.size = sizeof attr;
      attr.type = PERF_TYPE_HARDWARE;
      attr.config = PERF_COUNT_HW_INSTRUCTIONS;
      attr.exclude_kernel = 1;
      attr.exclude_hv = 1;
      attr.disabled = 1;
      p->instruction_fds[k] = (int)perf_open(&attr, tid);
      if (p->instruction_fds[k] < 0) {
        p->instructions_ok = 0;
        p->instructions_why = errno == ENOENT || errno == EOPNOTSUPP ? "not supported by this CPU"
                              : errno == EACCES || errno == EPERM    ? "not permitted"
                                                                     : "perf_event_open failed";
      }
    }
  }
  closedir(dir);
  for (int k = 0; k < p->threads; ++k) {
    if (p->syscall_fds[k] >= 0 && p->syscalls_ok) {
      ioctl(p->syscall_fds[k], PERF_EVENT_IOC_ENABLE, 0);
    }
    if (p->instruction_fds[k] >= 0 && p->instructions_ok) {
      ioctl(p->instruction_fds[k], PERF_EVENT_IOC_ENABLE, 0);
    }
  }
}

static void probe_close(struct server_probe* p) {
  for (int k = 0; k < p->threads; ++k) {
    if (p->syscall_fds[k] >= 0) {
      close(p->syscall_fds[k]);
    }
    if (p->instruction_fds[k] >= 0) {
      close(p->instruction_fds[k]);
    }
  }
}

static unsigned long long read_counter(int fd) {
  unsigned long long v = 0;
  if (fd < 0 || read(fd, &v, sizeof v) != (ssize_t)sizeof v) {
    return 0;
  }
  return v;
}

static void probe_sample(const struct server_probe* p, struct server_sample* s) {
  char path[128];
  memset(s, 0, sizeof *s);
  snprintf(path, sizeof path, "/proc/%ld/stat", p->pid);
  FILE* f = fopen(path, "r");
  if (f != NULL) {
    char line[1024];
    if (fgets(line, sizeof line, f) != NULL) {
      /* Fields after the command (which may hold spaces), from field 3 on: utime is field 14. */
      char* rest = strrchr(line, ')');
      unsigned long long utime = 0;
      unsigned long long stime = 0;
      if (rest != NULL &&
          sscanf(rest + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) == 2) {
        s->user_ticks = utime;
        s->system_ticks = stime;
      }
    }
    fclose(f);
  }
  snprintf(path, sizeof path, "/proc/%ld/task", p->pid);
  DIR* dir = opendir(path);
  if (dir != NULL) {
    struct dirent* entry;
    while ((entry = readdir(dir)) != NULL) {
      if (entry->d_name[0] == '.') {
        continue;
      }
      char file[320];
      snprintf(file, sizeof file, "/proc/%ld/task/%s/schedstat", p->pid, entry->d_name);
      FILE* t = fopen(file, "r");
      if (t != NULL) {
        unsigned long long ns = 0;
        if (fscanf(t, "%llu", &ns) == 1) {
          s->cpu_ns += ns;
        }
        fclose(t);
      }
    }
    closedir(dir);
  }
  for (int k = 0; k < p->threads; ++k) {
    if (p->syscalls_ok) {
      s->syscalls += read_counter(p->syscall_fds[k]);
    }
    if (p->instructions_ok) {
      s->instructions += read_counter(p->instruction_fds[k]);
    }
  }
}

static long rss_kib(long pid) {
  char path[64];
  char line[256];
  long kib = -1;
  snprintf(path, sizeof path, "/proc/%ld/status", pid);
  FILE* f = fopen(path, "r");
  if (f == NULL) {
    return -1;
  }
  while (fgets(line, sizeof line, f) != NULL) {
    if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) {
      break;
    }
  }
  fclose(f);
  return kib;
}

/* ---- connections ---- */

static int connect_to(unsigned short port) {
  struct sockaddr_in addr;
  int one = 1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fail("socket");
  }
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) {
    fprintf(stderr, "senet-loadgen: connect to 127.0.0.1:%u: %s\n", (unsigned)port, strerror(errno));
    exit(1);
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* Sends up to n bytes of the connection's stream without blocking; returns how many went. */
static size_t send_some(struct conn* c, size_t n) {
  size_t total = 0;
  while (total < n) {
    size_t chunk = n - total;
    ssize_t r = send(c->fd, pattern + c->sent % PATTERN_PERIOD, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN) {
        break;
      }
      fail("send");
    }
    c->sent += (unsigned long long)r;
    total += (size_t)r;
  }
  return total;
}

/* Receives up to `limit` bytes of what is there and checks them: the bytes received, 0 when nothing
   was there, -1 at the end of the stream. */
static long receive_checked(struct conn* c, size_t limit) {
  ssize_t r;
  if (limit == 0) {
    limit = 1; /* nothing is expected: a byte that comes is a wrong echo, an end is an end */
  }
  if (limit > MAX_SIZE) {
    limit = MAX_SIZE;
  }
  do {
    r = recv(c->fd, scratch, limit, MSG_DONTWAIT);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == EAGAIN) {
      return 0;
    }
    fail("receive");
  }
  if (r == 0) {
    return -1;
  }
  if ((unsigned long long)r > c->sent - c->received ||
      memcmp(scratch, pattern + c->received % PATTERN_PERIOD, (size_t)r) != 0) {
    fprintf(stderr, "senet-loadgen: wrong echo (byte %llu of a connection)\n", c->received);
    exit(1);
  }
  c->received += (unsigned long long)r;
  return (long)r;
}

/* Receives what is there and checks it; returns the bytes received, 0 when nothing was there. */
static size_t receive_some(struct conn* c, size_t limit) {
  long r = receive_checked(c, limit);
  if (r < 0) {
    fprintf(stderr, "senet-loadgen: the server closed a connection\n");
    exit(1);
  }
  return (size_t)r;
}

static void set_interest(int ep, struct conn* c, int want_out) {
  if (c->want_out == want_out) {
    return;
  }
  struct epoll_event ev;
  ev.events = EPOLLIN | (want_out ? EPOLLOUT : 0);
  ev.data.ptr = c;
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  c->want_out = want_out;
}

/* ---- latency samples ---- */

struct samples {
  unsigned* ns; /* round trip times, capped at ~4.29 s */
  size_t count;
  size_t capacity;
};

static void sample_add(struct samples* s, long long ns) {
  if (s->count == s->capacity) {
    s->capacity = s->capacity ? 2 * s->capacity : 1u << 16;
    s->ns = realloc(s->ns, s->capacity * sizeof *s->ns);
    if (s->ns == NULL) {
      fail("memory for latency samples");
    }
  }
  s->ns[s->count++] = ns > 0xffffffffLL ? 0xffffffffu : (unsigned)ns;
}

static int compare_unsigned(const void* a, const void* b) {
  unsigned x = *(const unsigned*)a;
  unsigned y = *(const unsigned*)b;
  return x < y ? -1 : x > y;
}

static double percentile_us(const struct samples* s, double q) {
  if (s->count == 0) {
    return 0;
  }
  size_t i = (size_t)(q * (double)(s->count - 1) + 0.5);
  return s->ns[i] / 1e3;
}

/* ---- output ---- */

struct report {
  const struct options* o;
  double seconds;
  unsigned long long round_trips;
  unsigned long long bytes;
  struct samples* latencies;
  int have_server;
  const struct server_probe* probe;
  struct server_sample before;
  struct server_sample after;
  long rss_before_kib;
  long rss_after_kib;
  /* soak */
  unsigned long long opened, bursts, pauses, half_closes, resets, abandoned;
  unsigned long long opened_after_warm; /* connections opened after the memory's first reading */
  long fds_before, fds_after;
};

static void print_field(int json, int* first, const char* key, const char* fmt, double v) {
  char value[64];
  snprintf(value, sizeof value, fmt, v);
  if (json) {
    printf("%s\"%s\": %s", *first ? "{" : ", ", key, value);
  } else {
    printf("%s%s=%s", *first ? "" : " ", key, value);
  }
  *first = 0;
}

static void print_text(int json, int* first, const char* key, const char* value) {
  if (json) {
    if (value == NULL) {
      printf("%s\"%s\": null", *first ? "{" : ", ", key);
    } else {
      printf("%s\"%s\": \"%s\"", *first ? "{" : ", ", key, value);
    }
  } else {
    printf("%s%s=%s", *first ? "" : " ", key, value == NULL ? "n/a" : value);
  }
  *first = 0;
}

static void print_report(const struct report* r) {
  const struct options* o = r->o;
  int json = o->json;
  int first = 1;
  static const char* mode_names[] = {"ping-pong", "bulk", "idle", "soak"};
  print_text(json, &first, "mode", mode_names[o->mode]);
  print_field(json, &first, "connections", "%.0f", (double)o->connections);
  if (o->mode == soak) {
    print_field(json, &first, "seconds", "%.3f", r->seconds);
    print_field(json, &first, "seed", "%.0f", (double)o->seed);
    print_field(json, &first, "connections_opened", "%.0f", (double)r->opened);
    print_field(json, &first, "round_trips", "%.0f", (double)r->round_trips);
    print_field(json, &first, "bytes", "%.0f", (double)r->bytes);
    print_field(json, &first, "bursts", "%.0f", (double)r->bursts);
    print_field(json, &first, "pauses", "%.0f", (double)r->pauses);
    print_field(json, &first, "half_closes", "%.0f", (double)r->half_closes);
    print_field(json, &first, "resets", "%.0f", (double)r->resets);
    print_field(json, &first, "abandoned", "%.0f", (double)r->abandoned);
    if (r->have_server) {
      print_field(json, &first, "server_fds_before", "%.0f", (double)r->fds_before);
      print_field(json, &first, "server_fds_after", "%.0f", (double)r->fds_after);
      print_field(json, &first, "server_rss_warm_kib", "%.0f", (double)r->rss_before_kib);
      print_field(json, &first, "server_rss_end_kib", "%.0f", (double)r->rss_after_kib);
      print_field(json, &first, "server_rss_growth_kib", "%.0f",
                  (double)(r->rss_after_kib - r->rss_before_kib));
      print_field(json, &first, "connections_after_warm", "%.0f", (double)r->opened_after_warm);
    }
    printf(json ? "}\n" : "\n");
    return;
  }
  print_field(json, &first, "size", "%.0f", (double)o->size);
  if (o->mode == idle) {
    print_field(json, &first, "seconds", "%.3f", r->seconds);
    if (r->have_server) {
      double per = (double)(r->rss_after_kib - r->rss_before_kib) * 1024.0 / (double)o->connections;
      print_field(json, &first, "server_rss_before_kib", "%.0f", (double)r->rss_before_kib);
      print_field(json, &first, "server_rss_after_kib", "%.0f", (double)r->rss_after_kib);
      print_field(json, &first, "server_bytes_per_connection", "%.0f", per);
    }
    printf(json ? "}\n" : "\n");
    return;
  }
  double units; /* round trips, or MB for bulk */
  print_field(json, &first, "seconds", "%.3f", r->seconds);
  if (o->mode == ping_pong) {
    units = (double)r->round_trips;
    print_field(json, &first, "round_trips", "%.0f", units);
    print_field(json, &first, "round_trips_per_second", "%.0f", units / r->seconds);
    qsort(r->latencies->ns, r->latencies->count, sizeof *r->latencies->ns, compare_unsigned);
    print_field(json, &first, "p50_us", "%.2f", percentile_us(r->latencies, 0.50));
    print_field(json, &first, "p90_us", "%.2f", percentile_us(r->latencies, 0.90));
    print_field(json, &first, "p99_us", "%.2f", percentile_us(r->latencies, 0.99));
  } else {
    units = (double)r->bytes / 1e6;
    print_field(json, &first, "bytes", "%.0f", (double)r->bytes);
    print_field(json, &first, "gb_per_second", "%.3f", (double)r->bytes / 1e9 / r->seconds);
  }
  if (r->have_server && units > 0) {
    const char* per = o->mode == ping_pong ? "round_trip" : "mb";
    char key[64];
    double cpu_ns = (double)(r->after.cpu_ns - r->before.cpu_ns);
    double user_ticks = (double)(r->after.user_ticks - r->before.user_ticks);
    double system_ticks = (double)(r->after.system_ticks - r->before.system_ticks);
    double user_share = user_ticks + system_ticks > 0 ? user_ticks / (user_ticks + system_ticks) : 0;
    snprintf(key, sizeof key, "server_cpu_us_per_%s", per);
    print_field(json, &first, key, "%.3f", cpu_ns / 1e3 / units);
    snprintf(key, sizeof key, "server_user_share");
    print_field(json, &first, key, "%.3f", user_share);
    print_field(json, &first, "server_cpu_load", "%.3f", cpu_ns / 1e9 / r->seconds);
    snprintf(key, sizeof key, "server_syscalls_per_%s", per);
    if (r->probe->syscalls_ok) {
      print_field(json, &first, key, "%.3f", (double)(r->after.syscalls - r->before.syscalls) / units);
    } else {
      print_text(json, &first, key, NULL);
    }
    snprintf(key, sizeof key, "server_instructions_per_%s", per);
    if (r->probe->instructions_ok) {
      print_field(json, &first, key, "%.0f",
                  (double)(r->after.instructions - r->before.instructions) / units);
    } else {
      print_text(json, &first, key, NULL);
      print_text(json, &first, "server_instructions_note", r->probe->instructions_why);
    }
  }
  printf(json ? "}\n" : "\n");
}

/* ---- the modes ---- */

/* Opens the connections and does one round trip of `size` bytes on each (all messages first, then
   the echoes), so that the server has accepted every connection and waits in a receive before
   anything is measured: a connection still in the server's listen backlog would otherwise add the
   kernel's handshake retransmission (a second or more) to the first round trips. */
static void open_connections(const struct options* o, struct conn* conns, size_t size) {
  for (long i = 0; i < o->connections; ++i) {
    conns[i].fd = connect_to(o->port);
  }
  for (long i = 0; i < o->connections; ++i) {
    if (send_some(&conns[i], size) < size) {
      fprintf(stderr, "senet-loadgen: a %zu-byte message did not fit an empty socket buffer\n", size);
      exit(1);
    }
  }
  double deadline = now_seconds() + 30;
  for (long i = 0; i < o->connections; ++i) {
    struct conn* c = &conns[i];
    while (c->received < c->sent) {
      if (receive_some(c, c->sent - c->received) == 0) {
        if (now_seconds() > deadline) {
          fprintf(stderr, "senet-loadgen: connection %ld had no echo within 30 s\n", i);
          exit(1);
        }
        usleep(100);
      }
    }
  }
}

static void run_idle(const struct options* o, struct conn* conns, struct report* r) {
  r->have_server = o->server_pid != 0;
  if (r->have_server) {
    r->rss_before_kib = rss_kib(o->server_pid);
  }
  open_connections(o, conns, o->size);
  double start = now_seconds();
  struct timespec pause = {(time_t)o->seconds, (long)((o->seconds - (double)(time_t)o->seconds) * 1e9)};
  nanosleep(&pause, NULL);
  if (r->have_server) {
    r->rss_after_kib = rss_kib(o->server_pid);
  }
  r->seconds = now_seconds() - start;
}

static void run_load(const struct options* o, struct conn* conns, struct report* r,
                     struct server_probe* probe) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    fail("epoll_create1");
  }
  open_connections(o, conns, 1);
  for (long i = 0; i < o->connections; ++i) {
    struct epoll_event ev;
    ev.events = EPOLLIN;
    ev.data.ptr = &conns[i];
    if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) != 0) {
      fail("epoll_ctl");
    }
  }
  struct samples* latencies = r->latencies;
  const int counted = o->round_trips != 0;
  const unsigned long long window = o->mode == bulk ? o->window : o->size;
  long active = o->connections;
  int measuring = counted || o->warmup == 0;
  double start = now_seconds();
  double measure_start = start;
  double end = counted ? start + 3600 : start + o->warmup + o->seconds;
  if (measuring && r->have_server) {
    probe_sample(probe, &r->before);
  }
  for (long i = 0; i < o->connections; ++i) {
    clock_gettime(CLOCK_MONOTONIC, &conns[i].started);
    conns[i].target = conns[i].sent + o->size;
    if (send_some(&conns[i], o->size) < o->size) {
      set_interest(ep, &conns[i], 1);
    }
  }
  struct epoll_event events[256];
  unsigned long long bytes_at_start = (unsigned long long)o->connections; /* the bytes of open_connections */
  for (;;) {
    double now = now_seconds();
    if (!measuring && now >= start + o->warmup) {
      measuring = 1;
      measure_start = now;
      r->round_trips = 0;
      latencies->count = 0;
      bytes_at_start = 0;
      for (long i = 0; i < o->connections; ++i) {
        bytes_at_start += conns[i].received;
      }
      if (r->have_server) {
        probe_sample(probe, &r->before);
      }
    }
    if (now >= end || active == 0) {
      break;
    }
    int n = epoll_wait(ep, events, 256, 10);
    if (n < 0 && errno != EINTR) {
      fail("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      struct conn* c = events[i].data.ptr;
      if (o->mode == ping_pong) {
        if (c->sent < c->target) {
          /* The rest of a message that did not fit the socket buffer at once. */
          send_some(c, c->target - c->sent);
          set_interest(ep, c, c->sent < c->target);
        }
        if (receive_some(c, c->sent - c->received) == 0 || c->received < c->target) {
          continue;
        }
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        sample_add(latencies, elapsed_ns(&c->started, &t));
        ++c->done;
        ++r->round_trips;
        if (counted && c->done == (unsigned long long)o->round_trips) {
          epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
          --active;
          continue;
        }
        c->started = t;
        c->target = c->sent + o->size;
        if (send_some(c, o->size) < o->size) {
          set_interest(ep, c, 1);
        }
      } else {
        if (events[i].events & EPOLLIN) {
          while (receive_some(c, c->sent - c->received < MAX_SIZE ? c->sent - c->received : MAX_SIZE) > 0) {
          }
        }
        unsigned long long in_flight = c->sent - c->received;
        if (in_flight + o->size <= window) {
          /* Whole writes only, as a program writing S-byte blocks would. */
          size_t room = (size_t)((window - in_flight) / o->size * o->size);
          size_t went = send_some(c, room);
          set_interest(ep, c, went < room);
        } else {
          set_interest(ep, c, 0);
        }
      }
    }
  }
  r->seconds = now_seconds() - measure_start;
  if (r->have_server) {
    probe_sample(probe, &r->after);
  }
  for (long i = 0; i < o->connections; ++i) {
    r->bytes += conns[i].received;
  }
  r->bytes -= bytes_at_start;
  if (counted && active != 0) {
    fprintf(stderr, "senet-loadgen: %ld connection(s) did not finish their round trips within an hour\n",
            active);
    exit(1);
  }
  close(ep);
}

/* ---- soak ---- */

enum episode { episode_ping_pong, episode_burst, episode_pause, episode_half_close };

struct soak_conn {
  struct conn c;
  enum episode episode;
  long rounds;                  /* ping-pong: round trips still to do after the one in flight */
  size_t size;                  /* ping-pong: the message size */
  unsigned long long burst_end; /* burst: the value of c.sent once the burst is out */
  double until;                 /* pause: its end; otherwise the deadline of the next progress */
};

#define SOAK_WINDOW (256u << 10) /* a burst's bytes in flight */
#define SOAK_PATIENCE 10.0       /* seconds without progress before the server counts as stuck */

static unsigned long long soak_random_state;

/* xorshift64*: the same episodes for the same --seed. */
static unsigned long draw(unsigned long n) {
  soak_random_state ^= soak_random_state >> 12;
  soak_random_state ^= soak_random_state << 25;
  soak_random_state ^= soak_random_state >> 27;
  return (unsigned long)((soak_random_state * 2685821657736338717ULL) >> 33) % n;
}

static long count_fds(long pid) {
  char path[64];
  long n = 0;
  snprintf(path, sizeof path, "/proc/%ld/fd", pid);
  DIR* dir = opendir(path);
  if (dir == NULL) {
    fprintf(stderr, "senet-loadgen: cannot read %s: %s\n", path, strerror(errno));
    exit(1);
  }
  struct dirent* entry;
  while ((entry = readdir(dir)) != NULL) {
    n += entry->d_name[0] != '.';
  }
  closedir(dir);
  return n;
}

static void soak_close(int ep, struct soak_conn* s, int reset, struct report* r) {
  if (reset) {
    struct linger linger = {1, 0};
    setsockopt(s->c.fd, SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
  }
  epoll_ctl(ep, EPOLL_CTL_DEL, s->c.fd, NULL);
  close(s->c.fd);
  r->bytes += s->c.received;
}

/* Sends what the episode in flight has still to send, within its window. */
static void soak_pump(int ep, struct soak_conn* s) {
  struct conn* c = &s->c;
  unsigned long long end = s->episode == episode_burst ? s->burst_end : c->target;
  unsigned long long limit = s->episode == episode_burst ? c->received + SOAK_WINDOW : end;
  if (limit > end) {
    limit = end;
  }
  if (c->sent < limit) {
    send_some(c, (size_t)(limit - c->sent));
  }
  set_interest(ep, c, c->sent < limit);
}

/* Opens a new connection in `s` (its episode still to be drawn) and watches it for input. */
static void soak_connect(int ep, struct soak_conn* s, const struct options* o, struct report* r) {
  memset(s, 0, sizeof *s);
  s->c.fd = connect_to(o->port);
  struct epoll_event ev;
  ev.events = EPOLLIN;
  ev.data.ptr = s;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, s->c.fd, &ev) != 0) {
    fail("epoll_ctl");
  }
  ++r->opened;
}

/* Starts the connection's next episode; an ending (reset, abandon) reconnects and draws again. */
static void soak_next(int ep, struct soak_conn* s, const struct options* o, struct report* r, double now) {
  for (;;) {
    struct conn* c = &s->c;
    unsigned long k = draw(100);
    s->until = now + SOAK_PATIENCE;
    if (k < 50) {
      s->episode = episode_ping_pong;
      s->rounds = (long)draw(32);
      s->size = draw(4) == 0 ? 1 + draw(65536) : 1 + draw(512);
      c->target = c->sent + s->size;
      soak_pump(ep, s);
      return;
    }
    if (k < 65) {
      s->episode = episode_burst;
      s->burst_end = c->sent + 65536 + draw((1u << 20) - 65536 + 1);
      soak_pump(ep, s);
      return;
    }
    if (k < 75) {
      s->episode = episode_pause;
      s->until = now + (double)(5 + draw(96)) / 1000.0;
      set_interest(ep, c, 0);
      return;
    }
    if (k < 85) {
      /* The server must echo what it has, see the end, and close. */
      s->episode = episode_half_close;
      set_interest(ep, c, 0);
      if (shutdown(c->fd, SHUT_WR) != 0) {
        fail("shutdown");
      }
      return;
    }
    if (k < 93) {
      /* A reset, sometimes with bytes in flight to the server. */
      if (draw(2) != 0) {
        send_some(c, 1 + draw(65536));
      }
      soak_close(ep, s, 1, r);
      ++r->resets;
    } else {
      /* Abandoned: closed with an echo still to come, which the kernel answers with a reset. */
      send_some(c, 1 + draw(4096));
      soak_close(ep, s, 0, r);
      ++r->abandoned;
    }
    soak_connect(ep, s, o, r);
  }
}

static void soak_open(int ep, struct soak_conn* s, const struct options* o, struct report* r, double now) {
  soak_connect(ep, s, o, r);
  soak_next(ep, s, o, r, now);
}

/* What came on a soak connection: checks it and moves its episode on. */
static void soak_event(int ep, struct soak_conn* s, const struct options* o, struct report* r, double now) {
  struct conn* c = &s->c;
  long got;
  int progress = 0;
  while ((got = receive_checked(c, c->sent - c->received)) > 0) {
    progress = 1;
  }
  if (got < 0) {
    if (s->episode != episode_half_close) {
      fprintf(stderr, "senet-loadgen: the server closed a connection that had not ended its side\n");
      exit(1);
    }
    if (c->received != c->sent) {
      fprintf(stderr,
              "senet-loadgen: the server closed a half-closed connection with %llu bytes not echoed\n",
              c->sent - c->received);
      exit(1);
    }
    ++r->half_closes;
    soak_close(ep, s, 0, r);
    soak_open(ep, s, o, r, now);
    return;
  }
  if (progress) {
    s->until = now + SOAK_PATIENCE;
  }
  switch (s->episode) {
    case episode_ping_pong:
      if (c->received < c->target) {
        soak_pump(ep, s);
        return;
      }
      ++r->round_trips;
      if (s->rounds-- > 0) {
        c->target = c->sent + s->size;
        soak_pump(ep, s);
      } else {
        soak_next(ep, s, o, r, now);
      }
      return;
    case episode_burst:
      if (c->received < s->burst_end) {
        soak_pump(ep, s);
        return;
      }
      ++r->bursts;
      soak_next(ep, s, o, r, now);
      return;
    case episode_pause:
    case episode_half_close:
      return;
  }
}

static void run_soak(const struct options* o, struct report* r) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    fail("epoll_create1");
  }
  struct soak_conn* conns = calloc((size_t)o->connections, sizeof *conns);
  if (conns == NULL) {
    fail("memory");
  }
  soak_random_state = 0x9e3779b97f4a7c15ULL ^ ((unsigned long long)o->seed << 1 | 1);
  r->have_server = o->server_pid != 0;
  if (r->have_server) {
    r->fds_before = count_fds(o->server_pid);
  }
  double start = now_seconds();
  double warm_at = start + o->seconds / 4;
  double end = start + o->seconds;
  int warm = 0;
  for (long i = 0; i < o->connections; ++i) {
    soak_open(ep, &conns[i], o, r, start);
  }
  struct epoll_event events[256];
  for (;;) {
    double now = now_seconds();
    if (now >= end) {
      break;
    }
    if (!warm && now >= warm_at) {
      warm = 1;
      r->opened_after_warm = r->opened;
      if (r->have_server) {
        r->rss_before_kib = rss_kib(o->server_pid);
      }
    }
    int n = epoll_wait(ep, events, 256, 5);
    if (n < 0 && errno != EINTR) {
      fail("epoll_wait");
    }
    now = now_seconds();
    for (int i = 0; i < n; ++i) {
      soak_event(ep, events[i].data.ptr, o, r, now);
    }
    for (long i = 0; i < o->connections; ++i) {
      struct soak_conn* s = &conns[i];
      if (now < s->until) {
        continue;
      }
      if (s->episode == episode_pause) {
        ++r->pauses;
        soak_next(ep, s, o, r, now);
        continue;
      }
      fprintf(stderr, "senet-loadgen: a connection made no progress for %.0f s (%s)\n", SOAK_PATIENCE,
              s->episode == episode_half_close ? "the server did not close after the client's half close"
                                               : "no echo");
      exit(1);
    }
  }
  r->seconds = now_seconds() - start;
  r->opened_after_warm = r->opened - r->opened_after_warm;
  if (r->have_server) {
    r->rss_after_kib = rss_kib(o->server_pid);
  }
  for (long i = 0; i < o->connections; ++i) {
    soak_close(ep, &conns[i], 0, r);
  }
  close(ep);
  free(conns);
  if (!r->have_server) {
    return;
  }
  /* The server sees every end within moments; give it SOAK_PATIENCE seconds. */
  double deadline = now_seconds() + SOAK_PATIENCE;
  while ((r->fds_after = count_fds(o->server_pid)) != r->fds_before && now_seconds() < deadline) {
    usleep(10000);
  }
  long growth = r->rss_after_kib - r->rss_before_kib;
  long allowed = 1024 + r->rss_before_kib / 10;
  int failed = 0;
  if (r->fds_after != r->fds_before) {
    fprintf(stderr, "senet-loadgen: the server holds %ld descriptors after the soak, %ld before it\n",
            r->fds_after, r->fds_before);
    failed = 1;
  }
  if (growth > allowed) {
    fprintf(
        stderr,
        "senet-loadgen: the server's resident memory grew by %ld KiB (from %ld KiB) over %llu connections, "
        "more than the %ld KiB allowed\n",
        growth, r->rss_before_kib, r->opened_after_warm, allowed);
    failed = 1;
  }
  if (failed) {
    print_report(r);
    exit(1);
  }
}

int main(int argc, char** argv) {
  struct options o;
  struct report r;
  struct server_probe probe;
  struct samples latencies = {NULL, 0, 0};
  parse_options(argc, argv, &o);

  /* 10,000 connections need more descriptors than the usual soft limit of 1,024. */
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < (rlim_t)o.connections + 64) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    if ((rlim_t)o.connections + 64 > limit.rlim_cur) {
      fprintf(stderr, "senet-loadgen: %ld connections need more descriptors than the limit of %llu\n",
              o.connections, (unsigned long long)limit.rlim_cur);
      return 1;
    }
  }
  pattern = malloc(PATTERN_PERIOD + MAX_SIZE + o.window);
  scratch = malloc(MAX_SIZE);
  struct conn* conns = calloc((size_t)o.connections, sizeof *conns);
  if (pattern == NULL || scratch == NULL || conns == NULL) {
    fail("memory");
  }
  for (size_t i = 0; i < PATTERN_PERIOD + MAX_SIZE + o.window; ++i) {
    pattern[i] = (char)(' ' + i % PATTERN_PERIOD % 95);
  }
  memset(&r, 0, sizeof r);
  r.o = &o;
  r.latencies = &latencies;
  r.probe = &probe;
  r.have_server = o.server_pid != 0;
  if (o.mode == soak) {
    run_soak(&o, &r);
    print_report(&r);
    free(conns);
    free(scratch);
    free(pattern);
    return 0;
  }
  if (o.mode == idle) {
    run_idle(&o, conns, &r);
  } else {
    if (r.have_server) {
      probe_open(&probe, o.server_pid);
    }
    run_load(&o, conns, &r, &probe);
    if (r.have_server) {
      probe_close(&probe);
    }
  }
  print_report(&r);
  fflush(stdout);
  for (long i = 0; i < o.connections; ++i) {
    close(conns[i].fd);
  }
  free(latencies.ns);
  free(conns);
  free(scratch);
  free(pattern);
  return 0;
}
