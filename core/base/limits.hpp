// limits.hpp - one home for the limits, defaults and checks of every value
// that comes from outside the core: spawn options, behaviours, names,
// message types and sizes, timeouts, exit kinds, and the defaults of
// supervisor flags and child specs. The C facade, spawn and supervisor
// specs all check with these, so a limit is written once.
//
// Enums that a C caller passes are taken as int: a C caller may pass any
// int, and an out-of-range value loaded as a C++ enum is undefined.
//
// Every check returns AIRS_OK or AIRS_EINVAL with the thread's error
// message set (without a C function name: the facade adds it).
// [any thread]
#pragma once

#include <cstddef>
#include <cstdint>

#include "airs/airs.h"

namespace airs {

// Waits a caller may ask for that the runtime itself carries out (a BLOCK
// send, a child's shutdown timeout): one hour at most.
constexpr uint32_t kMaxWaitMs = 3600000;
// Request, call and supervisor period: 1..2^31-1 ms.
constexpr uint32_t kMaxTimeoutMs = 0x7FFFFFFFu;
// airs_send_after: up to 2^40 ms (about 35 years).
constexpr uint64_t kMaxTimerDelayMs = uint64_t{1} << 40;
// Supervisor intensity: up to 10^9 restarts in a period.
constexpr uint32_t kMaxIntensity = 1000000000u;

// Defaults of a child spec (airs_child_spec_init).
constexpr uint32_t kDefaultChildShutdownMs = 5000;

// The behaviour a spawn or a child spec starts from: version and size
// known, receive set.
airs_status check_behaviour(const airs_behaviour* b) noexcept;
using airs_receive_batch_fn = decltype(airs_behaviour::receive_batch);
// The receive_batch slot of a checked behaviour, or nullptr when its
// version or size does not reach it.
airs_receive_batch_fn behaviour_batch(const airs_behaviour* b) noexcept;
// A full copy of a checked behaviour of any version (slots it lacks are
// NULL), version and size set to this header's.
airs_behaviour behaviour_copy(const airs_behaviour* b) noexcept;

// What a spawn may ask for. `for_child`: the options of a child spec,
// where AIRS_SPAWN_LINK is not allowed (the supervisor links).
airs_status check_spawn_opts(const airs_spawn_opts* o, bool for_child) noexcept;

// A name of a process, topic or pool: 1..AIRS_NAME_MAX bytes. `what`
// names the argument in the message; *len (may be nullptr) gets the
// length.
airs_status check_name(const char* name, const char* what,
                       size_t* len = nullptr) noexcept;

// A child id: 1..AIRS_CHILD_ID_MAX bytes.
airs_status check_child_id(const char* id) noexcept;

// An airs_exit_kind.
airs_status check_exit_kind(int kind) noexcept;

// An airs_priority (as an int: a C caller may pass any value).
airs_status check_priority(int priority) noexcept;

// A message type a user may send: below AIRS_MSG_SYSTEM_BASE.
airs_status check_user_type(uint64_t type) noexcept;

// A payload: size at most AIRS_MSG_MAX_SIZE, data set when size is not 0.
airs_status check_payload(const void* data, size_t size) noexcept;

// A timeout of a request or call: 1..kMaxTimeoutMs.
airs_status check_timeout(uint32_t ms) noexcept;

// Fills *f with the defaults of airs_sup_flags_init.
void sup_flags_defaults(airs_sup_flags* f) noexcept;
// Checks *f (version, strategy, intensity, period, backoff, auto_shutdown,
// health checks).
airs_status check_sup_flags(const airs_sup_flags* f) noexcept;

// Fills *c with the defaults of airs_child_spec_init.
void child_spec_defaults(airs_child_spec* c) noexcept;
// The shutdown a child spec means: AIRS_SHUTDOWN_DEFAULT resolved as OTP
// does (INFINITY for a child of type SUPERVISOR, TIMEOUT for a worker).
airs_shutdown child_shutdown(const airs_child_spec* c) noexcept;
// Checks a child spec against the flags of the supervisor it is for.
// `is_template`: the one spec of a simple_one_for_one pool (no id).
airs_status check_child_spec(const airs_child_spec* c, const airs_sup_flags& f,
                             bool is_template) noexcept;

}  // namespace airs
