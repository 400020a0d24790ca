/*
 * plugin.h - the interface between the plugin-host tests
 * (test_plugin_unload.c) and their tiny plugins (plugin.c). A plugin does
 * not link libairs: it reaches the API through the table the host hands
 * it, as a plugin of a real host (an editor, a game engine, a database)
 * reaches the host's copy of the library. The header's types and macros
 * are all it takes from <airs/airs.h>.
 */
#ifndef AIRS_TESTS_PLUGIN_H
#define AIRS_TESTS_PLUGIN_H

#include <airs/airs.h>

/* Message types the plugins' actors understand. */
enum {
  PLUGIN_PING = 1,  /* reply: the plugin's name; sends HELLO to the next */
  PLUGIN_HELLO = 2, /* from another plugin's actor: counted */
  PLUGIN_COUNT = 3  /* reply: the HELLOs counted, as a uint32_t */
};

/* The part of the C API the host lends its plugins. */
typedef struct plugin_api {
  airs_status (*check_abi)(uint32_t header_version);
  const char* (*last_error_message)(void);
  airs_status (*spawn)(airs_runtime*, const airs_behaviour*, void*,
                       void (*)(void*), const airs_spawn_opts*, airs_pid*);
  airs_status (*register_name)(airs_runtime*, const char*, airs_pid);
  airs_status (*whereis)(airs_runtime*, const char*, airs_pid*);
  airs_status (*stop)(airs_runtime*, airs_pid);
  airs_status (*wait)(airs_runtime*, airs_pid, uint32_t);
  airs_runtime* (*ctx_runtime)(const airs_ctx*);
  airs_status (*ctx_send)(airs_ctx*, airs_pid, uint64_t, const void*, size_t);
  airs_status (*msg_new)(uint64_t, const void*, size_t, airs_msg**);
  const void* (*msg_read)(const airs_msg*, uint64_t*, size_t*);
  airs_status (*reply)(airs_ctx*, const airs_msg*, airs_msg*);
} plugin_api;

/* What a plugin exports. plugin_start checks the ABI with the header
 * version it was built with (AIRS_CHECK_ABI through the table), then
 * spawns its actor, registered as "plugin.<name>"; `next` is the name of
 * the plugin its PING greets. On failure it returns the status and
 * leaves the API's last error message as it was set. plugin_stop stops
 * the actor and waits for its end: after it, none of the plugin's code
 * runs any more and the host may dlclose it. */
typedef airs_status (*plugin_start_fn)(const plugin_api* api, airs_runtime* rt,
                                       const char* next);
typedef airs_status (*plugin_stop_fn)(void);

#endif /* AIRS_TESTS_PLUGIN_H */
