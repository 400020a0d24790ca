// reply.cpp - the result head of every system actor's reply (osl.h).
#include "reply.hpp"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace airs::osl {

namespace {

void result_vset(airs_osl_result* out, airs_status status, int err,
                 const char* fmt, va_list ap) noexcept {
  memset(out, 0, sizeof *out);
  out->status = status;
  out->err = err;
  int n = vsnprintf(out->text, sizeof out->text, fmt, ap);
  if (err != 0 && n >= 0 && static_cast<size_t>(n) < sizeof out->text)
    snprintf(out->text + n, sizeof out->text - n, ": %s", strerror(err));
}

}  // namespace

void result_set(airs_osl_result* out, airs_status status, int err,
                const char* fmt, ...) noexcept {
  va_list ap;
  va_start(ap, fmt);
  result_vset(out, status, err, fmt, ap);
  va_end(ap);
}

airs_msg* reply_msg(uint64_t type, const airs_osl_result* result,
                    const void* data, size_t size) noexcept {
  if (size > AIRS_MSG_MAX_SIZE - sizeof(airs_osl_result)) return nullptr;
  size_t total = sizeof(airs_osl_result) + size;
  auto* buf = static_cast<char*>(malloc(total));
  if (buf == nullptr) return nullptr;
  if (result != nullptr) {
    memcpy(buf, result, sizeof *result);
  } else {
    memset(buf, 0, sizeof(airs_osl_result));
  }
  if (size > 0) memcpy(buf + sizeof(airs_osl_result), data, size);
  airs_msg* m = nullptr;
  if (airs_msg_new_owned(type, buf, total, free, &m) != AIRS_OK) {
    free(buf);
    return nullptr;
  }
  return m;
}

static airs_status send_reply(airs_ctx* ctx, const airs_msg* request,
                              airs_msg* m) noexcept {
  if (m == nullptr) return AIRS_ENOMEM;
  airs_status st = airs_reply(ctx, request, m);
  if (st != AIRS_OK) airs_msg_free(m);
  return st;
}

airs_status reply_ok(airs_ctx* ctx, const airs_msg* request, uint64_t type,
                     const void* data, size_t size) noexcept {
  return send_reply(ctx, request, reply_msg(type, nullptr, data, size));
}

airs_status reply_error(airs_ctx* ctx, const airs_msg* request, uint64_t type,
                        airs_status status, int err, const char* fmt,
                        ...) noexcept {
  airs_osl_result r;
  va_list ap;
  va_start(ap, fmt);
  result_vset(&r, status, err, fmt, ap);
  va_end(ap);
  return send_reply(ctx, request, reply_msg(type, &r, nullptr, 0));
}

}  // namespace airs::osl

// ---- the public reader

extern "C" AIRS_API airs_status airs_osl_result_get(const airs_msg* reply,
                                                    airs_osl_result* out) {
  if (reply == nullptr || out == nullptr) return AIRS_EINVAL;
  memset(out, 0, sizeof *out);
  uint64_t type = airs_msg_type(reply);
  if (type == AIRS_MSG_TIMEOUT) {
    out->status = AIRS_ETIMEDOUT;
    snprintf(out->text, sizeof out->text, "the request timed out");
    return AIRS_OK;
  }
  if (type < AIRS_MSG_OSL_BASE || type >= AIRS_MSG_BINDING_BASE ||
      airs_msg_size(reply) < sizeof *out) {
    out->status = AIRS_EINVAL;
    snprintf(out->text, sizeof out->text,
             "message type %#llx is not a system actor's reply",
             static_cast<unsigned long long>(type));
    return AIRS_OK;
  }
  memcpy(out, airs_msg_data(reply), sizeof *out);
  out->text[sizeof out->text - 1] = '\0';
  return AIRS_OK;
}
