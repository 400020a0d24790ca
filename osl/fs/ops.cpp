// ops.cpp - what each fs and file request does, on a pool thread: the
// system calls, retried on EINTR, and the reply (fs.h's layout). An OS
// error is a reply with AIRS_EOS, its errno and "call path: strerror".
#include "ops.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../reply.hpp"
#include "file_actor.hpp"

namespace airs::osl::fs {

// ---- replies

unsigned char* reply_alloc(size_t room) noexcept {
  auto* buf = static_cast<unsigned char*>(malloc(kReplyHead + room));
  if (buf != nullptr) memset(buf, 0, kReplyHead);
  return buf;
}

airs_msg* reply_finish(uint64_t type, unsigned char* buf,
                       size_t used) noexcept {
  airs_payload* p = nullptr;
  if (airs_payload_wrap(buf, kReplyHead + used, free, &p) != AIRS_OK) {
    free(buf);
    return nullptr;
  }
  airs_msg* m = nullptr;
  airs_status st = airs_msg_new_shared(type, p, &m);
  airs_payload_release(p);  // the message holds its own reference
  return st == AIRS_OK ? m : nullptr;
}

namespace {

uint64_t reply_type(const Job& job) noexcept {
  return AIRS_MSG_FS_REPLY(job.req.type);
}

// A reply with an info and no bytes (write, mkdir, ...).
airs_msg* reply_info(const Job& job, uint64_t value) noexcept {
  unsigned char* buf = reply_alloc(0);
  if (buf == nullptr) return nullptr;
  reinterpret_cast<ReplyHead*>(buf)->info.value = value;
  return reply_finish(reply_type(job), buf, 0);
}

// The path as an error text shows it: the end of a long one (the text
// has AIRS_OSL_TEXT_MAX bytes, and the errno's words must fit).
struct Shown {
  const char* dots;
  const char* tail;
};
Shown shown(const char* path) noexcept {
  size_t n = strlen(path);
  if (n <= 80) return {"", path};
  return {"...", path + n - 77};
}

airs_msg* reply_os(const Job& job, const char* call, const char* path,
                   int err) noexcept {
  airs_osl_result why;
  Shown s = shown(path);
  result_set(&why, AIRS_EOS, err, "%s %s%s", call, s.dots, s.tail);
  return reply_failed(reply_type(job), why);
}

airs_msg* reply_status(const Job& job, airs_status st, const char* what,
                       const char* path) noexcept {
  airs_osl_result why;
  Shown s = shown(path);
  result_set(&why, st, 0, "%s %s%s", what, s.dots, s.tail);
  return reply_failed(reply_type(job), why);
}

int open_retry(const char* path, int oflags, mode_t mode) noexcept {
  int fd;
  do fd = open(path, oflags | O_CLOEXEC, mode);
  while (fd < 0 && errno == EINTR);
  return fd;
}

// Reads up to `n` bytes into buf, at `offset` if at >= 0, else at the
// position; stops early only at the end of the file. -1 and errno.
ssize_t read_full(int fd, unsigned char* buf, size_t n, off_t at) noexcept {
  size_t got = 0;
  while (got < n) {
    ssize_t r = at >= 0 ? pread(fd, buf + got, n - got, at + (off_t)got)
                        : read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

// Writes all `n` bytes, at `offset` if at >= 0. -1 and errno.
ssize_t write_full(int fd, const unsigned char* buf, size_t n,
                   off_t at) noexcept {
  size_t put = 0;
  while (put < n) {
    ssize_t w = at >= 0 ? pwrite(fd, buf + put, n - put, at + (off_t)put)
                        : write(fd, buf + put, n - put);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    put += static_cast<size_t>(w);
  }
  return static_cast<ssize_t>(put);
}

mode_t file_mode(uint32_t mode) noexcept {
  return mode ? mode & 07777 : 0666;
}
mode_t dir_mode(uint32_t mode) noexcept {
  return mode ? mode & 07777 : 0777;
}

// ---- the fs actor's operations

// READ: the whole file, or `length` bytes from `offset`. A regular file's
// size says how much to read; anything else (a /proc file says 0) is
// read to its end, up to AIRS_FS_READ_MAX.
airs_msg* op_read(const Job& job) noexcept {
  const Request& r = job.req;
  int fd = open_retry(r.path, O_RDONLY, 0);
  if (fd < 0) return reply_os(job, "open", r.path, errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return reply_os(job, "stat", r.path, err);
  }
  // procfs and sysfs files say 0 bytes: read those to their end.
  bool sized = S_ISREG(st.st_mode) && st.st_size > 0;
  uint64_t size = static_cast<uint64_t>(st.st_size);
  uint64_t left = r.offset < size ? size - r.offset : 0;
  if (sized && r.length == 0 && left > AIRS_FS_READ_MAX) {
    close(fd);
    airs_osl_result why;
    Shown s = shown(r.path);
    result_set(&why, AIRS_ELIMIT, 0,
               "read %s%s: %llu bytes, more than AIRS_FS_READ_MAX (open it "
               "and read it in parts)",
               s.dots, s.tail, static_cast<unsigned long long>(left));
    return reply_failed(reply_type(job), why);
  }
  uint64_t want = r.length != 0 ? r.length : AIRS_FS_READ_MAX;
  if (sized) want = std::min(want, left);
  // Unsized files grow their buffer as they are read.
  size_t room = sized ? want : std::min<uint64_t>(want, 64 * 1024);
  unsigned char* buf = reply_alloc(room);
  size_t used = 0;
  while (buf != nullptr) {
    // pread where it can; a pipe or device read from its start uses read.
    off_t at =
        sized || r.offset != 0 ? static_cast<off_t>(r.offset + used) : -1;
    ssize_t n = read_full(fd, buf + kReplyHead + used, room - used, at);
    if (n < 0) {
      int err = errno;
      free(buf);
      close(fd);
      return reply_os(job, "read", r.path, err);
    }
    used += static_cast<size_t>(n);
    if (used < room || room == want) break;
    room = std::min<uint64_t>(want, uint64_t{room} * 2);
    auto* bigger = static_cast<unsigned char*>(realloc(buf, kReplyHead + room));
    if (bigger == nullptr) free(buf);
    buf = bigger;
  }
  close(fd);
  if (buf == nullptr) return nullptr;
  reinterpret_cast<ReplyHead*>(buf)->info.value = used;
  return reply_finish(reply_type(job), buf, used);
}

// WRITE (create or truncate) and APPEND (create or add at the end).
airs_msg* op_write(const Job& job, bool append) noexcept {
  const Request& r = job.req;
  int oflags = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC);
  if (r.flags & AIRS_FS_OPEN_EXCL) oflags |= O_EXCL;
  int fd = open_retry(r.path, oflags, file_mode(r.mode));
  if (fd < 0) return reply_os(job, "open", r.path, errno);
  ssize_t n = write_full(fd, r.data, r.data_len, -1);
  int err = errno;
  if (close(fd) != 0 && n >= 0) {
    err = errno;
    n = -1;
  }
  if (n < 0) return reply_os(job, "write", r.path, err);
  return reply_info(job, static_cast<uint64_t>(n));
}

// LIST: the names of a directory, sorted, each with its NUL.
airs_msg* op_list(const Job& job) noexcept {
  const Request& r = job.req;
  DIR* d = opendir(r.path);  // glibc opens it close-on-exec
  if (d == nullptr) return reply_os(job, "opendir", r.path, errno);
  std::vector<std::string> names;
  size_t bytes = 0;
  int err = 0;
  try {
    for (;;) {
      errno = 0;
      struct dirent* e = readdir(d);
      if (e == nullptr) {
        err = errno;
        break;
      }
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      names.emplace_back(e->d_name);
      bytes += names.back().size() + 1;
    }
    std::sort(names.begin(), names.end());
  } catch (...) {
    closedir(d);
    return nullptr;
  }
  closedir(d);
  if (err != 0) return reply_os(job, "readdir", r.path, err);
  unsigned char* buf = reply_alloc(bytes);
  if (buf == nullptr) return nullptr;
  unsigned char* p = buf + kReplyHead;
  for (const std::string& n : names) {
    memcpy(p, n.c_str(), n.size() + 1);
    p += n.size() + 1;
  }
  reinterpret_cast<ReplyHead*>(buf)->info.count =
      static_cast<uint32_t>(names.size());
  return reply_finish(reply_type(job), buf, bytes);
}

int64_t ns_of(const struct timespec& t) noexcept {
  return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec;
}

airs_msg* op_stat(const Job& job) noexcept {
  const Request& r = job.req;
  struct stat st;
  bool nofollow = r.flags & AIRS_FS_NOFOLLOW;
  if ((nofollow ? lstat(r.path, &st) : stat(r.path, &st)) != 0)
    return reply_os(job, nofollow ? "lstat" : "stat", r.path, errno);
  airs_fs_stat out;
  memset(&out, 0, sizeof out);
  out.version = AIRS_FS_STAT_VERSION;
  out.size = sizeof out;
  out.type = S_ISREG(st.st_mode)   ? AIRS_FS_TYPE_FILE
             : S_ISDIR(st.st_mode) ? AIRS_FS_TYPE_DIR
             : S_ISLNK(st.st_mode) ? AIRS_FS_TYPE_SYMLINK
                                   : AIRS_FS_TYPE_OTHER;
  out.mode = st.st_mode & 07777;
  out.bytes = static_cast<uint64_t>(st.st_size);
  out.mtime_ns = ns_of(st.st_mtim);
  out.atime_ns = ns_of(st.st_atim);
  out.ctime_ns = ns_of(st.st_ctim);
  out.inode = st.st_ino;
  out.device = st.st_dev;
  out.links = static_cast<uint32_t>(st.st_nlink);
  out.uid = st.st_uid;
  out.gid = st.st_gid;
  unsigned char* buf = reply_alloc(sizeof out);
  if (buf == nullptr) return nullptr;
  memcpy(buf + kReplyHead, &out, sizeof out);
  return reply_finish(reply_type(job), buf, sizeof out);
}

// OPEN: the descriptor goes to a new file actor, spawned here, which
// watches the opener; the reply names it. If the spawn fails the
// descriptor is closed with it (file_actor_spawn owns it either way).
airs_msg* op_open(const Job& job) noexcept {
  const Request& r = job.req;
  uint32_t f = r.flags;
  bool wr = f & (AIRS_FS_OPEN_WRITE | AIRS_FS_OPEN_APPEND);
  int oflags = !wr ? O_RDONLY : (f & AIRS_FS_OPEN_READ) ? O_RDWR : O_WRONLY;
  if (f & AIRS_FS_OPEN_APPEND) oflags |= O_APPEND;
  if (f & AIRS_FS_OPEN_CREATE) oflags |= O_CREAT;
  if (f & AIRS_FS_OPEN_TRUNCATE) oflags |= O_TRUNC;
  if (f & AIRS_FS_OPEN_EXCL) oflags |= O_EXCL;
  int fd = open_retry(r.path, oflags, file_mode(r.mode));
  if (fd < 0) return reply_os(job, "open", r.path, errno);
  airs_pid pid = AIRS_NO_PID;
  airs_status st = file_actor_spawn(job.rt, fd, job.owner, &pid);
  if (st != AIRS_OK)
    return reply_status(job, st, "open: the file actor did not start:", r.path);
  return reply_info(job, pid);
}

// The calls that only succeed or fail.
airs_msg* op_simple(const Job& job) noexcept {
  const Request& r = job.req;
  int rc = -1;
  const char* call = "";
  switch (r.type) {
    case AIRS_MSG_FS_DELETE: call = "unlink", rc = unlink(r.path); break;
    case AIRS_MSG_FS_MKDIR:
      call = "mkdir", rc = mkdir(r.path, dir_mode(r.mode));
      break;
    case AIRS_MSG_FS_RMDIR: call = "rmdir", rc = rmdir(r.path); break;
    case AIRS_MSG_FS_RENAME:
      call = "rename", rc = rename(r.path, r.path2);
      break;
  }
  if (rc != 0) return reply_os(job, call, r.path, errno);
  return reply_info(job, 0);
}

// ---- a file actor's operations, on its descriptor

airs_msg* op_file_read(const Job& job) noexcept {
  const Request& r = job.req;
  size_t want = static_cast<size_t>(r.length);
  unsigned char* buf = reply_alloc(want);
  if (buf == nullptr) return nullptr;
  off_t at = (r.flags & AIRS_FS_AT) ? static_cast<off_t>(r.offset) : -1;
  ssize_t n = read_full(job.file->fd, buf + kReplyHead, want, at);
  if (n < 0) {
    int err = errno;
    free(buf);
    return reply_os(job, "read", "(file)", err);
  }
  // A short read leaves room unused: give it back if it is much.
  if (static_cast<size_t>(n) < want / 2) {
    auto* smaller = static_cast<unsigned char*>(
        realloc(buf, kReplyHead + static_cast<size_t>(n)));
    if (smaller != nullptr) buf = smaller;
  }
  auto* head = reinterpret_cast<ReplyHead*>(buf);
  head->info.value = static_cast<uint64_t>(n);
  if (n == 0) head->info.flags = AIRS_FS_EOF;
  return reply_finish(reply_type(job), buf, static_cast<size_t>(n));
}

airs_msg* op_file_write(const Job& job) noexcept {
  const Request& r = job.req;
  off_t at = (r.flags & AIRS_FS_AT) ? static_cast<off_t>(r.offset) : -1;
  ssize_t n = write_full(job.file->fd, r.data, r.data_len, at);
  if (n < 0) return reply_os(job, "write", "(file)", errno);
  return reply_info(job, static_cast<uint64_t>(n));
}

airs_msg* op_file_sync(const Job& job) noexcept {
  int fd = job.file->fd;
  bool data = job.req.flags & AIRS_FS_DATASYNC;
  if ((data ? fdatasync(fd) : fsync(fd)) != 0)
    return reply_os(job, data ? "fdatasync" : "fsync", "(file)", errno);
  return reply_info(job, 0);
}

// CLOSE: the descriptor is closed here, once; an error of close (a
// deferred write error, EIO) is reported, but the descriptor is gone
// either way (Linux's close never leaves it open).
airs_msg* op_file_close(const Job& job) noexcept {
  int fd = job.file->fd;
  job.file->fd = -1;
  if (close(fd) != 0 && errno != EINTR)
    return reply_os(job, "close", "(file)", errno);
  return reply_info(job, 0);
}

}  // namespace

airs_msg* run_op(Job& job) noexcept {
  switch (job.req.type) {
    case AIRS_MSG_FS_READ: return op_read(job);
    case AIRS_MSG_FS_WRITE: return op_write(job, false);
    case AIRS_MSG_FS_APPEND: return op_write(job, true);
    case AIRS_MSG_FS_LIST: return op_list(job);
    case AIRS_MSG_FS_STAT: return op_stat(job);
    case AIRS_MSG_FS_OPEN: return op_open(job);
    case AIRS_MSG_FILE_READ: return op_file_read(job);
    case AIRS_MSG_FILE_WRITE: return op_file_write(job);
    case AIRS_MSG_FILE_SYNC: return op_file_sync(job);
    case AIRS_MSG_FILE_CLOSE: return op_file_close(job);
    default: return op_simple(job);
  }
}

}  // namespace airs::osl::fs
