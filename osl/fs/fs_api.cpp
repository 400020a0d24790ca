// fs_api.cpp - the public helpers of fs.h: building requests, sending
// them, and reading replies. Nothing here talks to the fs actor's
// internals: a request is only the bytes fs.h documents, so any client
// could build it by hand.
#include <cstdlib>
#include <cstring>

#include "base/error.hpp"
#include "request.hpp"
#include "wire.hpp"

using airs::failf;
using airs::osl::fs::is_file_request;
using airs::osl::fs::is_fs_request;
using airs::osl::fs::kReplyHead;
using airs::osl::fs::ReplyHead;

namespace {

// A path's bytes: its given length, or its strlen.
size_t path_size(const char* p, size_t len) noexcept {
  return p == nullptr ? 0 : len != 0 ? len : strlen(p);
}

// The checks of an airs_fs_req that airs_fs_req_new, airs_fs_request and
// airs_fs_call share. `fn` names the caller in the message.
airs_status check_req(const char* fn, const airs_fs_req* r) noexcept {
  if (r == nullptr) return failf(AIRS_EINVAL, "%s: req is NULL", fn);
  if (r->version != AIRS_FS_REQ_VERSION || r->size < sizeof(airs_fs_req))
    return failf(AIRS_EINVAL,
                 "%s: bad airs_fs_req version %u or size %u (use "
                 "airs_fs_req_init)",
                 fn, r->version, r->size);
  if (!is_fs_request(r->type) && !is_file_request(r->type))
    return failf(AIRS_EINVAL, "%s: type %#llx is not an fs or file request", fn,
                 static_cast<unsigned long long>(r->type));
  if (is_fs_request(r->type) && r->path == nullptr)
    return failf(AIRS_EINVAL, "%s: path is NULL", fn);
  if (r->type == AIRS_MSG_FS_RENAME && r->path2 == nullptr)
    return failf(AIRS_EINVAL, "%s: path2 is NULL (rename needs it)", fn);
  if (r->data == nullptr && r->data_size > 0)
    return failf(AIRS_EINVAL, "%s: data is NULL with data_size %zu", fn,
                 r->data_size);
  return AIRS_OK;
}

// Encodes a checked request: the head, the paths, the data, on a shared
// payload (the fs actor's job keeps it without a copy).
airs_status encode(const char* fn, const airs_fs_req* r,
                   airs_msg** out) noexcept {
  size_t p1 = path_size(r->path, r->path_len);
  size_t p2 = path_size(r->path2, r->path2_len);
  if (p1 > UINT32_MAX || p2 > UINT32_MAX)
    return failf(AIRS_EINVAL, "%s: a path of more than 4 GiB", fn);
  size_t total = sizeof(airs_fs_head) + p1 + p2;
  if (r->data_size > AIRS_MSG_MAX_SIZE - total)
    return failf(AIRS_EINVAL, "%s: the request would be over %zu bytes", fn,
                 AIRS_MSG_MAX_SIZE);
  total += r->data_size;
  auto* buf = static_cast<unsigned char*>(malloc(total));
  if (buf == nullptr) return failf(AIRS_ENOMEM, "%s: out of memory", fn);
  airs_fs_head h;
  memset(&h, 0, sizeof h);
  h.version = AIRS_FS_HEAD_VERSION;
  h.size = sizeof h;
  h.flags = r->flags;
  h.mode = r->mode;
  h.offset = r->offset;
  h.length = r->length;
  h.path_len = static_cast<uint32_t>(p1);
  h.path2_len = static_cast<uint32_t>(p2);
  h.data_len = r->data_size;
  unsigned char* p = buf;
  memcpy(p, &h, sizeof h);
  p += sizeof h;
  if (p1) memcpy(p, r->path, p1);
  p += p1;
  if (p2) memcpy(p, r->path2, p2);
  p += p2;
  if (r->data_size) memcpy(p, r->data, r->data_size);
  airs_payload* payload = nullptr;
  if (airs_payload_wrap(buf, total, free, &payload) != AIRS_OK) {
    free(buf);
    return failf(AIRS_ENOMEM, "%s: out of memory", fn);
  }
  airs_status st = airs_msg_new_shared(r->type, payload, out);
  airs_payload_release(payload);
  if (st != AIRS_OK) return failf(st, "%s: out of memory", fn);
  return AIRS_OK;
}

// Where a request goes: its file actor, or the registered fs actor.
airs_status target(const char* fn, airs_runtime* rt, const airs_fs_req* r,
                   airs_pid* to) noexcept {
  if (is_file_request(r->type)) {
    *to = r->file;
    return AIRS_OK;
  }
  return airs::osl::find_actor(fn, rt, AIRS_OSL_FS_NAME, to);
}

// The part of every reader: the reply checked against the request types
// it may answer (lo..hi), its failure returned as the status, *head and
// *bytes/*size of a successful one filled.
airs_status read_reply(const char* fn, const airs_msg* m, uint64_t lo,
                       uint64_t hi, ReplyHead* head,
                       const unsigned char** bytes, size_t* size) noexcept {
  uint64_t type = airs_msg_type(m);
  if (type == AIRS_MSG_TIMEOUT)
    return failf(AIRS_ETIMEDOUT, "%s: the request timed out", fn);
  if (type < AIRS_MSG_FS_REPLY(lo) || type > AIRS_MSG_FS_REPLY(hi))
    return failf(AIRS_EINVAL, "%s: message type %#llx is not a reply it reads",
                 fn, static_cast<unsigned long long>(type));
  size_t n = airs_msg_size(m);
  const auto* p = static_cast<const unsigned char*>(airs_msg_data(m));
  airs_osl_result result;
  if (n < sizeof result)
    return failf(AIRS_EINVAL, "%s: the reply has only %zu bytes", fn, n);
  memcpy(&result, p, sizeof result);
  result.text[sizeof result.text - 1] = '\0';
  if (result.status != AIRS_OK)
    return failf(static_cast<airs_status>(result.status), "%s: %s", fn,
                 result.text);
  if (n < kReplyHead)
    return failf(AIRS_EINVAL, "%s: the reply has only %zu bytes", fn, n);
  memcpy(head, p, kReplyHead);
  *bytes = p + kReplyHead;
  *size = n - kReplyHead;
  return AIRS_OK;
}

}  // namespace

extern "C" {

AIRS_API airs_status airs_fs_req_init(airs_fs_req* req) {
  if (req == nullptr) return failf(AIRS_EINVAL, "airs_fs_req_init: NULL");
  memset(req, 0, sizeof *req);
  req->version = AIRS_FS_REQ_VERSION;
  req->size = sizeof *req;
  return AIRS_OK;
}

AIRS_API airs_status airs_fs_req_new(const airs_fs_req* req, airs_msg** out) {
  const char* fn = "airs_fs_req_new";
  if (out == nullptr) return failf(AIRS_EINVAL, "%s: out is NULL", fn);
  airs_status st = check_req(fn, req);
  return st != AIRS_OK ? st : encode(fn, req, out);
}

AIRS_API airs_status airs_fs_request(airs_ctx* ctx, const airs_fs_req* req,
                                     uint32_t timeout_ms,
                                     uint64_t* correlation) {
  const char* fn = "airs_fs_request";
  if (ctx == nullptr || correlation == nullptr)
    return failf(AIRS_EINVAL, "%s: %s is NULL", fn,
                 ctx == nullptr ? "ctx" : "correlation");
  airs_status st = check_req(fn, req);
  airs_pid to = AIRS_NO_PID;
  if (st == AIRS_OK) st = target(fn, airs_ctx_runtime(ctx), req, &to);
  airs_msg* m = nullptr;
  if (st == AIRS_OK) st = encode(fn, req, &m);
  if (st != AIRS_OK) return st;
  return airs::osl::request_actor(ctx, to, m, timeout_ms, correlation);
}

AIRS_API airs_status airs_fs_call(airs_runtime* rt, const airs_fs_req* req,
                                  uint32_t timeout_ms, airs_msg** reply) {
  const char* fn = "airs_fs_call";
  if (rt == nullptr || reply == nullptr)
    return failf(AIRS_EINVAL, "%s: %s is NULL", fn,
                 rt == nullptr ? "rt" : "reply");
  airs_status st = check_req(fn, req);
  airs_pid to = AIRS_NO_PID;
  if (st == AIRS_OK) st = target(fn, rt, req, &to);
  airs_msg* m = nullptr;
  if (st == AIRS_OK) st = encode(fn, req, &m);
  if (st != AIRS_OK) return st;
  return airs::osl::call_actor(rt, to, m, timeout_ms, reply);
}

AIRS_API airs_status airs_fs_reply_info(const airs_msg* reply,
                                        airs_fs_info* out) {
  const char* fn = "airs_fs_reply_info";
  if (reply == nullptr || out == nullptr)
    return failf(AIRS_EINVAL, "%s: NULL argument", fn);
  ReplyHead h;
  const unsigned char* bytes = nullptr;
  size_t size = 0;
  airs_status st = read_reply(fn, reply, AIRS_MSG_FS_READ, AIRS_MSG_FILE_CLOSE,
                              &h, &bytes, &size);
  if (st == AIRS_OK) *out = h.info;
  return st;
}

AIRS_API airs_status airs_fs_reply_data(const airs_msg* reply,
                                        const void** data, size_t* size) {
  const char* fn = "airs_fs_reply_data";
  if (reply == nullptr || data == nullptr || size == nullptr)
    return failf(AIRS_EINVAL, "%s: NULL argument", fn);
  uint64_t t = airs_msg_type(reply);
  bool file = t == AIRS_MSG_FS_REPLY(AIRS_MSG_FILE_READ);
  uint64_t op = file ? AIRS_MSG_FILE_READ : AIRS_MSG_FS_READ;
  ReplyHead h;
  const unsigned char* bytes = nullptr;
  size_t n = 0;
  airs_status st = read_reply(fn, reply, op, op, &h, &bytes, &n);
  if (st != AIRS_OK) return st;
  *data = n > 0 ? bytes : nullptr;
  *size = n;
  return AIRS_OK;
}

AIRS_API airs_status airs_fs_reply_stat(const airs_msg* reply,
                                        airs_fs_stat* out) {
  const char* fn = "airs_fs_reply_stat";
  if (reply == nullptr || out == nullptr)
    return failf(AIRS_EINVAL, "%s: NULL argument", fn);
  if (out->version == 0 || out->size < sizeof(airs_fs_stat))
    return failf(AIRS_EINVAL,
                 "%s: out->version %u, size %u: set them to "
                 "AIRS_FS_STAT_VERSION and sizeof(airs_fs_stat)",
                 fn, out->version, out->size);
  ReplyHead h;
  const unsigned char* bytes = nullptr;
  size_t n = 0;
  airs_status st =
      read_reply(fn, reply, AIRS_MSG_FS_STAT, AIRS_MSG_FS_STAT, &h, &bytes, &n);
  if (st != AIRS_OK) return st;
  if (n < sizeof(airs_fs_stat))
    return failf(AIRS_EINVAL, "%s: the reply has no airs_fs_stat", fn);
  uint32_t keep_size = out->size;
  memcpy(out, bytes, sizeof(airs_fs_stat));
  out->size =
      keep_size < sizeof(airs_fs_stat) ? keep_size : sizeof(airs_fs_stat);
  return AIRS_OK;
}

AIRS_API airs_status airs_fs_reply_list_next(const airs_msg* reply,
                                             size_t* cursor,
                                             const char** name) {
  const char* fn = "airs_fs_reply_list_next";
  if (reply == nullptr || cursor == nullptr || name == nullptr)
    return failf(AIRS_EINVAL, "%s: NULL argument", fn);
  ReplyHead h;
  const unsigned char* bytes = nullptr;
  size_t n = 0;
  airs_status st =
      read_reply(fn, reply, AIRS_MSG_FS_LIST, AIRS_MSG_FS_LIST, &h, &bytes, &n);
  if (st != AIRS_OK) return st;
  if (*cursor >= n) return AIRS_ENOTFOUND;  // the end: not an error
  const void* nul = memchr(bytes + *cursor, '\0', n - *cursor);
  if (nul == nullptr)
    return failf(AIRS_EINVAL, "%s: the name at %zu has no NUL", fn, *cursor);
  *name = reinterpret_cast<const char*>(bytes + *cursor);
  *cursor =
      static_cast<size_t>(static_cast<const unsigned char*>(nul) - bytes) + 1;
  return AIRS_OK;
}

AIRS_API airs_status airs_fs_reply_file(const airs_msg* reply, airs_pid* file) {
  const char* fn = "airs_fs_reply_file";
  if (reply == nullptr || file == nullptr)
    return failf(AIRS_EINVAL, "%s: NULL argument", fn);
  ReplyHead h;
  const unsigned char* bytes = nullptr;
  size_t n = 0;
  airs_status st =
      read_reply(fn, reply, AIRS_MSG_FS_OPEN, AIRS_MSG_FS_OPEN, &h, &bytes, &n);
  if (st == AIRS_OK) *file = h.info.value;
  return st;
}

}  // extern "C"
