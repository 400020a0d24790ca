// wire.cpp - the messages of proc.h as bytes: the builders of every
// request, the readers of the replies and notices, and the flat spawn
// request read back into a Plan for the spawn job.
//
// A spawn request is one flat message (WireSpawn, then its strings), so
// that it can cross to the process actor, and on to a pool thread, with
// no pointer into the requester's memory.
#include <cstdlib>
#include <cstring>
#include <new>

#include "base/error.hpp"
#include "proc.hpp"

namespace airs::osl::proc {

using airs::failf;

namespace {

// Counts a NULL-terminated list, up to kListMax + 1 entries.
size_t list_count(const char* const* list) noexcept {
  size_t n = 0;
  while (list[n] != nullptr && n <= kListMax) n++;
  return n;
}

size_t list_bytes(const char* const* list, size_t n) noexcept {
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += strlen(list[i]) + 1;
  return total;
}

char* put(char* at, const char* s) noexcept {
  size_t n = strlen(s) + 1;
  memcpy(at, s, n);
  return at + n;
}

// A message of `type` carrying a copy of `size` bytes.
airs_status make(uint64_t type, const void* data, size_t size,
                 airs_msg** out) noexcept {
  if (out == nullptr) return failf(AIRS_EINVAL, "out is NULL");
  if (airs_msg_new(type, data, size, out) != AIRS_OK)
    return failf(AIRS_ENOMEM, "no memory for the request");
  return AIRS_OK;
}

}  // namespace

namespace {

// Walks the strings after the head; each must end inside the message.
// Throws bad_alloc (the plan's copies and lists).
bool plan_parse(const void* data, size_t size, Plan* plan, const char** why) {
  WireSpawn head;
  if (data == nullptr || size < sizeof head) {
    *why = "the request is too short";
    return false;
  }
  memcpy(&head, data, sizeof head);
  if (head.magic != kWireMagic) {
    *why = "the request is not a spawn request";
    return false;
  }
  if (head.argc > kListMax || head.envc > static_cast<int32_t>(kListMax) ||
      head.envc < -1) {
    *why = "the request's lists are too long";
    return false;
  }
  const char* p = static_cast<const char*>(data) + sizeof head;
  size_t left = size - sizeof head;
  plan->text.assign(p, p + left);
  char* cur = plan->text.data();
  char* end = cur + left;
  size_t strings =
      1 + head.argc + (head.envc > 0 ? head.envc : 0) + (head.has_cwd ? 1 : 0);
  std::vector<char*> all;
  all.reserve(strings);
  for (size_t i = 0; i < strings; i++) {
    char* nul = static_cast<char*>(memchr(cur, '\0', end - cur));
    if (nul == nullptr) {
      *why = "a string of the request is not terminated";
      return false;
    }
    all.push_back(cur);
    cur = nul + 1;
  }
  size_t k = 0;
  plan->path = all[k++];
  if (plan->path[0] == '\0') {
    *why = "the path is empty";
    return false;
  }
  plan->argv.clear();
  if (head.argc == 0) plan->argv.push_back(const_cast<char*>(plan->path));
  for (uint32_t i = 0; i < head.argc; i++) plan->argv.push_back(all[k++]);
  plan->argv.push_back(nullptr);
  plan->inherit_env = head.envc < 0;
  plan->envp.clear();
  for (int32_t i = 0; i < head.envc; i++) plan->envp.push_back(all[k++]);
  plan->envp.push_back(nullptr);
  plan->cwd = head.has_cwd ? all[k++] : nullptr;
  plan->flags = head.flags;
  plan->kill_grace_ms = head.kill_grace_ms;
  plan->owner = head.owner;
  return true;
}

}  // namespace

// The proc actor's receive is noexcept: a bad_alloc out of the plan's
// vectors ended the whole host in std::terminate.
airs_status plan_read(const void* data, size_t size, Plan* plan,
                      const char** why) noexcept {
  try {
    return plan_parse(data, size, plan, why) ? AIRS_OK : AIRS_EINVAL;
  } catch (const std::bad_alloc&) {
    *why = "no memory for the request";
    return AIRS_ENOMEM;
  }
}

}  // namespace airs::osl::proc

using namespace airs::osl::proc;

// ---- spawning

extern "C" AIRS_API airs_status airs_proc_spawn_init(airs_proc_spawn* spawn) {
  if (spawn == nullptr)
    return failf(AIRS_EINVAL, "airs_proc_spawn_init: spawn is NULL");
  memset(spawn, 0, sizeof *spawn);
  spawn->version = AIRS_PROC_SPAWN_VERSION;
  spawn->size = sizeof *spawn;
  spawn->kill_grace_ms = AIRS_PROC_KILL_GRACE_DEFAULT;
  return AIRS_OK;
}

// Checks the struct, measures it, then copies it into one buffer.
extern "C" AIRS_API airs_status airs_proc_req_spawn(const airs_proc_spawn* s,
                                                    airs_msg** out) {
  constexpr uint32_t known = AIRS_PROC_STDIN_PIPE | AIRS_PROC_STDERR_MERGE |
                             AIRS_PROC_STDERR_DISCARD |
                             AIRS_PROC_STDOUT_DISCARD;
  if (s == nullptr || out == nullptr)
    return failf(AIRS_EINVAL, "spawn or out is NULL");
  if (s->version != AIRS_PROC_SPAWN_VERSION || s->size < sizeof *s)
    return failf(AIRS_EINVAL, "spawn version %u size %u (want %u, %zu)",
                 s->version, s->size, AIRS_PROC_SPAWN_VERSION, sizeof *s);
  if (s->path == nullptr || s->path[0] == '\0')
    return failf(AIRS_EINVAL, "spawn path is NULL or empty");
  if ((s->flags & ~known) != 0 || ((s->flags & AIRS_PROC_STDERR_MERGE) &&
                                   (s->flags & AIRS_PROC_STDERR_DISCARD)))
    return failf(AIRS_EINVAL, "spawn flags 0x%x: unknown or clashing",
                 s->flags);
  if (s->kill_grace_ms > 3600000)
    return failf(AIRS_EINVAL, "kill_grace_ms %u is over 3600000",
                 s->kill_grace_ms);
  size_t argc = s->argv ? list_count(s->argv) : 0;
  size_t envc = s->envp ? list_count(s->envp) : 0;
  if (argc > kListMax || envc > kListMax)
    return failf(AIRS_EINVAL, "argv or envp has over %zu entries",
                 static_cast<size_t>(kListMax));
  size_t total = sizeof(WireSpawn) + strlen(s->path) + 1;
  if (s->argv) total += list_bytes(s->argv, argc);
  if (s->envp) total += list_bytes(s->envp, envc);
  if (s->cwd) total += strlen(s->cwd) + 1;
  if (total > kWireMax)
    return failf(AIRS_EINVAL, "the request would be %zu bytes (most %zu)",
                 total, static_cast<size_t>(kWireMax));

  auto* buf = static_cast<char*>(malloc(total));
  if (buf == nullptr) return failf(AIRS_ENOMEM, "no memory for the request");
  WireSpawn head{};
  head.magic = kWireMagic;
  head.flags = s->flags;
  head.kill_grace_ms = s->kill_grace_ms;
  head.argc = static_cast<uint32_t>(argc);
  head.envc = s->envp ? static_cast<int32_t>(envc) : -1;
  head.has_cwd = s->cwd != nullptr;
  head.owner = s->owner;
  memcpy(buf, &head, sizeof head);
  char* at = put(buf + sizeof head, s->path);
  for (size_t i = 0; i < argc; i++) at = put(at, s->argv[i]);
  for (size_t i = 0; i < envc; i++) at = put(at, s->envp[i]);
  if (s->cwd) put(at, s->cwd);
  airs_status st =
      airs_msg_new_owned(AIRS_MSG_PROC_SPAWN, buf, total, free, out);
  if (st != AIRS_OK) {
    free(buf);
    return failf(AIRS_ENOMEM, "no memory for the request");
  }
  return AIRS_OK;
}

extern "C" AIRS_API airs_status airs_proc_spawned_get(const airs_msg* reply,
                                                      airs_proc_spawned* out) {
  airs_osl_result r;
  if (reply == nullptr || out == nullptr)
    return failf(AIRS_EINVAL, "reply or out is NULL");
  if (airs_msg_type(reply) != AIRS_MSG_PROC_SPAWN_REPLY ||
      airs_msg_size(reply) < sizeof r + sizeof *out)
    return failf(AIRS_EINVAL, "not a successful SPAWN reply");
  const char* data = static_cast<const char*>(airs_msg_data(reply));
  memcpy(&r, data, sizeof r);
  if (r.status != AIRS_OK)
    return failf(AIRS_EINVAL, "a failed SPAWN reply: %s", r.text);
  memcpy(out, data + sizeof r, sizeof *out);
  return AIRS_OK;
}

// ---- talking to a port

extern "C" AIRS_API airs_status airs_proc_req_write(const void* data,
                                                    size_t size,
                                                    airs_msg** out) {
  if (out == nullptr || (data == nullptr && size > 0))
    return failf(AIRS_EINVAL, "out is NULL, or data is NULL with size %zu",
                 size);
  if (size > AIRS_PROC_WRITE_QUEUE_MAX)
    return failf(AIRS_EINVAL, "a write of %zu bytes (most %zu)", size,
                 AIRS_PROC_WRITE_QUEUE_MAX);
  return make(AIRS_MSG_PROC_WRITE, data, size, out);
}

extern "C" AIRS_API airs_status airs_proc_req_close_stdin(airs_msg** out) {
  return make(AIRS_MSG_PROC_CLOSE_STDIN, nullptr, 0, out);
}

extern "C" AIRS_API airs_status airs_proc_req_signal(int32_t signo,
                                                     uint32_t flags,
                                                     airs_msg** out) {
  if (signo < 1 || signo > 64 || (flags & ~AIRS_PROC_SIGNAL_GROUP) != 0)
    return failf(AIRS_EINVAL, "signal %d flags 0x%x (1..64, SIGNAL_*)", signo,
                 flags);
  airs_proc_signal_req req{signo, flags};
  return make(AIRS_MSG_PROC_SIGNAL, &req, sizeof req, out);
}

extern "C" AIRS_API airs_status airs_proc_req_terminate(airs_msg** out) {
  return make(AIRS_MSG_PROC_TERMINATE, nullptr, 0, out);
}

extern "C" AIRS_API airs_status airs_proc_req_wait(uint32_t timeout_ms,
                                                   airs_msg** out) {
  if (timeout_ms == 0 || timeout_ms > 0x7fffffffu)
    return failf(AIRS_EINVAL, "timeout_ms %u is not 1..2^31-1", timeout_ms);
  return make(AIRS_MSG_PROC_WAIT, &timeout_ms, sizeof timeout_ms, out);
}

extern "C" AIRS_API airs_status airs_proc_req_watch(int64_t os_pid,
                                                    airs_pid owner,
                                                    airs_msg** out) {
  if (os_pid <= 0 || os_pid > 0x7fffffff)
    return failf(AIRS_EINVAL, "os_pid %lld is not a process id",
                 static_cast<long long>(os_pid));
  airs_proc_watch_req req{os_pid, owner};
  return make(AIRS_MSG_PROC_WATCH, &req, sizeof req, out);
}

// An exit notice is the bare struct; a TERMINATE or WAIT reply has the
// result head first, and carries an exit only when it succeeded.
extern "C" AIRS_API airs_status airs_proc_exit_get(const airs_msg* msg,
                                                   airs_proc_exit* out) {
  if (msg == nullptr || out == nullptr)
    return failf(AIRS_EINVAL, "msg or out is NULL");
  uint64_t type = airs_msg_type(msg);
  const char* data = static_cast<const char*>(airs_msg_data(msg));
  size_t size = airs_msg_size(msg);
  if (type == AIRS_MSG_PROC_EXIT) {
    if (size < sizeof *out)
      return failf(AIRS_EINVAL, "an exit message of %zu bytes", size);
    memcpy(out, data, sizeof *out);
    return AIRS_OK;
  }
  if (type != AIRS_MSG_PROC_TERMINATE_REPLY && type != AIRS_MSG_PROC_WAIT_REPLY)
    return failf(AIRS_EINVAL, "not an exit message or reply");
  airs_osl_result r;
  if (size < sizeof r + sizeof *out)
    return failf(AIRS_EINVAL, "a reply of %zu bytes", size);
  memcpy(&r, data, sizeof r);
  if (r.status != AIRS_OK)
    return failf(AIRS_EINVAL, "a failed reply: %s", r.text);
  memcpy(out, data + sizeof r, sizeof *out);
  return AIRS_OK;
}
