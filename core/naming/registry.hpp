// registry.hpp - unique names for processes. A name is released when its
// process ends: the registry is an exit observer, and register and the end
// of the process meet under its lock (a Dekker pair on the member bit), so
// a name can never outlive its process.
//
// Locks: mu_ is a leaf; nothing here calls user code. [any thread]
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "airs/airs.h"
#include "kernel/seam.hpp"

namespace airs {

class Registry final : public NameService {
 public:
  explicit Registry(Seam& seam) noexcept;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Gives live process `pid` the name. EEXIST: the name is taken, or the
  // process has one. ENOPROC: not alive. ENOMEM.
  airs_status add(const char* name, uint64_t pid) noexcept;
  // ENOTFOUND: not registered.
  airs_status remove(const char* name) noexcept;
  // ENOTFOUND: not registered.
  airs_status find(const char* name, uint64_t* pid) const noexcept;

  // NameService: add() for a record the caller checked once.
  airs_status add_name(const char* name, uint64_t pid,
                       Process* p) noexcept override;

 private:
  static void process_ended(void* self, uint64_t pid, Process* p,
                            Reason* reason) noexcept;

  Seam& seam_;
  uint32_t member_bit_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, uint64_t> by_name_;
  std::unordered_map<uint64_t, std::string> by_pid_;
};

}  // namespace airs
