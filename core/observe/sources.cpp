// sources.cpp - metrics sources (sources.hpp).
#include "observe/sources.hpp"

#include <cstring>
#include <new>

#include "base/error.hpp"

namespace airs {

namespace {

// Whether this thread is inside a source: a source that calls back into
// the metrics would wait for itself.
thread_local bool tls_in_source = false;

constexpr const char* kInSource =
    "called from inside a metrics source (it would wait for itself)";

}  // namespace

airs_status MetricsSources::add(airs_metrics_fn fn, void* user_data) noexcept {
  if (tls_in_source) return fail(AIRS_ESTATE, kInSource);
  std::lock_guard<std::mutex> lock(mu_);
  size_t live = 0;
  for (const auto& s : list_) {
    if (s->removed) continue;
    if (s->fn == fn && s->user_data == user_data)
      return fail(AIRS_EEXIST,
                  "that function and user_data are a source "
                  "already");
    live++;
  }
  if (live >= AIRS_METRICS_SOURCES_MAX)
    return failf(AIRS_ELIMIT, "%d metrics sources are added already",
                 AIRS_METRICS_SOURCES_MAX);
  try {
    list_.reserve(list_.size() + 1);
    list_.push_back(std::make_unique<Source>(Source{fn, user_data}));
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "out of memory");
  }
  return AIRS_OK;
}

airs_status MetricsSources::remove(airs_metrics_fn fn,
                                   void* user_data) noexcept {
  if (tls_in_source) return fail(AIRS_ESTATE, kInSource);
  std::unique_lock<std::mutex> lock(mu_);
  for (auto it = list_.begin(); it != list_.end(); ++it) {
    Source* s = it->get();
    if (s->removed || s->fn != fn || s->user_data != user_data) continue;
    s->removed = true;
    idle_.wait(lock, [s] { return s->calls == 0; });
    // Found again: the list may have changed while we waited.
    for (auto at = list_.begin(); at != list_.end(); ++at)
      if (at->get() == s) {
        list_.erase(at);
        break;
      }
    return AIRS_OK;
  }
  return fail(AIRS_ENOTFOUND, "not a metrics source");
}

airs_status MetricsSources::write(std::string* text) {
  if (tls_in_source) return fail(AIRS_ESTATE, kInSource);
  std::vector<Source*> now;
  {
    std::lock_guard<std::mutex> lock(mu_);
    now.reserve(list_.size());  // may throw: nothing counted in yet
    for (const auto& s : list_)
      if (!s->removed) {
        s->calls++;
        now.push_back(s.get());
      }
  }
  // Each source counted out whatever happens, even out of memory.
  struct Out {
    MetricsSources* self;
    std::vector<Source*>& now;
    ~Out() {
      std::lock_guard<std::mutex> lock(self->mu_);
      for (Source* s : now)
        if (--s->calls == 0 && s->removed) self->idle_.notify_all();
    }
  } out{this, now};
  for (Source* s : now) call(s, text);
  return AIRS_OK;
}

// Calls `s` with room for its text, growing the room if it did not fit
// (its text may grow meanwhile: the third try keeps the whole lines that
// fit), and ends its text with a newline.
void MetricsSources::call(Source* s, std::string* text) {
  size_t at = text->size();
  size_t room = 4096;
  for (int attempt = 0; attempt < 3; attempt++) {
    text->resize(at + room);
    tls_in_source = true;
    size_t n = s->fn(s->user_data, &(*text)[at], room);
    tls_in_source = false;
    if (n < room) {
      text->resize(at + strnlen(&(*text)[at], room));
      break;
    }
    if (attempt == 2) {
      size_t nl = text->rfind('\n', at + room - 1);
      text->resize(nl != std::string::npos && nl >= at ? nl + 1 : at);
      break;
    }
    room = n + 1;
  }
  if (text->size() > at && text->back() != '\n') text->push_back('\n');
}

}  // namespace airs
