/*
 * host_loop - a host-driven runtime inside an event loop of the host's
 * own: a plain poll(2) loop in main.
 *
 * A runtime made with AIRS_CFG_WORKERS = 0 starts no thread: its
 * processes run only when the host calls airs_runtime_poll. A host that
 * has an event loop already (libuv, asyncio, a GUI toolkit, or poll(2) as
 * here) adds the runtime's wake-up fd (airs_runtime_fd) to it, and polls
 * the runtime whenever that fd is readable. The loop watches three fds:
 *   - the runtime's wake-up fd;
 *   - a timerfd: the host's own periodic work (a tick every TICK_MS);
 *   - a pipe that another thread (the "feeder") writes to: some other
 *     event source of the host.
 * poll(2) gets no timeout: the loop sleeps until one of them is readable.
 *
 * The demo goes through four steps and checks each:
 *   a. a send from another thread wakes the loop at once: the feeder
 *      stamps each message with the time it sent it, and the actor prints
 *      how long the loop took to wake, and to run it;
 *   b. an airs_send_after timer makes the fd readable when it is due, and
 *      not before;
 *   c. a TCP echo between two actors over 127.0.0.1 runs entirely on the
 *      host thread: accept, connect, reads and writes all happen inside
 *      airs_runtime_poll (the process has no other thread then);
 *   d. with nothing due, the loop sleeps: it wakes only for its own ticks.
 * At the end it prints the loop's iterations by what woke them. It exits
 * 0 when every step did what it should.
 *
 * Run: ./build/examples/host_loop (Linux: timerfd; loopback only).
 */
#define _GNU_SOURCE /* pipe2, timerfd */

#include <airs/airs.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum {
  MSG_STAMP = 1, /* feeder -> clock: double, when it was sent (ms) */
  MSG_TIMER = 2  /* host -> clock, after TIMER_MS */
};

#define TICK_MS 100     /* the host's own periodic work */
#define FEEDS 5         /* stamped sends from the feeder thread */
#define WAKE_MAX_MS 100 /* "at once": a loaded machine may take that long */
#define TIMER_MS 200
#define ECHOS 20    /* round trips of the TCP echo */
#define IDLE_MS 350 /* step d */
#define BUDGET 64   /* process turns per airs_runtime_poll */

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* ---- what the loop and the actors share ---------------------------------
 * Every actor runs on the host thread, inside airs_runtime_poll, so they
 * share this with main without a lock: that is the point of host-driven
 * mode. Only the feeder thread stays out of it. */

static struct {
  pthread_t host_thread;
  int callbacks, off_thread; /* callbacks run, and how many elsewhere */
  double runtime_woke;       /* when poll(2) last said the fd is readable */
  /* a */
  int stamps;
  double wake_max, run_max;
  /* b */
  double timer_ran;
  /* c */
  uint16_t echo_port;
  int echo_done, echo_ok, echoes;
  double rtt_sum;
} demo;

/* Every callback starts here: counts itself, and checks its thread. */
static void on_host_thread(void) {
  demo.callbacks++;
  if (!pthread_equal(pthread_self(), demo.host_thread)) demo.off_thread++;
}

/* ---- the clock: steps a and b -------------------------------------------
 * It measures, from inside the runtime, when its messages arrive. */

static airs_status clock_receive(void* state, airs_ctx* ctx,
                                 const airs_msg* msg) {
  (void)state;
  (void)ctx;
  on_host_thread();
  double now = now_ms();
  switch (airs_msg_type(msg)) {
    case MSG_STAMP: {
      double sent;
      memcpy(&sent, airs_msg_data(msg), sizeof sent);
      double woke = demo.runtime_woke - sent, ran = now - sent;
      demo.stamps++;
      if (woke < 0) {
        /* The send came while the loop was awake for other work, between
         * its wake-up and its poll of the runtime: that poll ran it. */
        printf(
            "  a. send %d from the feeder: the loop was awake; the actor "
            "ran %.3f ms after it\n",
            demo.stamps, ran);
      } else {
        printf(
            "  a. send %d from the feeder: the loop woke %.3f ms after "
            "it, the actor ran %.3f ms after it\n",
            demo.stamps, woke, ran);
        if (woke > demo.wake_max) demo.wake_max = woke;
      }
      if (ran > demo.run_max) demo.run_max = ran;
      return AIRS_OK;
    }
    case MSG_TIMER: demo.timer_ran = now; return AIRS_OK;
    default: return AIRS_OK;
  }
}

static const airs_behaviour clock_behaviour = {
    .version = AIRS_BEHAVIOUR_VERSION,
    .size = sizeof(airs_behaviour),
    .receive = clock_receive};

/* ---- the feeder thread: another event source ----------------------------
 * Writes a byte to the pipe (an event of the host's own), then, a little
 * later, sends the clock a message stamped with the time; FEEDS times.
 * A 'q' says it is done. */

typedef struct feeder_arg {
  airs_runtime* rt;
  airs_pid clock;
  int pipe_w;
} feeder_arg;

static void nap_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

static void* feeder(void* p) {
  feeder_arg* f = p;
  for (int i = 0; i < FEEDS; i++) {
    nap_ms(30);
    if (write(f->pipe_w, "p", 1) != 1) break;
    nap_ms(30);
    double sent = now_ms();
    airs_send(f->rt, f->clock, MSG_STAMP, &sent, sizeof sent);
  }
  if (write(f->pipe_w, "q", 1) != 1) perror("write");
  return NULL;
}

/* ---- step c: a TCP echo on the host thread ------------------------------
 * The server owns the listener and the one connection it accepts, and
 * echoes; the client sends ECHOS messages one at a time, checks each
 * echo, then half-closes; the server ends at EOF, which closes its side,
 * and the client reads EOF. */

typedef struct server {
  airs_socket listener, conn;
} server;

static airs_status server_init(void* user_data, airs_ctx* ctx, void** state) {
  (void)user_data;
  on_host_thread();
  airs_runtime* rt = airs_ctx_runtime(ctx);
  server* s = calloc(1, sizeof *s);
  if (!s) return AIRS_ENOMEM;
  airs_addr any, bound;
  airs_socket_opts o;
  airs_addr_parse("127.0.0.1:0", &any);
  airs_socket_opts_init(&o);
  o.active = 1; /* accept one connection */
  airs_status st = airs_tcp_listen(rt, airs_self(ctx), &any, &o, &s->listener);
  if (st == AIRS_OK) st = airs_socket_addr(rt, s->listener, &bound, NULL);
  if (st != AIRS_OK) {
    if (s->listener) airs_socket_close(rt, s->listener);
    free(s);
    return st;
  }
  demo.echo_port = bound.port;
  *state = s;
  return AIRS_OK;
}

static airs_status server_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  server* s = state;
  airs_runtime* rt = airs_ctx_runtime(ctx);
  on_host_thread();
  switch (airs_msg_type(msg)) {
    case AIRS_MSG_SOCK_ACCEPTED: {
      airs_sock_accepted acc;
      memcpy(&acc, airs_msg_data(msg), sizeof acc);
      s->conn = acc.socket;
      /* The listener has done its job. */
      airs_socket_close(rt, s->listener);
      return airs_socket_set_active(rt, s->conn, AIRS_ACTIVE_ALWAYS);
    }
    case AIRS_MSG_SOCK_DATA:
      return airs_socket_send(rt, s->conn, airs_msg_data(msg),
                              airs_msg_size(msg), 0);
    case AIRS_MSG_SOCK_EOF:
    case AIRS_MSG_SOCK_ERROR:
      /* Its end closes the connection: the client reads EOF. Nothing is
       * left to send: the client half-closes only once the last echo has
       * come back. */
      return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
    default: return AIRS_OK;
  }
}

static void server_terminate(void* state, airs_ctx* ctx,
                             const airs_reason* reason) {
  (void)ctx;
  (void)reason;
  free(state);
}

static const airs_behaviour server_behaviour = {AIRS_BEHAVIOUR_VERSION,
                                                sizeof(airs_behaviour),
                                                server_init,
                                                server_receive,
                                                server_terminate,
                                                NULL,
                                                NULL};

typedef struct client {
  airs_socket sock;
  int n;         /* the message being echoed, 1..ECHOS */
  char want[32]; /* its text */
  size_t len, have;
  double sent;
} client;

static airs_status client_init(void* user_data, airs_ctx* ctx, void** state) {
  (void)user_data;
  on_host_thread();
  client* c = calloc(1, sizeof *c);
  if (!c) return AIRS_ENOMEM;
  airs_addr to;
  airs_addr_parse("127.0.0.1:0", &to);
  to.port = demo.echo_port;
  airs_status st = airs_tcp_connect(airs_ctx_runtime(ctx), airs_self(ctx), &to,
                                    2000, NULL, &c->sock);
  if (st != AIRS_OK) {
    free(c);
    return st;
  }
  *state = c;
  return AIRS_OK;
}

static airs_status client_send_next(airs_ctx* ctx, client* c) {
  c->n++;
  c->len = (size_t)snprintf(c->want, sizeof c->want, "echo %d\n", c->n);
  c->have = 0;
  c->sent = now_ms();
  return airs_socket_send(airs_ctx_runtime(ctx), c->sock, c->want, c->len, 0);
}

static airs_status client_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  client* c = state;
  airs_runtime* rt = airs_ctx_runtime(ctx);
  on_host_thread();
  switch (airs_msg_type(msg)) {
    case AIRS_MSG_SOCK_CONNECTED: {
      airs_status st = airs_socket_set_active(rt, c->sock, AIRS_ACTIVE_ALWAYS);
      return st != AIRS_OK ? st : client_send_next(ctx, c);
    }
    case AIRS_MSG_SOCK_DATA: {
      const char* data = airs_msg_data(msg);
      size_t size = airs_msg_size(msg);
      if (c->n > ECHOS || c->have + size > c->len ||
          memcmp(data, c->want + c->have, size) != 0) {
        printf("  c. echo %d DIFFERS\n", c->n);
        demo.echo_done = 1;
        return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
      }
      c->have += size;
      if (c->have < c->len) return AIRS_OK; /* TCP may cut it */
      demo.echoes++;
      demo.rtt_sum += now_ms() - c->sent;
      if (c->n < ECHOS) return client_send_next(ctx, c);
      c->n++; /* no more expected */
      return airs_socket_shutdown(rt, c->sock);
    }
    case AIRS_MSG_SOCK_EOF:
    case AIRS_MSG_SOCK_ERROR:
      demo.echo_ok =
          airs_msg_type(msg) == AIRS_MSG_SOCK_EOF && demo.echoes == ECHOS;
      demo.echo_done = 1;
      return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
    default: return AIRS_OK;
  }
}

static void client_terminate(void* state, airs_ctx* ctx,
                             const airs_reason* reason) {
  (void)ctx;
  (void)reason;
  free(state);
}

static const airs_behaviour client_behaviour = {AIRS_BEHAVIOUR_VERSION,
                                                sizeof(airs_behaviour),
                                                client_init,
                                                client_receive,
                                                client_terminate,
                                                NULL,
                                                NULL};

/* The process's threads, from /proc (Linux); -1 if unknown. */
static int thread_count(void) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[128];
  int n = -1;
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "Threads: %d", &n) == 1) break;
  fclose(f);
  return n;
}

/* ---- the loop -----------------------------------------------------------
 * What woke each iteration is counted; `step` moves on as each step's
 * work is done (checked after every iteration). */

enum { STEP_A, STEP_B, STEP_C, STEP_D, STEP_DONE };

typedef struct loop {
  int step, ok;
  long iterations, runtime_wakes, empty_polls, ticks, tick_wakes, pipe_events;
  double blocked_ms;
  int feeder_done;
  pthread_t feeder;
  /* b */
  double timer_armed, timer_readable;
  long wakes_before_due;
  /* d */
  double idle_from, idle_blocked_from;
  long idle_iterations_from, idle_runtime_from, idle_ticks_from;
} loop;

#define CHECK(call)                                                      \
  do {                                                                   \
    airs_status st_ = (call);                                            \
    if (st_ != AIRS_OK) {                                                \
      fprintf(stderr, "%s failed: %s (%s)\n", #call, airs_strerror(st_), \
              airs_last_error_message());                                \
      return 1;                                                          \
    }                                                                    \
  } while (0)

static void check(loop* l, int good, const char* what) {
  printf("     %s: %s\n", good ? "ok" : "FAILED", what);
  if (!good) l->ok = 0;
}

/* Moves to the next step once this one's work is done. */
static airs_status advance(loop* l, airs_runtime* rt, airs_pid clock) {
  double now = now_ms();
  switch (l->step) {
    case STEP_A:
      if (demo.stamps < FEEDS || !l->feeder_done) return AIRS_OK;
      pthread_join(l->feeder, NULL);
      printf(
          "  a. the slowest: the loop woke in %.3f ms, the actor ran in "
          "%.3f ms; it read %ld pipe events meanwhile\n",
          demo.wake_max, demo.run_max, l->pipe_events);
      check(l, demo.wake_max < WAKE_MAX_MS,
            "every send from the feeder thread woke the loop at once");
      /* b: nothing else is due; the timer is the only thing ahead. */
      printf("b. an airs_send_after timer of %d ms\n", TIMER_MS);
      {
        airs_msg* m;
        airs_status st = airs_msg_new(MSG_TIMER, NULL, 0, &m);
        if (st != AIRS_OK) return st;
        l->timer_armed = now_ms();
        if ((st = airs_send_after(rt, clock, TIMER_MS, m, NULL)) != AIRS_OK) {
          airs_msg_free(m);
          return st;
        }
      }
      l->step = STEP_B;
      return AIRS_OK;
    case STEP_B:
      if (demo.timer_ran == 0) return AIRS_OK;
      /* A timer that is the new earliest makes the fd readable once at
       * once: the runtime re-arms its own timer in that poll, which runs
       * nothing. Then the fd stays quiet until the timer is due. */
      printf(
          "  b. the runtime fd woke the loop %ld time(s) before the due "
          "time (re-arming, %ld poll(s) that ran nothing so far), then "
          "%.1f ms after airs_send_after; the actor ran at %.1f ms\n",
          l->wakes_before_due, l->empty_polls,
          l->timer_readable - l->timer_armed, demo.timer_ran - l->timer_armed);
      /* The runtime's clock counts whole ms: allow 1 ms of rounding. */
      check(l,
            l->wakes_before_due <= 1 &&
                l->timer_readable - l->timer_armed >= TIMER_MS - 1 &&
                demo.timer_ran - l->timer_armed >= TIMER_MS - 1 &&
                demo.timer_ran - l->timer_armed < TIMER_MS + WAKE_MAX_MS,
            "the fd became readable when the timer was due, not before");
      printf("c. a TCP echo between two actors, on this thread\n");
      {
        airs_pid server_pid, client_pid;
        airs_status st =
            airs_spawn(rt, &server_behaviour, NULL, NULL, NULL, &server_pid);
        if (st == AIRS_OK)
          st = airs_spawn(rt, &client_behaviour, NULL, NULL, NULL, &client_pid);
        if (st != AIRS_OK) return st;
      }
      l->step = STEP_C;
      return AIRS_OK;
    case STEP_C: {
      if (!demo.echo_done) return AIRS_OK;
      int threads = thread_count();
      printf(
          "  c. %d echoes over 127.0.0.1:%u, mean round trip %.3f ms; "
          "%d callbacks, %d of them off the host thread; the process "
          "has %d thread(s)\n",
          demo.echoes, demo.echo_port,
          demo.echoes ? demo.rtt_sum / demo.echoes : 0.0, demo.callbacks,
          demo.off_thread, threads);
      check(l, demo.echo_ok, "every echo came back intact");
      check(l, demo.off_thread == 0 && (threads == 1 || threads == -1),
            "every callback, and all socket I/O, ran on the host thread");
      printf("d. %d ms with nothing due in the runtime\n", IDLE_MS);
      l->idle_from = now;
      l->idle_blocked_from = l->blocked_ms;
      l->idle_iterations_from = l->iterations;
      l->idle_runtime_from = l->runtime_wakes;
      l->idle_ticks_from = l->tick_wakes;
      l->step = STEP_D;
      return AIRS_OK;
    }
    case STEP_D: {
      if (now - l->idle_from < IDLE_MS) return AIRS_OK;
      long its = l->iterations - l->idle_iterations_from;
      long rts = l->runtime_wakes - l->idle_runtime_from;
      long ticks = l->tick_wakes - l->idle_ticks_from;
      printf(
          "  d. %ld loop iterations in %.0f ms: %ld for the host's "
          "ticks, %ld for the runtime fd; poll(2) blocked for %.1f ms "
          "of them\n",
          its, now - l->idle_from, ticks, rts,
          l->blocked_ms - l->idle_blocked_from);
      check(l, rts == 0 && its == ticks,
            "the loop slept: only its own ticks woke it");
      l->step = STEP_DONE;
      return AIRS_OK;
    }
    default: return AIRS_OK;
  }
}

int main(void) {
  CHECK(AIRS_CHECK_ABI());
  demo.host_thread = pthread_self();

  airs_config* cfg;
  CHECK(airs_config_new(&cfg));
  CHECK(airs_config_set(cfg, AIRS_CFG_WORKERS, 0)); /* host-driven */
  airs_runtime* rt;
  airs_status st = airs_runtime_new(cfg, &rt);
  airs_config_free(cfg);
  CHECK(st);

  /* The three fds of the loop. */
  int rt_fd, pipe_fds[2];
  CHECK(airs_runtime_fd(rt, &rt_fd));
  int tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  struct itimerspec every = {{0, TICK_MS * 1000000L}, {0, TICK_MS * 1000000L}};
  if (tick_fd < 0 || timerfd_settime(tick_fd, 0, &every, NULL) != 0 ||
      pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    perror("timerfd/pipe");
    return 1;
  }

  airs_pid clock;
  CHECK(airs_spawn(rt, &clock_behaviour, NULL, NULL, NULL, &clock));

  loop l;
  memset(&l, 0, sizeof l);
  l.ok = 1;
  printf("a. sends from another thread\n");
  feeder_arg farg = {rt, clock, pipe_fds[1]};
  if (pthread_create(&l.feeder, NULL, feeder, &farg) != 0) {
    perror("pthread_create");
    return 1;
  }

  struct pollfd fds[3] = {
      {rt_fd, POLLIN, 0}, {tick_fd, POLLIN, 0}, {pipe_fds[0], POLLIN, 0}};
  double start = now_ms();
  while (l.step != STEP_DONE) {
    double before = now_ms();
    int n = poll(fds, 3, -1); /* no timeout: sleep until an fd is ready */
    double after = now_ms();
    l.blocked_ms += after - before;
    l.iterations++;
    if (n < 0 && errno != EINTR) {
      perror("poll");
      return 1;
    }
    if (n > 0 && (fds[0].revents & POLLIN)) {
      /* The runtime has work: run it. A poll whose budget runs out leaves
       * the fd readable, and the next iteration comes back here. */
      uint32_t ran;
      demo.runtime_woke = after;
      l.runtime_wakes++;
      if (l.step == STEP_B && l.timer_readable == 0) {
        if (demo.timer_ran == 0 && after - l.timer_armed < TIMER_MS - 1)
          l.wakes_before_due++;
        else
          l.timer_readable = after;
      }
      CHECK(airs_runtime_poll(rt, BUDGET, &ran));
      if (ran == 0) l.empty_polls++;
    }
    if (n > 0 && (fds[1].revents & POLLIN)) {
      uint64_t expirations;
      l.tick_wakes++;
      if (read(tick_fd, &expirations, sizeof expirations) > 0)
        l.ticks += (long)expirations;
    }
    if (n > 0 && (fds[2].revents & POLLIN)) {
      char c;
      while (read(pipe_fds[0], &c, 1) == 1) {
        if (c == 'q') {
          l.feeder_done = 1;
        } else {
          l.pipe_events++;
          printf("  pipe: event %ld from the feeder thread\n", l.pipe_events);
        }
      }
    }
    CHECK(advance(&l, rt, clock));
    if (after - start > 10000) {
      printf("the demo took over 10 s: stopping\n");
      l.ok = 0;
      break;
    }
  }

  double total = now_ms() - start;
  printf(
      "loop: %ld iterations in %.0f ms: %ld for the runtime fd (%ld "
      "polls ran nothing), %ld ticks, %ld pipe events; blocked in "
      "poll(2) %.1f%% of the time\n",
      l.iterations, total, l.runtime_wakes, l.empty_polls, l.ticks,
      l.pipe_events, 100.0 * l.blocked_ms / total);

  airs_runtime_free(rt); /* closes its fd too */
  close(tick_fd);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  printf("%s\n", l.ok ? "all steps done" : "FAILED");
  return l.ok ? 0 : 1;
}
