/*
 * test_api_broker.c - topics through the C header: every failure the
 * header documents for airs_subscribe, airs_unsubscribe, airs_publish and
 * airs_topic_subscribers (its status, a fresh last error message,
 * out-parameters untouched, and a payload that stays the caller's), and a
 * working call of each. Runtimes are host-driven, so results are exact.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>

#include "../pid_layout.h"
#include "check.h"
#include "helpers.h"

enum { NEWS = 7 };

/* A name of exactly AIRS_NAME_MAX bytes. */
static const char* longest_name(void) {
  static char name[AIRS_NAME_MAX + 1];
  memset(name, 'l', AIRS_NAME_MAX);
  name[AIRS_NAME_MAX] = '\0';
  return name;
}

static size_t count_of(airs_runtime* rt, const char* topic) {
  size_t n = 4242;
  CHECK_ST(airs_topic_subscribers(rt, topic, NULL, 0, &n), AIRS_OK);
  return n;
}

static void test_subscribe_errors(void) {
  airs_runtime* rt = make_host_runtime(20);
  airs_runtime* freed = make_host_runtime(20);
  recorder a, gone;
  airs_pid pa, pgone;
  CHECK(rt != NULL && freed != NULL);
  if (!rt || !freed) return;
  airs_runtime_free(freed);
  memset(&a, 0, sizeof a);
  memset(&gone, 0, sizeof gone);
  gone.on_msg = rec_exit_normal;
  pa = spawn_rec(rt, &a, NULL);
  pgone = spawn_rec(rt, &gone, NULL);
  CHECK(pa != 0 && pgone != 0);
  CHECK_ST(airs_send(rt, pgone, 1, NULL, 0), AIRS_OK);
  CHECK(poll_all(rt) >= 0);
  CHECK(!airs_is_alive(rt, pgone));

  /* The runtime: NULL, or freed. */
  CHECK_ST(airs_subscribe(NULL, "t", pa), AIRS_EINVAL);
  CHECK_ST(airs_subscribe(freed, "t", pa), AIRS_ESTATE);
  CHECK_ST(airs_unsubscribe(NULL, "t", pa), AIRS_EINVAL);
  CHECK_ST(airs_unsubscribe(freed, "t", pa), AIRS_ESTATE);

  /* The topic: NULL, empty, one byte too long. */
  CHECK_ST(airs_subscribe(rt, NULL, pa), AIRS_EINVAL);
  CHECK_ST(airs_subscribe(rt, "", pa), AIRS_EINVAL);
  CHECK_ST(airs_subscribe(rt, too_long_name(), pa), AIRS_EINVAL);
  CHECK_ST(airs_unsubscribe(rt, NULL, pa), AIRS_EINVAL);
  CHECK_ST(airs_unsubscribe(rt, "", pa), AIRS_EINVAL);
  CHECK_ST(airs_unsubscribe(rt, too_long_name(), pa), AIRS_EINVAL);

  /* The pid: 0, ended, never existed (a later generation of a slot). */
  CHECK_ST(airs_subscribe(rt, "t", AIRS_NO_PID), AIRS_ENOPROC);
  CHECK_ST(airs_subscribe(rt, "t", pgone), AIRS_ENOPROC);
  CHECK_ST(airs_subscribe(rt, "t",
                          test_pid_make(pa, test_pid_slot(pa),
                                        test_pid_generation(pa) + 99)),
           AIRS_ENOPROC);
  CHECK_EQ(count_of(rt, "t"), 0);

  /* Not subscribed: to that topic, or to any. */
  CHECK_ST(airs_subscribe(rt, "t", pa), AIRS_OK);
  CHECK_ST(airs_unsubscribe(rt, "other", pa), AIRS_ENOTFOUND);
  CHECK_ST(airs_unsubscribe(rt, "t", pgone), AIRS_ENOTFOUND);
  CHECK_ST(airs_unsubscribe(rt, "t", AIRS_NO_PID), AIRS_ENOTFOUND);
  CHECK_ST(airs_unsubscribe(rt, "t", pa), AIRS_OK);
  CHECK_ST(airs_unsubscribe(rt, "t", pa), AIRS_ENOTFOUND);

  /* The longest name is fine. */
  CHECK_ST(airs_subscribe(rt, longest_name(), pa), AIRS_OK);
  CHECK_EQ(count_of(rt, longest_name()), 1);
  airs_runtime_free(rt);
  CHECK_EQ(a.freed, 1);
}

static void test_subscribers_errors(void) {
  airs_runtime* rt = make_host_runtime(20);
  airs_runtime* freed = make_host_runtime(20);
  recorder a;
  airs_pid pa, list[4] = {11, 12, 13, 14};
  size_t count = 4242;
  CHECK(rt != NULL && freed != NULL);
  if (!rt || !freed) return;
  airs_runtime_free(freed);
  memset(&a, 0, sizeof a);
  pa = spawn_rec(rt, &a, NULL);
  CHECK_ST(airs_subscribe(rt, "t", pa), AIRS_OK);

  CHECK_ST(airs_topic_subscribers(NULL, "t", list, 4, &count), AIRS_EINVAL);
  CHECK_ST(airs_topic_subscribers(freed, "t", list, 4, &count), AIRS_ESTATE);
  CHECK_ST(airs_topic_subscribers(rt, NULL, list, 4, &count), AIRS_EINVAL);
  CHECK_ST(airs_topic_subscribers(rt, "", list, 4, &count), AIRS_EINVAL);
  CHECK_ST(airs_topic_subscribers(rt, too_long_name(), list, 4, &count),
           AIRS_EINVAL);
  CHECK_ST(airs_topic_subscribers(rt, "t", list, 4, NULL), AIRS_EINVAL);
  CHECK_ST(airs_topic_subscribers(rt, "t", NULL, 1, &count), AIRS_EINVAL);
  /* Nothing was written by the failures. */
  CHECK_EQ(count, 4242);
  CHECK_EQ(list[0], 11);

  /* NULL out with capacity 0: the count only. */
  CHECK_ST(airs_topic_subscribers(rt, "t", NULL, 0, &count), AIRS_OK);
  CHECK_EQ(count, 1);
  /* A short buffer: what fits, and the whole count. */
  CHECK_ST(airs_subscribe(rt, "u", pa), AIRS_OK);
  CHECK_ST(airs_topic_subscribers(rt, "t", list, 4, &count), AIRS_OK);
  CHECK_EQ(count, 1);
  CHECK_EQ(list[0], pa);
  CHECK_EQ(list[1], 12); /* past the count: untouched */
  CHECK_ST(airs_topic_subscribers(rt, "nobody", list, 4, &count), AIRS_OK);
  CHECK_EQ(count, 0);
  airs_runtime_free(rt);
}

static void test_publish_errors(void) {
  airs_runtime* rt = make_host_runtime(20);
  airs_runtime* freed = make_host_runtime(20);
  recorder a;
  airs_pid pa;
  counter frees = {0};
  airs_payload* p = NULL;
  size_t delivered = 4242;
  CHECK(rt != NULL && freed != NULL);
  if (!rt || !freed) return;
  airs_runtime_free(freed);
  memset(&a, 0, sizeof a);
  pa = spawn_rec(rt, &a, NULL);
  CHECK_ST(airs_subscribe(rt, "t", pa), AIRS_OK);
  CHECK_ST(airs_payload_wrap(&frees, sizeof frees, counter_free, &p), AIRS_OK);
  if (!p) return;

  CHECK_ST(airs_publish(NULL, "t", NEWS, p, &delivered), AIRS_EINVAL);
  CHECK_ST(airs_publish(freed, "t", NEWS, p, &delivered), AIRS_ESTATE);
  CHECK_ST(airs_publish(rt, NULL, NEWS, p, &delivered), AIRS_EINVAL);
  CHECK_ST(airs_publish(rt, "", NEWS, p, &delivered), AIRS_EINVAL);
  CHECK_ST(airs_publish(rt, too_long_name(), NEWS, p, &delivered), AIRS_EINVAL);
  CHECK_ST(airs_publish(rt, "t", NEWS, NULL, &delivered), AIRS_EINVAL);
  /* The system range: its first type, the runtime's own, the last. */
  CHECK_ST(airs_publish(rt, "t", AIRS_MSG_SYSTEM_BASE, p, &delivered),
           AIRS_EINVAL);
  CHECK_ST(airs_publish(rt, "t", AIRS_MSG_EXIT, p, &delivered), AIRS_EINVAL);
  CHECK_ST(airs_publish(rt, "t", UINT64_MAX, p, &delivered), AIRS_EINVAL);
  /* Nothing was delivered, written or taken: the payload is the caller's. */
  CHECK(poll_all(rt) >= 0);
  CHECK_EQ(a.n, 0);
  CHECK_EQ(delivered, 4242);
  CHECK_EQ(frees.n, 0);

  /* The last type below the system range works; delivered may be NULL. */
  CHECK_ST(airs_publish(rt, "t", AIRS_MSG_SYSTEM_BASE - 1, p, NULL), AIRS_OK);
  CHECK_ST(airs_publish(rt, "t", NEWS, p, &delivered), AIRS_OK);
  CHECK_EQ(delivered, 1);
  airs_payload_release(p);
  CHECK_EQ(frees.n, 0); /* the messages hold it */
  CHECK(poll_all(rt) >= 0);
  CHECK_EQ(a.n, 2);
  CHECK_EQ(frees.n, 1);
  airs_runtime_free(rt);
}

/* The header's promise in one run: three subscribers, one payload. */
static void test_publish_works(void) {
  airs_runtime* rt = make_host_runtime(20);
  recorder r[3];
  airs_pid pids[3];
  counter frees = {0};
  airs_payload* p = NULL;
  size_t delivered = 0, count = 0;
  int i;
  CHECK(rt != NULL);
  if (!rt) return;
  for (i = 0; i < 3; i++) {
    memset(&r[i], 0, sizeof r[i]);
    pids[i] = spawn_rec(rt, &r[i], NULL);
    CHECK_ST(airs_subscribe(rt, "news", pids[i]), AIRS_OK);
  }
  CHECK_ST(airs_subscribe(rt, "news", pids[0]), AIRS_OK); /* once */
  CHECK_ST(airs_topic_subscribers(rt, "news", NULL, 0, &count), AIRS_OK);
  CHECK_EQ(count, 3);
  CHECK_ST(airs_payload_wrap(&frees, sizeof frees, counter_free, &p), AIRS_OK);
  if (!p) return;
  CHECK_ST(airs_publish(rt, "news", NEWS, p, &delivered), AIRS_OK);
  CHECK_EQ(delivered, 3);
  airs_payload_release(p);
  CHECK(poll_all(rt) >= 0);
  for (i = 0; i < 3; i++) {
    CHECK_EQ(r[i].n, 1);
    CHECK(r[i].msgs[0].payload == p); /* the same payload, no copy */
    CHECK(r[i].msgs[0].data == (const void*)&frees);
    CHECK_EQ(r[i].msgs[0].type, NEWS);
    CHECK_EQ(r[i].msgs[0].sender, 0);
  }
  CHECK_EQ(frees.n, 1);

  /* Unsubscribed: no longer reached. A topic nobody has: 0 delivered. */
  CHECK_ST(airs_unsubscribe(rt, "news", pids[1]), AIRS_OK);
  CHECK_ST(airs_payload_new("x", 1, &p), AIRS_OK);
  CHECK_ST(airs_publish(rt, "news", NEWS, p, &delivered), AIRS_OK);
  CHECK_EQ(delivered, 2);
  CHECK_ST(airs_publish(rt, "nobody", NEWS, p, &delivered), AIRS_OK);
  CHECK_EQ(delivered, 0);
  airs_payload_release(p);
  CHECK(poll_all(rt) >= 0);
  CHECK_EQ(r[0].n, 2);
  CHECK_EQ(r[1].n, 1);
  CHECK_EQ(r[2].n, 2);
  airs_runtime_free(rt);
}

int main(void) {
  test_subscribe_errors();
  test_subscribers_errors();
  test_publish_errors();
  test_publish_works();
  return CHECK_DONE();
}
