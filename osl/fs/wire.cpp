// wire.cpp - checking a request message of the fs and file actors. The
// bytes come from anyone (any process may send the actor anything), so
// every length is checked against the message before it is used.
#include "wire.hpp"

#include <cstring>

#include "../reply.hpp"

namespace airs::osl::fs {

namespace {

// What each operation reads, to refuse a missing path early.
bool needs_path(uint64_t t) noexcept {
  return is_fs_request(t);
}
bool needs_path2(uint64_t t) noexcept {
  return t == AIRS_MSG_FS_RENAME;
}

constexpr uint32_t kKnownFlags =
    AIRS_FS_OPEN_READ | AIRS_FS_OPEN_WRITE | AIRS_FS_OPEN_APPEND |
    AIRS_FS_OPEN_CREATE | AIRS_FS_OPEN_TRUNCATE | AIRS_FS_OPEN_EXCL |
    AIRS_FS_AT | AIRS_FS_NOFOLLOW | AIRS_FS_DATASYNC;

// Copies one path out of the message, checking it: not empty, not too
// long, no NUL inside. `what` names it in the text.
bool take_path(const unsigned char* p, uint32_t len, const char* what,
               char* out, airs_osl_result* why) noexcept {
  if (len == 0) {
    result_set(why, AIRS_EINVAL, 0, "%s is empty", what);
    return false;
  }
  if (len > AIRS_FS_PATH_MAX) {
    result_set(why, AIRS_EINVAL, 0, "%s is %u bytes, longer than %d", what, len,
               AIRS_FS_PATH_MAX);
    return false;
  }
  if (memchr(p, '\0', len) != nullptr) {
    result_set(why, AIRS_EINVAL, 0, "%s holds a NUL byte", what);
    return false;
  }
  memcpy(out, p, len);
  out[len] = '\0';
  return true;
}

// The checks of each operation's numbers.
bool check_fields(const Request& r, airs_osl_result* why) noexcept {
  switch (r.type) {
    case AIRS_MSG_FS_READ:
      if (r.length > AIRS_FS_READ_MAX) {
        result_set(why, AIRS_ELIMIT, 0,
                   "read %s: %llu bytes asked, more than %llu (open the file "
                   "and read it in parts)",
                   r.path, static_cast<unsigned long long>(r.length),
                   static_cast<unsigned long long>(AIRS_FS_READ_MAX));
        return false;
      }
      return true;
    case AIRS_MSG_FILE_READ:
      if (r.length == 0 || r.length > AIRS_FS_READ_MAX) {
        result_set(why, r.length == 0 ? AIRS_EINVAL : AIRS_ELIMIT, 0,
                   "a file read wants 1..%llu bytes, not %llu",
                   static_cast<unsigned long long>(AIRS_FS_READ_MAX),
                   static_cast<unsigned long long>(r.length));
        return false;
      }
      return true;
    case AIRS_MSG_FS_OPEN:
      if ((r.flags & (AIRS_FS_OPEN_READ | AIRS_FS_OPEN_WRITE |
                      AIRS_FS_OPEN_APPEND)) == 0) {
        result_set(why, AIRS_EINVAL, 0,
                   "open %s: neither READ nor WRITE nor APPEND", r.path);
        return false;
      }
      return true;
    default: return true;
  }
}

}  // namespace

bool parse(uint64_t type, const void* bytes, size_t size, Request* out,
           airs_osl_result* why) noexcept {
  airs_fs_head h;
  if (bytes == nullptr || size < sizeof h) {
    result_set(why, AIRS_EINVAL, 0,
               "the request has %zu bytes, less than an airs_fs_head", size);
    return false;
  }
  memcpy(&h, bytes, sizeof h);  // the message's bytes may be unaligned
  if (h.version != AIRS_FS_HEAD_VERSION || h.size < sizeof h || h.size > size) {
    result_set(why, AIRS_EINVAL, 0,
               "bad airs_fs_head: version %u, size %u (want version %d, "
               "size %zu)",
               h.version, h.size, AIRS_FS_HEAD_VERSION, sizeof h);
    return false;
  }
  uint64_t want = uint64_t{h.size} + h.path_len + h.path2_len + h.data_len;
  if (h.data_len > size || want != size) {
    result_set(why, AIRS_EINVAL, 0,
               "the request's lengths (head %u, paths %u and %u, data %llu) "
               "do not add up to its %zu bytes",
               h.size, h.path_len, h.path2_len,
               static_cast<unsigned long long>(h.data_len), size);
    return false;
  }
  if ((h.flags & ~kKnownFlags) != 0) {
    result_set(why, AIRS_EINVAL, 0, "unknown flags %#x",
               h.flags & ~kKnownFlags);
    return false;
  }
  const auto* p = static_cast<const unsigned char*>(bytes) + h.size;
  out->type = type;
  out->flags = h.flags;
  out->mode = h.mode;
  out->offset = h.offset;
  out->length = h.length;
  out->path[0] = out->path2[0] = '\0';
  if (needs_path(type) && !take_path(p, h.path_len, "the path", out->path, why))
    return false;
  p += h.path_len;
  if (needs_path2(type) &&
      !take_path(p, h.path2_len, "the second path", out->path2, why))
    return false;
  p += h.path2_len;
  out->data = h.data_len > 0 ? p : nullptr;
  out->data_len = static_cast<size_t>(h.data_len);
  return check_fields(*out, why);
}

}  // namespace airs::osl::fs
