/*
 * test_osl_observer.c - the observer endpoint (observe.h,
 * airs_observer_open) over real loopback connections: each route, the
 * JSON views against the runtime's own answers, malformed and oversized
 * requests, more connections than it keeps, a client that leaves early,
 * opening twice, a taken address, and the fds given back when it stops
 * and when the runtime is freed with it open.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "helpers.h"

static void sleep_ms(int ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

static int connect_to(const airs_addr* a) {
  struct sockaddr_in sin;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons(a->port);
  memcpy(&sin.sin_addr, a->ip, 4);
  if (connect(fd, (struct sockaddr*)&sin, sizeof sin) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Sends `request` as is and reads the whole answer (the server closes).
 * Returns a malloc'd, NUL-terminated string, or NULL. */
static char* exchange(const airs_addr* a, const char* request, size_t len) {
  int fd = connect_to(a);
  size_t cap = 1 << 16, n = 0;
  char* out;
  ssize_t got;
  if (fd < 0) return NULL;
  if (len && send(fd, request, len, MSG_NOSIGNAL) != (ssize_t)len) {
    close(fd);
    return NULL;
  }
  out = (char*)malloc(cap + 1);
  while (out && (got = read(fd, out + n, cap - n)) > 0) {
    n += (size_t)got;
    if (n == cap) {
      char* bigger = (char*)realloc(out, cap * 2 + 1);
      if (!bigger) break;
      out = bigger;
      cap *= 2;
    }
  }
  close(fd);
  if (out) out[n] = '\0';
  return out;
}

static char* get(const airs_addr* a, const char* path) {
  char req[256];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
  return exchange(a, req, (size_t)n);
}

static int starts_with(const char* s, const char* prefix) {
  return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static airs_status named_init(void* user_data, airs_ctx* ctx, void** state) {
  *state = user_data;
  return airs_set_label(ctx, "labelled \"quoted\"");
}

static void test_routes(void) {
  airs_runtime* rt = make_runtime(2, 0);
  airs_pid obs = 0, worker = 0, sup = 0;
  airs_addr bound;
  recorder r, rk; /* one each: the two processes end on two workers */
  airs_behaviour b = rec_behaviour();
  char *text, pidtext[40], want[128];
  airs_sup_flags f;
  airs_sup_spec* spec = NULL;
  airs_child_spec c;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&r, 0, sizeof r);
  memset(&rk, 0, sizeof rk);
  b.init = named_init;
  CHECK_ST(airs_spawn(rt, &b, &r, NULL, NULL, &worker), AIRS_OK);
  CHECK_ST(airs_register(rt, "w\\1", worker), AIRS_OK);
  airs_sup_flags_init(&f);
  CHECK_ST(airs_sup_spec_new(&f, &spec), AIRS_OK);
  airs_child_spec_init(&c);
  c.id = "kid";
  c.behaviour = &b;
  c.user_data = &rk;
  CHECK_ST(airs_sup_spec_add_child(spec, &c), AIRS_OK);
  CHECK_ST(airs_supervisor_start(rt, spec, &sup), AIRS_OK);
  airs_sup_spec_free(spec);

  CHECK_ST(airs_observer_open(rt, "127.0.0.1:0", &obs, &bound), AIRS_OK);
  CHECK(obs != 0);
  CHECK(bound.port != 0);
  {
    airs_pid found = 0;
    CHECK_ST(airs_whereis(rt, AIRS_OBSERVER_NAME, &found), AIRS_OK);
    CHECK_EQ(found, obs);
  }
  /* The metrics, as airs_metrics_write writes them. */
  text = get(&bound, "/metrics");
  CHECK(starts_with(text, "HTTP/1.1 200 OK\r\n"));
  CHECK(text && strstr(text, "Content-Type: text/plain; version=0.0.4\r\n"));
  CHECK(text && strstr(text, "\r\n\r\n# HELP airs_processes "));
  free(text);
  /* The tree: the supervisor, then its child with its id and label. */
  text = get(&bound, "/api/tree");
  CHECK(starts_with(text, "HTTP/1.1 200 OK\r\n"));
  CHECK(text && strstr(text, "Content-Type: application/json\r\n"));
  airs_pid_format(sup, pidtext, sizeof pidtext);
  snprintf(want, sizeof want,
           "{\"trees\":[{\"pid\":\"%s\",\"supervisor\":", pidtext);
  CHECK(text && strstr(text, want));
  CHECK(text && strstr(text, "\"depth\":1,\"id\":\"kid\",\"type\":\"worker\""));
  CHECK(text && strstr(text, "\"label\":\"labelled \\\"quoted\\\"\""));
  free(text);
  /* The processes: escaped names, the limit, the count. */
  text = get(&bound, "/api/processes");
  CHECK(starts_with(text, "HTTP/1.1 200 OK\r\n"));
  CHECK(text && strstr(text, "\"name\":\"w\\\\1\""));
  airs_pid_format(obs, pidtext, sizeof pidtext);
  CHECK(text && strstr(text, pidtext));
  free(text);
  text = get(&bound, "/api/processes?limit=1");
  CHECK(text && strstr(text, "{\"count\":4,\"processes\":[{\"pid\":"));
  CHECK(text && strstr(text, "},{") == NULL);
  free(text);
  /* The page. */
  text = get(&bound, "/");
  CHECK(starts_with(text, "HTTP/1.1 200 OK\r\n"));
  CHECK(text && strstr(text, "Content-Type: text/html; charset=utf-8\r\n"));
  CHECK(text && strstr(text, "<title>airs observer</title>"));
  free(text);
  /* Errors: an unknown path, another method, a malformed request, a head
   * too long; and a client that sends half a request and leaves. */
  text = get(&bound, "/nope");
  CHECK(starts_with(text, "HTTP/1.1 404 Not Found\r\n"));
  free(text);
  text = exchange(&bound, "POST / HTTP/1.1\r\n\r\n", 19);
  CHECK(starts_with(text, "HTTP/1.1 405 "));
  free(text);
  text = exchange(&bound, "hello there\r\n\r\n", 15);
  CHECK(starts_with(text, "HTTP/1.1 400 Bad Request\r\n"));
  free(text);
  {
    size_t n = 20000;
    char* big = (char*)malloc(n);
    if (big) {
      memset(big, 'a', n);
      memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
      text = exchange(&bound, big, n);
      CHECK(starts_with(text, "HTTP/1.1 431 "));
      free(text);
      free(big);
    }
  }
  {
    int fd = connect_to(&bound);
    CHECK(fd >= 0);
    if (fd >= 0) {
      CHECK(send(fd, "GET /me", 7, MSG_NOSIGNAL) == 7);
      close(fd);
    }
    sleep_ms(50);
    text = get(&bound, "/metrics"); /* still serving */
    CHECK(starts_with(text, "HTTP/1.1 200 OK\r\n"));
    free(text);
  }
  /* Opening twice; a bad address. */
  {
    airs_pid again = 0;
    CHECK_ST(airs_observer_open(rt, "127.0.0.1:0", &again, NULL), AIRS_EEXIST);
    CHECK_EQ(again, 0);
    CHECK_ST(airs_observer_open(rt, "localhost:80", &again, NULL), AIRS_EINVAL);
    CHECK_ST(airs_observer_open(rt, NULL, &again, NULL), AIRS_EINVAL);
    CHECK_ST(airs_observer_open(rt, "127.0.0.1:0", NULL, NULL), AIRS_EINVAL);
    CHECK_ST(airs_observer_open(NULL, "127.0.0.1:0", &again, NULL),
             AIRS_EINVAL);
  }
  /* Stopped: it no longer answers, and its name is free again. */
  CHECK_ST(airs_stop(rt, obs), AIRS_OK);
  CHECK_ST(airs_wait(rt, obs, 5000), AIRS_OK);
  CHECK(connect_to(&bound) < 0);
  CHECK_ST(airs_observer_open(rt, "127.0.0.1:0", &obs, &bound), AIRS_OK);
  {
    /* A taken address: the one just opened. */
    char addr[64];
    airs_runtime* other = make_runtime(1, 0);
    airs_pid p2 = 0;
    airs_addr_format(&bound, addr, sizeof addr);
    CHECK(other != NULL);
    if (other) {
      CHECK_ST(airs_observer_open(other, addr, &p2, NULL), AIRS_ESTATE);
      airs_runtime_free(other);
    }
  }
  airs_runtime_free(rt);
}

/* More connections at once than it keeps: the extra ones are closed, the
 * rest answered; then every fd is back. */
#define CONNS 80

static void test_many_and_fds(void) {
  int before = count_fds();
  airs_runtime* rt = make_runtime(2, 0);
  airs_pid obs = 0;
  airs_addr bound;
  int fds[CONNS], i, answered = 0, refused = 0;
  CHECK(rt != NULL);
  if (!rt) return;
  CHECK_ST(airs_observer_open(rt, "127.0.0.1:0", &obs, &bound), AIRS_OK);
  for (i = 0; i < CONNS; i++) fds[i] = connect_to(&bound);
  sleep_ms(200);
  for (i = 0; i < CONNS; i++) {
    char buf[64];
    ssize_t n;
    if (fds[i] < 0) {
      refused++;
      continue;
    }
    if (send(fds[i], "GET /metrics HTTP/1.0\r\n\r\n", 25, MSG_NOSIGNAL) != 25) {
      refused++;
      close(fds[i]);
      continue;
    }
    n = read(fds[i], buf, sizeof buf - 1);
    if (n > 0) {
      buf[n] = '\0';
      answered += starts_with(buf, "HTTP/1.1 200 OK");
    } else {
      refused++;
    }
    close(fds[i]);
  }
  CHECK(answered >= 64);
  CHECK_EQ(answered + refused, CONNS);
  /* Freed with the endpoint open and connections coming: no fd left. */
  for (i = 0; i < 5; i++) fds[i] = connect_to(&bound);
  airs_runtime_free(rt);
  for (i = 0; i < 5; i++)
    if (fds[i] >= 0) close(fds[i]);
  CHECK_EQ(count_fds(), before);
}

int main(void) {
  test_routes();
  test_many_and_fds();
  return CHECK_DONE();
}
