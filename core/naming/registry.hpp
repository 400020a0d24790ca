// registry.hpp - unique names for processes. A name is released when its
// process ends; the exit path and register() meet under one lock so a name
// can never outlive its process.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "airs/airs.h"

namespace airs {

struct Process;

class Registry {
 public:
  // `p` is the record `pid` names; the caller has checked the pid once,
  // this re-checks it under the lock.
  airs_status add(const std::string& name, uint64_t pid, Process* p);
  airs_status remove(const std::string& name);
  airs_status find(const std::string& name, uint64_t* pid) const;
  // Releases the name of an ending process, if it has one.
  void release(uint64_t pid, Process* p);

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, uint64_t> by_name_;
  std::unordered_map<uint64_t, std::string> by_pid_;
};

}  // namespace airs
