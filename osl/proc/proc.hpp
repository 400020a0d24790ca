// proc.hpp - what the files of the process actor share (proc.h): the
// private message tags, the flat spawn request and the plan it is read
// back into, the spawn job's result, and the entry points of each file.
//
// Everything here is built on the public C API; nothing includes core/.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "airs/airs.h"

namespace airs::osl::proc {

// Private tags, inside the process actor's range (proc.h keeps 0x00..0x7f
// for the public ones). Only the runtime and the port itself send them.
constexpr uint64_t kMsgSpawned = AIRS_MSG_PROC_BASE + 0xf0;    // job -> port
constexpr uint64_t kMsgWaitOver = AIRS_MSG_PROC_BASE + 0xf1;   // WAIT timer
constexpr uint64_t kMsgGraceOver = AIRS_MSG_PROC_BASE + 0xf2;  // TERMINATE
constexpr uint64_t kMsgDrainOver = AIRS_MSG_PROC_BASE + 0xf3;  // after exit

// How long a port waits for its pipes' end of file after its child has
// been reaped (a grandchild may hold them open) before it gives up on them.
constexpr uint64_t kDrainMs = 200;

// ---- the flat spawn request (wire.cpp)

// The data of an AIRS_MSG_PROC_SPAWN: this head, then NUL-terminated
// strings: the path, `argc` arguments, `envc` environment entries (none
// when envc < 0: inherit), and the cwd if has_cwd.
struct WireSpawn {
  uint32_t magic;  // kWireMagic
  uint32_t flags;
  uint32_t kill_grace_ms;
  uint32_t argc;
  int32_t envc;
  uint32_t has_cwd;
  airs_pid owner;
};
constexpr uint32_t kWireMagic = 0x41505331;  // "APS1"
constexpr size_t kWireMax = size_t{16} << 20;
constexpr size_t kListMax = 65535;

// A spawn request read back: the strings live in `text`, the pointer
// arrays point into it and end with NULL, as execve wants them.
struct Plan {
  std::vector<char> text;
  const char* path = nullptr;
  std::vector<char*> argv;
  std::vector<char*> envp;  // empty: inherit the host's environment
  bool inherit_env = true;
  const char* cwd = nullptr;
  uint32_t flags = 0;
  uint32_t kill_grace_ms = AIRS_PROC_KILL_GRACE_DEFAULT;
  airs_pid owner = AIRS_NO_PID;
};

// Reads a SPAWN request's data into *plan. AIRS_EINVAL if it is
// malformed, AIRS_ENOMEM if the plan's copies cannot be made; *why says
// which.
airs_status plan_read(const void* data, size_t size, Plan* plan,
                      const char** why) noexcept;

// ---- the spawn job (spawn.cpp)

// What the job hands the port, as the data of a kMsgSpawned message that
// owns it. A result nobody took (the port ended before it came) kills and
// reaps the child when the message is freed.
struct Spawned {
  airs_osl_result result;
  pid_t pid;
  int pidfd;
  int in_fd;   // the parent's end of stdin, or -1
  int out_fd;  // ... of stdout, or -1
  int err_fd;  // ... of stderr, or -1
  bool taken;  // the port owns the fds and the child now
};

// The job: runs on a FAST pool thread, takes a Plan* (freed by
// plan_free), returns the kMsgSpawned message (NULL on ENOMEM).
airs_msg* spawn_job(void* plan) noexcept;
void plan_free(void* plan) noexcept;

// ---- system calls (sys.cpp)

// pidfd_open(2) and pidfd_send_signal(2) as raw system calls: glibc 2.36's
// <sys/pidfd.h> declares them without extern "C".
int pidfd_open_(pid_t pid) noexcept;
int pidfd_signal_(int pidfd, int signo) noexcept;

// Reaps the child of `pidfd` if it has ended (block: waits for it).
// Returns 1 reaped (*out filled), 0 still running, -1 not ours to reap
// (someone else reaped it: *out says UNKNOWN).
int reap(int pidfd, pid_t pid, bool block, airs_proc_exit* out) noexcept;

// write(2) that cannot raise SIGPIPE in the host: the signal is blocked
// on this thread for the call and a SIGPIPE it raised is taken back.
ssize_t write_quiet(int fd, const void* data, size_t size) noexcept;

// Kills the child's process group with SIGKILL and reaps the child off
// the workers: a SLOW job if the runtime takes one, else right here (the
// runtime is being freed, and a SIGKILLed child ends at once). Closes
// pidfd. *out (may be NULL) gets the status if it could be read at once.
// Returns true if *out was filled.
bool kill_and_reap(airs_runtime* rt, pid_t pid, int pidfd,
                   airs_proc_exit* out) noexcept;

void close_fd(int* fd) noexcept;

// ---- the actors

// The port: started by the server for one spawn request.
struct PortArgs {
  Plan* plan;            // taken by the port
  uint64_t correlation;  // of the SPAWN request, answered by the port
  airs_pid owner;        // 0: none
};
airs_status port_start(airs_ctx* ctx, PortArgs* args, airs_pid* out) noexcept;

// The watcher of a process the runtime did not start.
airs_status watcher_start(airs_ctx* ctx, int pidfd, int64_t os_pid,
                          airs_pid owner, airs_pid* out) noexcept;

}  // namespace airs::osl::proc
