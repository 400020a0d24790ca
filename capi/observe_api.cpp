// observe_api.cpp - what a runtime shows about itself (airs/observe.h):
// argument checks here, the readers in core/observe/.
#include "capi.hpp"
#include "observe/observe.hpp"

using namespace airs;
using namespace airs::capi;

namespace {

airs_status check_array(const void* p, size_t cap, const char* what) noexcept {
  if (!p && cap)
    return failf(AIRS_EINVAL, "%s is NULL with a capacity of %zu", what, cap);
  return AIRS_OK;
}

}  // namespace

extern "C" {

size_t airs_pid_format(airs_pid pid, char* buf, size_t capacity) {
  char text[40];
  int n = format_pid(pid, text, sizeof text);
  if (buf && capacity) std::snprintf(buf, capacity, "%s", text);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

airs_status airs_process_list(airs_runtime* h, uint64_t cursor, airs_pid* out,
                              size_t capacity, size_t* count, uint64_t* next) {
  return api("airs_process_list", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (!out || !count || !next)
      return fail(AIRS_EINVAL, "out, count and next must not be NULL");
    if (capacity == 0) return fail(AIRS_EINVAL, "capacity is 0");
    process_list(*use.runtime(), cursor, out, capacity, count, next);
    return AIRS_OK;
  });
}

airs_status airs_process_info_get(airs_runtime* h, airs_pid pid,
                                  airs_process_info* out) {
  return api("airs_process_info_get", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (airs_status st =
            check_versioned_out(out, "info", "AIRS_PROCESS_INFO_VERSION");
        st != AIRS_OK)
      return st;
    airs_process_info info = *out;  // version 1's fields, written at once
    if (airs_status st = process_info(*use.runtime(), pid, &info);
        st != AIRS_OK)
      return st;
    *out = info;
    return AIRS_OK;
  });
}

airs_status airs_set_label(airs_ctx* ctx, const char* label) {
  return api("airs_set_label", [&] {
    Ctx* c = nullptr;
    if (airs_status st = ctx_of(ctx, &c); st != AIRS_OK) return st;
    if (label && std::strlen(label) > AIRS_LABEL_MAX)
      return failf(AIRS_EINVAL, "the label is longer than %d bytes",
                   AIRS_LABEL_MAX);
    return runtime_of(c)->registry().set_label(label, c->pid, c->proc);
  });
}

airs_status airs_process_ties_get(airs_runtime* h, airs_pid pid,
                                  airs_process_ties* ties,
                                  uint32_t timeout_ms) {
  return api("airs_process_ties_get", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    if (!ties) return fail(AIRS_EINVAL, "ties is NULL");
    if (airs_status st =
            check_array(ties->links, ties->links_capacity, "links");
        st != AIRS_OK)
      return st;
    if (airs_status st =
            check_array(ties->monitors, ties->monitors_capacity, "monitors");
        st != AIRS_OK)
      return st;
    if (airs_status st = check_array(
            ties->monitored_by, ties->monitored_by_capacity, "monitored_by");
        st != AIRS_OK)
      return st;
    if (current_ctx())
      return fail(AIRS_ESTATE,
                  "called inside a callback (it waits for the process)");
    return rt->kernel().signals.query_ties(pid, ties, timeout_ms);
  });
}

airs_status airs_supervision_walk(airs_runtime* h, airs_pid root,
                                  airs_tree_fn fn, void* user_data) {
  return api("airs_supervision_walk", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (!fn) return fail(AIRS_EINVAL, "fn is NULL");
    return supervision_walk(*use.runtime(), root, fn, user_data);
  });
}

airs_status airs_process_top(airs_runtime* h, airs_top_key key,
                             uint32_t window_ms, airs_top_entry* out,
                             size_t capacity, size_t* count) {
  int k = as_int(key);
  return api("airs_process_top", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (k < AIRS_TOP_MAILBOX || k > AIRS_TOP_MEMORY)
      return failf(AIRS_EINVAL, "unknown key %d", k);
    if (!out || !count)
      return fail(AIRS_EINVAL, "out and count must not be NULL");
    if (capacity == 0) return fail(AIRS_EINVAL, "capacity is 0");
    if (window_ms > kMaxWaitMs)
      return failf(AIRS_EINVAL, "window_ms must be at most %u", kMaxWaitMs);
    return process_top(*use.runtime(), static_cast<airs_top_key>(k), window_ms,
                       out, capacity, count);
  });
}

airs_status airs_set_log_hook(airs_runtime* h, airs_log_fn fn, void* user_data,
                              airs_severity min_severity) {
  int sev = as_int(min_severity);
  return api("airs_set_log_hook", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (sev < AIRS_SEVERITY_DEBUG || sev > AIRS_SEVERITY_ERROR)
      return failf(AIRS_EINVAL, "unknown severity %d", sev);
    if (!use.runtime()->kernel().observer.set_log_hook(
            fn, user_data, static_cast<airs_severity>(sev)))
      return fail(AIRS_ENOMEM, "out of memory");
    return AIRS_OK;
  });
}

airs_status airs_metrics_write(airs_runtime* h, char* buf, size_t capacity,
                               size_t* len) {
  return api("airs_metrics_write", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (!len) return fail(AIRS_EINVAL, "len is NULL");
    if (airs_status st = check_array(buf, capacity, "buf"); st != AIRS_OK)
      return st;
    return metrics_write(*use.runtime(), buf, capacity, len);
  });
}

airs_status airs_metrics_source_add(airs_runtime* h, airs_metrics_fn fn,
                                    void* user_data) {
  return api("airs_metrics_source_add", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (!fn) return fail(AIRS_EINVAL, "fn is NULL");
    return use.runtime()->metrics_sources().add(fn, user_data);
  });
}

airs_status airs_metrics_source_remove(airs_runtime* h, airs_metrics_fn fn,
                                       void* user_data) {
  return api("airs_metrics_source_remove", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    return use.runtime()->metrics_sources().remove(fn, user_data);
  });
}

airs_status airs_timing_track(airs_runtime* h, const char* pattern) {
  return api("airs_timing_track", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (airs_status st = check_name(pattern, "pattern"); st != AIRS_OK)
      return st;
    return use.runtime()->timing().track(pattern);
  });
}

airs_status airs_timing_untrack(airs_runtime* h, const char* pattern) {
  return api("airs_timing_untrack", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (!pattern) return fail(AIRS_EINVAL, "pattern is NULL");
    return use.runtime()->timing().untrack(pattern);
  });
}

airs_status airs_timing_get(airs_runtime* h, const char* name,
                            airs_timing* out) {
  return api("airs_timing_get", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    if (!name) return fail(AIRS_EINVAL, "name is NULL");
    if (airs_status st =
            check_versioned_out(out, "timing", "AIRS_TIMING_VERSION");
        st != AIRS_OK)
      return st;
    return use.runtime()->timing().get(name, out);
  });
}

}  // extern "C"
