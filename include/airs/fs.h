/*
 * fs.h - the file system actor: files and directories through messages.
 * Included by <airs/osl.h> (so by <airs/airs.h>); read osl.h first: every
 * reply starts with an airs_osl_result, and a failure is a reply, never a
 * crash of the actor.
 *
 * The fs actor is a process registered as AIRS_OSL_FS_NAME ("airs.fs"),
 * started under a supervisor from airs_fs_child_spec (airs_osl_start does
 * so) or alone with airs_fs_start. It never blocks a worker: each request
 * runs as an AIRS_JOB_FAST job on the blocking pool (io.h), and the reply
 * comes when the job is done. Requests run concurrently, so replies may
 * come in another order than the requests; wait for one reply before
 * sending a request that depends on it.
 *
 * Streaming is Erlang's io device model: an AIRS_MSG_FS_OPEN request
 * starts a file actor, a process that owns one open file descriptor, and
 * replies with its pid. Requests to it (AIRS_MSG_FILE_*) run one at a
 * time, in the order they came, each as a job on the pool. The file actor
 * watches the process that opened the file (its owner) and ends when the
 * owner ends; the descriptor is closed when the file actor ends, whatever
 * ends it (a close request, its owner's end, a kill, airs_runtime_free).
 * Anyone who knows its pid may send it requests.
 *
 *     airs_fs_req req;
 *     airs_fs_req_init(&req);
 *     req.type = AIRS_MSG_FS_READ;
 *     req.path = "/etc/hostname";
 *     airs_fs_request(ctx, &req, 1000, &corr);    from an actor, or
 *     airs_fs_call(rt, &req, 1000, &reply);       from a plain thread;
 *     airs_fs_reply_data(reply, &data, &size);    AIRS_OK, or why not
 *
 * The jobs are FAST ones, meant for local files: a path that may block
 * for long (a FIFO with no writer, a device, a hung network mount) holds
 * a pool thread as long as it blocks.
 *
 * Every descriptor is opened close-on-exec, and the actor changes no
 * process-global state (no chdir, umask or signal handler).
 */
#ifndef AIRS_FS_H
#define AIRS_FS_H

#include "airs/airs.h"
#include "airs/osl.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Message types. A request of type T is answered by a reply of type
 * AIRS_MSG_FS_REPLY(T); a request with no correlation id (a plain send,
 * not airs_request or airs_call) is dropped, as it could not be answered.
 * A request the actor does not know (a type in the fs range below the
 * replies that is not a request, or a file request sent to the fs actor
 * and the reverse) gets an EINVAL reply of type AIRS_MSG_FS_REPLY(its
 * type). A message of a reply type is ignored: answering it could set
 * two actors answering each other for ever.
 * ---------------------------------------------------------------------- */

/* To the fs actor, with the fields of airs_fs_req each one reads:
 *   READ    path, offset, length      WRITE   path, data, mode, flags (EXCL)
 *   APPEND  path, data, mode          DELETE  path (a file or a link)
 *   LIST    path (a directory)        MKDIR   path, mode
 *   RMDIR   path (an empty dir)       STAT    path, flags (NOFOLLOW)
 *   RENAME  path, path2               OPEN    path, flags (OPEN_*), mode */
#define AIRS_MSG_FS_READ (AIRS_MSG_FS_BASE + 0x01)
#define AIRS_MSG_FS_WRITE (AIRS_MSG_FS_BASE + 0x02)
#define AIRS_MSG_FS_APPEND (AIRS_MSG_FS_BASE + 0x03)
#define AIRS_MSG_FS_DELETE (AIRS_MSG_FS_BASE + 0x04)
#define AIRS_MSG_FS_LIST (AIRS_MSG_FS_BASE + 0x05)
#define AIRS_MSG_FS_MKDIR (AIRS_MSG_FS_BASE + 0x06)
#define AIRS_MSG_FS_RMDIR (AIRS_MSG_FS_BASE + 0x07)
#define AIRS_MSG_FS_STAT (AIRS_MSG_FS_BASE + 0x08)
#define AIRS_MSG_FS_RENAME (AIRS_MSG_FS_BASE + 0x09)
#define AIRS_MSG_FS_OPEN (AIRS_MSG_FS_BASE + 0x0A)

/* To a file actor (airs_fs_req.file names it):
 *   FILE_READ   length, flags (AT), offset
 *   FILE_WRITE  data, flags (AT), offset
 *   FILE_SYNC   flags (DATASYNC)
 *   FILE_CLOSE  nothing; the actor ends once it has replied, and requests
 *               queued behind the close get AIRS_ESTATE */
#define AIRS_MSG_FILE_READ (AIRS_MSG_FS_BASE + 0x40)
#define AIRS_MSG_FILE_WRITE (AIRS_MSG_FS_BASE + 0x41)
#define AIRS_MSG_FILE_SYNC (AIRS_MSG_FS_BASE + 0x42)
#define AIRS_MSG_FILE_CLOSE (AIRS_MSG_FS_BASE + 0x43)

/* The reply type of request type t. */
#define AIRS_MSG_FS_REPLY(t) ((uint64_t)(t) + 0x80u)

/* ------------------------------------------------------------------------
 * Flags and limits.
 * ---------------------------------------------------------------------- */

/* AIRS_MSG_FS_OPEN: how to open (open(2)'s flags). At least one of READ
 * and WRITE (APPEND implies WRITE). CREATE makes a missing file with
 * `mode`; TRUNCATE empties it; EXCL (with CREATE, and with
 * AIRS_MSG_FS_WRITE) fails with AIRS_EOS/EEXIST if the file exists. */
#define AIRS_FS_OPEN_READ 0x01u
#define AIRS_FS_OPEN_WRITE 0x02u
#define AIRS_FS_OPEN_APPEND 0x04u
#define AIRS_FS_OPEN_CREATE 0x08u
#define AIRS_FS_OPEN_TRUNCATE 0x10u
#define AIRS_FS_OPEN_EXCL 0x20u
/* AIRS_MSG_FILE_READ / _WRITE: at `offset` (pread/pwrite), leaving the
 * file's position where it was; without it, at the position, which the
 * read or write moves (with OPEN_APPEND, a write goes to the end). */
#define AIRS_FS_AT 0x40u
/* AIRS_MSG_FS_STAT: of a symbolic link itself, not of what it names. */
#define AIRS_FS_NOFOLLOW 0x80u
/* AIRS_MSG_FILE_SYNC: only the data and what reading it needs
 * (fdatasync), not every attribute (fsync). */
#define AIRS_FS_DATASYNC 0x100u

/* Most bytes one read (AIRS_MSG_FS_READ, AIRS_MSG_FILE_READ) returns:
 * 64 MiB. A whole-file read of a bigger file fails with AIRS_ELIMIT:
 * open it and read it in parts. A file whose size the OS does not give
 * (procfs and sysfs say 0, a FIFO) is read to its end, or to this cap
 * and no further. */
#define AIRS_FS_READ_MAX ((uint64_t)64 << 20)

/* Longest path, in bytes (Linux's PATH_MAX without its NUL). */
#define AIRS_FS_PATH_MAX 4095

/* ------------------------------------------------------------------------
 * Requests. The data of a request message is an airs_fs_head, then
 * path_len bytes of the path, path2_len bytes of the second path, and
 * data_len bytes of data, nothing else (paths carry no NUL). Any process,
 * in any language, may build one; airs_fs_req_new does it from an
 * airs_fs_req. The actor checks everything: a message too short or whose
 * lengths do not add up, an unknown version or flag, a path that is
 * empty, longer than AIRS_FS_PATH_MAX or holds a NUL byte: AIRS_EINVAL
 * with the reason in the text.
 * ---------------------------------------------------------------------- */

#define AIRS_FS_HEAD_VERSION 1

typedef struct airs_fs_head {
  uint32_t version;   /* AIRS_FS_HEAD_VERSION */
  uint32_t size;      /* sizeof(airs_fs_head): where the path starts */
  uint32_t flags;     /* AIRS_FS_* */
  uint32_t mode;      /* permission bits of a file or directory made */
  uint64_t offset;    /* where a read or AIRS_FS_AT write starts */
  uint64_t length;    /* bytes to read */
  uint32_t path_len;  /* bytes of the path */
  uint32_t path2_len; /* bytes of the second path */
  uint64_t data_len;  /* bytes of data */
} airs_fs_head;

#define AIRS_FS_REQ_VERSION 1

/* What airs_fs_req_new encodes. Fill with airs_fs_req_init, then set the
 * fields the operation reads (see the message types). Read only during
 * the call: its pointers may be freed afterwards. */
typedef struct airs_fs_req {
  uint32_t version;  /* AIRS_FS_REQ_VERSION */
  uint32_t size;     /* sizeof(airs_fs_req) */
  uint64_t type;     /* AIRS_MSG_FS_* or AIRS_MSG_FILE_* */
  airs_pid file;     /* AIRS_MSG_FILE_*: the file actor (airs_fs_request and
                        airs_fs_call send the request to it) */
  const char* path;  /* NUL-terminated, unless path_len is set */
  size_t path_len;   /* 0: strlen(path); else exactly this many bytes */
  const char* path2; /* rename: the new name; as path */
  size_t path2_len;  /* as path_len */
  const void* data;  /* write, append, file write (NULL if data_size 0) */
  size_t data_size;  /* bytes of data */
  uint64_t offset;   /* read: where to start; file read/write: with
                        AIRS_FS_AT, where */
  uint64_t length;   /* read: most bytes, 0 = to the end (at most
                        AIRS_FS_READ_MAX either way); file read: bytes
                        wanted, 1..AIRS_FS_READ_MAX */
  uint32_t mode;     /* write, append, open with CREATE, mkdir: the
                        permission bits, less the umask; 0 = the default
                        (0666 for a file, 0777 for a directory) */
  uint32_t flags;    /* AIRS_FS_* for the operation */
} airs_fs_req;

/* Fills *req: version and size set, everything else 0. EINVAL: NULL.
 * [any thread] */
AIRS_API airs_status airs_fs_req_init(airs_fs_req* req);

/* Builds the request message of *req into *out (the caller owns it until
 * a send consumes it; type req->type, data as above, the data copied
 * once). Checks what cannot be encoded: EINVAL: NULL req or out, bad
 * version or size, a type that is not a request, NULL path (or path2 for
 * rename) where the operation needs one, NULL data with data_size > 0, a
 * path over 4 GiB or a message over AIRS_MSG_MAX_SIZE. Paths are not
 * judged here (the actor does: an empty path is a reply with EINVAL).
 * ENOMEM. [any thread] */
AIRS_API airs_status airs_fs_req_new(const airs_fs_req* req, airs_msg** out);

/* From an actor: builds the request and sends it with airs_request to
 * req->file for a file request, else to the process registered as
 * AIRS_OSL_FS_NAME. The reply, or AIRS_MSG_TIMEOUT after timeout_ms,
 * comes later as a message with *correlation as its correlation id.
 * The errors of airs_fs_req_new and airs_request; ENOTFOUND: no process
 * is registered as AIRS_OSL_FS_NAME. [inside a callback] */
AIRS_API airs_status airs_fs_request(airs_ctx* ctx, const airs_fs_req* req,
                                     uint32_t timeout_ms,
                                     uint64_t* correlation);

/* From a plain thread: builds the request, sends it as airs_fs_request
 * would, and waits for the reply (airs_call). AIRS_OK means a reply came
 * in *reply (the caller frees it with airs_msg_free), whatever it says:
 * read it with the airs_fs_reply_* functions or airs_osl_result_get.
 * A file opened this way has no owner: it stays open until it is closed
 * or the runtime is freed. The errors of airs_fs_req_new and airs_call;
 * ENOTFOUND: nothing registered as AIRS_OSL_FS_NAME.
 * [not inside a callback] */
AIRS_API airs_status airs_fs_call(airs_runtime* rt, const airs_fs_req* req,
                                  uint32_t timeout_ms, airs_msg** reply);

/* ------------------------------------------------------------------------
 * Replies. The data of every successful reply is an airs_osl_result
 * (status AIRS_OK), an airs_fs_info, then the operation's bytes: the
 * data read (READ, FILE_READ), an airs_fs_stat (STAT), or the entry
 * names of a directory, each followed by a NUL byte, in strcmp order,
 * without "." and ".." (LIST). A failed reply may end after its result.
 *
 * The readers below return AIRS_OK for a successful reply of the
 * operations they read. For a failed reply they return its status
 * (AIRS_EOS, AIRS_EINVAL, ...) with its text as the last error message,
 * so one test serves both; for AIRS_MSG_TIMEOUT, AIRS_ETIMEDOUT. EINVAL:
 * a NULL argument, or a reply of another operation. Pointers they give
 * point into the reply: valid while it is. [any thread]
 * ---------------------------------------------------------------------- */

/* AIRS_MSG_FILE_READ's reply: nothing was left to read where it read
 * (at the file's position, or at an AIRS_FS_AT offset), so the data is
 * empty. A short read is not flagged: the next read gives the EOF. An
 * empty AIRS_MSG_FS_READ is not flagged either. */
#define AIRS_FS_EOF 0x1u

typedef struct airs_fs_info {
  uint32_t flags; /* AIRS_FS_EOF */
  uint32_t count; /* LIST: entries */
  uint64_t value; /* READ, FILE_READ: bytes read; WRITE, APPEND,
                     FILE_WRITE: bytes written; OPEN: the file actor's
                     pid; else 0 */
} airs_fs_info;

typedef enum airs_fs_type {
  AIRS_FS_TYPE_FILE = 0,
  AIRS_FS_TYPE_DIR = 1,
  AIRS_FS_TYPE_SYMLINK = 2, /* with AIRS_FS_NOFOLLOW only */
  AIRS_FS_TYPE_OTHER = 3    /* a device, FIFO or socket */
} airs_fs_type;

#define AIRS_FS_STAT_VERSION 1

typedef struct airs_fs_stat {
  uint32_t version; /* AIRS_FS_STAT_VERSION */
  uint32_t size;    /* sizeof(airs_fs_stat) */
  int32_t type;     /* an airs_fs_type */
  uint32_t mode;    /* permission bits (07777) */
  uint64_t bytes;   /* the size in bytes */
  int64_t mtime_ns; /* last change of the data, ns since the Epoch */
  int64_t atime_ns; /* last access */
  int64_t ctime_ns; /* last change of the inode */
  uint64_t inode;
  uint64_t device;
  uint32_t links; /* hard links */
  uint32_t uid;
  uint32_t gid;
  uint32_t reserved; /* 0 */
} airs_fs_stat;

/* Copies the airs_fs_info of any successful fs or file reply to *out. */
AIRS_API airs_status airs_fs_reply_info(const airs_msg* reply,
                                        airs_fs_info* out);

/* The bytes a READ or FILE_READ reply carries: *data (NULL when *size is
 * 0) and *size. A FILE_READ at the end of the file gives size 0 and the
 * AIRS_FS_EOF flag (airs_fs_reply_info). */
AIRS_API airs_status airs_fs_reply_data(const airs_msg* reply,
                                        const void** data, size_t* size);

/* Copies a STAT reply's airs_fs_stat to *out; out->version and size are
 * set by the caller first (fields past its size are not written). EINVAL
 * also: version 0 or a size too small for version 1. */
AIRS_API airs_status airs_fs_reply_stat(const airs_msg* reply,
                                        airs_fs_stat* out);

/* Walks a LIST reply: start with *cursor = 0; each call gives the next
 * name in *name (NUL-terminated) and moves *cursor. ENOTFOUND after the
 * last one (no message set: it is the normal end). */
AIRS_API airs_status airs_fs_reply_list_next(const airs_msg* reply,
                                             size_t* cursor, const char** name);

/* The file actor of an OPEN reply. */
AIRS_API airs_status airs_fs_reply_file(const airs_msg* reply, airs_pid* file);

/* ------------------------------------------------------------------------
 * Starting the fs actor.
 * ---------------------------------------------------------------------- */

/* Fills *out with the child spec of the fs actor: id "fs", its behaviour,
 * registered name AIRS_OSL_FS_NAME, restart PERMANENT, shutdown after
 * 5000 ms. Add it to any supervisor spec (airs_sup_spec_add_child); each
 * start is a fresh actor with no request pending (requests in flight when
 * it ended get no reply: airs_call reports EEXITED, airs_request times
 * out). The spec's strings are static. EINVAL: NULL. [any thread] */
AIRS_API airs_status airs_fs_child_spec(airs_child_spec* out);

/* Spawns an fs actor outside any supervisor and registers it as
 * AIRS_OSL_FS_NAME; *out gets its pid. EEXIST: the name is taken (nothing
 * is left running). EINVAL: NULL argument. The errors of airs_spawn.
 * [any thread] */
AIRS_API airs_status airs_fs_start(airs_runtime* rt, airs_pid* out);

#ifdef __cplusplus
}
#endif

#endif /* AIRS_FS_H */
