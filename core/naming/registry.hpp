// registry.hpp - unique names for processes, and labels for tools (a
// label need not be unique: airs_set_label). Both are released when their
// process ends: the registry is an exit observer, and register (or a
// label) and the end of the process meet under its lock (a Dekker pair on
// the member bit), so neither can outlive its process.
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

// Told of every name given and taken away (the timing service times
// processes by name). Called with the registry's lock held: an entry
// takes only its own leaf lock, and calls neither user code nor the
// registry.
class NameWatch {
 public:
  // Live `p` (as `pid`) got `name`.
  virtual void named(const char* name, uint64_t pid, Process* p) noexcept = 0;
  // `pid` lost its name (removed, or its process ended).
  virtual void unnamed(uint64_t pid) noexcept = 0;

 protected:
  ~NameWatch() = default;
};

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

  // The name of `pid`, copied to out (cap bytes, NUL-terminated, cut to
  // fit); false, out "", if it has none.
  bool name_of(uint64_t pid, char* out, size_t cap) const noexcept;

  // Sets (label non-empty) or removes the label of live `p` (as `pid`).
  // ENOPROC: not alive. ENOMEM.
  airs_status set_label(const char* label, uint64_t pid, Process* p) noexcept;
  // As name_of, for the label.
  bool label_of(uint64_t pid, char* out, size_t cap) const noexcept;

  // Sets the one watch, before any name is given. [the creating thread]
  void set_watch(NameWatch* watch) noexcept { watch_ = watch; }
  // Tells the watch of every name given now (a watch that starts to care
  // about names it was told of before). [any thread]
  void show_names_to_watch() const noexcept;

  // NameService: add() for a record the caller checked once.
  airs_status add_name(const char* name, uint64_t pid,
                       Process* p) noexcept override;

 private:
  static void process_ended(void* self, uint64_t pid, Process* p,
                            Reason* reason) noexcept;

  Seam& seam_;
  uint32_t member_bit_;
  NameWatch* watch_ = nullptr;
  mutable std::mutex mu_;
  std::unordered_map<std::string, uint64_t> by_name_;
  std::unordered_map<uint64_t, std::string> by_pid_;
  std::unordered_map<uint64_t, std::string> labels_;
};

}  // namespace airs
