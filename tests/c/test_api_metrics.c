/*
 * test_api_metrics.c - metrics sources (observe.h): lines from outside the
 * runtime in its exposition, in order; a source larger than the first
 * room, one that grows while it is asked, one without a final newline;
 * calls from inside a source refused; remove waiting for a source that
 * is running; every bad argument.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "helpers.h"

static void sleep_ms(int ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

/* A source that writes `text` as snprintf would. */
static size_t fixed_source(void* user_data, char* buf, size_t capacity) {
  return (size_t)snprintf(buf, capacity, "%s", (const char*)user_data);
}

/* ---- lines in the exposition ----------------------------------------------
 */

static void test_sources_in_order(void) {
  airs_runtime* rt = make_runtime(1, 0);
  static const char one[] =
      "# HELP host_one One.\n# TYPE host_one gauge\n"
      "host_one 1\n";
  static const char two[] = "# TYPE host_two counter\nhost_two_total 2";
  char* text;
  const char *a, *b, *runtime_part;
  CHECK(rt != NULL);
  if (!rt) return;
  CHECK_ST(airs_metrics_source_add(rt, fixed_source, (void*)one), AIRS_OK);
  CHECK_ST(airs_metrics_source_add(rt, fixed_source, (void*)two), AIRS_OK);
  text = metrics_text(rt);
  CHECK(text != NULL);
  if (text) {
    runtime_part = strstr(text, "\nairs_processes ");
    a = strstr(text, "host_one 1\n");
    b = strstr(text, "host_two_total 2\n"); /* its newline added */
    CHECK(runtime_part && a && b && runtime_part < a && a < b);
    CHECK(text[strlen(text) - 1] == '\n');
  }
  free(text);
  CHECK_ST(airs_metrics_source_remove(rt, fixed_source, (void*)one), AIRS_OK);
  text = metrics_text(rt);
  CHECK(text && !strstr(text, "host_one") && strstr(text, "host_two_total 2"));
  free(text);
  airs_runtime_free(rt);
}

/* 10,000 lines: more than the first room the runtime gives a source. */
static size_t big_source(void* user_data, char* buf, size_t capacity) {
  size_t len = 0;
  int i;
  (void)user_data;
  for (i = 0; i < 10000; i++) {
    int n = snprintf(len < capacity ? buf + len : NULL,
                     len < capacity ? capacity - len : 0,
                     "host_big{i=\"%d\"} %d\n", i, i);
    len += (size_t)n;
  }
  return len;
}

/* Asks for more room every time: the third try keeps the whole lines
 * that fit. */
static int greedy_calls;
static size_t greedy_source(void* user_data, char* buf, size_t capacity) {
  size_t len = 0;
  (void)user_data;
  greedy_calls++;
  while (len + 16 < capacity) {
    memcpy(buf + len, "host_greedy 1\n", 14);
    len += 14;
  }
  memcpy(buf + len, "host_gr", 7); /* a line cut in the middle */
  buf[len + 7] = '\0';
  return capacity + 100;
}

static void test_room(void) {
  airs_runtime* rt = make_runtime(1, 0);
  char* text;
  const char* last;
  CHECK(rt != NULL);
  if (!rt) return;
  CHECK_ST(airs_metrics_source_add(rt, big_source, NULL), AIRS_OK);
  text = metrics_text(rt);
  CHECK(text && strstr(text, "host_big{i=\"0\"} 0\n") &&
        strstr(text, "\nhost_big{i=\"9999\"} 9999\n"));
  free(text);
  CHECK_ST(airs_metrics_source_remove(rt, big_source, NULL), AIRS_OK);
  CHECK_ST(airs_metrics_source_add(rt, greedy_source, NULL), AIRS_OK);
  greedy_calls = 0;
  text = metrics_text(rt); /* two writes: the size, then the text */
  CHECK_EQ(greedy_calls, 6);
  CHECK(text != NULL);
  if (text) {
    CHECK(strstr(text, "host_gr\n") == NULL);
    last = strrchr(text, '\n');
    CHECK(last && last - text >= 14 &&
          strncmp(last - 13, "host_greedy 1", 13) == 0);
  }
  free(text);
  airs_runtime_free(rt);
}

/* ---- inside a source -------------------------------------------------------
 */

static airs_runtime* g_rt;
static airs_status inside[3];

static size_t reentering_source(void* user_data, char* buf, size_t capacity) {
  size_t len = 0;
  (void)user_data;
  inside[0] = airs_metrics_write(g_rt, NULL, 0, &len);
  inside[1] = airs_metrics_source_add(g_rt, fixed_source, (void*)"x 1\n");
  inside[2] = airs_metrics_source_remove(g_rt, reentering_source, NULL);
  return (size_t)snprintf(buf, capacity, "host_inside 1\n");
}

static void test_inside_a_source(void) {
  char* text;
  g_rt = make_runtime(1, 0);
  CHECK(g_rt != NULL);
  if (!g_rt) return;
  CHECK_ST(airs_metrics_source_add(g_rt, reentering_source, NULL), AIRS_OK);
  text = metrics_text(g_rt);
  CHECK(text && strstr(text, "host_inside 1\n"));
  free(text);
  CHECK_EQ(inside[0], AIRS_ESTATE);
  CHECK_EQ(inside[1], AIRS_ESTATE);
  CHECK_EQ(inside[2], AIRS_ESTATE);
  /* Outside a source again: the same calls work. */
  CHECK_ST(airs_metrics_source_remove(g_rt, reentering_source, NULL), AIRS_OK);
  airs_runtime_free(g_rt);
}

/* ---- remove waits
 * ------------------------------------------------------------ */

typedef struct slow {
  int entered;
  int release;
  int freed; /* set by the test once remove returned */
} slow;

static size_t slow_source(void* user_data, char* buf, size_t capacity) {
  slow* s = (slow*)user_data;
  __atomic_store_n(&s->entered, 1, __ATOMIC_RELEASE);
  while (!__atomic_load_n(&s->release, __ATOMIC_ACQUIRE)) sleep_ms(1);
  CHECK(!__atomic_load_n(&s->freed, __ATOMIC_ACQUIRE));
  return (size_t)snprintf(buf, capacity, "host_slow 1\n");
}

typedef struct writer {
  airs_runtime* rt;
  char* text;
} writer;

static void* write_metrics(void* arg) {
  writer* w = (writer*)arg;
  w->text = metrics_text(w->rt);
  return NULL;
}

typedef struct remover {
  airs_runtime* rt;
  slow* s;
  int done;
  airs_status st;
} remover;

static void* remove_slow(void* arg) {
  remover* r = (remover*)arg;
  r->st = airs_metrics_source_remove(r->rt, slow_source, r->s);
  __atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
  return NULL;
}

static void test_remove_waits(void) {
  airs_runtime* rt = make_runtime(1, 0);
  static slow s;
  writer w;
  remover r;
  pthread_t wt, rt_thread;
  int i;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&s, 0, sizeof s);
  CHECK_ST(airs_metrics_source_add(rt, slow_source, &s), AIRS_OK);
  w.rt = rt;
  w.text = NULL;
  CHECK(pthread_create(&wt, NULL, write_metrics, &w) == 0);
  for (i = 0; i < 5000 && !__atomic_load_n(&s.entered, __ATOMIC_ACQUIRE); i++)
    sleep_ms(1);
  r.rt = rt;
  r.s = &s;
  r.done = 0;
  r.st = AIRS_EINTERNAL;
  CHECK(pthread_create(&rt_thread, NULL, remove_slow, &r) == 0);
  sleep_ms(50);
  CHECK(!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE)); /* still inside */
  __atomic_store_n(&s.release, 1, __ATOMIC_RELEASE);
  pthread_join(rt_thread, NULL);
  __atomic_store_n(&s.freed, 1, __ATOMIC_RELEASE);
  CHECK_EQ(r.st, AIRS_OK);
  pthread_join(wt, NULL);
  CHECK(w.text != NULL); /* the write that was inside it finished */
  free(w.text);
  w.text = metrics_text(rt);
  CHECK(w.text && !strstr(w.text, "host_slow"));
  free(w.text);
  airs_runtime_free(rt);
}

/* ---- bad arguments
 * ------------------------------------------------------------ */

static void test_bad_arguments(void) {
  airs_runtime* rt = make_runtime(1, 0);
  static int ids[AIRS_METRICS_SOURCES_MAX + 1];
  int i;
  CHECK(rt != NULL);
  if (!rt) return;
  CHECK_ST(airs_metrics_source_add(NULL, fixed_source, NULL), AIRS_EINVAL);
  CHECK_ST(airs_metrics_source_add(rt, NULL, NULL), AIRS_EINVAL);
  CHECK(strstr(airs_last_error_message(), "airs_metrics_source_add") != NULL);
  CHECK_ST(airs_metrics_source_remove(NULL, fixed_source, NULL), AIRS_EINVAL);
  CHECK_ST(airs_metrics_source_remove(rt, fixed_source, NULL), AIRS_ENOTFOUND);
  for (i = 0; i < AIRS_METRICS_SOURCES_MAX; i++)
    CHECK_ST(airs_metrics_source_add(rt, fixed_source, &ids[i]), AIRS_OK);
  CHECK_ST(airs_metrics_source_add(rt, fixed_source, &ids[0]), AIRS_EEXIST);
  CHECK_ST(airs_metrics_source_add(rt, fixed_source, &ids[i]), AIRS_ELIMIT);
  CHECK_ST(airs_metrics_source_remove(rt, fixed_source, &ids[3]), AIRS_OK);
  CHECK_ST(airs_metrics_source_remove(rt, fixed_source, &ids[3]),
           AIRS_ENOTFOUND);
  CHECK_ST(airs_metrics_source_add(rt, fixed_source, &ids[i]), AIRS_OK);
  airs_runtime_free(rt);
  /* A freed runtime's handle: refused, as every call on it. */
  CHECK_ST(airs_metrics_source_add(rt, fixed_source, NULL), AIRS_ESTATE);
}

int main(void) {
  test_sources_in_order();
  test_room();
  test_inside_a_source();
  test_remove_waits();
  test_bad_arguments();
  return CHECK_DONE();
}
