// sources.hpp - metrics sources: code outside the runtime (libairs_node's
// peers and traffic, a host's own counters) that adds lines to the
// exposition (airs_metrics_source_add).
//
// A source is user code: it never runs under mu_. A write counts itself
// into each source it calls (under mu_), calls it without the lock, and
// counts itself out; remove() marks the source and waits until no write
// is inside it, so that its user_data may go once remove() returns.
//
// Locks: mu_ is a leaf. [any thread; not inside a source]
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "airs/airs.h"

namespace airs {

class MetricsSources {
 public:
  MetricsSources() = default;
  MetricsSources(const MetricsSources&) = delete;
  MetricsSources& operator=(const MetricsSources&) = delete;

  // EEXIST: that fn and user_data are a source already. ELIMIT:
  // AIRS_METRICS_SOURCES_MAX are. ESTATE: inside a source. ENOMEM.
  airs_status add(airs_metrics_fn fn, void* user_data) noexcept;
  // ENOTFOUND: not a source. ESTATE: inside a source (it would wait for
  // itself).
  airs_status remove(airs_metrics_fn fn, void* user_data) noexcept;
  // Appends every source's lines to *text, in the order they were added.
  // ESTATE: inside a source. Throws std::bad_alloc (with nothing held).
  airs_status write(std::string* text);

 private:
  struct Source {
    airs_metrics_fn fn;
    void* user_data;
    uint32_t calls = 0;    // writes inside it now
    bool removed = false;  // remove() waits for calls == 0
  };

  void call(Source* s, std::string* text);

  std::mutex mu_;
  std::condition_variable idle_;  // a removed source's last call ended
  std::vector<std::unique_ptr<Source>> list_;
};

}  // namespace airs
