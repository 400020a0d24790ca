// pid_tag.hpp - runtime tags: the top bits of every pid, different for
// every live runtime of this copy of the library, so that a pid handed to
// the wrong runtime names no process there (AIRS_ENOPROC) instead of an
// unrelated one.
//
// The set of tags in use is process-global state, the only such state in
// the core: a fixed bitmap with constant initialisation and no destructor,
// so the library still loads and unloads cleanly. Tags are handed out
// round-robin from a start point that depends on where the library is
// mapped, so a freed runtime's tag comes back only after every other tag
// has been used, and two copies of the library (loaded under two names)
// start far apart. Copies share nothing: their tags can meet only by
// chance, which is the one case the check cannot catch.
#pragma once

#include <cstdint>

namespace airs {

// A tag no live runtime of this library copy holds (1..kMaxTag), or 0 when
// all are in use. [any thread]
uint32_t pid_tag_acquire() noexcept;

// Takes `tag` (1..kMaxTag) if no live runtime of this library copy holds
// it: returns it, or 0 if it is held. [any thread]
uint32_t pid_tag_take(uint32_t tag) noexcept;

// Gives a tag back once no pid of its runtime can be used any more (the
// runtime is freed). [any thread]
void pid_tag_release(uint32_t tag) noexcept;

// Whether any tag is held: a runtime of this library copy is alive (its
// process table is). For the unload of the library, which gives back
// process-wide memory only when none is. [any thread]
bool pid_tags_in_use() noexcept;

}  // namespace airs
