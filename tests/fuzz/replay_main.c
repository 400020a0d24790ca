/*
 * replay_main.c - runs the fuzz harness without libFuzzer: every file
 * named on the command line, and every file of every folder named there
 * (in name order), goes once through LLVMFuzzerTestOneInput. Built in
 * every build as the meson test fuzz_corpus (suite 'fuzz'), so the corpus
 * is a regression test under any compiler and sanitizer.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static int replay_file(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return 1;
  }
  uint8_t* buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 4096;
      uint8_t* nb = (uint8_t*)realloc(buf, cap);
      if (!nb) abort();
      buf = nb;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    if (n == 0) break;
    len += n;
  }
  fclose(f);
  printf("replay %s (%zu bytes)\n", path, len);
  fflush(stdout);
  LLVMFuzzerTestOneInput(buf, len);
  free(buf);
  return 0;
}

static int by_name(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

static int replay_dir(const char* dir, int* count) {
  DIR* d = opendir(dir);
  if (!d) {
    perror(dir);
    return 1;
  }
  char** names = NULL;
  size_t n = 0, cap = 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char** nn = (char**)realloc(names, cap * sizeof *names);
      if (!nn) abort();
      names = nn;
    }
    size_t len = strlen(dir) + strlen(e->d_name) + 2;
    names[n] = (char*)malloc(len);
    if (!names[n]) abort();
    snprintf(names[n], len, "%s/%s", dir, e->d_name);
    n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, by_name);
  int failed = 0;
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
      failed |= replay_file(names[i]);
      (*count)++;
    }
    free(names[i]);
  }
  free(names);
  return failed;
}

int main(int argc, char** argv) {
  int failed = 0, count = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      perror(argv[i]);
      failed = 1;
    } else if (S_ISDIR(st.st_mode)) {
      failed |= replay_dir(argv[i], &count);
    } else {
      failed |= replay_file(argv[i]);
      count++;
    }
  }
  printf("%d inputs replayed%s\n", count, failed ? ", some unreadable" : "");
  return failed || count == 0;
}
