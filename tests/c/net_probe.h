/*
 * net_probe.h - a process that records every socket message it gets, for
 * the tests of <airs/net.h>: the test's thread opens sockets for it, then
 * waits for the messages it expects (probe_wait), in a threaded runtime or
 * polling a host-driven one. Needs check.h and helpers.h first.
 */
#ifndef AIRS_TESTS_NET_PROBE_H
#define AIRS_TESTS_NET_PROBE_H

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define PROBE_MAX 4096

typedef struct probe_msg {
  uint64_t type;
  uint64_t socket; /* the correlation id */
  size_t size;
  char data[256]; /* the first 256 bytes */
} probe_msg;

typedef struct probe {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  probe_msg msgs[PROBE_MAX];
  int count;          /* recorded */
  int taken;          /* consumed by probe_wait */
  size_t bytes;       /* AIRS_MSG_SOCK_DATA bytes in total */
  airs_runtime* host; /* host-driven: probe_wait polls it */
  char* stream;       /* optional: the DATA bytes in order, up to */
  size_t stream_cap;  /* stream_cap of them (set both before use) */
} probe;

static inline airs_status probe_receive(void* state, airs_ctx* ctx,
                                        const airs_msg* m) {
  probe* p = (probe*)state;
  probe_msg r;
  size_t n = airs_msg_size(m);
  (void)ctx;
  r.type = airs_msg_type(m);
  r.socket = airs_msg_correlation(m);
  r.size = n;
  if (n > 0) /* no data: airs_msg_data is NULL */
    memcpy(r.data, airs_msg_data(m), n < sizeof r.data ? n : sizeof r.data);
  pthread_mutex_lock(&p->mu);
  if (r.type == AIRS_MSG_SOCK_DATA) {
    if (p->stream && p->bytes < p->stream_cap)
      memcpy(p->stream + p->bytes, airs_msg_data(m),
             n < p->stream_cap - p->bytes ? n : p->stream_cap - p->bytes);
    p->bytes += n;
  }
  if (p->count < PROBE_MAX) p->msgs[p->count++] = r;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  return AIRS_OK;
}

static inline probe* probe_new(void) {
  probe* p = (probe*)calloc(1, sizeof(probe));
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  return p;
}

static inline void probe_free(probe* p) {
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p);
}

static inline airs_pid probe_spawn(airs_runtime* rt, probe* p) {
  airs_behaviour b;
  airs_pid pid = 0;
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = probe_receive; /* no init: the state is user_data */
  if (airs_spawn(rt, &b, p, NULL, NULL, &pid) != AIRS_OK) return 0;
  return pid;
}

/* probe_wait for the next unconsumed message of either type. */
static inline int probe_wait_either(probe* p, uint64_t type, uint64_t type2,
                                    int ms, probe_msg* out) {
  struct timespec end;
  int i;
  clock_gettime(CLOCK_REALTIME, &end);
  end.tv_sec += ms / 1000;
  end.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (end.tv_nsec >= 1000000000L) {
    end.tv_sec++;
    end.tv_nsec -= 1000000000L;
  }
  for (;;) {
    struct timespec now;
    pthread_mutex_lock(&p->mu);
    for (i = p->taken; i < p->count; i++) {
      if (p->msgs[i].type == type || p->msgs[i].type == type2) {
        if (out) *out = p->msgs[i];
        /* consumed: swap it to the taken prefix, keeping the rest's order */
        {
          probe_msg hit = p->msgs[i];
          memmove(&p->msgs[p->taken + 1], &p->msgs[p->taken],
                  (size_t)(i - p->taken) * sizeof(probe_msg));
          p->msgs[p->taken++] = hit;
        }
        pthread_mutex_unlock(&p->mu);
        return 1;
      }
    }
    if (p->host) {
      uint32_t ran;
      pthread_mutex_unlock(&p->mu);
      airs_runtime_poll(p->host, 1000, &ran);
      if (ran == 0) {
        struct timespec nap = {0, 200000};
        nanosleep(&nap, NULL);
      }
    } else {
      pthread_cond_timedwait(&p->cv, &p->mu, &end);
      pthread_mutex_unlock(&p->mu);
    }
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec > end.tv_sec ||
        (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
      return 0;
  }
}

/* Waits up to `ms` for the next unconsumed message of `type` (earlier
 * ones of other types are skipped over, not consumed); copies it to *out
 * (may be NULL). 1: found. */
static inline int probe_wait(probe* p, uint64_t type, int ms, probe_msg* out) {
  return probe_wait_either(p, type, type, ms, out);
}

/* Messages of `type` recorded so far, consumed or not. */
static inline int probe_count(probe* p, uint64_t type) {
  int i, n = 0;
  pthread_mutex_lock(&p->mu);
  for (i = 0; i < p->count; i++)
    if (p->msgs[i].type == type) n++;
  pthread_mutex_unlock(&p->mu);
  return n;
}

/* Threaded runtimes: waits (on the probe's condition, no polling) until
 * `n` messages of `type` have been recorded, or, for type 0, until `n`
 * DATA bytes have come. 1: they did. */
static inline int probe_wait_count(probe* p, uint64_t type, size_t n, int ms) {
  struct timespec end;
  int ok = 0, late = 0;
  clock_gettime(CLOCK_REALTIME, &end);
  end.tv_sec += ms / 1000;
  end.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (end.tv_nsec >= 1000000000L) {
    end.tv_sec++;
    end.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&p->mu);
  for (;;) {
    size_t have = 0;
    int i;
    if (type == 0) {
      have = p->bytes;
    } else {
      for (i = 0; i < p->count; i++)
        if (p->msgs[i].type == type) have++;
    }
    if (have >= n) {
      ok = 1;
      break;
    }
    if (late) break;
    late = pthread_cond_timedwait(&p->cv, &p->mu, &end) != 0;
  }
  pthread_mutex_unlock(&p->mu);
  return ok;
}

/* Waits until `n` DATA bytes in total have come. 1: they did. */
static inline int probe_wait_bytes(probe* p, size_t n, int ms) {
  int waited;
  for (waited = 0; waited < ms; waited++) {
    size_t have;
    pthread_mutex_lock(&p->mu);
    have = p->bytes;
    pthread_mutex_unlock(&p->mu);
    if (have >= n) return 1;
    if (p->host) {
      uint32_t ran;
      airs_runtime_poll(p->host, 1000, &ran);
    }
    {
      struct timespec nap = {0, 1000000};
      nanosleep(&nap, NULL);
    }
  }
  return 0;
}

static inline airs_addr loopback4(uint16_t port) {
  airs_addr a;
  memset(&a, 0, sizeof a);
  a.family = AIRS_AF_INET4;
  a.port = port;
  a.ip[0] = 127;
  a.ip[3] = 1;
  return a;
}

static inline airs_addr loopback6(uint16_t port) {
  airs_addr a;
  memset(&a, 0, sizeof a);
  a.family = AIRS_AF_INET6;
  a.port = port;
  a.ip[15] = 1;
  return a;
}

#endif /* AIRS_TESTS_NET_PROBE_H */
