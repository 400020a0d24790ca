// wire.hpp - reading a request message of the fs and file actors (fs.h's
// airs_fs_head, then the paths and the data) into a checked view, and the
// shape of every fs reply (result, info, bytes).
//
// threads: plain functions on the caller's data; [any thread].
#pragma once

#include <cstddef>
#include <cstdint>

#include "airs/airs.h"

namespace airs::osl::fs {

// A request as the actors use it: the head's fields, the paths as
// NUL-terminated strings, the data in place in the message. Paths are
// copied (the message's bytes carry no NUL): PATH_MAX each.
struct Request {
  uint64_t type = 0;
  uint32_t flags = 0;
  uint32_t mode = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
  char path[AIRS_FS_PATH_MAX + 1];  // NUL-terminated by parse
  char path2[AIRS_FS_PATH_MAX + 1];
  const unsigned char* data = nullptr;  // into the request's bytes
  size_t data_len = 0;
};

// True for the request types of the fs actor, and of a file actor.
inline bool is_fs_request(uint64_t t) noexcept {
  return t >= AIRS_MSG_FS_READ && t <= AIRS_MSG_FS_OPEN;
}
inline bool is_file_request(uint64_t t) noexcept {
  return t >= AIRS_MSG_FILE_READ && t <= AIRS_MSG_FILE_CLOSE;
}

// Reads `size` bytes of request data of type `type` into *out, checking
// everything fs.h promises to check. On failure fills *why (status
// EINVAL and the reason) and returns false. [any thread]
bool parse(uint64_t type, const void* bytes, size_t size, Request* out,
           airs_osl_result* why) noexcept;

// The fixed part of every successful reply, and where its bytes start.
struct ReplyHead {
  airs_osl_result result;
  airs_fs_info info;
};
constexpr size_t kReplyHead = sizeof(ReplyHead);

}  // namespace airs::osl::fs
