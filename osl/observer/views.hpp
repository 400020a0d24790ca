// views.hpp - what the observer serves, built from observe.h's calls on
// the serving process's thread (a worker): each call reads without
// stopping anything, so a view is a snapshot, each value exact when read.
// Each throws std::bad_alloc; the others fail with a status (*st).
#pragma once

#include <airs/airs.h>

#include <string>

namespace airs::osl {

// {"trees":[...]}: every supervision tree, depth first, one object per
// node: pid, supervisor, depth, id, type, state, and the process's name,
// label, mailbox depth and messages handled.
std::string tree_json(airs_runtime* rt);

// {"count":N,"processes":[...]}: the first `limit` live processes (slot
// order), each: pid, name, label, state, mailbox, handled, memory.
std::string processes_json(airs_runtime* rt, size_t limit);

// The metrics exposition (airs_metrics_write); *st its status.
std::string metrics_text(airs_runtime* rt, airs_status* st);

}  // namespace airs::osl
