// cast.hpp - the workers of a chaos run: leaves of the supervision tree
// that subscribe to a topic, pass work along, and crash or exit when told.
// Every start, end and spec is counted, so a run can check that nothing
// was started without ending or handed over without being freed.
#pragma once

#include <airs/airs.h>

#include <atomic>
#include <cstdint>

namespace chaos {

// What a worker does with a message of each type. A worker that traps
// exits ends with the reason of each AIRS_MSG_EXIT it gets.
enum : uint64_t {
  kWork = 1,          // ttl (uint32): if > 0, pass ttl-1 to a peer
  kCrash = 2,         // receive fails: an error exit
  kExitNormal = 3,    // airs_exit normal
  kExitError = 4,     // airs_exit with an error
  kExitShutdown = 5,  // airs_exit shutdown
};

constexpr int kTopics = 3;
extern const char* const kTopicNames[kTopics];

// Shared by every worker of one run (the user_data of their specs).
struct Cast {
  airs_runtime* rt = nullptr;
  std::atomic<uint64_t> inits{0};
  std::atomic<uint64_t> terms{0};
  std::atomic<uint64_t> specs_freed{0};  // user_data_free of child specs
  std::atomic<uint64_t> args_freed{0};   // arg_free of dynamic children
  std::atomic<uint64_t> next_topic{0};
};

extern const airs_behaviour kWorker;

// The user_data_free of a child spec and the arg_free of a dynamic child.
void spec_freed(void* cast);
void arg_freed(void* cast);

}  // namespace chaos
