/*
 * test_osl_sup.c - airs_osl_start (<airs/osl.h>): the three system actors
 * under one rest_for_one supervisor. Kill each one and check what
 * restarts, in which order, under which names, and that no fd is left
 * behind by the restarts or by freeing the runtime.
 */
#define _GNU_SOURCE /* pthread, clock_gettime */
#include <airs/airs.h>
#include <pthread.h>
#include <unistd.h>

#include "check.h"
#include "helpers.h"
#include "net_probe.h"

#define WAIT_MS 5000
#define CHECK_OK(call) CHECK_EQ((call), AIRS_OK)

/* The ids of the CHILD_RESTARTED events, in order ("fs proc net "). */
typedef struct restarts {
  pthread_mutex_t mu;
  char ids[512];
  int n;
} restarts;

static void on_event(void* user_data, const airs_event* e) {
  restarts* r = (restarts*)user_data;
  if (e->kind != AIRS_EVENT_CHILD_RESTARTED) return;
  pthread_mutex_lock(&r->mu);
  if (strlen(r->ids) + strlen(e->id) + 2 < sizeof r->ids) {
    strcat(r->ids, e->id);
    strcat(r->ids, " ");
  }
  r->n++;
  pthread_mutex_unlock(&r->mu);
}

/* Waits until `n` restarts were seen; then returns their ids (copied)
 * and forgets them. */
static void wait_restarts(restarts* r, int n, char* out, size_t size) {
  double end = now_ms() + WAIT_MS;
  for (;;) {
    pthread_mutex_lock(&r->mu);
    if (r->n >= n || now_ms() > end) {
      snprintf(out, size, "%s", r->ids);
      r->ids[0] = '\0';
      r->n = 0;
      pthread_mutex_unlock(&r->mu);
      return;
    }
    pthread_mutex_unlock(&r->mu);
    usleep(1000);
  }
}

static airs_pid where(airs_runtime* rt, const char* name) {
  airs_pid pid = 0;
  airs_whereis(rt, name, &pid);
  return pid;
}

/* Kills the actor registered as `name`; returns the restarts it caused. */
static void crash(airs_runtime* rt, restarts* r, const char* name, int n,
                  char* ids, size_t size) {
  airs_pid pid = where(rt, name);
  CHECK(pid != 0);
  CHECK_OK(airs_kill(rt, pid));
  wait_restarts(r, n, ids, size);
  CHECK(where(rt, name) != pid); /* the name follows the new start */
}

static void test_rest_for_one(void) {
  int before = count_fds(), after_start;
  airs_runtime* rt = make_runtime(2, 0);
  restarts r;
  airs_pid sup = 0, fs, proc, net;
  airs_child_info rows[4];
  size_t count = 0;
  char ids[512];
  memset(&r, 0, sizeof r);
  pthread_mutex_init(&r.mu, NULL);
  CHECK_OK(airs_set_event_hook(rt, on_event, &r));
  CHECK_OK(airs_osl_start(rt, NULL, &sup));
  CHECK(sup != 0);

  /* The children, in start order, each under its name. */
  CHECK_OK(airs_supervisor_which_children(rt, sup, rows, 4, &count));
  CHECK_EQ(count, 3);
  CHECK_STR(rows[0].id, "fs");
  CHECK_STR(rows[1].id, "proc");
  CHECK_STR(rows[2].id, "net");
  CHECK_EQ(rows[0].pid, where(rt, AIRS_OSL_FS_NAME));
  CHECK_EQ(rows[1].pid, where(rt, AIRS_OSL_PROC_NAME));
  CHECK_EQ(rows[2].pid, where(rt, AIRS_OSL_NET_NAME));
  after_start = count_fds();

  /* The network actor is last: only it restarts. */
  fs = where(rt, AIRS_OSL_FS_NAME);
  proc = where(rt, AIRS_OSL_PROC_NAME);
  crash(rt, &r, AIRS_OSL_NET_NAME, 1, ids, sizeof ids);
  CHECK_STR(ids, "net ");
  CHECK_EQ(where(rt, AIRS_OSL_FS_NAME), fs);
  CHECK_EQ(where(rt, AIRS_OSL_PROC_NAME), proc);

  /* The process actor: it and the network actor, in that order. */
  net = where(rt, AIRS_OSL_NET_NAME);
  crash(rt, &r, AIRS_OSL_PROC_NAME, 2, ids, sizeof ids);
  CHECK_STR(ids, "proc net ");
  CHECK_EQ(where(rt, AIRS_OSL_FS_NAME), fs);
  CHECK(where(rt, AIRS_OSL_NET_NAME) != net);

  /* The file actor is first: all three restart, in start order. */
  proc = where(rt, AIRS_OSL_PROC_NAME);
  net = where(rt, AIRS_OSL_NET_NAME);
  crash(rt, &r, AIRS_OSL_FS_NAME, 3, ids, sizeof ids);
  CHECK_STR(ids, "fs proc net ");
  CHECK(where(rt, AIRS_OSL_PROC_NAME) != proc);
  CHECK(where(rt, AIRS_OSL_NET_NAME) != net);

  /* The restarted actors work, and the restarts left no fd behind. */
  {
    airs_fs_req req;
    airs_msg* reply = NULL;
    airs_osl_result res;
    CHECK_OK(airs_fs_req_init(&req));
    req.type = AIRS_MSG_FS_STAT;
    req.path = "/";
    CHECK_OK(airs_fs_call(rt, &req, WAIT_MS, &reply));
    CHECK_OK(airs_osl_result_get(reply, &res));
    CHECK_EQ(res.status, AIRS_OK);
    airs_msg_free(reply);
  }
  CHECK_EQ(count_fds(), after_start);
  airs_runtime_free(rt);
  CHECK_EQ(count_fds(), before);
  pthread_mutex_destroy(&r.mu);
}

static void test_start_errors(void) {
  airs_runtime* rt = make_runtime(2, 0);
  airs_osl_opts opts;
  airs_pid sup = 77, sup2 = 0;
  CHECK_EQ(airs_osl_opts_init(NULL), AIRS_EINVAL);
  CHECK_OK(airs_osl_opts_init(&opts));
  CHECK_EQ(opts.intensity, 3);
  CHECK_EQ(opts.period_ms, 5000);
  CHECK_EQ(airs_osl_start(NULL, NULL, &sup), AIRS_EINVAL);
  CHECK_EQ(sup, 0); /* cleared on failure */
  CHECK_EQ(airs_osl_start(rt, NULL, NULL), AIRS_EINVAL);
  opts.version = 9;
  CHECK_EQ(airs_osl_start(rt, &opts, &sup), AIRS_EINVAL);
  CHECK(strstr(airs_last_error_message(), "version") != NULL);
  CHECK_OK(airs_osl_opts_init(&opts));
  opts.period_ms = 0; /* as airs_sup_spec_new refuses */
  CHECK_EQ(airs_osl_start(rt, &opts, &sup), AIRS_EINVAL);
  /* A named supervisor; then a second OSL finds the names taken. */
  CHECK_OK(airs_osl_opts_init(&opts));
  opts.name = "osl";
  CHECK_OK(airs_osl_start(rt, &opts, &sup));
  CHECK_EQ(where(rt, "osl"), sup);
  CHECK(airs_osl_start(rt, NULL, &sup2) != AIRS_OK);
  CHECK_EQ(sup2, 0);
  CHECK(airs_is_alive(rt, where(rt, AIRS_OSL_FS_NAME)));
  /* Stopping the supervisor stops the three and frees their names. */
  CHECK_OK(airs_stop(rt, sup));
  CHECK_OK(airs_wait(rt, sup, WAIT_MS));
  CHECK_EQ(where(rt, AIRS_OSL_FS_NAME), 0);
  CHECK_EQ(where(rt, AIRS_OSL_NET_NAME), 0);
  CHECK_OK(airs_osl_start(rt, NULL, &sup2)); /* and the names are free */
  airs_runtime_free(rt);
  CHECK_EQ(airs_osl_start(rt, NULL, &sup2), AIRS_ESTATE);
}

/* Intensity 0: the first crash makes the supervisor give up; the actors
 * end with it. */
static void test_gives_up(void) {
  airs_runtime* rt = make_runtime(2, 0);
  airs_osl_opts opts;
  airs_pid sup = 0;
  CHECK_OK(airs_osl_opts_init(&opts));
  opts.intensity = 0;
  CHECK_OK(airs_osl_start(rt, &opts, &sup));
  CHECK_OK(airs_kill(rt, where(rt, AIRS_OSL_PROC_NAME)));
  CHECK_OK(airs_wait(rt, sup, WAIT_MS));
  CHECK_EQ(where(rt, AIRS_OSL_FS_NAME), 0);
  airs_runtime_free(rt);
}

int main(void) {
  test_rest_for_one();
  test_start_errors();
  test_gives_up();
  return CHECK_DONE();
}
