#include "io/net_addr.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace airs {

socklen_t addr_to_sockaddr(const airs_addr& a, sockaddr_storage* ss) noexcept {
  memset(ss, 0, sizeof *ss);
  if (a.family == AIRS_AF_INET4) {
    auto* in = reinterpret_cast<sockaddr_in*>(ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(a.port);
    memcpy(&in->sin_addr, a.ip, 4);
    return sizeof *in;
  }
  if (a.family == AIRS_AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(a.port);
    in6->sin6_scope_id = a.scope_id;
    memcpy(&in6->sin6_addr, a.ip, 16);
    return sizeof *in6;
  }
  return 0;
}

bool addr_from_sockaddr(const sockaddr* sa, airs_addr* a) noexcept {
  *a = airs_addr{};
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    a->family = AIRS_AF_INET4;
    a->port = ntohs(in->sin_port);
    memcpy(a->ip, &in->sin_addr, 4);
    return true;
  }
  if (sa->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    a->family = AIRS_AF_INET6;
    a->port = ntohs(in6->sin6_port);
    a->scope_id = in6->sin6_scope_id;
    memcpy(a->ip, &in6->sin6_addr, 16);
    return true;
  }
  return false;
}

namespace {

// A decimal port, all of `s`, 0..65535.
bool parse_port(const char* s, uint16_t* port) noexcept {
  if (*s < '0' || *s > '9' || strlen(s) > 5) return false;
  unsigned long v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return false;
    v = v * 10 + unsigned(*s - '0');
  }
  if (v > 65535) return false;
  *port = uint16_t(v);
  return true;
}

// "[host%scope]:port"
bool parse_v6(const char* text, airs_addr* out) noexcept {
  const char* close = strchr(text, ']');
  if (!close || close[1] != ':') return false;
  char host[64];
  size_t len = size_t(close - (text + 1));
  if (len == 0 || len >= sizeof host) return false;
  memcpy(host, text + 1, len);
  host[len] = '\0';
  uint32_t scope = 0;
  if (char* pct = strchr(host, '%')) {
    *pct = '\0';
    char* end;
    unsigned long v = strtoul(pct + 1, &end, 10);
    if (pct[1] == '\0' || *end != '\0' || v > UINT32_MAX) return false;
    scope = uint32_t(v);
  }
  airs_addr a{};
  if (inet_pton(AF_INET6, host, a.ip) != 1) return false;
  if (!parse_port(close + 2, &a.port)) return false;
  a.family = AIRS_AF_INET6;
  a.scope_id = scope;
  *out = a;
  return true;
}

bool parse_v4(const char* text, airs_addr* out) noexcept {
  const char* colon = strrchr(text, ':');
  if (!colon) return false;
  char host[16];
  size_t len = size_t(colon - text);
  if (len == 0 || len >= sizeof host) return false;
  memcpy(host, text, len);
  host[len] = '\0';
  airs_addr a{};
  if (inet_pton(AF_INET, host, a.ip) != 1) return false;
  if (!parse_port(colon + 1, &a.port)) return false;
  a.family = AIRS_AF_INET4;
  *out = a;
  return true;
}

}  // namespace

bool addr_parse(const char* text, airs_addr* out) noexcept {
  if (strlen(text) > 80) return false;
  return text[0] == '[' ? parse_v6(text, out) : parse_v4(text, out);
}

bool addr_format(const airs_addr& a, char* buf, size_t size) noexcept {
  char host[INET6_ADDRSTRLEN];
  int n;
  if (a.family == AIRS_AF_INET4) {
    if (!inet_ntop(AF_INET, a.ip, host, sizeof host)) return false;
    n = snprintf(buf, size, "%s:%u", host, unsigned(a.port));
  } else if (a.family == AIRS_AF_INET6) {
    if (!inet_ntop(AF_INET6, a.ip, host, sizeof host)) return false;
    n = a.scope_id ? snprintf(buf, size, "[%s%%%u]:%u", host,
                              unsigned(a.scope_id), unsigned(a.port))
                   : snprintf(buf, size, "[%s]:%u", host, unsigned(a.port));
  } else {
    return false;
  }
  return n > 0 && size_t(n) < size;
}

}  // namespace airs
