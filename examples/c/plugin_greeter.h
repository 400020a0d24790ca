/*
 * plugin_greeter.h - the interface between plugin_host.c and the plugin
 * plugin_greeter.c. Nothing of airs is in it: the host does not need it.
 */
#ifndef PLUGIN_GREETER_H
#define PLUGIN_GREETER_H

#include <stddef.h>

#define GREETER_API_VERSION 1

/* What the plugin's one exported symbol, greeter_plugin(), returns. */
typedef struct greeter_api {
  int version; /* GREETER_API_VERSION */
  /* Starts the plugin; its handle, or NULL (the reason on stderr). */
  void* (*open)(void);
  /* Greets `name`; the text goes to out. 0, or -1 on failure. */
  int (*greet)(void* handle, const char* name, char* out, size_t cap);
  /* Stops the plugin: nothing of it runs once this returns. */
  void (*close)(void* handle);
} greeter_api;

typedef const greeter_api* (*greeter_plugin_fn)(void);

#endif
