/*
 * test_api_timing.c - per-process timing by name pattern (observe.h):
 * which processes are timed (named before and after the pattern, a
 * restart under the same name, unregistered, untracked), what the
 * histograms hold (waits, receive times, batches, publishes, the stamp
 * bound), the metrics' families, every bad argument, and senders on
 * several threads while patterns and names come and go.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "helpers.h"

/* A process whose receive sleeps the milliseconds its payload says (an
 * int; none: 0), or, for type 2, until `released` is set. */
typedef struct sleeper {
  int handled; /* receives that returned */
  int released;
} sleeper;

static void sleep_ms(int ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

static airs_status sleeper_receive(void* state, airs_ctx* ctx,
                                   const airs_msg* m) {
  sleeper* s = (sleeper*)state;
  (void)ctx;
  if (airs_msg_type(m) == 2) {
    while (!__atomic_load_n(&s->released, __ATOMIC_ACQUIRE)) sleep_ms(1);
  } else if (airs_msg_size(m) == sizeof(int)) {
    int ms;
    memcpy(&ms, airs_msg_data(m), sizeof ms);
    if (ms > 0) sleep_ms(ms);
  }
  __atomic_fetch_add(&s->handled, 1, __ATOMIC_RELEASE);
  return AIRS_OK;
}

static airs_pid spawn_sleeper(airs_runtime* rt, sleeper* s, const char* name) {
  airs_pid pid = spawn_with(rt, NULL, sleeper_receive, s);
  if (pid && name && airs_register(rt, name, pid) != AIRS_OK) return 0;
  return pid;
}

static void send_ms(airs_runtime* rt, airs_pid to, int ms, int n) {
  int i;
  for (i = 0; i < n; i++)
    CHECK_ST(airs_send(rt, to, 1, &ms, sizeof ms), AIRS_OK);
}

/* Waits until `s` has handled n messages (then a little more: the runtime
 * records a receive's time after it returns). */
static int wait_handled(sleeper* s, int n) {
  int i;
  for (i = 0; i < 5000; i++) {
    if (__atomic_load_n(&s->handled, __ATOMIC_ACQUIRE) >= n) {
      sleep_ms(20);
      return 1;
    }
    sleep_ms(1);
  }
  return 0;
}

static airs_timing timing_of(airs_runtime* rt, const char* name,
                             airs_status* st) {
  airs_timing t;
  memset(&t, 0, sizeof t);
  t.version = AIRS_TIMING_VERSION;
  t.size = sizeof t;
  *st = airs_timing_get(rt, name, &t);
  return t;
}

static uint64_t bucket_total(const airs_timing_histogram* h, int from, int to) {
  uint64_t n = 0;
  int i;
  for (i = from; i < to; i++) n += h->buckets[i];
  return n;
}

/* ---- which processes are timed ------------------------------------------ */

static void test_names_before_and_after(void) {
  airs_runtime* rt = make_runtime(2, 0);
  static sleeper a, b, c;
  airs_status st;
  airs_timing t;
  airs_pid pa, pb, pc;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  memset(&c, 0, sizeof c);
  pa = spawn_sleeper(rt, &a, "db.a");
  CHECK_ST(airs_timing_track(rt, "db.*"), AIRS_OK);
  pb = spawn_sleeper(rt, &b, "db.b"); /* named after the pattern came */
  pc = spawn_sleeper(rt, &c, "web");
  CHECK(pa && pb && pc);
  /* Five at once, 2 ms each: the k-th waits for the k before it. */
  send_ms(rt, pa, 2, 5);
  send_ms(rt, pb, 2, 5);
  send_ms(rt, pc, 2, 5);
  CHECK(wait_handled(&a, 5) && wait_handled(&b, 5) && wait_handled(&c, 5));

  t = timing_of(rt, "db.a", &st);
  CHECK_ST(st, AIRS_OK);
  CHECK_EQ(t.version, AIRS_TIMING_VERSION);
  CHECK_EQ(t.size, sizeof t);
  CHECK_EQ(t.run.count, 5);
  CHECK_EQ(t.wait.count, 5);
  CHECK_EQ(t.wait_unmeasured, 0);
  CHECK(t.run.sum_ns >= 5 * 2000000ull);
  /* Each receive slept 2 ms: nothing at or below 1.024 ms. */
  CHECK_EQ(bucket_total(&t.run, 0, 6), 0);
  CHECK_EQ(bucket_total(&t.run, 0, AIRS_TIMING_BUCKETS), 5);
  /* 0 + 2 + 4 + 6 + 8 ms of waiting at least. */
  CHECK(t.wait.sum_ns >= 20000000ull);
  CHECK(bucket_total(&t.wait, 6, AIRS_TIMING_BUCKETS) >= 3);
  t = timing_of(rt, "db.b", &st);
  CHECK_ST(st, AIRS_OK);
  CHECK_EQ(t.run.count, 5);
  CHECK_EQ(t.wait.count, 5);
  t = timing_of(rt, "web", &st); /* never matched */
  CHECK_EQ(st, AIRS_ENOTFOUND);
  CHECK(strstr(airs_last_error_message(), "airs_timing_get") != NULL);

  /* Untracked: the histograms stay as they were, and grow no more. */
  CHECK_ST(airs_timing_untrack(rt, "db.*"), AIRS_OK);
  send_ms(rt, pa, 0, 3);
  CHECK(wait_handled(&a, 8));
  t = timing_of(rt, "db.a", &st);
  CHECK_ST(st, AIRS_OK);
  CHECK_EQ(t.run.count, 5);
  CHECK_EQ(t.wait.count, 5);
  CHECK_ST(airs_timing_untrack(rt, "db.*"), AIRS_ENOTFOUND);
  /* Tracked again: the process named before is found again. */
  CHECK_ST(airs_timing_track(rt, "db.?"), AIRS_OK);
  send_ms(rt, pa, 0, 2);
  CHECK(wait_handled(&a, 10));
  t = timing_of(rt, "db.a", &st);
  CHECK_EQ(t.run.count, 7);
  airs_runtime_free(rt);
}

/* The histograms belong to the name: a second process of that name goes
 * on in the same series; one that loses its name is timed no more. */
static void test_series_follow_the_name(void) {
  airs_runtime* rt = make_runtime(2, 0);
  static sleeper one, two;
  airs_status st;
  airs_timing t;
  airs_pid p1, p2;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&one, 0, sizeof one);
  memset(&two, 0, sizeof two);
  CHECK_ST(airs_timing_track(rt, "svc"), AIRS_OK);
  p1 = spawn_sleeper(rt, &one, "svc");
  send_ms(rt, p1, 0, 2);
  CHECK(wait_handled(&one, 2));
  CHECK_ST(airs_stop(rt, p1), AIRS_OK);
  CHECK_ST(airs_wait(rt, p1, 5000), AIRS_OK);
  p2 = spawn_sleeper(rt, &two, "svc");
  CHECK(p2 != 0);
  send_ms(rt, p2, 0, 3);
  CHECK(wait_handled(&two, 3));
  t = timing_of(rt, "svc", &st);
  CHECK_ST(st, AIRS_OK);
  CHECK_EQ(t.run.count, 5);
  CHECK_EQ(t.wait.count, 5);
  CHECK_ST(airs_unregister(rt, "svc"), AIRS_OK);
  send_ms(rt, p2, 0, 2);
  CHECK(wait_handled(&two, 5));
  t = timing_of(rt, "svc", &st);
  CHECK_EQ(t.run.count, 5);
  airs_runtime_free(rt);
}

/* ---- what is measured ------------------------------------------------- */

/* At most AIRS_TIMING_STAMPS_MAX messages are timed at once: the first
 * one's stamp is held while its receive runs, so 4095 more are stamped
 * and the rest counted as unmeasured. */
static void test_stamp_bound(void) {
  enum { FLOOD = 5000 };
  airs_runtime* rt = make_runtime_ex(2, 0, 0, AIRS_MAILBOX_FAIL, 5000);
  static sleeper s;
  airs_status st;
  airs_timing t;
  airs_pid pid;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&s, 0, sizeof s);
  CHECK_ST(airs_timing_track(rt, "flood"), AIRS_OK);
  pid = spawn_sleeper(rt, &s, "flood");
  CHECK_ST(airs_send(rt, pid, 2, NULL, 0), AIRS_OK); /* blocks it */
  send_ms(rt, pid, 0, FLOOD);
  __atomic_store_n(&s.released, 1, __ATOMIC_RELEASE);
  CHECK(wait_handled(&s, FLOOD + 1));
  t = timing_of(rt, "flood", &st);
  CHECK_ST(st, AIRS_OK);
  CHECK_EQ(t.run.count, FLOOD + 1);
  CHECK_EQ(t.wait.count, AIRS_TIMING_STAMPS_MAX);
  CHECK_EQ(t.wait_unmeasured, FLOOD + 1 - AIRS_TIMING_STAMPS_MAX);
  airs_runtime_free(rt);
}

/* receive_batch: one processing sample per call, a wait per message. */
static int batch_calls;
static int batch_messages;

static airs_status batch_receive(void* state, airs_ctx* ctx,
                                 const airs_batch_item* items, uint32_t count,
                                 uint32_t* handled) {
  (void)state;
  (void)ctx;
  (void)items;
  *handled = count;
  __atomic_fetch_add(&batch_calls, 1, __ATOMIC_RELEASE);
  __atomic_fetch_add(&batch_messages, (int)count, __ATOMIC_RELEASE);
  return AIRS_OK;
}

/* Sends six messages to the pid it is given, in one callback. */
static airs_status burst_receive(void* state, airs_ctx* ctx,
                                 const airs_msg* m) {
  airs_pid to = *(const airs_pid*)state;
  int ms = 0, i;
  (void)m;
  for (i = 0; i < 6; i++) {
    airs_status st = airs_ctx_send(ctx, to, 1, &ms, sizeof ms);
    if (st != AIRS_OK) return st;
  }
  return AIRS_OK;
}

static void test_batch_and_publish(void) {
  airs_runtime* rt = make_runtime(2, 0);
  static sleeper sub, sub2;
  airs_pid burst_to = 0, burster = 0;
  airs_behaviour b;
  airs_payload* payload = NULL;
  airs_status st;
  airs_timing t;
  airs_pid pid = 0, subscriber;
  size_t delivered = 0;
  int i, value = 0;
  CHECK(rt != NULL);
  if (!rt) return;
  CHECK_ST(airs_timing_track(rt, "batch"), AIRS_OK);
  CHECK_ST(airs_timing_track(rt, "sub.*"), AIRS_OK);
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive_batch = batch_receive;
  CHECK_ST(airs_spawn(rt, &b, NULL, NULL, NULL, &pid), AIRS_OK);
  CHECK_ST(airs_register(rt, "batch", pid), AIRS_OK);
  for (i = 0; i < 10; i++)
    CHECK_ST(airs_send(rt, pid, 1, &i, sizeof i), AIRS_OK);
  for (i = 0;
       i < 5000 && __atomic_load_n(&batch_messages, __ATOMIC_ACQUIRE) < 10; i++)
    sleep_ms(1);
  sleep_ms(20);
  t = timing_of(rt, "batch", &st);
  CHECK_ST(st, AIRS_OK);
  CHECK_EQ(t.wait.count, 10);
  CHECK_EQ(t.run.count,
           (uint64_t)__atomic_load_n(&batch_calls, __ATOMIC_ACQUIRE));
  CHECK(t.run.count >= 1 && t.run.count <= 10);

  memset(&sub, 0, sizeof sub);
  subscriber = spawn_sleeper(rt, &sub, "sub.1");
  CHECK_ST(airs_subscribe(rt, "news", subscriber), AIRS_OK);
  CHECK_ST(airs_payload_new(&value, sizeof value, &payload), AIRS_OK);
  for (i = 0; i < 4; i++)
    CHECK_ST(airs_publish(rt, "news", 1, payload, &delivered), AIRS_OK);
  airs_payload_release(payload);
  CHECK(wait_handled(&sub, 4));
  t = timing_of(rt, "sub.1", &st);
  CHECK_EQ(t.wait.count, 4);
  CHECK_EQ(t.run.count, 4);

  /* Six messages from one callback: each one stamped, not only the first
   * (the later ones are queued behind it without a new look at the
   * receiver; its timing goes with them). */
  memset(&sub2, 0, sizeof sub2);
  burst_to = spawn_sleeper(rt, &sub2, "sub.2");
  burster = spawn_with(rt, NULL, burst_receive, &burst_to);
  CHECK_ST(airs_send(rt, burster, 1, NULL, 0), AIRS_OK);
  CHECK(wait_handled(&sub2, 6));
  t = timing_of(rt, "sub.2", &st);
  CHECK_EQ(t.wait.count, 6);
  CHECK_EQ(t.run.count, 6);
  airs_runtime_free(rt);
}

/* ---- the metrics ----------------------------------------------------------
 */

static void test_metrics(void) {
  airs_runtime* rt = make_runtime(2, 0);
  static sleeper s, bad;
  static sleeper many[AIRS_TIMING_NAMES_MAX + 1];
  char name[32];
  char* text;
  airs_status st;
  airs_pid pid;
  int i;
  CHECK(rt != NULL);
  if (!rt) return;
  text = metrics_text(rt);
  CHECK(text != NULL);
  if (text) { /* nothing timed: no histogram family */
    CHECK(strstr(text, "airs_process_processing_seconds") == NULL);
    CHECK(strstr(text, "airs_timing_names_refused_total 0\n") != NULL);
  }
  free(text);
  memset(&s, 0, sizeof s);
  CHECK_ST(airs_timing_track(rt, "quote*"), AIRS_OK);
  pid = spawn_sleeper(rt, &s, "quote\"d\\");
  send_ms(rt, pid, 3, 2);
  CHECK(wait_handled(&s, 2));
  text = metrics_text(rt);
  CHECK(text != NULL);
  if (text) {
    CHECK(
        strstr(text, "# TYPE airs_process_mailbox_wait_seconds histogram\n") !=
        NULL);
    CHECK(strstr(text, "# TYPE airs_process_processing_seconds histogram\n") !=
          NULL);
    /* The label value escaped; 3 ms receives: none by 1.024 ms, both by
     * 65.536 ms (a sleep of 3 ms took over 4.096 ms under the sanitizers
     * with the machine loaded: twice on 2026-12-07). */
    CHECK(
        strstr(text,
               "airs_process_processing_seconds_bucket{name=\"quote\\\"d\\\\\","
               "le=\"0.001024\"} 0\n") != NULL);
    CHECK(
        strstr(text,
               "airs_process_processing_seconds_bucket{name=\"quote\\\"d\\\\\","
               "le=\"0.065536\"} 2\n") != NULL);
    CHECK(
        strstr(text,
               "airs_process_processing_seconds_bucket{name=\"quote\\\"d\\\\\","
               "le=\"+Inf\"} 2\n") != NULL);
    CHECK(
        strstr(text,
               "airs_process_processing_seconds_count{name=\"quote\\\"d\\\\\"}"
               " 2\n") != NULL);
    CHECK(strstr(
              text,
              "airs_process_mailbox_wait_seconds_count{name=\"quote\\\"d\\\\\"}"
              " 2\n") != NULL);
  }
  free(text);

  /* A name that is not UTF-8 (a name may hold any bytes): '?' for each
   * such byte in the label value, which must be UTF-8. */
  memset(&bad, 0, sizeof bad);
  CHECK_ST(airs_timing_track(rt, "bad*"), AIRS_OK);
  pid = spawn_sleeper(rt, &bad, "bad\xff\xc3\xa9");
  send_ms(rt, pid, 0, 1);
  CHECK(wait_handled(&bad, 1));
  text = metrics_text(rt);
  CHECK(text && strstr(text,
                       "airs_process_processing_seconds_count{name="
                       "\"bad?\xc3\xa9\"} 1\n") != NULL);
  free(text);

  /* AIRS_TIMING_NAMES_MAX names get histograms (the two above and these);
   * the next is refused. */
  CHECK_ST(airs_timing_track(rt, "n.*"), AIRS_OK);
  memset(many, 0, sizeof many);
  for (i = 0; i < AIRS_TIMING_NAMES_MAX - 2; i++) {
    snprintf(name, sizeof name, "n.%d", i);
    CHECK(spawn_sleeper(rt, &many[i], name) != 0);
  }
  CHECK(spawn_sleeper(rt, &many[i], "n.last") != 0);
  timing_of(rt, "n.0", &st);
  CHECK_ST(st, AIRS_OK);
  timing_of(rt, "n.last", &st);
  CHECK_EQ(st, AIRS_ENOTFOUND);
  text = metrics_text(rt);
  CHECK(text && strstr(text, "airs_timing_names_refused_total 1\n") != NULL);
  free(text);
  airs_runtime_free(rt);
}

/* ---- bad arguments --------------------------------------------------------
 */

static void test_bad_arguments(void) {
  airs_runtime* rt = make_runtime(1, 0);
  airs_timing t;
  char pattern[16];
  int i;
  CHECK(rt != NULL);
  if (!rt) return;
  CHECK_ST(airs_timing_track(NULL, "x"), AIRS_EINVAL);
  CHECK_ST(airs_timing_track(rt, NULL), AIRS_EINVAL);
  CHECK(strstr(airs_last_error_message(), "airs_timing_track") != NULL);
  CHECK_ST(airs_timing_track(rt, ""), AIRS_EINVAL);
  CHECK_ST(airs_timing_track(rt, too_long_name()), AIRS_EINVAL);
  CHECK_ST(airs_timing_track(rt, "p.0"), AIRS_OK);
  CHECK_ST(airs_timing_track(rt, "p.0"), AIRS_EEXIST);
  for (i = 1; i < AIRS_TIMING_PATTERNS_MAX; i++) {
    snprintf(pattern, sizeof pattern, "p.%d", i);
    CHECK_ST(airs_timing_track(rt, pattern), AIRS_OK);
  }
  CHECK_ST(airs_timing_track(rt, "one.more"), AIRS_ELIMIT);
  CHECK_ST(airs_timing_untrack(rt, "p.3"), AIRS_OK);
  CHECK_ST(airs_timing_track(rt, "one.more"), AIRS_OK); /* room again */
  CHECK_ST(airs_timing_untrack(NULL, "p.0"), AIRS_EINVAL);
  CHECK_ST(airs_timing_untrack(rt, NULL), AIRS_EINVAL);
  CHECK_ST(airs_timing_untrack(rt, "never"), AIRS_ENOTFOUND);

  memset(&t, 0, sizeof t);
  t.version = AIRS_TIMING_VERSION;
  t.size = sizeof t;
  CHECK_ST(airs_timing_get(NULL, "x", &t), AIRS_EINVAL);
  CHECK_ST(airs_timing_get(rt, NULL, &t), AIRS_EINVAL);
  CHECK_ST(airs_timing_get(rt, "x", NULL), AIRS_EINVAL);
  t.version = 0;
  CHECK_ST(airs_timing_get(rt, "x", &t), AIRS_EINVAL);
  CHECK(strstr(airs_last_error_message(), "AIRS_TIMING_VERSION") != NULL);
  t.version = AIRS_TIMING_VERSION;
  t.size = sizeof t - 1;
  CHECK_ST(airs_timing_get(rt, "x", &t), AIRS_EINVAL);
  t.size = sizeof t;
  CHECK_ST(airs_timing_get(rt, "x", &t), AIRS_ENOTFOUND);
  airs_runtime_free(rt);
}

/* ---- threads --------------------------------------------------------------
 */

/* Senders on plain threads and on both workers, while the pattern and the
 * name come and go: every count stays within what was sent, and the run
 * ends clean (ThreadSanitizer runs this). */
#define STORM_SENDS 4000

typedef struct storm {
  airs_runtime* rt;
  airs_pid target;
} storm;

static void* storm_sender(void* arg) {
  storm* s = (storm*)arg;
  int i, zero = 0;
  for (i = 0; i < STORM_SENDS; i++)
    (void)airs_send(s->rt, s->target, 1, &zero, sizeof zero);
  return NULL;
}

static airs_status relay_receive(void* state, airs_ctx* ctx,
                                 const airs_msg* m) {
  const airs_pid* target = (const airs_pid*)state;
  return airs_ctx_send(ctx, *target, 1, airs_msg_data(m), airs_msg_size(m));
}

static void test_storm(void) {
  airs_runtime* rt = make_runtime(2, 0);
  static sleeper sink;
  static airs_pid sink_pid;
  airs_behaviour b;
  pthread_t threads[2];
  storm args[2];
  airs_pid relay = 0;
  airs_status st;
  airs_timing t;
  int i;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&sink, 0, sizeof sink);
  sink_pid = spawn_sleeper(rt, &sink, "sink");
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = relay_receive;
  CHECK_ST(airs_spawn(rt, &b, &sink_pid, NULL, NULL, &relay), AIRS_OK);
  args[0].rt = rt;
  args[0].target = sink_pid;
  args[1].rt = rt;
  args[1].target = relay; /* from a worker, through the relay */
  for (i = 0; i < 2; i++)
    CHECK(pthread_create(&threads[i], NULL, storm_sender, &args[i]) == 0);
  for (i = 0; i < 200; i++) {
    CHECK_ST(airs_timing_track(rt, "si*"), AIRS_OK);
    if (i % 3 == 0) {
      CHECK_ST(airs_unregister(rt, "sink"), AIRS_OK);
      CHECK_ST(airs_register(rt, "sink", sink_pid), AIRS_OK);
    }
    CHECK_ST(airs_timing_untrack(rt, "si*"), AIRS_OK);
  }
  for (i = 0; i < 2; i++) pthread_join(threads[i], NULL);
  CHECK(wait_handled(&sink, 2 * STORM_SENDS));
  t = timing_of(rt, "sink", &st);
  CHECK_ST(st, AIRS_OK);
  CHECK(t.run.count <= 2 * STORM_SENDS);
  CHECK(t.wait.count <= t.run.count);
  CHECK_EQ(t.wait_unmeasured, 0);
  CHECK_EQ(bucket_total(&t.run, 0, AIRS_TIMING_BUCKETS), t.run.count);
  CHECK_EQ(bucket_total(&t.wait, 0, AIRS_TIMING_BUCKETS), t.wait.count);
  airs_runtime_free(rt);
}

int main(void) {
  test_names_before_and_after();
  test_series_follow_the_name();
  test_stamp_bound();
  test_batch_and_publish();
  test_metrics();
  test_bad_arguments();
  test_storm();
  return CHECK_DONE();
}
