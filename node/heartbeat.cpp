// heartbeat.cpp - the frames every node publishes on <cluster>.hb:
//
//   offset  size  field
//   0       4     magic "AIRH"
//   4       1     version (1)
//   5       1     flags (kLeaving: the node is detaching)
//   6       2     name length, little-endian
//   8       8     incarnation, little-endian
//   16      8     sequence number, little-endian (for reading captures)
//   24      4     the runtime's pid tag, little-endian
//   28      n     the name
//
// Explicit little-endian, so that nodes of any byte order share a cluster.
#include <cstring>

#include "node.hpp"

namespace airs::node {

namespace {

constexpr char kMagic[4] = {'A', 'I', 'R', 'H'};
constexpr uint8_t kVersion = 2;  // 2: with the pid tag

}  // namespace

size_t heartbeat_frame(const airs_node* n, uint32_t flags, uint64_t seq,
                       unsigned char out[kFrameMax]) noexcept {
  memcpy(out, kMagic, 4);
  out[4] = kVersion;
  out[5] = static_cast<unsigned char>(flags);
  put_le(out + 6, n->name.size(), 2);
  put_le(out + 8, n->incarnation, 8);
  put_le(out + 16, seq, 8);
  put_le(out + 24, n->tag, 4);
  memcpy(out + kFrameHead, n->name.data(), n->name.size());
  return kFrameHead + n->name.size();
}

bool heartbeat_parse(const void* data, size_t size,
                     char name[AIRS_NODE_NAME_MAX + 1], uint64_t* incarnation,
                     uint32_t* tag, uint32_t* flags) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  if (size < kFrameHead || memcmp(p, kMagic, 4) != 0 || p[4] != kVersion)
    return false;
  size_t len = get_le(p + 6, 2);
  if (len > AIRS_NODE_NAME_MAX || size != kFrameHead + len) return false;
  memcpy(name, p + kFrameHead, len);
  name[len] = '\0';
  if (!valid_name(name)) return false;  // a NUL inside, or a bad byte
  *incarnation = get_le(p + 8, 8);
  *tag = static_cast<uint32_t>(get_le(p + 24, 4));
  *flags = p[5];
  return *incarnation != 0 && *tag != 0 && *tag <= 0xFFFF;
}

}  // namespace airs::node
