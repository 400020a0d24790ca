/*
 * plugin_host - a program that loads a plugin built on airs, uses it and
 * unloads it, three times over, as a plugin host (an editor, an audio
 * host, a server with modules) would.
 *
 * The host is not linked with libairs and includes none of its headers:
 * it dlopen()s the plugin (examples/c/plugin_greeter.c, its path is the
 * first argument), which brings libairs.so in as its dependency, and
 * calls the plugin's own functions (plugin_greeter.h), from a thread of
 * its own. Each round checks that the plugin answered, that libairs was
 * loaded while the plugin was open, that the runtime's threads were gone
 * once the plugin closed, and that dlclose() took libairs out of the
 * process (a plugin that stays mapped would count greetings on from the
 * last round, too).
 *
 * Run: ./build/examples/plugin_host build/examples/plugin_greeter.so
 */
#define _POSIX_C_SOURCE 200809L

#include "plugin_greeter.h" /* the plugin's interface: no airs in it */

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Is libairs in the process? RTLD_NOLOAD finds it without loading it. */
static int airs_loaded(void) {
  void* h = dlopen("libairs.so.0", RTLD_NOW | RTLD_NOLOAD);
  if (h) dlclose(h); /* drop the reference NOLOAD took */
  return h != NULL;
}

/* The process's threads, from /proc (Linux). */
static int threads(void) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[128];
  int n = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "Threads: %d", &n) == 1) break;
  if (f) fclose(f);
  return n;
}

/* One round of the plugin's use, on a thread of the host's own. */
typedef struct round {
  const char* path;
  void* lib;
  char text[128];
  int greeted, loaded;
} round;

static void* use_plugin(void* arg) {
  round* r = arg;
  r->lib = dlopen(r->path, RTLD_NOW | RTLD_LOCAL);
  void* sym = r->lib ? dlsym(r->lib, "greeter_plugin") : NULL;
  greeter_plugin_fn entry;
  if (!sym) {
    fprintf(stderr, "loading the plugin: %s\n", dlerror());
    return NULL;
  }
  /* dlsym gives an object pointer; POSIX lets its bits be a function's. */
  memcpy(&entry, &sym, sizeof entry);
  const greeter_api* api = entry();
  if (api->version != GREETER_API_VERSION) return NULL;
  void* g = api->open();
  r->greeted = g && api->greet(g, "host", r->text, sizeof r->text) == 0 &&
               api->greet(g, "again", r->text, sizeof r->text) == 0 &&
               strstr(r->text, "(greeting 2)") != NULL;
  r->loaded = airs_loaded();
  if (g) api->close(g);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s path/to/plugin_greeter.so\n", argv[0]);
    return 2;
  }
  int ok = !airs_loaded();
  for (int n = 1; n <= 3 && ok; n++) {
    /* The thread ends before the unload: glibc keeps a library mapped
     * while a live thread has a thread_local destructor of it pending,
     * and libairs may leave one on a thread that sent (this libairs
     * does, on a host thread: joining first keeps the check to what
     * dlclose does). */
    round r = {argv[1], NULL, "", 0, 0};
    pthread_t t;
    if (pthread_create(&t, NULL, use_plugin, &r) != 0) return 1;
    pthread_join(t, NULL);
    int threads_after_close = threads();
    if (r.lib) dlclose(r.lib);
    int unloaded = !airs_loaded();
    printf(
        "round %d: \"%s\"; libairs loaded while open: %s, threads "
        "after close: %d, unloaded after dlclose: %s\n",
        n, r.text, r.loaded ? "yes" : "no", threads_after_close,
        unloaded ? "yes" : "no");
    ok = r.lib && r.greeted && r.loaded && threads_after_close == 1 && unloaded;
  }
  printf("%s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
