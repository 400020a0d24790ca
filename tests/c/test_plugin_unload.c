/*
 * test_plugin_unload.c - what a plugin host needs from libairs when it
 * loads and unloads it: the library, with three plugins (plugin/plugin.c)
 * on one runtime, goes and comes back without leaving anything behind.
 * Like test_plugin_host.c it is not linked with libairs: it dlopen()s the
 * library by path and uses only the header's types and macros.
 *
 *   test_plugin_unload cycles N LIB PLUGIN_A PLUGIN_B PLUGIN_C PLUGIN_OLD
 *       100 + N times (100 to warm up, N measured): load the library,
 *       make a runtime with worker threads, load the three plugins (each
 *       spawns an actor, registered by name, that greets the next one),
 *       call each from this thread, stop and unload the plugins, free the
 *       runtime, unload the library. Every
 *       cycle: the library and the plugins are unmapped (dlopen with
 *       RTLD_NOLOAD finds nothing), open fds and threads are back to what
 *       they were before. Over the run: resident memory grows by at most
 *       64 KiB, no signal disposition changes, no pthread key is left
 *       taken, /proc/self/maps no longer names the library. Before the
 *       cycles, PLUGIN_OLD, a plugin that claims another major version of
 *       the header, is refused by the ABI guard with a message naming both
 *       versions.
 *   test_plugin_unload threads LIB
 *       8 host threads call the API (sends, calls, a failing call), the
 *       runtime is freed and the library unloaded while they still live;
 *       it is unmapped then, and they exit afterwards without a crash.
 *       Also: the operator new that the library's scope resolves to is
 *       libstdc++'s, not mimalloc's (check_operator_new).
 *   test_plugin_unload copies LIB
 *       the library copied to two temporary paths and loaded from both
 *       with RTLD_LOCAL: two copies, each with its runtime, its registry
 *       and its counters, that do not see each other; both unmapped after.
 *
 * Why "unmapped" is the check for thread-local destructors and atexit
 * handlers: glibc does not unmap a library while a thread-local object of
 * it still has a destructor to run (__cxa_thread_atexit_impl pins it until
 * that thread ends), so a library that is gone after dlclose, while the
 * threads that called it live on, left no such destructor behind. atexit
 * and __cxa_atexit handlers a library registers under its own DSO handle
 * run inside its dlclose (__cxa_finalize) and are removed; one registered
 * under another handle would outlive the unmapping and crash at exit, so
 * this program exiting with status 0 after the unload is that check.
 * pthread keys are not tied to a library: their destructors would be
 * called after the unmapping, so the test checks none stays taken.
 * Signal dispositions are compared for every signal, before and after.
 *
 * Under AddressSanitizer the library is still unloaded, but the runtime's
 * allocations are ASan's, and ASan keeps freed memory in quarantine: the
 * resident-memory bound is only checked in builds without a sanitizer.
 */
#define _GNU_SOURCE

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "plugin/plugin.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* ------------------------------------------------------------------------
 * The library, as a host sees it: a handle and the functions it looks up.
 * ---------------------------------------------------------------------- */

typedef struct lib {
  void* handle;
  char path[PATH_MAX];
  airs_status (*check_abi)(uint32_t);
  uint32_t (*version)(void);
  const char* (*last_error_message)(void);
  airs_status (*config_new)(airs_config**);
  airs_status (*config_set)(airs_config*, airs_config_key, int64_t);
  void (*config_free)(airs_config*);
  airs_status (*runtime_new)(const airs_config*, airs_runtime**);
  void (*runtime_free)(airs_runtime*);
  airs_status (*runtime_stats_get)(airs_runtime*, airs_runtime_stats*);
  airs_status (*send)(airs_runtime*, airs_pid, uint64_t, const void*, size_t);
  airs_status (*call)(airs_runtime*, airs_pid, airs_msg*, uint32_t, airs_msg**);
  void (*msg_free)(airs_msg*);
  plugin_api api; /* what the plugins get */
} lib;

/* dlsym returns an object pointer; ISO C has no cast to a function
 * pointer, so copy the bits (what POSIX guarantees to work). */
static int look_up(void* handle, const char* name, void* fn, size_t size) {
  void* sym = dlsym(handle, name);
  if (!sym) {
    fprintf(stderr, "dlsym(%s): %s\n", name, dlerror());
    return 0;
  }
  memcpy(fn, &sym, size);
  return 1;
}
#define LOOK_UP(l, name, field) \
  look_up((l)->handle, (name), &(l)->field, sizeof(l)->field)

/* Loads the library at `path` (by path, never through the search path)
 * and looks the API up. 1 on success. */
static int lib_open(lib* l, const char* path) {
  int ok;
  memset(l, 0, sizeof *l);
  snprintf(l->path, sizeof l->path, "%s%s", strchr(path, '/') ? "" : "./",
           path);
  l->handle = dlopen(l->path, RTLD_NOW | RTLD_LOCAL);
  if (!l->handle) {
    fprintf(stderr, "dlopen(%s): %s\n", l->path, dlerror());
    return 0;
  }
  ok = LOOK_UP(l, "airs_check_abi", check_abi) &&
       LOOK_UP(l, "airs_version", version) &&
       LOOK_UP(l, "airs_last_error_message", last_error_message) &&
       LOOK_UP(l, "airs_config_new", config_new) &&
       LOOK_UP(l, "airs_config_set", config_set) &&
       LOOK_UP(l, "airs_config_free", config_free) &&
       LOOK_UP(l, "airs_runtime_new", runtime_new) &&
       LOOK_UP(l, "airs_runtime_free", runtime_free) &&
       LOOK_UP(l, "airs_runtime_stats_get", runtime_stats_get) &&
       LOOK_UP(l, "airs_send", send) && LOOK_UP(l, "airs_call", call) &&
       LOOK_UP(l, "airs_msg_free", msg_free) &&
       LOOK_UP(l, "airs_check_abi", api.check_abi) &&
       LOOK_UP(l, "airs_last_error_message", api.last_error_message) &&
       LOOK_UP(l, "airs_spawn", api.spawn) &&
       LOOK_UP(l, "airs_register", api.register_name) &&
       LOOK_UP(l, "airs_whereis", api.whereis) &&
       LOOK_UP(l, "airs_stop", api.stop) && LOOK_UP(l, "airs_wait", api.wait) &&
       LOOK_UP(l, "airs_ctx_runtime", api.ctx_runtime) &&
       LOOK_UP(l, "airs_ctx_send", api.ctx_send) &&
       LOOK_UP(l, "airs_msg_new", api.msg_new) &&
       LOOK_UP(l, "airs_msg_read", api.msg_read) &&
       LOOK_UP(l, "airs_reply", api.reply);
  if (!ok) {
    dlclose(l->handle);
    l->handle = NULL;
  }
  return ok;
}

static int lib_close(lib* l) {
  int rc = dlclose(l->handle);
  if (rc != 0) fprintf(stderr, "dlclose(%s): %s\n", l->path, dlerror());
  l->handle = NULL;
  return rc == 0;
}

/* A runtime with two worker threads, so that the library starts threads
 * of its own. */
static airs_runtime* runtime_with_workers(const lib* l) {
  airs_config* cfg = NULL;
  airs_runtime* rt = NULL;
  if (l->config_new(&cfg) != AIRS_OK) return NULL;
  if (l->config_set(cfg, AIRS_CFG_WORKERS, 2) == AIRS_OK)
    (void)l->runtime_new(cfg, &rt);
  l->config_free(cfg);
  return rt;
}

/* airs_call with an empty message of `type`; the reply's bytes go to
 * `out` (up to `cap`). Returns the reply's size, or -1. */
static long call(const lib* l, airs_runtime* rt, airs_pid pid, uint64_t type,
                 void* out, size_t cap) {
  airs_msg* req = NULL;
  airs_msg* reply = NULL;
  size_t size = 0;
  const void* data;
  if (l->api.msg_new(type, NULL, 0, &req) != AIRS_OK) return -1;
  if (l->call(rt, pid, req, 5000, &reply) != AIRS_OK) {
    fprintf(stderr, "airs_call: %s\n", l->last_error_message());
    return -1;
  }
  data = l->api.msg_read(reply, NULL, &size);
  if (size <= cap && size > 0) memcpy(out, data, size);
  l->msg_free(reply);
  return (long)size;
}

/* ------------------------------------------------------------------------
 * What the process holds: fds, threads, memory, mappings, keys, signals.
 * ---------------------------------------------------------------------- */

/* Entries of a /proc folder, "." and ".." left out. */
static int count_entries(const char* dir) {
  DIR* d = opendir(dir);
  struct dirent* e;
  int n = 0;
  if (!d) return -1;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n; /* counts the fd opendir used: the same on every count */
}

static void sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

/* Threads of this process, once they are back to `want`: a joined thread
 * has left its task entry a moment after the join returns (the kernel
 * wakes the joiner before it removes the task), so wait up to 2 s. */
static int threads_settled(int want) {
  int n = count_entries("/proc/self/task");
  int i;
  for (i = 0; i < 2000 && n != want; i++) {
    sleep_ms(1);
    n = count_entries("/proc/self/task");
  }
  return n;
}

static long resident_bytes(void) {
  long pages = -1, size;
  FILE* f = fopen("/proc/self/statm", "r");
  if (!f) return -1;
  if (fscanf(f, "%ld %ld", &size, &pages) != 2) pages = -1;
  fclose(f);
  return pages < 0 ? -1 : pages * sysconf(_SC_PAGESIZE);
}

/* 1 if /proc/self/maps names the file at `path` (its real path). */
static int mapped(const char* path) {
  char real[PATH_MAX];
  char line[PATH_MAX + 256];
  int found = 0;
  FILE* f;
  if (!realpath(path, real)) return 0;
  f = fopen("/proc/self/maps", "r");
  if (!f) return 1;
  while (!found && fgets(line, sizeof line, f)) {
    char* name = strchr(line, '/');
    size_t len = strlen(real);
    if (name && strncmp(name, real, len) == 0 &&
        (name[len] == '\n' || name[len] == '\0' || name[len] == ' '))
      found = 1;
  }
  fclose(f);
  return found;
}

/* 1 if the dynamic loader still has the object at `path` loaded. */
static int loaded(const char* path) {
  void* h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  if (!h) return 0;
  dlclose(h); /* NOLOAD took a reference */
  return 1;
}

/* The lowest pthread key free now: a key the library created and did not
 * delete keeps its slot, so the next key a host creates moves up. */
static long free_key(void) {
  pthread_key_t k;
  if (pthread_key_create(&k, NULL) != 0) return -1;
  pthread_key_delete(k);
  return (long)k;
}

/* Every signal's disposition, to compare before and after. */
typedef struct signals {
  struct sigaction sa[NSIG];
} signals;

static void signals_get(signals* s) {
  int i;
  memset(s, 0, sizeof *s);
  for (i = 1; i < NSIG; i++) (void)sigaction(i, NULL, &s->sa[i]);
}

/* The first signal whose handler or flags differ, or 0. */
static int signals_changed(const signals* a, const signals* b) {
  int i;
  for (i = 1; i < NSIG; i++)
    if (a->sa[i].sa_handler != b->sa[i].sa_handler ||
        a->sa[i].sa_flags != b->sa[i].sa_flags)
      return i;
  return 0;
}

/* ------------------------------------------------------------------------
 * cycles: load, run three plugins, unload; N times.
 * ---------------------------------------------------------------------- */

#define PLUGINS 3
static const char* const plugin_names[PLUGINS] = {"a", "b", "c"};

typedef struct plugin {
  void* handle;
  plugin_start_fn start;
  plugin_stop_fn stop;
} plugin;

static int plugin_open(plugin* p, const char* path) {
  memset(p, 0, sizeof *p);
  p->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!p->handle) {
    fprintf(stderr, "dlopen(%s): %s\n", path, dlerror());
    return 0;
  }
  if (look_up(p->handle, "plugin_start", &p->start, sizeof p->start) &&
      look_up(p->handle, "plugin_stop", &p->stop, sizeof p->stop))
    return 1;
  dlclose(p->handle);
  p->handle = NULL;
  return 0;
}

/* One cycle. Returns the number of failed checks it added. */
static int cycle(const char* lib_path, char** plugin_paths, int fds,
                 int threads) {
  int failed_before = check_failed_;
  plugin plugins[PLUGINS];
  airs_runtime* rt;
  lib l;
  int i, n;
  if (!lib_open(&l, lib_path)) {
    CHECK(!"the library loads");
    return 1;
  }
  CHECK_EQ(l.check_abi(AIRS_VERSION_NUMBER), AIRS_OK);
  rt = runtime_with_workers(&l);
  CHECK(rt != NULL);
  if (!rt) {
    lib_close(&l);
    return 1;
  }
  /* Its workers and its timer thread. */
  CHECK(count_entries("/proc/self/task") >= threads + 3);
  for (i = 0; i < PLUGINS; i++) {
    char next[32];
    plugins[i].handle = NULL;
    if (!plugin_open(&plugins[i], plugin_paths[i])) {
      CHECK(!"a plugin loads");
      continue;
    }
    snprintf(next, sizeof next, "plugin.%s", plugin_names[(i + 1) % PLUGINS]);
    CHECK_EQ(plugins[i].start(&l.api, rt, next), AIRS_OK);
  }
  /* Each plugin answers with its name and greets the next one... */
  for (i = 0; i < PLUGINS; i++) {
    char name[32], want[32];
    airs_pid pid = 0;
    long got;
    snprintf(want, sizeof want, "plugin.%s", plugin_names[i]);
    CHECK_EQ(l.api.whereis(rt, want, &pid), AIRS_OK);
    memset(name, 0, sizeof name);
    got = call(&l, rt, pid, PLUGIN_PING, name, sizeof name - 1);
    CHECK_EQ(got, 1);
    CHECK_STR(name, plugin_names[i]);
  }
  /* ...so each was greeted once, by the one before it. */
  for (i = 0; i < PLUGINS; i++) {
    char want[32];
    airs_pid pid = 0;
    uint32_t hellos = 0;
    snprintf(want, sizeof want, "plugin.%s", plugin_names[i]);
    (void)l.api.whereis(rt, want, &pid);
    CHECK_EQ(call(&l, rt, pid, PLUGIN_COUNT, &hellos, sizeof hellos),
             sizeof hellos);
    CHECK_EQ(hellos, 1);
  }
  /* A plugin goes before the runtime: its actor ends, then its code. */
  for (i = 0; i < PLUGINS; i++) {
    if (!plugins[i].handle) continue;
    CHECK_EQ(plugins[i].stop(), AIRS_OK);
    CHECK_EQ(dlclose(plugins[i].handle), 0);
    CHECK(!loaded(plugin_paths[i]));
  }
  l.runtime_free(rt);
  CHECK(lib_close(&l));
  CHECK(!loaded(lib_path));
  n = count_entries("/proc/self/fd");
  if (n != fds) fprintf(stderr, "    open fds: %d, before: %d\n", n, fds);
  CHECK_EQ(n, fds);
  n = threads_settled(threads);
  CHECK_EQ(n, threads);
  return check_failed_ - failed_before;
}

/* A plugin built against another major version is refused, and says so. */
static void refuses_old_plugin(const char* lib_path, const char* old_path) {
  plugin p;
  airs_runtime* rt;
  lib l;
  if (!lib_open(&l, lib_path)) {
    CHECK(!"the library loads");
    return;
  }
  rt = runtime_with_workers(&l);
  CHECK(rt != NULL);
  if (rt && plugin_open(&p, old_path)) {
    char want[128];
    const char* msg;
    CHECK_EQ(p.start(&l.api, rt, "plugin.a"), AIRS_EVERSION);
    msg = l.last_error_message();
    snprintf(want, sizeof want, "built against airs %d.%d.%d, loaded %s",
             AIRS_VERSION_MAJOR + 1, 0, 0, AIRS_VERSION_STRING);
    if (!check_report_(strstr(msg, want) != NULL, __FILE__, __LINE__,
                       "the ABI guard names both versions"))
      fprintf(stderr, "    message: \"%s\"\n    want: \"%s\"\n", msg, want);
    CHECK(strstr(msg, "airs_check_abi") != NULL);
    CHECK_EQ(dlclose(p.handle), 0);
  } else {
    CHECK(!"the old plugin loads");
  }
  l.runtime_free(rt);
  CHECK(lib_close(&l));
}

static int run_cycles(int n, char** paths) {
  const char* lib_path = paths[0];
  long rss_base = 0, rss_end = 0, key_base;
  int fds, threads, i, sig;
  int warm_up = 100, window = n / 10;
  signals before, after;
  struct timespec t0, t1;
  /* glibc gives threads new malloc arenas, up to 8 per core, when they
   * meet on a locked one: each arena keeps pages of its own, and the last
   * ones may come at any cycle, as the threads happen to collide. That
   * is the host's allocator filling up, not memory the library keeps, so
   * the threads share one arena here. */
  mallopt(M_ARENA_MAX, 1);
  signals_get(&before);
  fds = count_entries("/proc/self/fd");
  threads = count_entries("/proc/self/task");
  CHECK(!loaded(lib_path));

  refuses_old_plugin(lib_path, paths[4]);
  CHECK(!loaded(lib_path));
  /* After a first load: a mimalloc build leaves libmimalloc loaded, with
   * the one pthread key it took, on purpose (core/base/alloc.cpp). From
   * here on no key may stay taken. */
  key_base = free_key();

  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (i = 0; i < warm_up + n; i++) {
    long rss;
    if (cycle(lib_path, paths + 1, fds, threads) != 0) {
      fprintf(stderr, "cycle %d of %d failed\n", i + 1, warm_up + n);
      break;
    }
    /* Memory from the warmed-up state on: the first cycles fill the
     * loader's and the C library's caches (thread stacks, the allocators'
     * pages), which then stay level. An allocator may give a freed block
     * back to the system some cycles later than it was freed, so each
     * end is the lowest resident size over a window of cycles: what
     * stays for good, as a leak would. */
    rss = resident_bytes();
    if (i >= warm_up && i < warm_up + window && (!rss_base || rss < rss_base))
      rss_base = rss;
    if (i >= warm_up + n - window && (!rss_end || rss < rss_end)) rss_end = rss;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  signals_get(&after);
  printf("%d cycles in %.2f s; resident memory %+ld bytes over the last %d\n",
         i, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
         rss_end - rss_base, n);
  CHECK_EQ(i, warm_up + n);
#ifndef UNDER_ASAN
  if (!check_report_(rss_end - rss_base <= 64 * 1024, __FILE__, __LINE__,
                     "resident memory grew by at most 64 KiB"))
    fprintf(stderr, "    grew by %ld bytes\n", rss_end - rss_base);
#endif
  sig = signals_changed(&before, &after);
  if (!check_report_(sig == 0, __FILE__, __LINE__,
                     "no signal disposition changed"))
    fprintf(stderr, "    signal %d (%s)\n", sig, strsignal(sig));
  CHECK_EQ(free_key(), key_base);
  CHECK(!loaded(lib_path));
  CHECK(!mapped(lib_path));
  return CHECK_DONE();
}

/* ------------------------------------------------------------------------
 * threads: host threads that used the API outlive the library.
 * ---------------------------------------------------------------------- */

#define HOST_THREADS 8

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int threads_done; /* threads that finished their calls */
static int unloaded;     /* the library is gone: the threads may end */

typedef struct host_thread {
  pthread_t thread;
  const lib* l;
  airs_runtime* rt;
  airs_pid echo;
  int ok;
} host_thread;

/* An actor of the host (its code is in this program): answers the calls
 * (type 2), takes the plain sends (type 1). */
static airs_status echo_receive(void* st, airs_ctx* ctx, const airs_msg* msg) {
  const lib* l = (const lib*)st;
  airs_msg* reply;
  uint64_t type;
  l->api.msg_read(msg, &type, NULL);
  if (type != 2) return AIRS_OK;
  if (l->api.msg_new(7, "pong", 4, &reply) != AIRS_OK) return AIRS_ENOMEM;
  return l->api.reply(ctx, msg, reply);
}

static void* host_thread_main(void* arg) {
  host_thread* t = (host_thread*)arg;
  const lib* l = t->l;
  char pong[8], big[256];
  int i, ok = 1;
  memset(big, 'x', sizeof big);
  /* Sends and calls: this thread allocates messages and holds the
   * library's per-thread state (its envelope cache, its last error).
   * A payload too big for the envelope is allocated on this thread by
   * the library's allocator (mimalloc's per-thread heap, when it has
   * one): the thread then has mimalloc's thread-exit work to do too. */
  for (i = 0; i < 100 && ok; i++) {
    ok = l->send(t->rt, t->echo, 1, big, sizeof big) == AIRS_OK &&
         call(l, t->rt, t->echo, 2, pong, sizeof pong) == 4 &&
         memcmp(pong, "pong", 4) == 0;
  }
  /* A failing call leaves this thread a last error message. */
  ok = ok && l->send(t->rt, 0, 1, NULL, 0) == AIRS_ENOPROC &&
       l->last_error_message()[0] != '\0';
  t->ok = ok;
  pthread_mutex_lock(&mu);
  threads_done++;
  pthread_cond_broadcast(&cv);
  while (!unloaded) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  /* The thread ends now, after the library is gone: its thread-exit work
   * (the C library's, and any left by the library) runs here. */
  return NULL;
}

/* The C++ runtime the library brings into a C host keeps its own operator
 * new. libmimalloc.so, which a mimalloc build links for mi_malloc, also
 * defines operator new and delete; if it came first in the lookup scope
 * of the objects this dlopen loaded, libstdc++'s own calls to new and
 * delete would bind to mimalloc's, while C++ code loaded later binds to
 * libstdc++'s (on glibc's malloc): memory freed by the other allocator.
 * dlsym on the library's handle searches that scope in the loader's
 * order. */
static void check_operator_new(const lib* l) {
  void* nw = dlsym(l->handle, "_Znwm");
  Dl_info info;
  memset(&info, 0, sizeof info);
  CHECK(nw != NULL);
  if (!nw || !dladdr(nw, &info) || !info.dli_fname) return;
  if (!check_report_(strstr(info.dli_fname, "mimalloc") == NULL, __FILE__,
                     __LINE__, "operator new is not mimalloc's"))
    fprintf(stderr, "    operator new from %s\n", info.dli_fname);
}

static int run_threads(const char* lib_path) {
  host_thread threads[HOST_THREADS];
  airs_behaviour b;
  airs_runtime* rt;
  airs_pid echo = 0;
  lib l;
  int i;
  if (!lib_open(&l, lib_path)) {
    CHECK(!"the library loads");
    return CHECK_DONE();
  }
  check_operator_new(&l);
  rt = runtime_with_workers(&l);
  CHECK(rt != NULL);
  if (!rt) return CHECK_DONE();
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = echo_receive;
  CHECK_EQ(l.api.spawn(rt, &b, &l, NULL, NULL, &echo), AIRS_OK);
  /* The main thread is a host thread too. */
  CHECK_EQ(l.send(rt, echo, 1, "x", 1), AIRS_OK);
  for (i = 0; i < HOST_THREADS; i++) {
    threads[i].l = &l;
    threads[i].rt = rt;
    threads[i].echo = echo;
    threads[i].ok = 0;
    CHECK_EQ(
        pthread_create(&threads[i].thread, NULL, host_thread_main, &threads[i]),
        0);
  }
  pthread_mutex_lock(&mu);
  while (threads_done < HOST_THREADS) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  for (i = 0; i < HOST_THREADS; i++) CHECK(threads[i].ok);

  l.runtime_free(rt);
  CHECK(lib_close(&l));
  /* Gone while the threads that used it are alive: none of them holds a
   * thread-local destructor of the library. */
  CHECK(!loaded(lib_path));
  CHECK(!mapped(lib_path));
  pthread_mutex_lock(&mu);
  unloaded = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  for (i = 0; i < HOST_THREADS; i++)
    CHECK_EQ(pthread_join(threads[i].thread, NULL), 0);
  CHECK_EQ(threads_settled(1), 1);
  return CHECK_DONE();
}

/* ------------------------------------------------------------------------
 * copies: two copies of the library, each with its own runtime.
 * ---------------------------------------------------------------------- */

static int copy_file(const char* from, const char* to) {
  char buf[65536];
  size_t n;
  int ok = 1;
  FILE* in = fopen(from, "rb");
  FILE* out = in ? fopen(to, "wb") : NULL;
  if (!in || !out) ok = 0;
  while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
    ok = fwrite(buf, 1, n, out) == n;
  if (in) fclose(in);
  if (out && fclose(out) != 0) ok = 0;
  return ok;
}

static airs_status noop_receive(void* st, airs_ctx* ctx, const airs_msg* msg) {
  (void)st;
  (void)ctx;
  (void)msg;
  return AIRS_OK;
}

static int run_copies(const char* lib_path) {
  char dir[] = "/tmp/airs-copies.XXXXXX";
  char paths[2][PATH_MAX];
  airs_runtime* rts[2] = {NULL, NULL};
  airs_pid pids[2] = {0, 0};
  lib libs[2];
  airs_behaviour b;
  int i;
  if (!mkdtemp(dir)) {
    CHECK(!"mkdtemp");
    return CHECK_DONE();
  }
  for (i = 0; i < 2; i++) {
    snprintf(paths[i], sizeof paths[i], "%s/libairs-copy%d.so", dir, i);
    CHECK(copy_file(lib_path, paths[i]));
    CHECK(lib_open(&libs[i], paths[i]));
  }
  if (!libs[0].handle || !libs[1].handle) return CHECK_DONE();
  /* Two objects, two sets of code and data. */
  CHECK(libs[0].handle != libs[1].handle);
  CHECK(libs[0].runtime_new != libs[1].runtime_new);
  CHECK(mapped(paths[0]) && mapped(paths[1]));

  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = noop_receive;
  for (i = 0; i < 2; i++) {
    rts[i] = runtime_with_workers(&libs[i]);
    CHECK(rts[i] != NULL);
    if (!rts[i]) return CHECK_DONE();
    CHECK_EQ(libs[i].api.spawn(rts[i], &b, NULL, NULL, NULL, &pids[i]),
             AIRS_OK);
    /* The same name in both: each copy has its own registry. */
    CHECK_EQ(libs[i].api.register_name(rts[i], "service", pids[i]), AIRS_OK);
  }
  for (i = 0; i < 2; i++) {
    airs_runtime_stats st;
    airs_pid found = 0;
    int k;
    CHECK_EQ(libs[i].api.whereis(rts[i], "service", &found), AIRS_OK);
    CHECK_EQ(found, pids[i]);
    for (k = 0; k < 10 * (i + 1); k++)
      CHECK_EQ(libs[i].send(rts[i], pids[i], 1, NULL, 0), AIRS_OK);
    memset(&st, 0, sizeof st);
    st.version = AIRS_RUNTIME_STATS_VERSION;
    st.size = sizeof st;
    CHECK_EQ(libs[i].runtime_stats_get(rts[i], &st), AIRS_OK);
    CHECK_EQ(st.processes_spawned, 1);
    CHECK_EQ(st.messages_sent, 10 * (i + 1));
  }
  /* Freeing and unloading one copy leaves the other running. */
  libs[0].runtime_free(rts[0]);
  CHECK(lib_close(&libs[0]));
  CHECK(!loaded(paths[0]) && !mapped(paths[0]));
  CHECK_EQ(libs[1].send(rts[1], pids[1], 1, NULL, 0), AIRS_OK);
  CHECK_EQ(libs[1].api.stop(rts[1], pids[1]), AIRS_OK);
  CHECK_EQ(libs[1].api.wait(rts[1], pids[1], 5000), AIRS_OK);
  libs[1].runtime_free(rts[1]);
  CHECK(lib_close(&libs[1]));
  CHECK(!loaded(paths[1]) && !mapped(paths[1]));
  for (i = 0; i < 2; i++) CHECK_EQ(unlink(paths[i]), 0);
  CHECK_EQ(rmdir(dir), 0);
  return CHECK_DONE();
}

int main(int argc, char** argv) {
  if (argc == 8 && strcmp(argv[1], "cycles") == 0)
    return run_cycles(atoi(argv[2]), argv + 3);
  if (argc == 3 && strcmp(argv[1], "threads") == 0) return run_threads(argv[2]);
  if (argc == 3 && strcmp(argv[1], "copies") == 0) return run_copies(argv[2]);
  fprintf(stderr,
          "usage: %s cycles N LIB PLUGIN_A PLUGIN_B PLUGIN_C PLUGIN_OLD\n"
          "       %s threads LIB\n"
          "       %s copies LIB\n",
          argv[0], argv[0], argv[0]);
  return 2;
}
