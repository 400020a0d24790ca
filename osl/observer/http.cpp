// http.cpp - request heads and responses (http.hpp).
#include "http.hpp"

#include <cstdio>
#include <cstring>

namespace airs::osl {

Parse parse_request(const std::string& bytes, Request* out) {
  size_t end = bytes.find("\r\n\r\n");
  if (end == std::string::npos)
    return bytes.size() > kHeadMax ? Parse::kTooLarge : Parse::kMore;
  if (end > kHeadMax) return Parse::kTooLarge;
  // The request line: METHOD SP TARGET SP HTTP/1.x
  size_t line_end = bytes.find("\r\n");
  std::string line = bytes.substr(0, line_end);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos || sp1 == 0 ||
      line.compare(sp2 + 1, 7, "HTTP/1.") != 0)
    return Parse::kBad;
  out->method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.empty() || target[0] != '/') return Parse::kBad;
  size_t q = target.find('?');
  out->path = target.substr(0, q);
  out->query = q == std::string::npos ? "" : target.substr(q + 1);
  return Parse::kDone;
}

static const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    default: return "Internal Server Error";
  }
}

std::string response(int status, const char* content_type,
                     const std::string& body) {
  char head[256];
  int n =
      std::snprintf(head, sizeof head,
                    "HTTP/1.1 %d %s\r\n"
                    "Content-Type: %s\r\n"
                    "Content-Length: %zu\r\n"
                    "Cache-Control: no-store\r\n"
                    "Connection: close\r\n\r\n",
                    status, reason_phrase(status), content_type, body.size());
  std::string out(head, static_cast<size_t>(n));
  out += body;
  return out;
}

std::string query_value(const std::string& query, const char* key) {
  size_t klen = std::strlen(key);
  size_t at = 0;
  while (at <= query.size()) {
    size_t amp = query.find('&', at);
    if (amp == std::string::npos) amp = query.size();
    if (amp - at > klen && query.compare(at, klen, key) == 0 &&
        query[at + klen] == '=')
      return query.substr(at + klen + 1, amp - at - klen - 1);
    at = amp + 1;
  }
  return "";
}

}  // namespace airs::osl
