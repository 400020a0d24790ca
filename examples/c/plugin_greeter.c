/*
 * plugin_greeter - the plugin that examples/c/plugin_host.c loads: a
 * shared module linked with libairs, which the host never links.
 *
 * The host knows only plugin_greeter.h: one function, greeter_plugin,
 * which gives the plugin's functions. Inside, the plugin
 * checks that the libairs it was loaded with suits the header it was
 * built with (AIRS_CHECK_ABI), runs a runtime of its own with one
 * actor, and frees it all in greeter_close, so that the host can unload
 * the plugin, and libairs with it, and load it again.
 */
#include "plugin_greeter.h"

#include <airs/airs.h>

#include <stdio.h>
#include <string.h>

enum { MSG_GREET = 1 };

/* The actor: answers each name with a greeting and how many it made. */
static airs_status greeter_receive(void* state, airs_ctx* ctx,
                                   const airs_msg* msg) {
  int* count = state;
  char text[128];
  int n = snprintf(text, sizeof text, "hello, %.*s (greeting %d)",
                   (int)airs_msg_size(msg), (const char*)airs_msg_data(msg),
                   ++*count);
  airs_msg* reply;
  airs_status st = airs_msg_new(MSG_GREET, text, (size_t)n + 1, &reply);
  if (st == AIRS_OK && (st = airs_reply(ctx, msg, reply)) != AIRS_OK)
    airs_msg_free(reply);
  return st;
}

typedef struct greeter {
  airs_runtime* rt;
  airs_pid pid;
  int count;
} greeter;
static greeter the_greeter; /* one per load of the plugin */

static void* greeter_open(void) {
  greeter* g = &the_greeter;
  airs_status st = AIRS_CHECK_ABI(); /* EVERSION: built for another major */
  if (st == AIRS_OK) st = airs_runtime_new(NULL, &g->rt);
  airs_behaviour b = {.version = AIRS_BEHAVIOUR_VERSION,
                      .size = sizeof b,
                      .receive = greeter_receive};
  if (st == AIRS_OK) st = airs_spawn(g->rt, &b, &g->count, NULL, NULL, &g->pid);
  if (st != AIRS_OK) {
    fprintf(stderr, "greeter_open: %s\n", airs_last_error_message());
    airs_runtime_free(g->rt);
    return NULL;
  }
  return g;
}

/* A call to the actor, from the host's thread. */
static int greeter_greet(void* handle, const char* name, char* out,
                         size_t cap) {
  greeter* g = handle;
  airs_msg *req, *reply;
  if (airs_msg_new(MSG_GREET, name, strlen(name), &req) != AIRS_OK) return -1;
  airs_status st = airs_call(g->rt, g->pid, req, 5000, &reply);
  if (st != AIRS_OK) {
    if (st != AIRS_ETIMEDOUT && st != AIRS_EEXITED) airs_msg_free(req);
    return -1;
  }
  snprintf(out, cap, "%s", (const char*)airs_msg_data(reply));
  airs_msg_free(reply);
  return 0;
}

/* Its threads are joined before airs_runtime_free returns. */
static void greeter_close(void* handle) {
  greeter* g = handle;
  airs_runtime_free(g->rt);
  g->rt = NULL;
}

/* The one symbol the host looks up. */
__attribute__((visibility("default"))) const greeter_api* greeter_plugin(void) {
  static const greeter_api api = {GREETER_API_VERSION, greeter_open,
                                  greeter_greet, greeter_close};
  return &api;
}
