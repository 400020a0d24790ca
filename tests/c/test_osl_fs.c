/*
 * test_osl_fs.c - the file system actor of <airs/fs.h>, in a fresh temp
 * directory: each operation's good path and its errors (missing file,
 * permission denied, not a directory, a non-empty rmdir, bad paths, bad
 * request bytes), NULL arguments and bad versions of every helper,
 * streaming a file larger than one read through a file actor both ways,
 * and the descriptors: none may leak when the opener ends, when the
 * runtime is freed with files open, or when the fs actor is killed and
 * restarted by its supervisor.
 *
 * Most checks call from the main thread (airs_fs_call) on a runtime with
 * worker threads; those that need an actor as the opener run host-driven,
 * so the actor's state is only touched by the polling main thread.
 */
#define _DEFAULT_SOURCE /* mkdtemp, usleep */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "helpers.h"

#define TIMEOUT 10000

static char dir[256]; /* the temp directory of this run */

static const char* at(const char* name) {
  static char paths[8][512];
  static int next;
  char* p = paths[next++ % 8];
  snprintf(p, 512, "%s/%s", dir, name);
  return p;
}

static airs_fs_req req_of(uint64_t type, const char* path) {
  airs_fs_req r;
  airs_fs_req_init(&r);
  r.type = type;
  r.path = path;
  return r;
}

/* Calls and returns the reply (NULL and a failed check if none came). */
static airs_msg* call(airs_runtime* rt, const airs_fs_req* r) {
  airs_msg* reply = NULL;
  airs_status st = airs_fs_call(rt, r, TIMEOUT, &reply);
  if (st != AIRS_OK)
    fprintf(stderr, "    airs_fs_call: %s (%s)\n", airs_strerror(st),
            airs_last_error_message());
  CHECK_EQ(st, AIRS_OK);
  return reply;
}

/* Calls, and checks that the reply is OK. */
static void call_ok(airs_runtime* rt, const airs_fs_req* r) {
  airs_msg* reply = call(rt, r);
  airs_osl_result res;
  if (!reply) return;
  CHECK_ST(airs_osl_result_get(reply, &res), AIRS_OK);
  if (res.status != AIRS_OK) fprintf(stderr, "    reply: %s\n", res.text);
  CHECK_EQ(res.status, AIRS_OK);
  CHECK_EQ(airs_msg_type(reply), AIRS_MSG_FS_REPLY(r->type));
  airs_msg_free(reply);
}

/* Calls, and checks that the reply failed with `status` (and errno `err`
 * for AIRS_EOS) and that its text holds `text`. */
#define CALL_FAILS(rt, r, status, err, text) \
  call_fails((rt), (r), (status), (err), (text), __LINE__)
static void call_fails(airs_runtime* rt, const airs_fs_req* r,
                       airs_status status, int err, const char* text,
                       int line) {
  airs_msg* reply = call(rt, r);
  airs_osl_result res;
  airs_fs_info info;
  if (!reply) return;
  CHECK_ST(airs_osl_result_get(reply, &res), AIRS_OK);
  if (res.status != (int32_t)status || res.err != err ||
      strstr(res.text, text) == NULL)
    fprintf(stderr, "    line %d: got %s errno %d \"%s\"\n", line,
            airs_strerror((airs_status)res.status), res.err, res.text);
  CHECK_EQ(res.status, status);
  CHECK_EQ(res.err, err);
  CHECK(strstr(res.text, text) != NULL);
  CHECK_EQ(airs_msg_type(reply), AIRS_MSG_FS_REPLY(r->type));
  /* The readers give the failure as their status, with its text. */
  CHECK_ST(airs_fs_reply_info(reply, &info), status);
  CHECK(strstr(airs_last_error_message(), text) != NULL);
  airs_msg_free(reply);
}

static void write_file(airs_runtime* rt, const char* path, const char* s) {
  airs_fs_req r = req_of(AIRS_MSG_FS_WRITE, path);
  r.data = s;
  r.data_size = strlen(s);
  call_ok(rt, &r);
}

/* Reads a whole file through the actor and compares it with `want`. */
static void expect_contents(airs_runtime* rt, const char* path,
                            const char* want) {
  airs_fs_req r = req_of(AIRS_MSG_FS_READ, path);
  airs_msg* reply = call(rt, &r);
  const void* data = NULL;
  size_t size = 0;
  if (!reply) return;
  CHECK_ST(airs_fs_reply_data(reply, &data, &size), AIRS_OK);
  CHECK_EQ(size, strlen(want));
  CHECK(size == strlen(want) && (size == 0 || !memcmp(data, want, size)));
  airs_msg_free(reply);
}

static airs_runtime* fs_runtime(int workers) {
  airs_runtime* rt = make_runtime(workers, 0);
  airs_pid fs = AIRS_NO_PID;
  CHECK(rt != NULL);
  if (!rt) return NULL;
  CHECK_ST(airs_fs_start(rt, &fs), AIRS_OK);
  CHECK(fs != AIRS_NO_PID);
  return rt;
}

/* ---- the helpers' arguments ------------------------------------------- */

static void test_helper_args(void) {
  airs_runtime* rt = fs_runtime(2);
  airs_fs_req r, bad;
  airs_msg* m = NULL;
  airs_msg* reply = NULL;
  airs_child_spec spec;
  airs_fs_info info;
  airs_fs_stat st;
  const void* data;
  size_t size, cursor = 0;
  const char* name;
  airs_pid pid = 0;
  if (!rt) return;
  r = req_of(AIRS_MSG_FS_STAT, dir);

  CHECK_ST(airs_fs_req_init(NULL), AIRS_EINVAL);
  CHECK_ST(airs_fs_req_new(NULL, &m), AIRS_EINVAL);
  CHECK_ST(airs_fs_req_new(&r, NULL), AIRS_EINVAL);
  bad = r;
  bad.version = 0;
  CHECK_ST(airs_fs_req_new(&bad, &m), AIRS_EINVAL);
  bad = r;
  bad.size = sizeof bad - 1;
  CHECK_ST(airs_fs_req_new(&bad, &m), AIRS_EINVAL);
  bad = r;
  bad.type = 1;
  CHECK_ST(airs_fs_req_new(&bad, &m), AIRS_EINVAL);
  bad.type = AIRS_MSG_FS_REPLY(AIRS_MSG_FS_READ);
  CHECK_ST(airs_fs_req_new(&bad, &m), AIRS_EINVAL);
  bad = r;
  bad.path = NULL;
  CHECK_ST(airs_fs_req_new(&bad, &m), AIRS_EINVAL);
  bad = req_of(AIRS_MSG_FS_RENAME, dir);
  CHECK_ST(airs_fs_req_new(&bad, &m), AIRS_EINVAL); /* no path2 */
  bad = req_of(AIRS_MSG_FS_WRITE, dir);
  bad.data_size = 3;
  CHECK_ST(airs_fs_req_new(&bad, &m), AIRS_EINVAL); /* NULL data */
  CHECK(m == NULL);
  CHECK_ST(airs_fs_req_new(&r, &m), AIRS_OK);
  CHECK(m != NULL);
  CHECK_EQ(airs_msg_type(m), AIRS_MSG_FS_STAT);
  CHECK_EQ(airs_msg_size(m), sizeof(airs_fs_head) + strlen(dir));
  airs_msg_free(m);

  CHECK_ST(airs_fs_call(NULL, &r, TIMEOUT, &reply), AIRS_EINVAL);
  CHECK_ST(airs_fs_call(rt, NULL, TIMEOUT, &reply), AIRS_EINVAL);
  CHECK_ST(airs_fs_call(rt, &r, TIMEOUT, NULL), AIRS_EINVAL);
  CHECK_ST(airs_fs_call(rt, &r, 0, &reply), AIRS_EINVAL); /* airs_call's */
  bad = r;
  bad.version = 2;
  CHECK_ST(airs_fs_call(rt, &bad, TIMEOUT, &reply), AIRS_EINVAL);
  /* A file request to no file: airs_call's ENOPROC. */
  bad = req_of(AIRS_MSG_FILE_SYNC, NULL);
  CHECK_ST(airs_fs_call(rt, &bad, TIMEOUT, &reply), AIRS_ENOPROC);
  CHECK(reply == NULL);
  CHECK_ST(airs_fs_request(NULL, &r, TIMEOUT, &cursor), AIRS_EINVAL);

  CHECK_ST(airs_fs_reply_info(NULL, &info), AIRS_EINVAL);
  CHECK_ST(airs_fs_reply_data(NULL, &data, &size), AIRS_EINVAL);
  CHECK_ST(airs_fs_reply_stat(NULL, &st), AIRS_EINVAL);
  CHECK_ST(airs_fs_reply_list_next(NULL, &cursor, &name), AIRS_EINVAL);
  CHECK_ST(airs_fs_reply_file(NULL, &pid), AIRS_EINVAL);
  CHECK_ST(airs_fs_child_spec(NULL), AIRS_EINVAL);
  CHECK_ST(airs_fs_start(NULL, &pid), AIRS_EINVAL);
  CHECK_ST(airs_fs_start(rt, NULL), AIRS_EINVAL);
  /* The name is taken: nothing more runs. */
  CHECK_ST(airs_fs_start(rt, &pid), AIRS_EEXIST);
  CHECK_EQ(pid, 0);

  /* The readers on a real reply: NULL outputs, the wrong reader, a bad
   * stat version. */
  reply = call(rt, &r);
  if (reply) {
    CHECK_ST(airs_fs_reply_info(reply, NULL), AIRS_EINVAL);
    CHECK_ST(airs_fs_reply_data(reply, NULL, &size), AIRS_EINVAL);
    CHECK_ST(airs_fs_reply_data(reply, &data, NULL), AIRS_EINVAL);
    CHECK_ST(airs_fs_reply_data(reply, &data, &size), AIRS_EINVAL);
    CHECK_ST(airs_fs_reply_stat(reply, NULL), AIRS_EINVAL);
    memset(&st, 0, sizeof st);
    CHECK_ST(airs_fs_reply_stat(reply, &st), AIRS_EINVAL); /* version 0 */
    st.version = AIRS_FS_STAT_VERSION;
    st.size = 8;
    CHECK_ST(airs_fs_reply_stat(reply, &st), AIRS_EINVAL); /* too small */
    CHECK_ST(airs_fs_reply_list_next(reply, NULL, &name), AIRS_EINVAL);
    CHECK_ST(airs_fs_reply_list_next(reply, &cursor, NULL), AIRS_EINVAL);
    CHECK_ST(airs_fs_reply_list_next(reply, &cursor, &name), AIRS_EINVAL);
    CHECK_ST(airs_fs_reply_file(reply, NULL), AIRS_EINVAL);
    CHECK_ST(airs_fs_reply_file(reply, &pid), AIRS_EINVAL);
    CHECK_ST(airs_fs_reply_info(reply, &info), AIRS_OK);
    airs_msg_free(reply);
  }
  /* Not an fs reply at all; a timeout. */
  CHECK_ST(airs_msg_new(5, "x", 1, &m), AIRS_OK);
  CHECK_ST(airs_fs_reply_info(m, &info), AIRS_EINVAL);
  airs_msg_free(m);

  /* The spec. */
  CHECK_ST(airs_fs_child_spec(&spec), AIRS_OK);
  CHECK_STR(spec.id, "fs");
  CHECK_STR(spec.name, AIRS_OSL_FS_NAME);
  CHECK(spec.behaviour != NULL);
  CHECK_EQ(spec.restart, AIRS_RESTART_PERMANENT);
  airs_runtime_free(rt);

  /* No fs actor registered. */
  rt = make_runtime(1, 0);
  if (!rt) return;
  CHECK_ST(airs_fs_call(rt, &r, TIMEOUT, &reply), AIRS_ENOTFOUND);
  airs_runtime_free(rt);
}

/* ---- each operation's good path ---------------------------------------- */

static void test_good_paths(void) {
  airs_runtime* rt = fs_runtime(2);
  airs_fs_req r;
  airs_msg* reply;
  airs_fs_stat st;
  airs_fs_info info;
  const void* data;
  size_t size, cursor;
  const char* name;
  int names;
  if (!rt) return;

  /* write with a mode, then read it whole and in part. */
  r = req_of(AIRS_MSG_FS_WRITE, at("a.txt"));
  r.data = "hello, world";
  r.data_size = 12;
  r.mode = 0600;
  reply = call(rt, &r);
  if (reply) {
    CHECK_ST(airs_fs_reply_info(reply, &info), AIRS_OK);
    CHECK_EQ(info.value, 12);
    airs_msg_free(reply);
  }
  expect_contents(rt, at("a.txt"), "hello, world");
  r = req_of(AIRS_MSG_FS_READ, at("a.txt"));
  r.offset = 7;
  r.length = 3;
  reply = call(rt, &r);
  if (reply) {
    CHECK_ST(airs_fs_reply_data(reply, &data, &size), AIRS_OK);
    CHECK(size == 3 && !memcmp(data, "wor", 3));
    CHECK_ST(airs_fs_reply_info(reply, &info), AIRS_OK);
    CHECK_EQ(info.value, 3);
    CHECK_EQ(info.flags, 0);
    airs_msg_free(reply);
  }
  r.offset = 100; /* past the end: nothing, no error */
  r.length = 0;
  reply = call(rt, &r);
  if (reply) {
    CHECK_ST(airs_fs_reply_data(reply, &data, &size), AIRS_OK);
    CHECK_EQ(size, 0);
    CHECK(data == NULL);
    airs_msg_free(reply);
  }
  /* A file without a size (procfs) is read to its end. */
  r = req_of(AIRS_MSG_FS_READ, "/proc/self/status");
  reply = call(rt, &r);
  if (reply) {
    CHECK_ST(airs_fs_reply_data(reply, &data, &size), AIRS_OK);
    CHECK(size > 0 && !memcmp(data, "Name:", 5));
    airs_msg_free(reply);
  }

  /* append: to the end, and it creates a missing file. */
  r = req_of(AIRS_MSG_FS_APPEND, at("a.txt"));
  r.data = "!";
  r.data_size = 1;
  call_ok(rt, &r);
  expect_contents(rt, at("a.txt"), "hello, world!");
  r.path = at("b.txt");
  call_ok(rt, &r);
  expect_contents(rt, at("b.txt"), "!");
  /* write truncates; an empty write makes an empty file. */
  write_file(rt, at("a.txt"), "short");
  expect_contents(rt, at("a.txt"), "short");
  write_file(rt, at("empty"), "");
  expect_contents(rt, at("empty"), "");

  /* stat: size, type, mode, times. */
  r = req_of(AIRS_MSG_FS_STAT, at("a.txt"));
  reply = call(rt, &r);
  if (reply) {
    memset(&st, 0, sizeof st);
    st.version = AIRS_FS_STAT_VERSION;
    st.size = sizeof st;
    CHECK_ST(airs_fs_reply_stat(reply, &st), AIRS_OK);
    CHECK_EQ(st.type, AIRS_FS_TYPE_FILE);
    CHECK_EQ(st.bytes, 5);
    CHECK_EQ(st.mode, 0600);
    CHECK(st.mtime_ns > 0 && st.inode != 0 && st.links == 1);
    CHECK_EQ(st.uid, getuid());
    airs_msg_free(reply);
  }
  /* mkdir, stat of a dir, a symlink with and without NOFOLLOW. */
  r = req_of(AIRS_MSG_FS_MKDIR, at("sub"));
  r.mode = 0750;
  call_ok(rt, &r);
  CHECK_EQ(symlink(at("a.txt"), at("link")), 0);
  r = req_of(AIRS_MSG_FS_STAT, at("sub"));
  reply = call(rt, &r);
  if (reply) {
    st.version = AIRS_FS_STAT_VERSION;
    st.size = sizeof st;
    CHECK_ST(airs_fs_reply_stat(reply, &st), AIRS_OK);
    CHECK_EQ(st.type, AIRS_FS_TYPE_DIR);
    airs_msg_free(reply);
  }
  r = req_of(AIRS_MSG_FS_STAT, at("link"));
  r.flags = AIRS_FS_NOFOLLOW;
  reply = call(rt, &r);
  if (reply) {
    CHECK_ST(airs_fs_reply_stat(reply, &st), AIRS_OK);
    CHECK_EQ(st.type, AIRS_FS_TYPE_SYMLINK);
    airs_msg_free(reply);
  }
  r.flags = 0;
  reply = call(rt, &r);
  if (reply) {
    CHECK_ST(airs_fs_reply_stat(reply, &st), AIRS_OK);
    CHECK_EQ(st.type, AIRS_FS_TYPE_FILE);
    airs_msg_free(reply);
  }

  /* list: sorted names, no . and .. */
  r = req_of(AIRS_MSG_FS_LIST, dir);
  reply = call(rt, &r);
  if (reply) {
    const char* want[] = {"a.txt", "b.txt", "empty", "link", "sub"};
    CHECK_ST(airs_fs_reply_info(reply, &info), AIRS_OK);
    CHECK_EQ(info.count, 5);
    cursor = 0;
    names = 0;
    while (airs_fs_reply_list_next(reply, &cursor, &name) == AIRS_OK) {
      if (names < 5) CHECK_STR(name, want[names]);
      names++;
    }
    CHECK_EQ(names, 5);
    CHECK_EQ(airs_fs_reply_list_next(reply, &cursor, &name), AIRS_ENOTFOUND);
    airs_msg_free(reply);
  }
  r = req_of(AIRS_MSG_FS_LIST, at("sub")); /* empty */
  reply = call(rt, &r);
  if (reply) {
    cursor = 0;
    CHECK_EQ(airs_fs_reply_list_next(reply, &cursor, &name), AIRS_ENOTFOUND);
    airs_msg_free(reply);
  }

  /* rename, delete, rmdir. */
  r = req_of(AIRS_MSG_FS_RENAME, at("b.txt"));
  r.path2 = at("sub/c.txt");
  call_ok(rt, &r);
  expect_contents(rt, at("sub/c.txt"), "!");
  call_ok(rt, (r = req_of(AIRS_MSG_FS_DELETE, at("sub/c.txt")), &r));
  call_ok(rt, (r = req_of(AIRS_MSG_FS_RMDIR, at("sub")), &r));
  call_ok(rt, (r = req_of(AIRS_MSG_FS_DELETE, at("link")), &r));
  call_ok(rt, (r = req_of(AIRS_MSG_FS_DELETE, at("empty")), &r));
  call_ok(rt, (r = req_of(AIRS_MSG_FS_DELETE, at("a.txt")), &r));
  r = req_of(AIRS_MSG_FS_LIST, dir);
  reply = call(rt, &r);
  if (reply) {
    CHECK_ST(airs_fs_reply_info(reply, &info), AIRS_OK);
    CHECK_EQ(info.count, 0);
    airs_msg_free(reply);
  }
  airs_runtime_free(rt);
}

/* ---- each operation's errors ------------------------------------------- */

/* Sends hand-built request bytes; checks the EINVAL reply's text. */
static void raw_fails(airs_runtime* rt, uint64_t type, const void* bytes,
                      size_t size, const char* text) {
  airs_msg* m = NULL;
  airs_msg* reply = NULL;
  airs_pid fs = 0;
  airs_osl_result res;
  CHECK_ST(airs_whereis(rt, AIRS_OSL_FS_NAME, &fs), AIRS_OK);
  CHECK_ST(airs_msg_new(type, bytes, size, &m), AIRS_OK);
  CHECK_ST(airs_call(rt, fs, m, TIMEOUT, &reply), AIRS_OK);
  if (!reply) return;
  CHECK_EQ(airs_msg_type(reply), AIRS_MSG_FS_REPLY(type));
  CHECK_ST(airs_osl_result_get(reply, &res), AIRS_OK);
  CHECK_EQ(res.status, AIRS_EINVAL);
  if (!strstr(res.text, text)) fprintf(stderr, "    text: %s\n", res.text);
  CHECK(strstr(res.text, text) != NULL);
  airs_msg_free(reply);
}

static void test_errors(void) {
  airs_runtime* rt = fs_runtime(2);
  airs_fs_req r;
  char* long_path;
  char expect[600];
  unsigned char raw[sizeof(airs_fs_head) + 8];
  airs_fs_head h;
  airs_msg* m = NULL;
  airs_pid fs = 0;
  if (!rt) return;

  /* Missing file: the call and the path in the text, with the errno. */
  snprintf(expect, sizeof expect, "open %s: No such file or directory",
           at("missing"));
  CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_READ, at("missing")), &r), AIRS_EOS,
             ENOENT, expect);
  CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_STAT, at("missing")), &r), AIRS_EOS,
             ENOENT, "stat ");
  CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_DELETE, at("missing")), &r), AIRS_EOS,
             ENOENT, "unlink ");
  CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_LIST, at("missing")), &r), AIRS_EOS,
             ENOENT, "opendir ");
  CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_RMDIR, at("missing")), &r), AIRS_EOS,
             ENOENT, "rmdir ");
  CALL_FAILS(rt,
             (r = req_of(AIRS_MSG_FS_OPEN, at("missing")),
              r.flags = AIRS_FS_OPEN_READ, &r),
             AIRS_EOS, ENOENT, "open ");
  r = req_of(AIRS_MSG_FS_RENAME, at("missing"));
  r.path2 = at("other");
  CALL_FAILS(rt, &r, AIRS_EOS, ENOENT, "rename ");
  r = req_of(AIRS_MSG_FS_WRITE, at("missing/x"));
  CALL_FAILS(rt, &r, AIRS_EOS, ENOENT, "open ");

  /* Permission denied: a 0000 file. Root reads it anyway. */
  write_file(rt, at("secret"), "s");
  CHECK_EQ(chmod(at("secret"), 0), 0);
  if (geteuid() != 0) {
    CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_READ, at("secret")), &r), AIRS_EOS,
               EACCES, "Permission denied");
  } else {
    printf("running as root: the permission-denied check is skipped\n");
  }

  /* Not a directory; is a directory; exists; not empty. */
  CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_LIST, at("secret")), &r), AIRS_EOS,
             ENOTDIR, "Not a directory");
  CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_READ, at("secret/x")), &r), AIRS_EOS,
             ENOTDIR, "Not a directory");
  CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_RMDIR, at("secret")), &r), AIRS_EOS,
             ENOTDIR, "rmdir ");
  CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_READ, dir), &r), AIRS_EOS, EISDIR,
             "read ");
  CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_DELETE, dir), &r), AIRS_EOS, EISDIR,
             "unlink ");
  CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_MKDIR, dir), &r), AIRS_EOS, EEXIST,
             "mkdir ");
  r = req_of(AIRS_MSG_FS_WRITE, at("secret"));
  r.flags = AIRS_FS_OPEN_EXCL;
  CALL_FAILS(rt, &r, AIRS_EOS, EEXIST, "File exists");
  CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_RMDIR, dir), &r), AIRS_EOS, ENOTEMPTY,
             "not empty");

  /* Bad paths: empty, an embedded NUL, too long (as a whole). */
  CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_STAT, ""), &r), AIRS_EINVAL, 0,
             "the path is empty");
  r = req_of(AIRS_MSG_FS_STAT, "/tmp\0/x");
  r.path_len = 7;
  CALL_FAILS(rt, &r, AIRS_EINVAL, 0, "NUL");
  r = req_of(AIRS_MSG_FS_RENAME, at("secret"));
  r.path2 = "a\0b";
  r.path2_len = 3;
  CALL_FAILS(rt, &r, AIRS_EINVAL, 0, "the second path holds a NUL");
  r.path2 = "";
  r.path2_len = 0;
  CALL_FAILS(rt, &r, AIRS_EINVAL, 0, "the second path is empty");
  long_path = (char*)malloc(AIRS_FS_PATH_MAX + 2);
  memset(long_path, 'a', AIRS_FS_PATH_MAX + 1);
  long_path[0] = '/';
  long_path[AIRS_FS_PATH_MAX + 1] = '\0';
  CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_READ, long_path), &r), AIRS_EINVAL, 0,
             "longer than 4095");
  long_path[AIRS_FS_PATH_MAX] = '\0'; /* the longest allowed: the OS says */
  CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_READ, long_path), &r), AIRS_EOS,
             ENAMETOOLONG, "File name too long");
  free(long_path);

  /* Bad numbers: a read over the cap, an open with nothing to do. */
  r = req_of(AIRS_MSG_FS_READ, at("secret"));
  r.length = AIRS_FS_READ_MAX + 1;
  CALL_FAILS(rt, &r, AIRS_ELIMIT, 0, "more than");
  CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_OPEN, at("secret")), &r), AIRS_EINVAL,
             0, "neither READ nor WRITE");
  r = req_of(AIRS_MSG_FS_STAT, at("secret"));
  r.flags = 0x80000000u;
  CALL_FAILS(rt, &r, AIRS_EINVAL, 0, "unknown flags");

  /* Hand-built bytes: too short, a bad head, lengths that do not add up. */
  memset(&h, 0, sizeof h);
  h.version = AIRS_FS_HEAD_VERSION;
  h.size = sizeof h;
  h.path_len = 4;
  memcpy(raw, &h, sizeof h);
  memcpy(raw + sizeof h, "/tmp", 4);
  raw_fails(rt, AIRS_MSG_FS_STAT, raw, 10, "less than an airs_fs_head");
  raw_fails(rt, AIRS_MSG_FS_STAT, NULL, 0, "less than an airs_fs_head");
  raw_fails(rt, AIRS_MSG_FS_STAT, raw, sizeof h + 8, "do not add up");
  h.data_len = ~0ull;
  memcpy(raw, &h, sizeof h);
  raw_fails(rt, AIRS_MSG_FS_STAT, raw, sizeof h + 4, "do not add up");
  h.data_len = 0;
  h.version = 7;
  memcpy(raw, &h, sizeof h);
  raw_fails(rt, AIRS_MSG_FS_STAT, raw, sizeof h + 4, "bad airs_fs_head");
  h.version = AIRS_FS_HEAD_VERSION;
  h.size = sizeof h + 100;
  memcpy(raw, &h, sizeof h);
  raw_fails(rt, AIRS_MSG_FS_STAT, raw, sizeof h + 4, "bad airs_fs_head");
  /* Not a request of the fs actor: a reply type, a file request. */
  raw_fails(rt, AIRS_MSG_FS_BASE + 0x30, "x", 1, "not a request");
  raw_fails(rt, AIRS_MSG_FILE_READ, "x", 1, "not a request");
  /* A plain send (no correlation id) is dropped; the actor goes on. */
  CHECK_ST(airs_whereis(rt, AIRS_OSL_FS_NAME, &fs), AIRS_OK);
  CHECK_ST(airs_msg_new(AIRS_MSG_FS_STAT, "junk", 4, &m), AIRS_OK);
  CHECK_ST(airs_send_msg(rt, fs, m), AIRS_OK);
  CHECK_ST(airs_send(rt, fs, AIRS_MSG_FS_REPLY(AIRS_MSG_FS_READ), "z", 1),
           AIRS_OK);
  call_ok(rt, (r = req_of(AIRS_MSG_FS_STAT, dir), &r));
  CHECK(airs_is_alive(rt, fs));
  call_ok(rt, (r = req_of(AIRS_MSG_FS_DELETE, at("secret")), &r));
  airs_runtime_free(rt);
}

/* ---- streaming through a file actor ------------------------------------ */

#define BIG (8u * 1024 * 1024 + 12345) /* more than one read's chunk */
#define CHUNK (1u << 20)

static airs_pid open_file(airs_runtime* rt, const char* path, uint32_t flags) {
  airs_fs_req r = req_of(AIRS_MSG_FS_OPEN, path);
  airs_msg* reply;
  airs_pid file = AIRS_NO_PID;
  r.flags = flags;
  reply = call(rt, &r);
  if (!reply) return 0;
  CHECK_ST(airs_fs_reply_file(reply, &file), AIRS_OK);
  CHECK(airs_is_alive(rt, file));
  airs_msg_free(reply);
  return file;
}

static airs_fs_req file_req(uint64_t type, airs_pid file) {
  airs_fs_req r = req_of(type, NULL);
  r.file = file;
  return r;
}

static void test_streaming(void) {
  airs_runtime* rt = fs_runtime(2);
  unsigned char* big = (unsigned char*)malloc(BIG);
  unsigned char* back = (unsigned char*)malloc(BIG);
  airs_fs_req r;
  airs_msg* reply;
  airs_fs_info info;
  const void* data;
  size_t size, off, total;
  airs_pid f;
  int fds0, eof = 0;
  if (!rt || !big || !back) return;
  for (off = 0; off < BIG; off++)
    big[off] = (unsigned char)((off * 2654435761u) >> 13);
  fds0 = count_fds();

  /* Write it in chunks through one file actor, sync, close. */
  f = open_file(
      rt, at("big"),
      AIRS_FS_OPEN_WRITE | AIRS_FS_OPEN_CREATE | AIRS_FS_OPEN_TRUNCATE);
  CHECK_EQ(count_fds(), fds0 + 1);
  for (off = 0; off < BIG; off += CHUNK) {
    r = file_req(AIRS_MSG_FILE_WRITE, f);
    r.data = big + off;
    r.data_size = BIG - off < CHUNK ? BIG - off : CHUNK;
    reply = call(rt, &r);
    if (!reply) break;
    CHECK_ST(airs_fs_reply_info(reply, &info), AIRS_OK);
    CHECK_EQ(info.value, r.data_size);
    airs_msg_free(reply);
  }
  call_ok(rt, (r = file_req(AIRS_MSG_FILE_SYNC, f), &r));
  r.flags = AIRS_FS_DATASYNC;
  call_ok(rt, &r);
  /* What a file actor does not take gets an EINVAL reply of the matching
   * reply type, and the actor stays: a request of the fs actor, a type of
   * the fs range that is no request. A reply type gets no answer (two
   * actors could answer each other forever): the call times out. */
  {
    static const uint64_t refused[] = {AIRS_MSG_FS_STAT,
                                       AIRS_MSG_FS_BASE + 0x30,
                                       AIRS_MSG_FS_REPLY(AIRS_MSG_FILE_READ)};
    size_t i;
    r = req_of(AIRS_MSG_FS_STAT, dir);
    for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
      airs_msg* m = NULL;
      airs_osl_result res;
      int is_reply = refused[i] >= AIRS_MSG_FS_BASE + 0x80;
      if (i == 0)
        CHECK_ST(airs_fs_req_new(&r, &m), AIRS_OK);
      else
        CHECK_ST(airs_msg_new(refused[i], "x", 1, &m), AIRS_OK);
      reply = NULL;
      CHECK_ST(airs_call(rt, f, m, is_reply ? 100 : TIMEOUT, &reply),
               is_reply ? AIRS_ETIMEDOUT : AIRS_OK);
      if (!reply) continue;
      CHECK_EQ(airs_msg_type(reply), AIRS_MSG_FS_REPLY(refused[i]));
      CHECK_ST(airs_osl_result_get(reply, &res), AIRS_OK);
      CHECK_EQ(res.status, AIRS_EINVAL);
      CHECK(strstr(res.text, "is not a request of a file actor") != NULL);
      airs_msg_free(reply);
    }
    CHECK(airs_is_alive(rt, f));
  }
  call_ok(rt, (r = file_req(AIRS_MSG_FILE_CLOSE, f), &r));
  CHECK_ST(airs_wait(rt, f, TIMEOUT), AIRS_OK); /* it ends once closed */
  CHECK_EQ(count_fds(), fds0);
  /* After its end: airs_call's ENOPROC. */
  r = file_req(AIRS_MSG_FILE_SYNC, f);
  CHECK_ST(airs_fs_call(rt, &r, TIMEOUT, &reply), AIRS_ENOPROC);

  /* Read it whole through the fs actor. */
  r = req_of(AIRS_MSG_FS_READ, at("big"));
  reply = call(rt, &r);
  if (reply) {
    CHECK_ST(airs_fs_reply_data(reply, &data, &size), AIRS_OK);
    CHECK_EQ(size, BIG);
    CHECK(size == BIG && !memcmp(data, big, BIG));
    airs_msg_free(reply);
  }

  /* Read it in chunks through a file actor, to the end. */
  f = open_file(rt, at("big"), AIRS_FS_OPEN_READ);
  total = 0;
  while (!eof && total <= BIG) {
    r = file_req(AIRS_MSG_FILE_READ, f);
    r.length = CHUNK;
    reply = call(rt, &r);
    if (!reply) break;
    CHECK_ST(airs_fs_reply_data(reply, &data, &size), AIRS_OK);
    CHECK_ST(airs_fs_reply_info(reply, &info), AIRS_OK);
    eof = (info.flags & AIRS_FS_EOF) != 0;
    if (eof) CHECK_EQ(size, 0);
    if (size > 0 && total + size <= BIG) memcpy(back + total, data, size);
    total += size;
    airs_msg_free(reply);
  }
  CHECK(eof);
  CHECK_EQ(total, BIG);
  CHECK(total == BIG && !memcmp(back, big, BIG));
  /* At an offset: the position stays at the end. */
  r = file_req(AIRS_MSG_FILE_READ, f);
  r.flags = AIRS_FS_AT;
  r.offset = BIG - 10;
  r.length = 100;
  reply = call(rt, &r);
  if (reply) {
    CHECK_ST(airs_fs_reply_data(reply, &data, &size), AIRS_OK);
    CHECK(size == 10 && !memcmp(data, big + BIG - 10, 10));
    airs_msg_free(reply);
  }
  r = file_req(AIRS_MSG_FILE_READ, f);
  r.length = 1;
  reply = call(rt, &r);
  if (reply) {
    CHECK_ST(airs_fs_reply_info(reply, &info), AIRS_OK);
    CHECK_EQ(info.flags, AIRS_FS_EOF);
    airs_msg_free(reply);
  }
  /* Bad lengths; a write to a file open for reading. */
  r.length = 0;
  CALL_FAILS(rt, &r, AIRS_EINVAL, 0, "a file read wants");
  r.length = AIRS_FS_READ_MAX + 1;
  CALL_FAILS(rt, &r, AIRS_ELIMIT, 0, "a file read wants");
  r = file_req(AIRS_MSG_FILE_WRITE, f);
  r.data = "x";
  r.data_size = 1;
  CALL_FAILS(rt, &r, AIRS_EOS, EBADF, "write ");
  call_ok(rt, (r = file_req(AIRS_MSG_FILE_CLOSE, f), &r));
  CHECK_ST(airs_wait(rt, f, TIMEOUT), AIRS_OK);

  /* Read and write at offsets in one file. */
  write_file(rt, at("rw"), "0123456789");
  f = open_file(rt, at("rw"), AIRS_FS_OPEN_READ | AIRS_FS_OPEN_WRITE);
  r = file_req(AIRS_MSG_FILE_WRITE, f);
  r.flags = AIRS_FS_AT;
  r.offset = 3;
  r.data = "XY";
  r.data_size = 2;
  call_ok(rt, &r);
  r = file_req(AIRS_MSG_FILE_READ, f); /* the position is still 0 */
  r.length = 4;
  reply = call(rt, &r);
  if (reply) {
    CHECK_ST(airs_fs_reply_data(reply, &data, &size), AIRS_OK);
    CHECK(size == 4 && !memcmp(data, "012X", 4));
    airs_msg_free(reply);
  }
  r = file_req(AIRS_MSG_FILE_WRITE, f); /* at the position: 4 */
  r.data = "Z";
  r.data_size = 1;
  call_ok(rt, &r);
  call_ok(rt, (r = file_req(AIRS_MSG_FILE_CLOSE, f), &r));
  expect_contents(rt, at("rw"), "012XZ56789");
  /* Append mode: writes go to the end. */
  f = open_file(rt, at("rw"), AIRS_FS_OPEN_APPEND);
  r = file_req(AIRS_MSG_FILE_WRITE, f);
  r.data = "!";
  r.data_size = 1;
  call_ok(rt, &r);
  call_ok(rt, (r = file_req(AIRS_MSG_FILE_CLOSE, f), &r));
  expect_contents(rt, at("rw"), "012XZ56789!");
  /* EXCL on a file that exists. */
  r = req_of(AIRS_MSG_FS_OPEN, at("rw"));
  r.flags = AIRS_FS_OPEN_WRITE | AIRS_FS_OPEN_CREATE | AIRS_FS_OPEN_EXCL;
  CALL_FAILS(rt, &r, AIRS_EOS, EEXIST, "open ");

  /* A read too big for one reply of the fs actor: ELIMIT. Sparse, so
   * nothing is written. */
  {
    int fd = open(at("huge"), O_WRONLY | O_CREAT, 0600);
    CHECK(fd >= 0);
    CHECK_EQ(ftruncate(fd, (off_t)AIRS_FS_READ_MAX + 1), 0);
    close(fd);
    CALL_FAILS(rt, (r = req_of(AIRS_MSG_FS_READ, at("huge")), &r), AIRS_ELIMIT,
               0, "in parts");
    r.length = 4; /* a part is fine */
    reply = call(rt, &r);
    if (reply) {
      CHECK_ST(airs_fs_reply_data(reply, &data, &size), AIRS_OK);
      CHECK_EQ(size, 4);
      airs_msg_free(reply);
    }
  }
  CHECK_EQ(count_fds(), fds0);
  call_ok(rt, (r = req_of(AIRS_MSG_FS_DELETE, at("huge")), &r));
  call_ok(rt, (r = req_of(AIRS_MSG_FS_DELETE, at("big")), &r));
  call_ok(rt, (r = req_of(AIRS_MSG_FS_DELETE, at("rw")), &r));
  free(big);
  free(back);
  airs_runtime_free(rt);
}

/* ---- an actor as the opener -------------------------------------------- */

#define MANY 100

typedef struct opener {
  const char* path;
  int queue_then_close; /* 1: write, close, read in one turn */
  airs_pid file;
  uint64_t open_corr;
  uint64_t corr[3];
  int32_t status[3];
  int replies;
  uint64_t many[MANY]; /* 2: MANY stats at once; 3: then kill airs.fs */
  int many_ok;
  int many_answered; /* replies and timeouts */
  int first;         /* 4: the index of the first reply of corr[] */
  char got[16];      /* 4: what the read of corr[0] gave */
} opener;

static airs_status opener_msg(recorder* r, airs_ctx* ctx, const airs_msg* msg) {
  opener* o = (opener*)r->arg;
  uint64_t corr = airs_msg_correlation(msg);
  airs_fs_req q;
  airs_osl_result res;
  int i;
  if (airs_msg_type(msg) == 1) {
    q = req_of(AIRS_MSG_FS_OPEN, o->path);
    q.flags = AIRS_FS_OPEN_READ | AIRS_FS_OPEN_WRITE | AIRS_FS_OPEN_CREATE;
    CHECK_ST(airs_fs_request(ctx, &q, TIMEOUT, &o->open_corr), AIRS_OK);
    CHECK_ST(airs_fs_request(ctx, &q, TIMEOUT, NULL), AIRS_EINVAL);
    CHECK_ST(airs_fs_request(ctx, NULL, TIMEOUT, &corr), AIRS_EINVAL);
    return AIRS_OK;
  }
  if (airs_msg_type(msg) == 2 || airs_msg_type(msg) == 3) {
    airs_pid fs = 0;
    for (i = 0; i < MANY; i++) {
      q = req_of(AIRS_MSG_FS_STAT, dir);
      CHECK_ST(airs_fs_request(ctx, &q, airs_msg_type(msg) == 3 ? 300 : TIMEOUT,
                               &o->many[i]),
               AIRS_OK);
    }
    if (airs_msg_type(msg) == 3) {
      CHECK_ST(airs_whereis(airs_ctx_runtime(ctx), AIRS_OSL_FS_NAME, &fs),
               AIRS_OK);
      CHECK_ST(airs_kill(airs_ctx_runtime(ctx), fs), AIRS_OK);
    }
    return AIRS_OK;
  }
  if (airs_msg_type(msg) == 4) { /* a read that waits, then a stat */
    q = req_of(AIRS_MSG_FS_READ, o->path);
    CHECK_ST(airs_fs_request(ctx, &q, TIMEOUT, &o->corr[0]), AIRS_OK);
    q = req_of(AIRS_MSG_FS_STAT, dir);
    CHECK_ST(airs_fs_request(ctx, &q, TIMEOUT, &o->corr[1]), AIRS_OK);
    return AIRS_OK;
  }
  if (corr != 0 && corr == o->open_corr) {
    CHECK_ST(airs_fs_reply_file(msg, &o->file), AIRS_OK);
    if (!o->queue_then_close) return AIRS_OK;
    q = file_req(AIRS_MSG_FILE_WRITE, o->file);
    q.data = "abc";
    q.data_size = 3;
    CHECK_ST(airs_fs_request(ctx, &q, TIMEOUT, &o->corr[0]), AIRS_OK);
    q = file_req(AIRS_MSG_FILE_CLOSE, o->file);
    CHECK_ST(airs_fs_request(ctx, &q, TIMEOUT, &o->corr[1]), AIRS_OK);
    q = file_req(AIRS_MSG_FILE_READ, o->file);
    q.length = 1;
    CHECK_ST(airs_fs_request(ctx, &q, TIMEOUT, &o->corr[2]), AIRS_OK);
    return AIRS_OK;
  }
  for (i = 0; i < 3; i++)
    if (corr != 0 && corr == o->corr[i]) {
      const void* data;
      size_t size;
      CHECK_ST(airs_osl_result_get(msg, &res), AIRS_OK);
      o->status[i] = res.status;
      if (o->replies++ == 0) o->first = i;
      if (airs_msg_type(msg) == AIRS_MSG_FS_REPLY(AIRS_MSG_FS_READ) &&
          airs_fs_reply_data(msg, &data, &size) == AIRS_OK &&
          size < sizeof o->got)
        memcpy(o->got, data, size);
    }
  for (i = 0; i < MANY; i++)
    if (corr != 0 && corr == o->many[i]) {
      CHECK_ST(airs_osl_result_get(msg, &res), AIRS_OK);
      if (res.status == AIRS_OK) o->many_ok++;
      o->many_answered++;
    }
  return AIRS_OK;
}

/* Polls a host-driven runtime until *flag reaches `want` (the pool's jobs
 * complete from other threads meanwhile). */
static void poll_until(airs_runtime* rt, const int* flag, int want) {
  double end = now_ms() + TIMEOUT;
  while (*flag < want && now_ms() < end) {
    uint32_t ran = 0;
    airs_runtime_poll(rt, 100, &ran);
    if (ran == 0) usleep(100);
  }
  CHECK(*flag >= want);
}

static void test_opener(void) {
  airs_runtime* rt = make_host_runtime(5000);
  airs_pid fs = 0, p;
  recorder rec;
  opener o;
  int fds0, alive;
  CHECK(rt != NULL);
  if (!rt) return;
  CHECK_ST(airs_fs_start(rt, &fs), AIRS_OK);
  fds0 = count_fds();

  /* Requests queued behind a close are answered ESTATE. */
  memset(&rec, 0, sizeof rec);
  memset(&o, 0, sizeof o);
  o.path = at("q");
  o.queue_then_close = 1;
  rec.on_msg = opener_msg;
  rec.arg = &o;
  p = spawn_rec(rt, &rec, NULL);
  CHECK_ST(airs_send(rt, p, 1, NULL, 0), AIRS_OK);
  poll_until(rt, &o.replies, 3);
  CHECK_EQ(o.status[0], AIRS_OK);
  CHECK_EQ(o.status[1], AIRS_OK);
  CHECK_EQ(o.status[2], AIRS_ESTATE);
  CHECK_ST(airs_wait(rt, o.file, TIMEOUT), AIRS_OK);
  CHECK_EQ(count_fds(), fds0);
  /* Many requests at once, all answered. */
  CHECK_ST(airs_send(rt, p, 2, NULL, 0), AIRS_OK);
  poll_until(rt, &o.many_ok, MANY);
  CHECK_ST(airs_kill(rt, p), AIRS_OK);

  /* The opener's end closes its file. */
  memset(&rec, 0, sizeof rec);
  memset(&o, 0, sizeof o);
  o.path = at("q");
  rec.on_msg = opener_msg;
  rec.arg = &o;
  p = spawn_rec(rt, &rec, NULL);
  CHECK_ST(airs_send(rt, p, 1, NULL, 0), AIRS_OK);
  alive = 0;
  {
    double end = now_ms() + TIMEOUT;
    while (o.file == 0 && now_ms() < end) {
      uint32_t ran = 0;
      airs_runtime_poll(rt, 100, &ran);
      if (ran == 0) usleep(100);
    }
  }
  CHECK(o.file != 0);
  alive = airs_is_alive(rt, o.file);
  CHECK(alive);
  CHECK_EQ(count_fds(), fds0 + 1);
  CHECK_ST(airs_kill(rt, p), AIRS_OK);
  CHECK_ST(airs_wait(rt, o.file, TIMEOUT), AIRS_OK);
  CHECK_EQ(count_fds(), fds0);
  CHECK(airs_is_alive(rt, fs));

  /* Requests run concurrently: a read stuck on a FIFO with no writer
   * does not hold up a stat sent after it. */
  memset(&rec, 0, sizeof rec);
  memset(&o, 0, sizeof o);
  o.path = at("fifo");
  CHECK_EQ(mkfifo(o.path, 0600), 0);
  rec.on_msg = opener_msg;
  rec.arg = &o;
  p = spawn_rec(rt, &rec, NULL);
  CHECK_ST(airs_send(rt, p, 4, NULL, 0), AIRS_OK);
  poll_until(rt, &o.replies, 1);
  CHECK_EQ(o.first, 1);
  CHECK_EQ(o.status[1], AIRS_OK);
  {
    /* Non-blocking: ENXIO until the read's open() waits on the FIFO. */
    double end = now_ms() + TIMEOUT;
    int wfd = -1;
    while (wfd < 0 && now_ms() < end) {
      wfd = open(o.path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (wfd < 0) usleep(1000);
    }
    CHECK(wfd >= 0);
    CHECK_EQ(write(wfd, "hi", 2), 2);
    close(wfd);
  }
  poll_until(rt, &o.replies, 2);
  CHECK_EQ(o.status[0], AIRS_OK);
  CHECK_STR(o.got, "hi");
  CHECK_ST(airs_kill(rt, p), AIRS_OK);
  unlink(o.path);

  /* The fs actor killed with requests in flight: each is answered or
   * times out, nothing leaks (the sanitizer builds check), and a new fs
   * actor takes the name. */
  memset(&rec, 0, sizeof rec);
  memset(&o, 0, sizeof o);
  rec.on_msg = opener_msg;
  rec.arg = &o;
  p = spawn_rec(rt, &rec, NULL);
  CHECK_ST(airs_send(rt, p, 3, NULL, 0), AIRS_OK);
  poll_until(rt, &o.many_answered, MANY);
  CHECK_EQ(o.many_answered, MANY);
  CHECK(!airs_is_alive(rt, fs));
  CHECK_ST(airs_fs_start(rt, &fs), AIRS_OK);
  CHECK_ST(airs_kill(rt, p), AIRS_OK);
  unlink(at("q"));
  airs_runtime_free(rt);
}

/* ---- no descriptor outlives the runtime -------------------------------- */

static void test_free_with_files_open(void) {
  int fds0 = count_fds();
  airs_runtime* rt = fs_runtime(2);
  airs_pid f1, f2, f3;
  if (!rt) return;
  write_file(rt, at("x"), "x");
  f1 = open_file(rt, at("x"), AIRS_FS_OPEN_READ);
  f2 = open_file(rt, at("x"), AIRS_FS_OPEN_WRITE);
  f3 = open_file(rt, dir, AIRS_FS_OPEN_READ);
  CHECK(f1 && f2 && f3);
  CHECK(count_fds() >= fds0 + 3);
  airs_runtime_free(rt);
  CHECK_EQ(count_fds(), fds0);
  unlink(at("x"));
}

/* ---- under a supervisor ------------------------------------------------ */

static void test_supervised(void) {
  airs_runtime* rt = make_runtime(2, 0);
  airs_sup_flags flags;
  airs_sup_spec* spec = NULL;
  airs_child_spec child;
  airs_pid sup = 0, fs1 = 0, fs2 = 0;
  double end;
  CHECK(rt != NULL);
  if (!rt) return;
  CHECK_ST(airs_sup_flags_init(&flags), AIRS_OK);
  flags.intensity = 5;
  CHECK_ST(airs_sup_spec_new(&flags, &spec), AIRS_OK);
  CHECK_ST(airs_fs_child_spec(&child), AIRS_OK);
  CHECK_ST(airs_sup_spec_add_child(spec, &child), AIRS_OK);
  CHECK_ST(airs_supervisor_start(rt, spec, &sup), AIRS_OK);
  airs_sup_spec_free(spec);
  CHECK_ST(airs_whereis(rt, AIRS_OSL_FS_NAME, &fs1), AIRS_OK);
  write_file(rt, at("s"), "before");
  CHECK_ST(airs_kill(rt, fs1), AIRS_OK);
  end = now_ms() + TIMEOUT;
  while (now_ms() < end) {
    if (airs_whereis(rt, AIRS_OSL_FS_NAME, &fs2) == AIRS_OK && fs2 != fs1)
      break;
    usleep(1000);
  }
  CHECK(fs2 != 0 && fs2 != fs1);
  expect_contents(rt, at("s"), "before");
  write_file(rt, at("s"), "after");
  expect_contents(rt, at("s"), "after");
  unlink(at("s"));
  airs_runtime_free(rt);
}

int main(void) {
  const char* tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/airs_fs_XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  test_helper_args();
  test_good_paths();
  test_errors();
  test_streaming();
  test_opener();
  test_free_with_files_open();
  test_supervised();
  if (rmdir(dir) != 0) perror("rmdir (the temp dir should be empty)");
  return CHECK_DONE();
}
