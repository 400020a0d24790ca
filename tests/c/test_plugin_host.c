/*
 * test_plugin_host.c - a plugin host: loads libairs.so with dlopen() (its
 * path is the first argument), looks the API up with dlsym(), checks the
 * ABI guard, runs one actor on a runtime with worker threads, and unloads
 * the library. It is not linked with libairs: only the header's types and
 * macros are used.
 */
#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <stdint.h>

#include "check.h"

typedef airs_status (*check_abi_fn)(uint32_t);
typedef uint32_t (*version_fn)(void);
typedef airs_status (*runtime_new_fn)(const airs_config*, airs_runtime**);
typedef airs_status (*spawn_fn)(airs_runtime*, const airs_behaviour*, void*,
                                void (*)(void*), const airs_spawn_opts*,
                                airs_pid*);
typedef airs_status (*send_fn)(airs_runtime*, airs_pid, uint64_t, const void*,
                               size_t);
typedef airs_status (*wait_fn)(airs_runtime*, airs_pid, uint32_t);
typedef void (*runtime_free_fn)(airs_runtime*);
typedef airs_status (*exit_fn)(airs_ctx*, airs_exit_kind, int32_t, const char*);
typedef airs_exit_kind (*reason_kind_fn)(const airs_reason*);
typedef uint64_t (*msg_type_fn)(const airs_msg*);

/* The API as the plugin host sees it. */
static struct api {
  check_abi_fn check_abi;
  version_fn version;
  runtime_new_fn runtime_new;
  spawn_fn spawn;
  send_fn send;
  wait_fn wait;
  runtime_free_fn runtime_free;
  exit_fn exit;
  reason_kind_fn reason_kind;
  msg_type_fn msg_type;
} api;

/* dlsym returns an object pointer; ISO C has no cast to a function
 * pointer, so copy the bits (what POSIX guarantees to work). */
static int look_up(void* lib, const char* name, void* fn, size_t size) {
  void* sym = dlsym(lib, name);
  if (!sym) {
    fprintf(stderr, "dlsym(%s): %s\n", name, dlerror());
    return 0;
  }
  memcpy(fn, &sym, size);
  return 1;
}
#define LOOK_UP(lib, name, field) \
  look_up((lib), (name), &api.field, sizeof api.field)

/* The actor: records what it got, ends on its first message. Runs on a
 * worker thread; the host reads the state after airs_wait. */
typedef struct state {
  int inits;
  int received;
  uint64_t type;
  int terminated;
  airs_exit_kind kind;
  int freed;
} state;

static airs_status on_init(void* user_data, airs_ctx* ctx, void** st) {
  (void)ctx;
  ((state*)user_data)->inits++;
  *st = user_data;
  return AIRS_OK;
}

static airs_status on_receive(void* st, airs_ctx* ctx, const airs_msg* msg) {
  state* s = (state*)st;
  s->received++;
  s->type = api.msg_type(msg);
  return api.exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

static void on_terminate(void* st, airs_ctx* ctx, const airs_reason* reason) {
  state* s = (state*)st;
  (void)ctx;
  s->terminated++;
  s->kind = api.reason_kind(reason);
}

static void on_free(void* user_data) {
  ((state*)user_data)->freed++;
}

int main(int argc, char** argv) {
  void* lib;
  char path[4096];
  airs_runtime* rt = NULL;
  airs_behaviour b;
  airs_pid pid = 0;
  state s;
  int found;
  if (!check_report_(argc == 2, __FILE__, __LINE__, "usage: host libairs.so"))
    return CHECK_DONE();
  /* The library is not loaded before dlopen. */
  CHECK(dlsym(RTLD_DEFAULT, "airs_version") == NULL);
  /* By path, never through the library search path. */
  snprintf(path, sizeof path, "%s%s", strchr(argv[1], '/') ? "" : "./",
           argv[1]);
  lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!check_report_(lib != NULL, __FILE__, __LINE__, "dlopen(libairs)")) {
    fprintf(stderr, "    %s\n", dlerror());
    return CHECK_DONE();
  }
  found = LOOK_UP(lib, "airs_check_abi", check_abi) &&
          LOOK_UP(lib, "airs_version", version) &&
          LOOK_UP(lib, "airs_runtime_new", runtime_new) &&
          LOOK_UP(lib, "airs_spawn", spawn) &&
          LOOK_UP(lib, "airs_send", send) && LOOK_UP(lib, "airs_wait", wait) &&
          LOOK_UP(lib, "airs_runtime_free", runtime_free) &&
          LOOK_UP(lib, "airs_exit", exit) &&
          LOOK_UP(lib, "airs_reason_kind", reason_kind) &&
          LOOK_UP(lib, "airs_msg_type", msg_type);
  CHECK(found);
  /* Internals are not exported. */
  CHECK(dlsym(lib, "_ZN4airs4failE11airs_statusPKc") == NULL);
  if (!found) return CHECK_DONE();

  /* The ABI guard: this header against the loaded library. */
  CHECK_EQ(api.check_abi(AIRS_VERSION_NUMBER), AIRS_OK);
  CHECK_EQ(api.version(), AIRS_VERSION_NUMBER);
  CHECK_EQ(api.check_abi((AIRS_VERSION_MAJOR + 1) * 10000), AIRS_EVERSION);
  CHECK_EQ(api.check_abi(AIRS_VERSION_NUMBER + 100), AIRS_EVERSION);

  /* One actor on worker threads. */
  memset(&s, 0, sizeof s);
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.init = on_init;
  b.receive = on_receive;
  b.terminate = on_terminate;
  CHECK_EQ(api.runtime_new(NULL, &rt), AIRS_OK);
  if (rt) {
    CHECK_EQ(api.spawn(rt, &b, &s, on_free, NULL, &pid), AIRS_OK);
    CHECK(pid != AIRS_NO_PID);
    CHECK_EQ(s.inits, 1);
    CHECK_EQ(api.send(rt, pid, 42, "hi", 2), AIRS_OK);
    CHECK_EQ(api.wait(rt, pid, 5000), AIRS_OK);
    CHECK_EQ(s.received, 1);
    CHECK_EQ(s.type, 42);
    CHECK_EQ(s.terminated, 1);
    CHECK_EQ(s.kind, AIRS_EXIT_NORMAL);
    CHECK_EQ(s.freed, 1);
    CHECK_EQ(api.send(rt, pid, 42, NULL, 0), AIRS_ENOPROC);
    api.runtime_free(rt);
  }
  CHECK_EQ(dlclose(lib), 0);
  return CHECK_DONE();
}
