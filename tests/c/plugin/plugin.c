/*
 * plugin.c - a tiny plugin for the plugin-host tests (plugin.h). Built
 * several times under several names (PLUGIN_NAME); a build with
 * PLUGIN_HEADER_VERSION claims another header version, as a plugin built
 * against another release of airs would.
 *
 * Its actor runs on the runtime's worker threads, so its code must stay
 * mapped until plugin_stop has seen the actor end.
 */
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

#ifndef PLUGIN_NAME
#error "build with -DPLUGIN_NAME=\"...\""
#endif
#ifndef PLUGIN_HEADER_VERSION
#define PLUGIN_HEADER_VERSION AIRS_VERSION_NUMBER
#endif

#if defined(__GNUC__)
#define PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define PLUGIN_EXPORT
#endif

static const plugin_api* api;
static airs_runtime* runtime;
static airs_pid self_pid;
static char next_name[64];

typedef struct state {
  uint32_t hellos;
} state;

static airs_status on_init(void* user_data, airs_ctx* ctx, void** st) {
  state* s = (state*)calloc(1, sizeof *s);
  (void)user_data;
  (void)ctx;
  if (!s) return AIRS_ENOMEM;
  *st = s;
  return AIRS_OK;
}

static airs_status answer(airs_ctx* ctx, const airs_msg* request,
                          const void* data, size_t size) {
  airs_msg* reply;
  airs_status st = api->msg_new(1, data, size, &reply);
  if (st != AIRS_OK) return st;
  return api->reply(ctx, request, reply);
}

static airs_status on_receive(void* st, airs_ctx* ctx, const airs_msg* msg) {
  state* s = (state*)st;
  uint64_t type;
  airs_pid next;
  api->msg_read(msg, &type, NULL);
  switch (type) {
    case PLUGIN_PING:
      /* The other plugins' actors live in the same runtime: found by name. */
      if (api->whereis(api->ctx_runtime(ctx), next_name, &next) == AIRS_OK)
        (void)api->ctx_send(ctx, next, PLUGIN_HELLO, NULL, 0);
      return answer(ctx, msg, PLUGIN_NAME, strlen(PLUGIN_NAME));
    case PLUGIN_HELLO: s->hellos++; return AIRS_OK;
    case PLUGIN_COUNT: return answer(ctx, msg, &s->hellos, sizeof s->hellos);
    default: return AIRS_OK;
  }
}

static void on_terminate(void* st, airs_ctx* ctx, const airs_reason* reason) {
  (void)ctx;
  (void)reason;
  free(st);
}

PLUGIN_EXPORT airs_status plugin_start(const plugin_api* host_api,
                                       airs_runtime* rt, const char* next) {
  airs_behaviour b;
  airs_status st;
  /* AIRS_CHECK_ABI(), through the host's table: this plugin's header
   * against the library the host loaded. */
  st = host_api->check_abi(PLUGIN_HEADER_VERSION);
  if (st != AIRS_OK) return st;
  api = host_api;
  runtime = rt;
  strncpy(next_name, next, sizeof next_name - 1);
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.init = on_init;
  b.receive = on_receive;
  b.terminate = on_terminate;
  st = api->spawn(rt, &b, NULL, NULL, NULL, &self_pid);
  if (st != AIRS_OK) return st;
  return api->register_name(rt, "plugin." PLUGIN_NAME, self_pid);
}

PLUGIN_EXPORT airs_status plugin_stop(void) {
  airs_status st = api->stop(runtime, self_pid);
  if (st != AIRS_OK && st != AIRS_ENOPROC) return st;
  return api->wait(runtime, self_pid, 5000);
}
