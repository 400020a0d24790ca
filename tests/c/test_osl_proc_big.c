/*
 * test_osl_proc_big.c - spawning from a large parent: with 4 GiB resident
 * (malloc'd and every page touched), 200 spawns of /bin/true through the
 * process actor, one after the other, each timed from the request to the
 * exit message. posix_spawn's vfork-style clone copies no page tables, so
 * the p50 must stay small; a fork would copy 8 MiB of them per spawn.
 *
 * The machine must have the memory: the test fails (it does not skip)
 * with a clear message if it cannot get it.
 */
#define _GNU_SOURCE

#include <stdint.h>
#include <unistd.h>

#include "check.h"
#include "helpers.h"

#define BIG ((size_t)4 << 30)
#define SPAWNS 200
/* Generous for a shared CI machine; the benchmark reports the real p50. */
#define P50_LIMIT_MS 5.0

/* MemAvailable of /proc/meminfo, in bytes (0 if unknown). */
static size_t mem_available(void) {
  char line[256];
  size_t kb = 0;
  FILE* f = fopen("/proc/meminfo", "r");
  if (!f) return 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "MemAvailable: %zu kB", &kb) == 1) break;
  fclose(f);
  return kb * 1024;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

/* Ends at the exit message of its one child. */
static airs_status owner_receive(void* state, airs_ctx* ctx,
                                 const airs_msg* m) {
  (void)state;
  if (airs_msg_type(m) == AIRS_MSG_PROC_EXIT)
    return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
  return AIRS_OK;
}

int main(void) {
  static const char* const argv[] = {"/bin/true", NULL};
  static double ms[SPAWNS];
  size_t avail = mem_available();
  char* big;
  size_t i;
  airs_runtime* rt;
  airs_behaviour b;
  airs_proc_spawn s;
  airs_proc_spawned c;
  airs_osl_result r;
  if (avail < BIG + ((size_t)1 << 30)) {
    fprintf(stderr,
            "test_osl_proc_big: needs 5 GiB available (4 GiB resident plus "
            "room), /proc/meminfo says %zu MiB\n",
            avail >> 20);
    return 1;
  }
  big = (char*)malloc(BIG);
  if (!big) {
    fprintf(stderr, "test_osl_proc_big: malloc of 4 GiB failed\n");
    return 1;
  }
  for (i = 0; i < BIG; i += 4096) big[i] = (char)i;

  rt = make_runtime(2, 0);
  CHECK(rt != NULL);
  if (!rt) return CHECK_DONE();
  CHECK_EQ(airs_proc_start(rt, NULL), AIRS_OK);
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = owner_receive;
  airs_proc_spawn_init(&s);
  s.path = argv[0];
  s.argv = argv;
  for (i = 0; i < SPAWNS; i++) {
    airs_pid owner = 0;
    double t0;
    CHECK_EQ(airs_spawn(rt, &b, NULL, NULL, NULL, &owner), AIRS_OK);
    s.owner = owner;
    t0 = now_ms();
    CHECK_EQ(airs_proc_spawn_call(rt, &s, 10000, &c, &r), AIRS_OK);
    CHECK_EQ(r.status, AIRS_OK);
    CHECK_EQ(airs_wait(rt, owner, 10000), AIRS_OK);
    ms[i] = now_ms() - t0;
  }
  qsort(ms, SPAWNS, sizeof ms[0], cmp_double);
  printf("4 GiB resident: spawn to exit p50 %.3f ms, p99 %.3f ms\n",
         ms[SPAWNS / 2], ms[SPAWNS * 99 / 100]);
  CHECK(ms[SPAWNS / 2] < P50_LIMIT_MS);
  airs_runtime_free(rt);
  CHECK(big[4096] == (char)4096);
  free(big);
  return CHECK_DONE();
}
