/*
 * soak_storm - the soak of issue 20 item 8: actors stopped under a token
 * storm must end, memory must stay flat, and airs_runtime_free must keep
 * to its shutdown timeout.
 *
 *   soak_storm [SECONDS [ACTORS [TOKENS [random|ring]]]]
 *                               (defaults 20 s, 10000, 1000, random)
 *
 * The issue: "A 5-minute soak of 10,000 actors grew to 8.3 GB: stopped
 * actors never ended and their mailboxes kept filling, and
 * airs_runtime_free then took 42 s against a 5 s shutdown timeout." An
 * exit signal sent from a thread that is not a worker is outside work, and
 * a storm of local work used to starve it for good.
 *
 * The load is that of `airs-bench starve`: ACTORS actors, each
 * forwarding every token it gets at once to a random other actor (or to
 * the next one: ring), with about TOKENS tokens in flight, so the two
 * workers never run dry. Both shapes matter: with random, about TOKENS
 * actors are runnable, more than a worker's local queue holds; in a ring
 * the tokens bunch up and a worker's local queue holds all its work (the
 * shape that starved outside work for good before 6cf427f; random only
 * delayed it). The actors find each other through a shared array of
 * slots (one atomic pid each) rather than holding pids, so that a
 * replacement takes over its slot's traffic.
 *
 * Meanwhile a chaos thread (a plain thread, so every stop is outside work)
 * picks random slots at STOPS_PER_S, spawns a replacement into the slot,
 * and stops the old actor, one of four ways in turn: airs_stop,
 * airs_kill, airs_send_exit with an error, or, for an actor that traps
 * exits, airs_stop (which it must receive and ignore) and then airs_kill.
 * Tokens queued to or sent to a stopped actor become dead letters; the
 * dead-letter hook counts them and the chaos thread injects new ones to
 * keep TOKENS in flight. Main samples the RSS and the runtime's counters
 * once a second. At the end, with the storm still running, main frees the
 * runtime. The checks, each with its reason at its constant below:
 *
 *   stops:    every stopped actor ends within STOP_BOUND_MS of its stop
 *             (half of them within STOP_P50_MS), with the reason it was
 *             stopped with;
 *   rss:      after a warm-up, RSS does not keep growing;
 *   alive:    the live process count stays near ACTORS;
 *   free:     airs_runtime_free returns within the shutdown timeout plus
 *             FREE_MARGIN_MS, and every actor's user_data_free has run;
 *   load:     the storm kept running to the end (otherwise the checks
 *             above would pass on an idle runtime).
 *
 * Prints a line per second (at most 30 of them), one per check, a JSON
 * line with the numbers, and exits 0 only if every check passes.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep, sysconf */
#include <airs/airs.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long a stop may take to end its actor. airs.h bounds how long a
 * process made runnable from outside waits: behind the outside work
 * queued before it, each worker taking one such process every 61 turns.
 * Here that work is a few stops and at most INJECT_PER_TICK token
 * injections, so a stop should end its actor within milliseconds: it
 * does, p50 0.3 ms, p99 4 ms with random, 46 ms in a ring (130 ms under
 * ASan), on 2 busy cores. Every stop must end within STOP_BOUND_MS: 2 s,
 * 20 times the worst p99 seen, room for a CI machine that stalls the
 * process for a while, and `airs-bench starve`'s sample timeout. Half of
 * them must end within STOP_P50_MS, which a stall of the whole machine
 * does not move but a scheduler that leaves outside work behind does:
 * before 6cf427f, a ring here had p50 230 ms (p99 1.3 s, max 3.2 s). */
#define STOP_BOUND_MS 2000.0
#define STOP_P50_MS 20.0

/* Stops per second: 10,000 actors are all replaced every 20 s, a few
 * stops are under way at any time, and the chaos thread stays a small
 * share of one of the two cores. */
#define STOPS_PER_S 500.0

/* The chaos thread's tick: the resolution of the stop-to-end times. */
#define TICK_US 200

/* Most tokens sent in per tick. Stopping the holder of a bunch of tokens
 * in a ring loses a hundred at once; sending them all back in one go
 * would queue a hundred processes of outside work ahead of the next stop,
 * and measure this program rather than the runtime. */
#define INJECT_PER_TICK 16

#define WORKERS 2
#define SHUTDOWN_MS 5000

/* Why 1 s: free must wait the shutdown timeout (the actors that trap
 * exits ignore its `shutdown`, so it always waits the full 5 s), then kill
 * what is left and join its threads; killing 10,000 actors under the
 * storm is outside work like any other and should take milliseconds. */
#define FREE_MARGIN_MS 1000.0

/* RSS (see check_rss). The first WARMUP_SHARE of the run is left out:
 * the mailboxes, the allocators' pools and arenas and the process table
 * settle there. The rest is cut in halves; the second half's peak may
 * pass the first half's by RSS_SLACK_MB plus RSS_SLACK_SHARE of it.
 * Measured with 10,000 actors, the two peaks differ by 0.1-0.4 MB in
 * 15 s (8.3 and 8.4 MB; 26.4 and 26.8 MB under ASan) and in 300 s (8.4
 * and 8.5 MB after 150,000 stops): the slack is 5-10 times that noise.
 * The leak of the issue grew by 28 MB/s; a 10 s run fails from about
 * 0.6 MB/s (leaking 2 KB per stopped actor, 1 MB/s, failed: 13.1 then
 * 18.1 MB), a 300 s run from about 25 KB/s. Under ASan, keep runs short:
 * its quarantine of freed memory (256 MB) may fill slowly and look like
 * a leak. */
#define WARMUP_SHARE 0.2
#define RSS_SLACK_MB 2.0
#define RSS_SLACK_SHARE 0.10
#define RSS_MIN_SAMPLES 3 /* per half; fewer: the run is too short */

/* One actor in TRAP_EVERY traps exits: chaos must kill it after it
 * ignores a stop, and so must airs_runtime_free. */
#define TRAP_EVERY 4

enum { MSG_TOKEN = 1 };

typedef enum method {
  M_STOP,       /* airs_stop: a `shutdown` exit signal */
  M_KILL,       /* airs_kill */
  M_EXIT_ERROR, /* airs_send_exit(AIRS_EXIT_ERROR) */
  M_TRAP,       /* an actor that traps exits: airs_stop, ignored, then kill */
  M_COUNT
} method;

static const char* const method_name[M_COUNT] = {"stop", "kill", "exit_error",
                                                 "trap_kill"};

/* ---- Shared between the actors, the chaos thread and main. */

/* A slot holds the pid of its current actor. `ignored` is where an actor
 * that traps exits says it got (and ignored) a stop: it writes its own
 * pid, so that the chaos thread never reads the state of an actor that
 * may have ended. */
typedef struct slot {
  _Atomic airs_pid pid;
  _Atomic airs_pid ignored;
} slot;

typedef struct soak {
  airs_runtime* rt;
  slot* slots;
  long actors;
  long tokens;
  int ring;                   /* 1: to the next slot; 0: to a random one */
  atomic_llong injected;      /* tokens sent in from outside */
  atomic_llong tokens_lost;   /* tokens given to the dead-letter hook */
  atomic_llong dead_letters;  /* all dead letters, tokens or not */
  atomic_llong send_failures; /* forwards that failed but not as ENOPROC */
  atomic_llong wrong_reason;  /* actors that ended with another reason */
  atomic_long states;         /* actor states not yet freed */
  atomic_long stops;          /* stops issued by the chaos thread */
  atomic_int freeing;         /* set before airs_runtime_free */
  atomic_int quit;            /* tells the chaos thread to stop */
} soak;

static soak S;

/* An actor's state, its user_data: freed by user_data_free. */
typedef struct actor {
  long slot;
  uint64_t rng;
  int traps;
  _Atomic int expect; /* the exit kind chaos stopped it with; -1: none */
} actor;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

/* xorshift64: each actor and the chaos thread has its own generator. */
static uint64_t next_random(uint64_t* x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

static long rss_kb(void) {
  long pages = 0, resident = 0;
  FILE* f = fopen("/proc/self/statm", "r");
  if (!f) return 0;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  fclose(f);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---- The actors. */

static airs_status actor_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  actor* a = s;
  if (airs_msg_type(m) == AIRS_MSG_EXIT) {
    /* Only actors that trap exits get here: they ignore the stop. */
    atomic_store(&S.slots[a->slot].ignored, airs_self(ctx));
    return AIRS_OK;
  }
  if (airs_msg_type(m) != MSG_TOKEN) return AIRS_OK;
  long to = a->slot + 1;
  if (!S.ring) to += (long)(next_random(&a->rng) % (uint64_t)(S.actors - 1));
  to %= S.actors;
  airs_pid pid = atomic_load_explicit(&S.slots[to].pid, memory_order_relaxed);
  /* ENOPROC: the target was stopped, the token is a dead letter (the
   * hook counted it). Not a reason to end this actor. */
  airs_status st = airs_ctx_send(ctx, pid, MSG_TOKEN, NULL, 0);
  if (st != AIRS_OK && st != AIRS_ENOPROC)
    atomic_fetch_add(&S.send_failures, 1);
  return AIRS_OK;
}

/* Checks the reason against the way chaos stopped the actor. */
static void actor_terminate(void* s, airs_ctx* ctx, const airs_reason* r) {
  (void)ctx;
  actor* a = s;
  int expect = atomic_load(&a->expect);
  if (expect >= 0 && !atomic_load(&S.freeing) &&
      (int)airs_reason_kind(r) != expect)
    atomic_fetch_add(&S.wrong_reason, 1);
}

static void actor_free(void* s) {
  free(s);
  atomic_fetch_sub(&S.states, 1);
}

static void on_dead_letter(void* u, airs_pid to, const airs_msg* m,
                           airs_dead_letter_reason reason) {
  (void)u;
  (void)to;
  (void)reason;
  atomic_fetch_add_explicit(&S.dead_letters, 1, memory_order_relaxed);
  if (airs_msg_type(m) == MSG_TOKEN)
    atomic_fetch_add_explicit(&S.tokens_lost, 1, memory_order_relaxed);
}

/* Spawns the actor of slot `i` and gives its state to *state; 0 if the
 * spawn failed. */
static airs_pid spawn_actor(long i, int traps, uint64_t seed, actor** state) {
  actor* a = malloc(sizeof *a);
  if (!a) return AIRS_NO_PID;
  a->slot = i;
  a->rng = seed | 1;
  a->traps = traps;
  atomic_init(&a->expect, -1);
  atomic_fetch_add(&S.states, 1);
  airs_behaviour b = {AIRS_BEHAVIOUR_VERSION, sizeof b, NULL, actor_receive,
                      actor_terminate,        NULL,     NULL};
  airs_spawn_opts opts;
  airs_spawn_opts_init(S.rt, &opts);
  if (traps) opts.flags |= AIRS_SPAWN_TRAP_EXIT;
  airs_pid pid;
  /* user_data_free runs on failure too. */
  airs_status st = airs_spawn(S.rt, &b, a, actor_free, &opts, &pid);
  if (st != AIRS_OK) {
    fprintf(stderr, "soak_storm: spawn: %s (%s)\n", airs_strerror(st),
            airs_last_error_message());
    return AIRS_NO_PID;
  }
  *state = a;
  return pid;
}

/* Sends tokens in from outside until about S.tokens are in flight, at
 * most `most` of them. */
static void top_up_tokens(uint64_t* rng, long most) {
  long long in_flight = atomic_load(&S.injected) - atomic_load(&S.tokens_lost);
  for (long long k = in_flight; k < S.tokens && most-- > 0; k++) {
    long i = (long)(next_random(rng) % (uint64_t)S.actors);
    atomic_fetch_add(&S.injected, 1);
    /* ENOPROC (a stopped actor): the hook counted the token as lost. */
    airs_status st =
        airs_send(S.rt, atomic_load(&S.slots[i].pid), MSG_TOKEN, NULL, 0);
    if (st != AIRS_OK && st != AIRS_ENOPROC) {
      atomic_fetch_sub(&S.injected, 1);
      atomic_fetch_add(&S.send_failures, 1);
      break;
    }
  }
}

/* ---- Latencies, in a histogram rather than a list: the soak must not
 * grow by itself. Bucket b holds (EDGE^(b-1), EDGE^b] microseconds, so a
 * percentile is the top of its bucket, at most 5 % high; max is exact. */

#define HIST_EDGE 1.05
#define HIST_BUCKETS 400 /* 1.05^399 us: 3e8 us, beyond any bound here */

static double hist_top_us[HIST_BUCKETS];

static void hist_setup(void) {
  double top = 1;
  for (int b = 0; b < HIST_BUCKETS; b++, top *= HIST_EDGE) hist_top_us[b] = top;
}

typedef struct hist {
  long n;
  double max_ms;
  long count[HIST_BUCKETS];
} hist;

static void hist_add(hist* h, double ms) {
  int lo = 0, hi = HIST_BUCKETS - 1; /* the first bucket whose top >= us */
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (hist_top_us[mid] >= ms * 1e3)
      hi = mid;
    else
      lo = mid + 1;
  }
  h->count[lo]++;
  h->n++;
  if (ms > h->max_ms) h->max_ms = ms;
}

static void hist_merge(hist* into, const hist* h) {
  for (int b = 0; b < HIST_BUCKETS; b++) into->count[b] += h->count[b];
  into->n += h->n;
  if (h->max_ms > into->max_ms) into->max_ms = h->max_ms;
}

/* Nearest rank: the top of the bucket of the smallest sample with at
 * least p of them at or below it (capped by the max). */
static double percentile(const hist* h, double p) {
  long rank = (long)(p * (double)h->n), seen = 0;
  if ((double)rank < p * (double)h->n) rank++;
  if (rank < 1) rank = 1;
  for (int b = 0; b < HIST_BUCKETS; b++) {
    seen += h->count[b];
    if (seen >= rank) {
      double ms = hist_top_us[b] * 1e-3;
      return ms < h->max_ms ? ms : h->max_ms;
    }
  }
  return h->max_ms;
}

/* ---- The chaos thread. */

/* A stop under way: the old actor, until it is seen to end. */
typedef struct pending {
  airs_pid pid;
  long slot;
  method how;
  int killed;  /* M_TRAP: it ignored the stop, and the kill is sent */
  int overdue; /* counted once past STOP_BOUND_MS */
  double t0;   /* the stop call; M_TRAP: then the kill call */
} pending;

typedef struct chaos {
  uint64_t rng;
  actor** state; /* per slot: its actor's state (written before a stop) */
  char* asking;  /* per slot: an actor there was stopped and must ignore it */
  pending* p;
  long np, cap;
  long stops[M_COUNT];
  long spawn_failures;
  long stop_failures; /* a stop or kill call that did not return AIRS_OK */
  long overdue;       /* a stop (or kill) not seen to end in STOP_BOUND_MS */
  long trap_ended;    /* an actor that traps exits ended without a kill */
  hist end[M_COUNT];  /* stop (M_TRAP: kill) call to end, per method */
  hist ignored;       /* M_TRAP: stop call to "ignored" */
} chaos;

static void pending_add(chaos* c, pending p) {
  if (c->np == c->cap) {
    c->cap = c->cap ? 2 * c->cap : 256;
    c->p = realloc(c->p, sizeof *c->p * (size_t)c->cap);
    if (!c->p) abort();
  }
  c->p[c->np++] = p;
}

/* Stops the actor of a random slot, after spawning its replacement into
 * the slot: the slot always holds a pid, and the live count stays at
 * least ACTORS. */
static void stop_one(chaos* c) {
  /* Not a slot whose `ignored` is awaited: its next actor could overwrite
   * it before the chaos thread reads it. (Few are, unless stops hang:
   * then skip this one rather than look on and on.) */
  long i = 0;
  for (int tries = 0;; tries++) {
    if (tries == 8) return;
    i = (long)(next_random(&c->rng) % (uint64_t)S.actors);
    if (!c->asking[i]) break;
  }
  actor* fresh_state;
  int traps = next_random(&c->rng) % TRAP_EVERY == 0;
  airs_pid fresh = spawn_actor(i, traps, next_random(&c->rng), &fresh_state);
  if (!fresh) {
    c->spawn_failures++;
    return;
  }
  airs_pid old = atomic_exchange(&S.slots[i].pid, fresh);
  actor* old_state = c->state[i];
  c->state[i] = fresh_state;

  /* The others in turn; an actor that traps exits always gets M_TRAP. */
  method how = old_state->traps
                   ? M_TRAP
                   : (method)((c->stops[M_STOP] + c->stops[M_KILL] +
                               c->stops[M_EXIT_ERROR]) %
                              3);
  static const airs_exit_kind expect[M_COUNT] = {
      AIRS_EXIT_SHUTDOWN, AIRS_EXIT_KILLED, AIRS_EXIT_ERROR, AIRS_EXIT_KILLED};
  /* Nothing ends the old actor before the call below: its state is still
   * there to write (and never touched again after it). */
  atomic_store(&old_state->expect, (int)expect[how]);
  pending p = {old, i, how, 0, 0, now_ms()};
  airs_status st;
  switch (how) {
    case M_KILL: st = airs_kill(S.rt, old); break;
    case M_EXIT_ERROR:
      st = airs_send_exit(S.rt, old, AIRS_EXIT_ERROR, 42, "chaos");
      break;
    default: st = airs_stop(S.rt, old); break;
  }
  c->stops[how]++;
  atomic_fetch_add(&S.stops, 1);
  if (st != AIRS_OK) {
    c->stop_failures++;
    fprintf(stderr, "soak_storm: %s of slot %ld: %s (%s)\n", method_name[how],
            i, airs_strerror(st), airs_last_error_message());
    return;
  }
  if (how == M_TRAP) c->asking[i] = 1;
  pending_add(c, p);
}

/* Looks at every stop under way: records those whose actor has ended, and
 * kills the actors that trap exits once they say they ignored the stop. */
static void reap(chaos* c) {
  double t = now_ms();
  for (long k = 0; k < c->np;) {
    pending* p = &c->p[k];
    int alive = airs_is_alive(S.rt, p->pid);
    if (p->how == M_TRAP && !p->killed) {
      if (!alive) {
        c->trap_ended++; /* a stop must not end an actor that traps */
        c->asking[p->slot] = 0;
        *p = c->p[--c->np];
        continue;
      }
      if (atomic_load(&S.slots[p->slot].ignored) == p->pid) {
        hist_add(&c->ignored, t - p->t0);
        c->asking[p->slot] = 0;
        p->killed = 1;
        p->overdue = 0; /* the kill gets its own bound */
        p->t0 = now_ms();
        if (airs_kill(S.rt, p->pid) != AIRS_OK) c->stop_failures++;
      }
    } else if (!alive) {
      hist_add(&c->end[p->how], t - p->t0);
      *p = c->p[--c->np];
      continue;
    }
    if (!p->overdue && t - p->t0 > STOP_BOUND_MS) {
      p->overdue = 1;
      c->overdue++;
    }
    k++;
  }
}

/* STOPS_PER_S stops, spread over ticks; each tick also reaps and tops the
 * tokens up. Behind schedule (a slow machine), it skips stops rather than
 * bursting them. */
static void* chaos_main(void* arg) {
  chaos* c = arg;
  double start = now_ms();
  long issued = 0;
  while (!atomic_load(&S.quit)) {
    reap(c);
    long due = (long)((now_ms() - start) * STOPS_PER_S * 1e-3) - issued;
    if (due > 16) {
      issued += due - 16;
      due = 16;
    }
    for (; due > 0; due--, issued++) stop_one(c);
    top_up_tokens(&c->rng, INJECT_PER_TICK);
    sleep_us(TICK_US);
  }
  return NULL;
}

/* ---- Phases of main. */

typedef struct sample {
  double t_s;
  long rss_kb;
  airs_runtime_stats st;
  long long in_flight;
  long stops;
} sample;

static void runtime_start(void) {
  airs_config* cfg;
  if (airs_config_new(&cfg) != AIRS_OK ||
      airs_config_set(cfg, AIRS_CFG_WORKERS, WORKERS) != AIRS_OK ||
      airs_config_set(cfg, AIRS_CFG_SHUTDOWN_TIMEOUT_MS, SHUTDOWN_MS) !=
          AIRS_OK ||
      /* the storm crashes processes by the thousand: no report each */
      airs_config_set(cfg, AIRS_CFG_CRASH_REPORTS, 0) != AIRS_OK ||
      airs_runtime_new(cfg, &S.rt) != AIRS_OK ||
      airs_set_dead_letter_hook(S.rt, on_dead_letter, NULL) != AIRS_OK) {
    fprintf(stderr, "soak_storm: runtime: %s\n", airs_last_error_message());
    exit(1);
  }
  airs_config_free(cfg);
}

/* ACTORS actors (one in TRAP_EVERY trapping exits), then TOKENS tokens. */
static void load_start(chaos* c) {
  S.slots = calloc((size_t)S.actors, sizeof *S.slots);
  c->state = calloc((size_t)S.actors, sizeof *c->state);
  c->asking = calloc((size_t)S.actors, 1);
  if (!S.slots || !c->state || !c->asking) abort();
  for (long i = 0; i < S.actors; i++) {
    airs_pid pid =
        spawn_actor(i, i % TRAP_EVERY == 0,
                    0x9E3779B97F4A7C15ull * (uint64_t)(i + 1), &c->state[i]);
    if (!pid) exit(1);
    atomic_init(&S.slots[i].pid, pid);
    atomic_init(&S.slots[i].ignored, AIRS_NO_PID);
  }
  top_up_tokens(&c->rng, S.tokens);
}

static sample take_sample(double start) {
  sample s;
  memset(&s, 0, sizeof s);
  s.t_s = (now_ms() - start) * 1e-3;
  s.rss_kb = rss_kb();
  s.st.version = AIRS_RUNTIME_STATS_VERSION;
  s.st.size = sizeof s.st;
  airs_runtime_stats_get(S.rt, &s.st);
  s.in_flight = atomic_load(&S.injected) - atomic_load(&S.tokens_lost);
  s.stops = atomic_load(&S.stops);
  return s;
}

/* One sample a second for `seconds`; a line every `every` samples. */
static void soak_run(long seconds, sample* out) {
  long every = seconds > 30 ? (seconds + 29) / 30 : 1;
  double start = now_ms();
  out[0] = take_sample(start);
  for (long k = 1; k <= seconds; k++) {
    double due = start + 1e3 * (double)k, t = now_ms();
    if (due > t) sleep_us((long)((due - t) * 1e3));
    out[k] = take_sample(start);
    const sample* s = &out[k];
    if (k % every == 0 || k == seconds)
      printf(
          "t=%3lds rss=%6.1f MB alive=%llu delivered/s=%.0f in_flight=%lld "
          "stops=%ld dead_letters=%llu\n",
          k, (double)s->rss_kb / 1024,
          (unsigned long long)s->st.processes_alive,
          (double)(s->st.messages_delivered -
                   out[k - 1].st.messages_delivered) /
              (s->t_s - out[k - 1].t_s),
          s->in_flight, s->stops, (unsigned long long)s->st.dead_letters);
    fflush(stdout);
  }
}

/* Stops the chaos thread, then gives the stops under way their bound
 * (twice for an actor that traps exits: ignore, then kill) to end. What
 * is left never ended. */
static void chaos_stop(chaos* c, pthread_t thread) {
  atomic_store(&S.quit, 1);
  pthread_join(thread, NULL);
  double until = now_ms() + 2 * STOP_BOUND_MS;
  reap(c);
  while (c->np > 0 && now_ms() < until) {
    sleep_us(TICK_US);
    reap(c);
  }
}

/* airs_runtime_free with the storm still running. */
static double runtime_free_timed(void) {
  atomic_store(&S.freeing, 1);
  double t0 = now_ms();
  airs_runtime_free(S.rt);
  return now_ms() - t0;
}

/* ---- Checks. Each prints one line and returns 1 if it passed. */

static int verdict(int ok, const char* name) {
  printf("%s %s\n", ok ? "ok    " : "FAILED", name);
  return ok;
}

static int check_stops(chaos* c, hist* all) {
  long total = 0;
  for (int m = 0; m < M_COUNT; m++) {
    hist* h = &c->end[m];
    hist_merge(all, h);
    total += c->stops[m];
    printf(
        "  %-10s %6ld stops, %6ld seen to end: ms to end p50 %.2f p99 %.2f "
        "max %.2f\n",
        method_name[m], c->stops[m], h->n, percentile(h, 0.5),
        percentile(h, 0.99), h->max_ms);
  }
  printf(
      "  trap_kill: ms from the stop to its being ignored p50 %.2f p99 %.2f "
      "max %.2f\n",
      percentile(&c->ignored, 0.5), percentile(&c->ignored, 0.99),
      c->ignored.max_ms);
  long long wrong = atomic_load(&S.wrong_reason);
  printf(
      "  %ld stops, ms to end p50 %.2f (bound %.0f) p99 %.2f max %.2f (bound "
      "%.0f); %ld over the bound, %ld never ended, %ld stop calls failed, %ld "
      "spawns failed, %ld trapping actors ended by a stop, %lld ended with "
      "another reason\n",
      total, percentile(all, 0.5), STOP_P50_MS, percentile(all, 0.99),
      all->max_ms, STOP_BOUND_MS, c->overdue, c->np, c->stop_failures,
      c->spawn_failures, c->trap_ended, wrong);
  return verdict(total > 0 && percentile(all, 0.5) <= STOP_P50_MS &&
                     c->overdue == 0 && c->np == 0 && c->stop_failures == 0 &&
                     c->spawn_failures == 0 && c->trap_ended == 0 && wrong == 0,
                 "stops: every stopped actor ended within the bound, with "
                 "its reason");
}

/* RSS over the run after the warm-up, cut in halves: the second half's
 * peak must stay within the first half's plus the slack. A leak that grows
 * steadily shows as a gap between the peaks; comparing peaks rather than
 * single samples ignores the allocator's ups and downs within a half. */
static int check_rss(const sample* s, long n, double* first_mb,
                     double* second_mb) {
  long from = (long)((double)n * WARMUP_SHARE + 0.5);
  if (from < 1) from = 1;
  long mid = from + (n - from) / 2;
  long first = 0, second = 0;
  for (long k = from; k < mid; k++)
    if (s[k].rss_kb > first) first = s[k].rss_kb;
  for (long k = mid; k < n; k++)
    if (s[k].rss_kb > second) second = s[k].rss_kb;
  *first_mb = (double)first / 1024;
  *second_mb = (double)second / 1024;
  double allowed = *first_mb * (1 + RSS_SLACK_SHARE) + RSS_SLACK_MB;
  printf(
      "  rss: start %.1f MB, peak %.1f MB in s %ld..%ld, %.1f MB in s "
      "%ld..%ld (allowed %.1f), end %.1f MB\n",
      (double)s[0].rss_kb / 1024, *first_mb, from, mid - 1, *second_mb, mid,
      n - 1, allowed, (double)s[n - 1].rss_kb / 1024);
  if (mid - from < RSS_MIN_SAMPLES || n - mid < RSS_MIN_SAMPLES) {
    printf("skip   rss: the run is too short to tell growth from warm-up\n");
    return 1;
  }
  return verdict(*second_mb <= allowed, "rss: no growth after the warm-up");
}

/* Every stop spawns the replacement first and each stop may legitimately
 * take up to STOP_BOUND_MS: ACTORS + STOPS_PER_S * STOP_BOUND_MS/1000
 * processes at most. Stopped actors that never end pass that within
 * seconds. */
static int check_alive(const sample* s, long n, uint64_t* lo, uint64_t* hi) {
  uint64_t slack = (uint64_t)(STOPS_PER_S * STOP_BOUND_MS * 1e-3);
  *lo = UINT64_MAX;
  *hi = 0;
  for (long k = 1; k < n; k++) {
    if (s[k].st.processes_alive < *lo) *lo = s[k].st.processes_alive;
    if (s[k].st.processes_alive > *hi) *hi = s[k].st.processes_alive;
  }
  printf("  alive: min %llu max %llu (allowed %ld..%llu)\n",
         (unsigned long long)*lo, (unsigned long long)*hi, S.actors,
         (unsigned long long)S.actors + slack);
  return verdict(*lo >= (uint64_t)S.actors && *hi <= (uint64_t)S.actors + slack,
                 "alive: the live process count stays near ACTORS");
}

/* The storm must have run the whole time: no second without a delivered
 * message, and tokens still in flight at the end. */
static int check_load(const sample* s, long n, double* per_s) {
  long stalls = 0;
  for (long k = 1; k < n; k++)
    if (s[k].st.messages_delivered == s[k - 1].st.messages_delivered) stalls++;
  *per_s =
      (double)(s[n - 1].st.messages_delivered - s[0].st.messages_delivered) /
      (s[n - 1].t_s - s[0].t_s);
  printf(
      "  load: %.0f messages delivered/s, %ld seconds without one, %lld "
      "tokens in flight at the end, %lld dead letters, %lld failed sends\n",
      *per_s, stalls, s[n - 1].in_flight, atomic_load(&S.dead_letters),
      atomic_load(&S.send_failures));
  return verdict(stalls == 0 && s[n - 1].in_flight >= S.tokens / 2 &&
                     atomic_load(&S.send_failures) == 0,
                 "load: the storm kept running");
}

static int check_free(double free_ms) {
  long states = atomic_load(&S.states);
  printf(
      "  free: %.0f ms with the storm running (allowed %d + %.0f); %ld actor "
      "states left\n",
      free_ms, SHUTDOWN_MS, FREE_MARGIN_MS, states);
  return verdict(free_ms <= SHUTDOWN_MS + FREE_MARGIN_MS && states == 0,
                 "free: within the shutdown timeout, every actor freed");
}

static void usage(void) {
  fprintf(stderr,
          "usage: soak_storm [SECONDS [ACTORS [TOKENS [random|ring]]]]\n");
  exit(2);
}

static long arg(int argc, char** argv, int i, long dflt, long min) {
  long v = i < argc ? atol(argv[i]) : dflt;
  if (v < min) usage();
  return v;
}

int main(int argc, char** argv) {
  long seconds = arg(argc, argv, 1, 20, 1);
  S.actors = arg(argc, argv, 2, 10000, 2);
  S.tokens = arg(argc, argv, 3, 1000, 1);
  const char* pattern = argc > 4 ? argv[4] : "random";
  S.ring = strcmp(pattern, "ring") == 0;
  if (!S.ring && strcmp(pattern, "random") != 0) usage();
  printf(
      "soak_storm: %ld s, %ld actors, %ld tokens (%s), %d workers, %.0f "
      "stops/s, shutdown timeout %d ms\n",
      seconds, S.actors, S.tokens, pattern, WORKERS, STOPS_PER_S, SHUTDOWN_MS);

  static chaos c;
  hist_setup();
  c.rng = 0x2545F4914F6CDD1Dull;
  runtime_start();
  load_start(&c);
  pthread_t thread;
  if (pthread_create(&thread, NULL, chaos_main, &c) != 0) {
    fprintf(stderr, "soak_storm: pthread_create failed\n");
    return 1;
  }
  sample* s = calloc((size_t)seconds + 1, sizeof *s);
  if (!s) abort();
  soak_run(seconds, s);
  chaos_stop(&c, thread);
  double free_ms = runtime_free_timed();
  long rss_after_free = rss_kb();

  static hist all;
  double first_mb, second_mb, per_s;
  uint64_t lo, hi;
  int ok = check_stops(&c, &all);
  ok &= check_rss(s, seconds + 1, &first_mb, &second_mb);
  ok &= check_alive(s, seconds + 1, &lo, &hi);
  ok &= check_load(s, seconds + 1, &per_s);
  ok &= check_free(free_ms);

  long total = 0;
  for (int m = 0; m < M_COUNT; m++) total += c.stops[m];
  printf(
      "{\"test\":\"soak_storm\",\"seconds\":%ld,\"actors\":%ld,\"tokens\":%ld,"
      "\"pattern\":\"%s\",\"workers\":%d,\"stops\":%ld,\"stop_end_ms_p50\":%."
      "3f,"
      "\"stop_end_ms_p99\":%.3f,\"stop_end_ms_max\":%.3f,\"overdue\":%ld,"
      "\"never_ended\":%ld,\"rss_mb_start\":%.1f,\"rss_mb_first_half\":%.1f,"
      "\"rss_mb_second_half\":%.1f,\"rss_mb_after_free\":%.1f,"
      "\"alive_min\":%llu,\"alive_max\":%llu,\"delivered_per_s\":%.0f,"
      "\"dead_letters\":%lld,\"free_ms\":%.1f,\"pass\":%s}\n",
      seconds, S.actors, S.tokens, pattern, WORKERS, total,
      percentile(&all, 0.5), percentile(&all, 0.99), all.max_ms, c.overdue,
      c.np, (double)s[0].rss_kb / 1024, first_mb, second_mb,
      (double)rss_after_free / 1024, (unsigned long long)lo,
      (unsigned long long)hi, per_s, atomic_load(&S.dead_letters), free_ms,
      ok ? "true" : "false");
  printf("soak_storm: %s\n", ok ? "PASS" : "FAILED");

  free(c.p);
  free(c.state);
  free(c.asking);
  free(S.slots);
  free(s);
  return ok ? 0 : 1;
}
